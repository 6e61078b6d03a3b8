/**
 * Idle memory of bare loopback pairs, with no Effect in it (both builds of
 * the bench use it): RSS and V8 heap per pair with `pairs` connections open,
 * measured as the difference after full collections before opening and once
 * all are open, divided by the number of pairs.
 *
 * With `equip`, every socket of every pair (both ends) is equipped once all
 * are open, before the reading: the idle floors (bench/floor.ts,
 * bench/effect4/floor.ts) attach a reader and a fiber waiting in a take loop
 * to each end. What `equip` returns is called after the reading, before the
 * sockets are destroyed.
 */
import type * as net from "node:net"
import { closeServer, connect, listen, portOf } from "./baseline.js"
import { check, heapUsed, type PerPair, settledRss } from "./common.js"

const CONNECT_BATCH = 100

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export const idleRound = async (
  label: string,
  pairs: number,
  equip?: (socket: net.Socket) => () => void
): Promise<PerPair> => {
  const accepted: Array<net.Socket> = []
  const server = await listen((socket) => void accepted.push(socket))
  const port = portOf(server)
  const rss0 = await settledRss()
  const heap0 = heapUsed()
  const clients: Array<net.Socket> = []
  for (let i = 0; i < pairs; i += CONNECT_BATCH) {
    const batch = Math.min(CONNECT_BATCH, pairs - i)
    clients.push(...(await Promise.all(Array.from({ length: batch }, () => connect(port)))))
  }
  while (accepted.length < pairs) await sleep(5)
  const releases = equip === undefined ? [] : [...clients, ...accepted].map(equip)
  await sleep(50)
  const rss1 = await settledRss()
  const result = { rss: (rss1 - rss0) / pairs, heap: (heapUsed() - heap0) / pairs }
  for (const release of releases) release()
  const closing = [...clients, ...accepted].map((s) => new Promise<void>((resolve) => s.once("close", () => resolve())))
  for (const s of clients) s.destroy()
  for (const s of accepted) s.destroy()
  await Promise.all(closing)
  await closeServer(server)
  check(accepted.length === pairs, `${label}: ${accepted.length} of ${pairs} accepted`)
  return result
}

/**
 * Memory per hostile peer, under the default options. `peers` connections
 * from a separate process (bench/peer-memory-clients.ts) each park as much
 * as the defaults allow in the server: an inbound queue just under
 * `maxBufferedBytes` (511 x 64 KiB) plus a 16 MiB message short of its last
 * byte, while never reading what the server's handler writes (64 KiB
 * messages, a fresh buffer each, until `write` suspends). Reported, per peer: the server's RSS
 * growth, and its V8 heap plus ArrayBuffer growth, after full collections,
 * once every peer's bytes have been read and every handler is suspended.
 * Library only: a bare node:net server holds whatever its code does.
 */
import { Effect } from "effect"
import { fork } from "node:child_process"
import type * as net from "node:net"
import { fileURLToPath } from "node:url"
import { Backend, Poll, Server } from "../src/node.js"
import { encodedSize, headerSize } from "../src/internal/framing.js"
import { MESSAGE_SIZE, MESSAGES, PARTIAL_SIZE } from "./peer-memory-clients.js"
import { check, fullGc, type Options, round3, type Row, settledRss } from "./util.js"

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

const held = () => {
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.arrayBuffers
}

export const run = async (options: Options): Promise<Array<Row>> => {
  const label = "memory per hostile peer"
  if (options.only !== undefined && !options.only.test(label)) return []
  const peers = options.quick ? 2 : 8
  const child = fork(fileURLToPath(new URL("./peer-memory-clients.js", import.meta.url)), [], {
    stdio: ["ignore", "inherit", "inherit", "ipc"]
  })
  const ask = (message: unknown) =>
    new Promise<void>((resolve) => {
      child.once("message", () => resolve())
      child.send(message as never)
    })
  try {
    const sent = encodedSize(new Uint8Array(MESSAGE_SIZE)) * MESSAGES + headerSize(PARTIAL_SIZE) + PARTIAL_SIZE - 1
    const result = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          // The server's budget (`maxTotalBytes`, half of it for what connections receive) is raised past what the
          // peers park together, so that each parks the per-connection maximum; the budget has rows of its own.
          const server = yield* Server.make({ port: 0, maxTotalBytes: 4 * peers * (sent + 16 * 1024 * 1024) })
          const port = server.address._tag === "Tcp" ? server.address.port : 0
          const sockets: Array<net.Socket> = []
          let writes = 0
          yield* server
            .serve((s) =>
              Effect.suspend(() => {
                sockets.push(s.socket as net.Socket)
                // A fresh buffer each time, as a handler producing replies would make them.
                return Effect.forever(
                  Effect.zipRight(
                    Effect.suspend(() => s.write(new Uint8Array(MESSAGE_SIZE).fill(1))),
                    Effect.sync(() => writes++)
                  )
                )
              })
            )
            .pipe(Effect.forkScoped)
          return yield* Effect.promise(async () => {
            const rss0 = await settledRss()
            const held0 = held()
            await ask({ port, peers })
            // Every byte read by the server, and the handlers' writes stalled.
            const deadline = Date.now() + 60_000
            const readAll = () => sockets.length === peers && sockets.every((s) => s.bytesRead >= sent)
            while (!readAll() && Date.now() < deadline) await sleep(20)
            check(readAll(), `${label}: the server read ${sockets.map((s) => s.bytesRead).join(", ")} of ${sent} bytes`)
            for (let last = -1; last !== writes && Date.now() < deadline;) {
              last = writes
              await sleep(200)
            }
            const rss1 = await settledRss()
            await fullGc()
            const result = { rss: (rss1 - rss0) / peers, held: (held() - held0) / peers, writes: writes / peers }
            await ask("close")
            return result
          })
        })
      ).pipe(Effect.provideService(Backend.Backend, Poll.backend))
    )
    const mib = (bytes: number) => round3(bytes / (1024 * 1024))
    const note =
      `${peers} peers, each parking ${mib(sent)} MiB inbound and never reading; ` +
      `the handler got ${result.writes.toFixed(0)} writes of 64 KiB each accepted before write suspended`
    options.log(`  ${label}: RSS ${mib(result.rss)} MiB, heap + buffers ${mib(result.held)} MiB per peer (${note})`)
    const row = (name: string, value: number): Row => ({
      name: `${label} ${name}`,
      size: peers,
      value: mib(value),
      unit: "MiB/peer",
      baseline: NaN,
      ratio: NaN,
      better: "lower",
      note
    })
    return [row("RSS", result.rss), row("heap + buffers", result.held)]
  } finally {
    child.kill()
  }
}

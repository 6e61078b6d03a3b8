/**
 * Same-run idle memory per connected pair across builds of the library: for
 * each build in turn, in interleaved rounds, opens `--pairs` pairs (a
 * Stocking made by `Stocking.make` connecting, and one wrapping the accepted
 * socket, poll backend; as bench/memory.ts does), and reports RSS and V8
 * heap growth per pair after full collections, the median over rounds.
 * A bare `net.Socket` pair is measured in the same rounds for scale.
 *
 *   bash bench/ab/build.sh ed86e36 HEAD     # -> .ab/<sha>/out
 *   npx tsc -p tsconfig.bench.json
 *   node --expose-gc .bench-build/bench/ab/idle.js [--pairs 2000] [--rounds 5] .ab/ed86e36/out .ab/<sha>/out
 *
 * Builds need only `Stocking.make` (host/port and socket), `isActive`,
 * `abort`, `socket`, `Backend.Backend` and `Poll.backend`.
 */
import { Effect } from "effect"
import * as net from "node:net"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import type * as Lib from "../../src/node.js"
import { heapUsed, median, settledRss } from "../util.js"

type Library = typeof Lib

const args = process.argv.slice(2)
const value = (name: string): string | undefined => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const pairs = Number(value("--pairs") ?? 2000)
const rounds = Number(value("--rounds") ?? 5)
const dirs: Array<string> = []
for (let i = 0; i < args.length; i++) {
  if (args[i]!.startsWith("--")) i++
  else dirs.push(args[i]!)
}
if (dirs.length === 0) {
  console.error("usage: idle.js [--pairs N] [--rounds R] BUILD_DIR...")
  process.exit(2)
}

const BATCH = 100

interface PerPair {
  readonly rss: number
  readonly heap: number
}

const listen = (): Promise<{ server: net.Server; port: number; accepted: Array<net.Socket> }> =>
  new Promise((resolve) => {
    const accepted: Array<net.Socket> = []
    const server = net.createServer((socket) => void accepted.push(socket))
    server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as net.AddressInfo).port, accepted }))
  })

const closed = (socket: net.Socket | import("node:stream").Duplex): Promise<void> =>
  socket.destroyed && (socket as net.Socket).closed ? Promise.resolve() : new Promise((r) => socket.once("close", r))

const connectRaw = (port: number): Promise<net.Socket> =>
  new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => resolve(socket))
    socket.once("error", reject)
  })

const waitFor = async (check: () => boolean) => {
  while (!check()) await new Promise((r) => setTimeout(r, 5))
}

const bare = async (): Promise<PerPair> => {
  const { server, port, accepted } = await listen()
  const rss0 = await settledRss()
  const heap0 = heapUsed()
  const clients: Array<net.Socket> = []
  for (let i = 0; i < pairs; i += BATCH) {
    clients.push(...(await Promise.all(Array.from({ length: Math.min(BATCH, pairs - i) }, () => connectRaw(port)))))
  }
  await waitFor(() => accepted.length >= pairs)
  const result = { rss: ((await settledRss()) - rss0) / pairs, heap: (heapUsed() - heap0) / pairs }
  const all = [...clients, ...accepted]
  for (const s of all) s.destroy()
  await Promise.all(all.map(closed))
  await new Promise((r) => server.close(r))
  return result
}

const library = (lib: Library): Promise<PerPair> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const { server, port, accepted } = yield* Effect.promise(listen)
        const rss0 = yield* Effect.promise(settledRss)
        const heap0 = heapUsed()
        const opened = yield* Effect.forEach(
          Array.from({ length: pairs }),
          () => lib.Stocking.make({ host: "127.0.0.1", port }),
          { concurrency: BATCH }
        ).pipe(Effect.provideService(lib.Backend.Backend, lib.Poll.backend))
        yield* Effect.promise(() => waitFor(() => accepted.length >= pairs))
        const wrapped = yield* Effect.forEach(accepted, (socket) => lib.Stocking.make({ socket })).pipe(
          Effect.provideService(lib.Backend.Backend, lib.Poll.backend)
        )
        yield* Effect.sleep("50 millis")
        const rss1 = yield* Effect.promise(settledRss)
        const result = { rss: (rss1 - rss0) / pairs, heap: (heapUsed() - heap0) / pairs }
        let active = 0
        for (const s of [...opened, ...wrapped]) if (yield* s.isActive) active++
        if (active !== 2 * pairs) throw new Error(`only ${active} of ${2 * pairs} Stockings active`)
        yield* Effect.forEach([...opened, ...wrapped], (s) => s.abort, { discard: true })
        yield* Effect.promise(() => Promise.all([...opened, ...wrapped].map((s) => closed(s.socket))))
        yield* Effect.promise(() => new Promise((r) => server.close(r)))
        return result
      })
    )
  )

const main = async () => {
  const libs = await Promise.all(
    dirs.map(async (dir) => (await import(pathToFileURL(path.resolve(dir, "node.js")).href)) as Library)
  )
  const results: Array<Array<PerPair>> = dirs.map(() => [])
  const bareResults: Array<PerPair> = []
  // A warm-up round, not counted: the first connections pay for code loading and pools.
  for (const lib of libs) await library(lib)
  for (let round = 0; round < rounds; round++) {
    bareResults.push(await bare())
    for (let i = 0; i < libs.length; i++) results[i]!.push(await library(libs[i]!))
  }
  const show = (name: string, rows: Array<PerPair>) =>
    console.log(
      `${name.padEnd(28)} rss/pair ${(median(rows.map((r) => r.rss)) / 1024).toFixed(2)} KiB  heap/pair ${(
        median(rows.map((r) => r.heap)) / 1024
      ).toFixed(2)} KiB  (rss rounds: ${rows.map((r) => (r.rss / 1024).toFixed(1)).join(" ")})`
    )
  console.log(`${pairs} pairs, ${rounds} rounds`)
  show("bare net.Socket", bareResults)
  for (let i = 0; i < dirs.length; i++) show(dirs[i]!, results[i]!)
}

void main()

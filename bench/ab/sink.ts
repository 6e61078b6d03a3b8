/**
 * The sink against `writeAll`, across builds: one Stocking writes 64 B
 * messages (poll backend) in one of these ways, the other reads them with
 * `forEachChunk`:
 *
 * - `writeAll`: `writeAll` of 1000 messages in a loop (the reference);
 * - `sink`: `Stream.run(stream, stocking.sink)` over `Stream.fromIterable`
 *   rechunked to 1000 messages per chunk (`npm run bench`'s `sink(1000)`);
 * - `sinkChunks`: the same without the rechunk (`Stream.fromIterable` makes
 *   chunks of 4096): the sink's own cost;
 * - `sinkRechunk`: a stream of one-message chunks (`Stream.rechunk(1)`)
 *   rechunked to 1000 for the sink (`npm run bench`'s `sink(1 -> rechunk
 *   1000)` row);
 * - `sinkSingle`: the same stream of one-message chunks run straight into
 *   the sink (`npm run bench`'s `sink(1)` row);
 * - `drainSingle`: that stream drained with `Stream.runDrain`, no Stocking
 *   at all: what producing it costs, which no sink can save;
 * - `drainRechunk`: that stream rechunked to 1000 and drained, no Stocking:
 *   what `sinkRechunk` pays before its sink;
 * - `discardSingle`: that stream run into a sink that reads each chunk and
 *   does nothing (the least any sink of one-message chunks costs), no
 *   Stocking.
 *
 *   bash bench/ab/build.sh HEAD~1 HEAD && npx tsc -p tsconfig.bench.json
 *   node .bench-build/bench/ab/sink.js [--memory] [--n 60000] [--rounds 15] [--modes writeAll,sinkRechunk] BUILD...
 *   SCRIPT=sink.js N=60000 ARGS="--memory --mode sinkRechunk" bash bench/ab/count.sh BUILD...
 *
 * Without `--count`: interleaved rounds of every (build, mode), each rate
 * divided by the first build's `writeAll` rate of the same round (median
 * over rounds, with the interquartile range). With `--count N` (and one
 * `--mode`): a warm-up, then N messages between the marks `count.sh` counts
 * instructions between. `--memory` connects the two Stockings in memory
 * (`pair.ts`): the same steps on every run.
 */
import { Channel, type Chunk, Effect, Fiber, Sink, Stream } from "effect"
import * as net from "node:net"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import type * as Lib from "../../src/node.js"
import { median, now } from "../util.js"
import { memoryPair } from "./pair.js"

type Library = typeof Lib
type Mode =
  "writeAll" | "sink" | "sinkChunks" | "sinkRechunk" | "sinkSingle" | "drainSingle" | "drainRechunk" | "discardSingle"
const MODES: ReadonlyArray<Mode> = [
  "writeAll",
  "sink",
  "sinkChunks",
  "sinkRechunk",
  "sinkSingle",
  "drainSingle",
  "drainRechunk",
  "discardSingle"
]

const args = process.argv.slice(2)
const value = (name: string): string | undefined => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const size = Number(value("--size") ?? 64)
const n = Number(value("--n") ?? 60_000)
const rounds = Number(value("--rounds") ?? 15)
const count = value("--count")
const inMemory = args.includes("--memory")
const modes = (value("--modes") ?? value("--mode") ?? MODES.join(",")).split(",") as Array<Mode>
for (const mode of modes) if (!MODES.includes(mode)) throw new Error(`unknown mode ${mode}`)
const withValue = new Set(["--size", "--n", "--rounds", "--count", "--modes", "--mode"])
const dirs = args.filter((a, i) => !a.startsWith("--") && !withValue.has(args[i - 1]!))
if (dirs.length === 0) {
  console.error("usage: sink.js [--memory] [--n N] [--rounds R] [--modes a,b] [--count N --mode m] BUILD_DIR...")
  process.exit(2)
}

const BATCH = 1000

const load = async (dir: string): Promise<Library> =>
  (await import(pathToFileURL(path.resolve(dir, "node.js")).href)) as Library

/** A listening socket and its first accepted connection. */
const listener = (): Promise<{ port: number; accepted: Promise<net.Socket>; close: () => void }> =>
  new Promise((resolve) => {
    let accept!: (socket: net.Socket) => void
    const accepted = new Promise<net.Socket>((r) => (accept = r))
    const server = net.createServer({ allowHalfOpen: true }, (socket) => accept(socket))
    server.listen({ port: 0, host: "127.0.0.1" }, () =>
      resolve({ port: (server.address() as net.AddressInfo).port, accepted, close: () => server.close() })
    )
  })

const payload = new Uint8Array(size).fill(7)
const batch = Array.from({ length: BATCH }, () => payload)
const inputs = new Map<number, Array<Uint8Array>>()
const input = (messages: number) => {
  let made = inputs.get(messages)
  if (made === undefined) inputs.set(messages, (made = Array.from({ length: messages }, () => payload)))
  return made
}

/** The stream of one-message chunks (as `Stream.map` over single events makes). */
const single = (messages: number) => Stream.fromIterable(input(messages)).pipe(Stream.rechunk(1))

/** Reads every chunk and does nothing with it. */
const discardLoop: Channel.Channel<never, Chunk.Chunk<Uint8Array>, never, never, void, unknown> = Channel.readWithCause(
  {
    onInput: () => discardLoop,
    onFailure: Channel.failCause,
    onDone: () => Channel.void
  }
)
const discard = Sink.fromChannel(discardLoop)

const writeCount = (writing: Lib.Stocking.Stocking, mode: Mode, messages: number): Effect.Effect<void, unknown> => {
  switch (mode) {
    case "writeAll":
      return Effect.gen(function* () {
        for (let i = 0; i < messages; i += BATCH) {
          yield* writing.writeAll(messages - i >= BATCH ? batch : batch.slice(0, messages - i))
        }
      })
    case "sink":
      return Stream.run(Stream.fromIterable(input(messages)).pipe(Stream.rechunk(BATCH)), writing.sink)
    case "sinkChunks":
      return Stream.run(Stream.fromIterable(input(messages)), writing.sink)
    case "sinkRechunk":
      return Stream.run(single(messages).pipe(Stream.rechunk(BATCH)), writing.sink)
    case "sinkSingle":
      return Stream.run(single(messages), writing.sink)
    case "drainSingle":
      return Stream.runDrain(single(messages))
    case "drainRechunk":
      return Stream.runDrain(single(messages).pipe(Stream.rechunk(BATCH)))
    case "discardSingle":
      return Stream.run(single(messages), discard)
  }
}

/** One round: `messages` written in `mode`, read with `forEachChunk`; messages per second. */
const round = async (
  lib: Library,
  mode: Mode,
  messages: number,
  marks?: { readonly start: () => void; readonly end: () => void }
): Promise<number> => {
  const net = inMemory ? undefined : await listener()
  let t0 = 0
  let t1 = 0
  const program = Effect.scoped(
    Effect.gen(function* () {
      let reading: Lib.Stocking.Stocking
      let writing: Lib.Stocking.Stocking
      if (net === undefined) {
        const [a, b] = memoryPair()
        reading = yield* lib.Stocking.make({ socket: a })
        writing = yield* lib.Stocking.make({ socket: b })
      } else {
        reading = yield* lib.Stocking.make({ host: "127.0.0.1", port: net.port })
        writing = yield* lib.Stocking.make({ socket: yield* Effect.promise(() => net.accepted) })
      }
      const expected = mode.startsWith("drain") || mode.startsWith("discard") ? 0 : messages
      let received = 0
      const reader = yield* Effect.fork(
        expected === 0
          ? Effect.void
          : reading
              .forEachChunk((chunk) => {
                received += chunk.length
                return received >= expected ? Effect.fail("done" as const) : Effect.void
              })
              .pipe(
                Effect.catchIf(
                  (e) => e === "done",
                  () => Effect.void
                )
              )
      )
      marks?.start()
      t0 = now()
      yield* writeCount(writing, mode, messages)
      yield* Fiber.join(reader)
      t1 = now()
      marks?.end()
    })
  ).pipe(Effect.provideService(lib.Backend.Backend, lib.Poll.backend))
  await Effect.runPromise(program)
  net?.close()
  return messages / ((t1 - t0) / 1000)
}

const libs = await Promise.all(dirs.map(load))
if (count !== undefined) {
  const mode = modes[0]!
  for (let i = 0; i < 4; i++) await round(libs[0]!, mode, 20_000)
  await round(libs[0]!, mode, Number(count), {
    start: () => void process.resourceUsage(),
    end: () => void process.memoryUsage.rss()
  })
  console.log(`counted ${dirs[0]} ${mode} ${count}`)
} else {
  const names = dirs.map((d) => path.basename(path.dirname(path.resolve(d))))
  for (const lib of libs) for (const mode of modes) await round(lib, mode, Math.floor(n / 2))
  const sides = libs.flatMap((lib, i) => modes.map((mode) => ({ lib, mode, name: `${names[i]} ${mode}` })))
  const rates: Array<Array<number>> = sides.map(() => [])
  const reference = sides.findIndex((s) => s.mode === "writeAll")
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < sides.length; i++) rates[i]!.push(await round(sides[i]!.lib, sides[i]!.mode, n))
  }
  console.log(`${size} B, ${n} messages per round, ${rounds} interleaved rounds, ${inMemory ? "in memory" : "TCP"}`)
  sides.forEach((side, i) => {
    const against =
      reference < 0
        ? ""
        : (() => {
            const r = rates[i]!.map((x, k) => x / rates[reference]![k]!).sort((a, b) => a - b)
            return `, x ${sides[reference]!.name} ${median(r).toFixed(3)} (IQR ${r[Math.floor(r.length / 4)]!.toFixed(3)}-${r[Math.floor((3 * r.length) / 4)]!.toFixed(3)})`
          })()
    console.log(`  ${side.name}: ${median(rates[i]!).toFixed(0)} msg/s${against}`)
  })
}

/**
 * Same-run comparison of builds of the library at different commits, on the
 * per-message path (`write` + `take`, one Effect per message per end, poll
 * backend) at one size: every build, and the 2-op floor of bench/floor.ts,
 * in interleaved rounds on fresh connections, each build's rate divided by
 * the floor's of the same round (median over rounds), and by the first
 * build's.
 *
 *   bash bench/ab/build.sh f3000e3 5761d3c    # -> .ab/<sha>/out
 *   npx tsc -p tsconfig.bench.json
 *   node .bench-build/bench/ab/ab.js [--size 64] [--n 20000] [--rounds 20] [--context] .ab/f3000e3/out .ab/5761d3c/out
 *
 * Every build is compiled against this checkout's node_modules, so one copy
 * of Effect runs them all. The builds only need the API every commit since
 * f3000e3 has: `Stocking.make`, `write`, `take`, `Backend.Backend`,
 * `Poll.backend`.
 *
 * `--context` first runs, once per build, the other 64 B rows' ways of
 * writing and reading (`contextRounds`), as the bench process has.
 *
 * `--accepted-reads` makes the accepted end read and the connecting end
 * write (the reading end then gets 'data' events, not pooled reads).
 *
 * `--memory` connects the two Stockings through in-memory duplex streams
 * instead of a TCP connection (`memoryPair`): the library's own work alone,
 * the same steps on every run.
 *
 * `--count N` instead runs one build (the first) alone: a warm-up (4 x
 * 20,000 messages), then N
 * timed messages, and prints nothing but a line with the count; run it under
 * `valgrind --tool=callgrind` with two values of N and divide the difference
 * in instructions by the difference in N for the instructions per message
 * (bench/ab/count.sh does that).
 */
import { Deferred, Effect, Exit, Fiber, Stream } from "effect"
import * as net from "node:net"
import { constants, type PerformanceEntry, PerformanceObserver } from "node:perf_hooks"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import type * as Lib from "../../src/node.js"
import { Receiver, Sender } from "../baseline.js"
import { memoryPair } from "./pair.js"
import { Inbox, readMany, writeMany } from "../floor.js"
import { floorRound } from "../throughput.js"
import { median, now } from "../util.js"

type Library = typeof Lib

const args = process.argv.slice(2)
const value = (name: string): string | undefined => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const size = Number(value("--size") ?? 64)
const n = Number(value("--n") ?? 20_000)
const rounds = Number(value("--rounds") ?? 20)
const count = value("--count")
const dirs: Array<string> = []
const flags = new Set(["--context", "--accepted-reads", "--full-gc", "--memory"])
const inMemory = args.includes("--memory")
const acceptedReads = args.includes("--accepted-reads")
for (let i = 0; i < args.length; i++) {
  if (flags.has(args[i]!)) continue
  if (args[i]!.startsWith("--")) i++
  else dirs.push(args[i]!)
}
if (dirs.length === 0) {
  console.error("usage: ab.js [--size B] [--n N] [--rounds R] [--context] [--count N] BUILD_DIR...")
  process.exit(2)
}

const load = async (dir: string): Promise<Library> =>
  (await import(pathToFileURL(path.resolve(dir, "node.js")).href)) as Library

const payloadOf = (bytes: number): Uint8Array => {
  const payload = new Uint8Array(bytes)
  for (let i = 0; i < bytes; i++) payload[i] = (i * 31 + 7) & 0xff
  return payload
}

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

/**
 * One round: `lead` untimed messages, then `messages` timed ones, written
 * with `write` by the accepted end, taken with `take` by the connecting end
 * (as bench/throughput.ts does). Returns messages per second.
 */
const libraryRound = async (
  lib: Library,
  bytes: number,
  lead: number,
  messages: number,
  marks?: { readonly start: () => void; readonly end: () => void }
): Promise<number> => {
  const { port, accepted, close } = await listener()
  const payload = payloadOf(bytes)
  let t0 = 0
  let t1 = 0
  const program = Effect.scoped(
    Effect.gen(function* () {
      let reading: Lib.Stocking.Stocking
      let writing: Lib.Stocking.Stocking
      if (inMemory) {
        const [a, b] = memoryPair()
        reading = yield* lib.Stocking.make({ socket: a })
        writing = yield* lib.Stocking.make({ socket: b })
      } else {
        // The connecting end reads (pooled reads), as in bench/throughput.ts; with --accepted-reads, the accepted one.
        const connected = yield* lib.Stocking.make({ host: "127.0.0.1", port })
        const socket = yield* Effect.promise(() => accepted)
        const wrapped = yield* lib.Stocking.make({ socket })
        ;[reading, writing] = acceptedReads ? [wrapped, connected] : [connected, wrapped]
      }
      const leadReceived = yield* Deferred.make<void>()
      const reader = yield* Effect.fork(
        Effect.gen(function* () {
          for (let i = 0; i < lead; i++) yield* reading.take
          Deferred.unsafeDone(leadReceived, Exit.void)
          let last: Uint8Array | string = ""
          for (let i = 0; i < messages; i++) last = yield* reading.take
          t1 = now()
          marks?.end()
          if (last.length !== bytes) throw new Error("last message has the wrong size")
        })
      )
      const writer = yield* Effect.fork(
        Effect.gen(function* () {
          for (let i = 0; i < lead; i++) yield* writing.write(payload)
          yield* Deferred.await(leadReceived)
          marks?.start()
          t0 = now()
          for (let i = 0; i < messages; i++) yield* writing.write(payload)
        })
      )
      yield* Fiber.join(reader)
      yield* Fiber.join(writer)
    })
  ).pipe(Effect.provideService(lib.Backend.Backend, lib.Poll.backend))
  await Effect.runPromise(program)
  close()
  return messages / ((t1 - t0) / 1000)
}

/**
 * The other rows bench/throughput.ts runs at 64 B in the same process, in
 * the forms every build since f3000e3 has (`writeAll`, `messages`, the
 * select backend): one round of each, so that the code `write` + `take`
 * shares with them (the queues, the decoder, Effect's runtime) has seen
 * their shapes too, as it has in the bench.
 */
const contextRounds = async (lib: Library, bytes: number): Promise<void> => {
  const payload = payloadOf(bytes)
  const batch = Array.from({ length: 1000 }, () => payload)
  const total = 20_000
  for (const [backend, batched, chunks] of [
    [lib.Poll.backend, false, false],
    [lib.Poll.backend, true, true],
    [lib.Select.make(0), false, false]
  ] as const) {
    const { port, accepted, close } = await listener()
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const reading = yield* lib.Stocking.make({ host: "127.0.0.1", port })
          const socket = yield* Effect.promise(() => accepted)
          const writing = yield* lib.Stocking.make({ socket })
          const reader = yield* Effect.fork(
            chunks
              ? Stream.runForEachChunk(reading.messages, () => Effect.void)
              : Stream.runForEach(reading.messages, () => Effect.void)
          )
          if (batched) for (let i = 0; i < total; i += 1000) yield* writing.writeAll(batch)
          else for (let i = 0; i < total; i++) yield* writing.write(payload)
          yield* writing.close
          yield* Fiber.join(reader).pipe(Effect.ignore)
        })
      ).pipe(Effect.provideService(lib.Backend.Backend, backend))
    )
    close()
  }
}

// "floor" in place of a build directory stands for the 2-op floor of bench/floor.ts (count mode only).
const libs = await Promise.all(dirs.filter((d) => d !== "floor").map(load))
if (args.includes("--context")) for (const lib of libs) await contextRounds(lib, size)
const lead = Math.max(1, Math.floor(n / 10))

/**
 * The 2-op floor of bench/floor.ts over `memoryPair` (for `--count` with
 * `floor --memory`): the raw `Sender` and `Receiver`, one fiber per end doing
 * one 2-op Effect per message. `marks` bracket the whole exchange.
 */
const floorMemoryRound = async (
  bytes: number,
  messages: number,
  marks?: { readonly start: () => void; readonly end: () => void }
): Promise<void> => {
  const [reading, writing] = memoryPair()
  const inbox = new Inbox()
  reading.on("data", new Receiver(inbox.push).push)
  // The Sender needs only the stream side of a socket (write, cork, writableLength, 'drain').
  const sender = new Sender(writing as unknown as net.Socket)
  const payload = payloadOf(bytes)
  let last: Uint8Array | undefined
  marks?.start()
  await Effect.runPromise(
    Effect.gen(function* () {
      const reader = yield* Effect.fork(readMany(inbox, messages, "2-op", (message) => void (last = message)))
      yield* writeMany(sender, payload, messages, "2-op")
      yield* Fiber.join(reader)
    })
  )
  marks?.end()
  if (last?.length !== bytes) throw new Error("floor: last message has the wrong size")
}

if (count !== undefined && dirs[0] === "floor" && inMemory) {
  const timed = Number(count)
  for (let i = 0; i < 4; i++) await floorMemoryRound(size, 20_000)
  await floorMemoryRound(size, timed, {
    start: () => void process.resourceUsage(),
    end: () => void process.memoryUsage.rss()
  })
  console.log(`counted floor (in memory) ${timed}`)
} else if (count !== undefined && dirs[0] === "floor") {
  // The floor has no hooks inside its round: the marks take in its connection set-up too (~1% at 20,000 messages).
  const timed = Number(count)
  for (let i = 0; i < 4; i++) await floorRound(size, 20_000, "2-op")
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc !== undefined) gc()
  process.resourceUsage()
  await floorRound(size, timed, "2-op")
  process.memoryUsage.rss()
  console.log(`counted floor ${timed}`)
} else if (count !== undefined) {
  const timed = Number(count)
  // Warm-up until the JIT has settled (so that compilation cancels out between two counts).
  for (let i = 0; i < 4; i++) await libraryRound(libs[0]!, size, lead, 20_000)
  // Under callgrind, `--zero-before=uv_getrusage --dump-before=uv_resident_set_memory` counts
  // exactly the timed part: `process.resourceUsage()` and `process.memoryUsage.rss()` call those.
  // With --full-gc, a full collection first, so that every build starts the timed part from a compacted heap.
  const gc = (globalThis as { gc?: () => void }).gc
  if (args.includes("--full-gc") && gc !== undefined) gc()
  const gcs = { minor: 0, major: 0 }
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcs.major++
      else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gcs.minor++
    }
  })
  let counting = false
  await libraryRound(libs[0]!, size, lead, timed, {
    start: () => {
      observer.observe({ entryTypes: ["gc"] })
      counting = true
      process.resourceUsage()
    },
    end: () => {
      process.memoryUsage.rss()
      if (counting) observer.disconnect()
    }
  })
  console.log(`counted ${dirs[0]} ${timed}: gcs in the timed part ${gcs.minor} minor, ${gcs.major} major`)
} else {
  const names = dirs.map((d) => path.basename(path.dirname(path.resolve(d))))
  // Warm-up: every side once at half size.
  await floorRound(size, Math.floor(n / 2), "2-op")
  for (const lib of libs) await libraryRound(lib, size, lead, Math.floor(n / 2))
  const floor: Array<number> = []
  const rates: Array<Array<number>> = libs.map(() => [])
  for (let round = 0; round < rounds; round++) {
    const m = await floorRound(size, n, "2-op")
    floor.push(m.messages / m.seconds)
    for (let i = 0; i < libs.length; i++) rates[i]!.push(await libraryRound(libs[i]!, size, lead, n))
  }
  const ratio = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => median(a.map((x, i) => x / b[i]!))
  const quartiles = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => {
    const r = a.map((x, i) => x / b[i]!).sort((x, y) => x - y)
    return `${r[Math.floor(r.length / 4)]!.toFixed(3)}-${r[Math.floor((3 * r.length) / 4)]!.toFixed(3)}`
  }
  console.log(`write + take, ${size} B, ${n} messages per round, ${rounds} interleaved rounds`)
  console.log(`  floor 2-op: ${median(floor).toFixed(0)} msg/s`)
  for (let i = 0; i < libs.length; i++) {
    console.log(
      `  ${names[i]}: ${median(rates[i]!).toFixed(0)} msg/s, x 2-op ${ratio(rates[i]!, floor).toFixed(3)} ` +
        `(IQR ${quartiles(rates[i]!, floor)}), x ${names[0]} ${ratio(rates[i]!, rates[0]!).toFixed(3)} ` +
        `(IQR ${quartiles(rates[i]!, rates[0]!)})`
    )
  }
}

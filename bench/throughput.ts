/**
 * One-way throughput: one writer sends `n` messages of one size; the reader
 * counts them. The clock starts as the writer starts and stops when the last
 * message arrives at the reader. Before that, `lead(n)` untimed messages warm
 * the connection up, and the clock starts only once the reader has all of
 * them (an empty pipe). The connecting end reads and the accepted end
 * writes, on every side.
 *
 * Each round runs, one after another on fresh connections:
 *
 * - raw: `Sender.write` in a loop (awaiting `drained()` when it says so); the
 *   reader is a `Receiver` fed by pooled reads (`reader`). No Effect at all.
 * - floor (sync, 2-op): the same raw path driven by one fiber per end doing
 *   one Effect per message (bench/floor.ts): the least any API with an
 *   Effect per `write` and per `take` can cost.
 * - the library, one row per way of writing and reading:
 *   `write` (one per message), `writeAll` (1000 messages per call), or
 *   `Stream.run(stream, stocking.sink)` over `Stream.fromIterable` rechunked
 *   to 1000 messages (`sink`) or to one message (`sink1`) per chunk;
 *   `take` in a loop, `takeBatch` in a loop (a plain loop over each batch),
 *   `messages` with `Stream.runForEach` (an Effect per message),
 *   `messages` with `Stream.runForEachChunk`, or `forEachChunk` (a plain
 *   loop over each chunk). The stream consumers end when the writer closes.
 *
 * Ratios are per round (same connections' conditions), median over rounds:
 * `x raw` against raw, `x floor` against the sync floor, `x 2-op` against
 * the 2-op floor. At 64 KiB and 1 MiB each row also counts V8's major
 * (mark-compact) collections per GiB received, the pattern large messages
 * fall into when they outlive a young-generation collection.
 */
import { Chunk, Deferred, Effect, Exit, Fiber, Stream } from "effect"
import { Backend, Poll, Select, type Stocking } from "../src/node.js"
import { BULK_POOL, Receiver, Sender, socketPair } from "./baseline.js"
import { type FloorKind, Inbox, readMany, writeMany } from "./floor.js"
import {
  againstFloors,
  check,
  formatSize,
  gcCounter,
  interleave,
  median,
  now,
  type Options,
  ratios,
  type Row,
  stockingPair
} from "./util.js"

export type ReadMode = "take" | "takeBatch" | "stream" | "chunks" | "forEachChunk"
export type WriteMode = "write" | "writeAll" | "sink" | "sink1"

export interface Measurement {
  readonly seconds: number
  readonly messages: number
  readonly bytes: number
  /** Major collections during the timed part. */
  readonly majorGcs: number
}

/**
 * Messages sent ahead of the timed ones on the same connection, to warm it
 * up (TCP buffer growth, first allocations). The clock starts once the
 * reader has them all, as the writer starts on the timed ones.
 */
const lead = (n: number): number => Math.max(1, Math.floor(n / 10))

/** Each requested round is run as this many shorter ones. */
const SPLIT = 3

/** Messages per `writeAll` call. */
const BATCH = 1000

const makePayload = (size: number): Uint8Array => {
  const payload = new Uint8Array(size)
  for (let i = 0; i < size; i++) payload[i] = (i * 31 + 7) & 0xff
  return payload
}

const checkLast = (got: Uint8Array, payload: Uint8Array): boolean =>
  got.length === payload.length &&
  (got.length === 0 || (got[0] === payload[0] && got[got.length - 1] === payload[payload.length - 1]))

/** Counts what arrives; `onMessage` returns whether the lead-in has just completed. */
const counter = (size: number, n: number) => {
  const total = lead(n) + n
  let count = 0
  let bytes = 0
  let t0 = 0
  let t1 = 0
  let last: Uint8Array | undefined
  let majors = 0
  const gcs = gcCounter()
  return {
    total,
    start: () => {
      t0 = now()
      majors = gcs.majors()
    },
    onMessage: (message: Uint8Array | string): boolean => {
      bytes += message.length
      if (++count === total) {
        t1 = now()
        majors = gcs.majors() - majors
        last = message as Uint8Array
      }
      return count === lead(n)
    },
    finish: (label: string, payload: Uint8Array): Measurement => {
      gcs.stop()
      check(last !== undefined && checkLast(last, payload), `${label} ${size} B: last message intact`)
      return { seconds: (t1 - t0) / 1000, messages: count - lead(n), bytes: bytes - lead(n) * size, majorGcs: majors }
    }
  }
}

export const baselineRound = async (size: number, n: number): Promise<Measurement> => {
  const payload = makePayload(size)
  const c = counter(size, n)
  let finish!: () => void
  const finished = new Promise<void>((resolve) => (finish = resolve))
  let leadIn!: () => void
  const leadReceived = new Promise<void>((resolve) => (leadIn = resolve))
  let received = 0
  const receiver = new Receiver((message) => {
    if (c.onMessage(message)) leadIn()
    if (++received === c.total) finish()
  })
  const pair = await socketPair(receiver.push, BULK_POOL)
  const sender = new Sender(pair.server)
  const writeCount = async (count: number) => {
    for (let i = 0; i < count; i++) {
      if (!sender.write(payload)) await sender.drained()
    }
    sender.flush()
  }
  const writer = (async () => {
    await writeCount(lead(n))
    await leadReceived
    c.start()
    await writeCount(n)
  })()
  await Promise.all([writer, finished])
  await pair.close()
  return c.finish("baseline", payload)
}

export const floorRound = async (size: number, n: number, kind: FloorKind): Promise<Measurement> => {
  const payload = makePayload(size)
  const c = counter(size, n)
  const inbox = new Inbox()
  const pair = await socketPair(new Receiver(inbox.push).push, BULK_POOL)
  const sender = new Sender(pair.server)
  const program = Effect.gen(function* () {
    const leadReceived = yield* Deferred.make<void>()
    const onMessage = (message: Uint8Array) => {
      if (c.onMessage(message)) Deferred.unsafeDone(leadReceived, Exit.void)
    }
    const reader = yield* Effect.fork(readMany(inbox, c.total, kind, onMessage))
    const writer = yield* Effect.fork(
      Effect.gen(function* () {
        yield* writeMany(sender, payload, lead(n), kind)
        yield* Deferred.await(leadReceived)
        c.start()
        yield* writeMany(sender, payload, n, kind)
      })
    )
    yield* Fiber.join(reader)
    yield* Fiber.join(writer)
  })
  await Effect.runPromise(program)
  await pair.close()
  return c.finish(`floor ${kind}`, payload)
}

const consume = (
  reading: Stocking.Stocking,
  mode: ReadMode,
  total: number,
  onMessage: (message: Uint8Array | string) => void
): Effect.Effect<void, unknown> => {
  const eachOfChunk = (chunk: Chunk.Chunk<Uint8Array | string>) => {
    for (const message of chunk) onMessage(message)
    return Effect.void
  }
  switch (mode) {
    case "take":
      return Effect.gen(function* () {
        for (let i = 0; i < total; i++) onMessage(yield* reading.take)
      })
    case "takeBatch":
      return Effect.gen(function* () {
        for (let i = 0; i < total;) {
          const batch = yield* reading.takeBatch
          for (const message of batch) onMessage(message)
          i += batch.length
        }
      })
    case "stream":
      return Stream.runForEach(reading.messages, (message) => {
        onMessage(message)
        return Effect.void
      })
    case "chunks":
      return Stream.runForEachChunk(reading.messages, eachOfChunk)
    case "forEachChunk":
      return reading.forEachChunk(eachOfChunk)
  }
}

export const libraryRound = (backend: Backend.Backend, size: number, n: number, write: WriteMode, read: ReadMode) =>
  Effect.scoped(
    Effect.gen(function* () {
      const { client: reading, server: writing } = yield* stockingPair(backend)
      const payload = makePayload(size)
      const c = counter(size, n)
      const leadReceived = yield* Deferred.make<void>()
      const onMessage = (message: Uint8Array | string) => {
        if (c.onMessage(message)) Deferred.unsafeDone(leadReceived, Exit.void)
      }
      const batch = Array.from({ length: BATCH }, () => payload)
      // The sink's input, made before the clock starts: one array per count (the lead-in, the timed part).
      const arrays = new Map(
        [lead(n), n].map((count) => [
          count,
          Array.from({ length: write.startsWith("sink") ? count : 0 }, () => payload)
        ])
      )
      const messages = (count: number) => arrays.get(count)!
      const writeCount = (count: number): Effect.Effect<void, unknown> => {
        switch (write) {
          case "write":
            return Effect.gen(function* () {
              for (let i = 0; i < count; i++) yield* writing.write(payload)
            })
          case "writeAll":
            return Effect.gen(function* () {
              for (let i = 0; i < count; i += BATCH) {
                yield* writing.writeAll(count - i >= BATCH ? batch : batch.slice(0, count - i))
              }
            })
          case "sink":
          case "sink1":
            return Stream.run(
              Stream.fromIterable(messages(count)).pipe(Stream.rechunk(write === "sink" ? BATCH : 1)),
              writing.sink
            )
        }
      }
      const readerFiber = yield* Effect.fork(consume(reading, read, c.total, onMessage))
      const writerFiber = yield* Effect.fork(
        Effect.gen(function* () {
          yield* writeCount(lead(n))
          yield* Deferred.await(leadReceived)
          c.start()
          yield* writeCount(n)
          // The stream consumers end when the connection does.
          if (read !== "take" && read !== "takeBatch") yield* writing.close
        })
      )
      yield* Fiber.join(readerFiber)
      yield* Fiber.join(writerFiber)
      return c.finish(`library ${write} + ${read}`, payload)
    })
  ).pipe(
    Effect.timeoutFail({
      duration: "120 seconds",
      onTimeout: () => new Error(`library throughput ${size} B timed out`)
    })
  )

/** Messages per requested round for each size, full and quick (split into `SPLIT` rounds). */
const COUNTS: Record<number, readonly [full: number, quick: number]> = {
  64: [300_000, 60_000],
  65536: [3_000, 600],
  1048576: [300, 100]
}

const READ_LABEL: Record<ReadMode, string> = {
  take: "take",
  takeBatch: "takeBatch",
  stream: "messages/runForEach",
  chunks: "messages/runForEachChunk",
  forEachChunk: "forEachChunk"
}

const WRITE_LABEL: Record<WriteMode, string> = {
  write: "write",
  writeAll: "writeAll",
  sink: `sink(${BATCH})`,
  sink1: "sink(1)"
}

interface Variant {
  readonly backend: readonly [string, Backend.Backend]
  readonly write: WriteMode
  readonly read: ReadMode
}

const poll = ["poll", Poll.backend] as const
const select0 = ["select(0)", Select.make(0)] as const

/** The library rows of each size. */
const variants = (size: number): Array<Variant> => {
  if (size === 64) {
    return [
      { backend: poll, write: "write", read: "take" },
      { backend: poll, write: "write", read: "stream" },
      { backend: poll, write: "writeAll", read: "takeBatch" },
      { backend: poll, write: "writeAll", read: "forEachChunk" },
      { backend: poll, write: "writeAll", read: "chunks" },
      // Against `writeAll + forEachChunk` (same reader), in the note as `x writeAll`.
      { backend: poll, write: "sink", read: "forEachChunk" },
      { backend: poll, write: "sink1", read: "forEachChunk" },
      { backend: select0, write: "write", read: "take" }
    ]
  }
  const large: Array<Variant> = [
    { backend: poll, write: "write", read: "take" },
    { backend: poll, write: "write", read: "takeBatch" },
    { backend: poll, write: "write", read: "forEachChunk" },
    { backend: poll, write: "write", read: "chunks" },
    { backend: poll, write: "write", read: "stream" }
  ]
  return size === 1048576 ? [...large, { backend: select0, write: "write", read: "take" }] : large
}

const rowName = (v: Variant) => `throughput ${v.backend[0]} ${WRITE_LABEL[v.write]} + ${READ_LABEL[v.read]}`

export const run = async (options: Options): Promise<Array<Row>> => {
  const rows: Array<Row> = []
  for (const size of [64, 65536, 1048576]) {
    const wanted = variants(size).filter(
      (v) => options.only === undefined || options.only.test(`${rowName(v)} ${formatSize(size)}`)
    )
    const floorsWanted =
      options.only === undefined || options.only.test(`throughput floor ${formatSize(size)}`) || wanted.length > 0
    if (wanted.length === 0 && !floorsWanted) continue
    const [full, quick] = COUNTS[size]!
    // Three short rounds for each one asked for: on a shared machine the load comes in bursts of
    // about a second, and more, shorter, interleaved rounds give the per-round ratios a steadier median.
    const n = Math.floor((options.quick ? quick : full) / SPLIT)
    const rounds = options.rounds * SPLIT
    const label = `throughput ${formatSize(size)}`
    // Warm-up (not counted) until the JIT has settled: the raw path takes a
    // few rounds to reach its optimised tier; every other side gets one round of half the size.
    const warm = Math.max(1, Math.floor(n / 2))
    const withRaw = !options.libraryOnly
    if (withRaw) {
      for (let i = 0; i < 3; i++) await baselineRound(size, warm)
      for (const kind of ["sync", "2-op"] as const) await floorRound(size, warm, kind)
    }
    for (const v of wanted) await Effect.runPromise(libraryRound(v.backend[1], size, warm, v.write, v.read))
    const sides: Array<() => Promise<Measurement>> = [
      ...(withRaw
        ? [() => baselineRound(size, n), () => floorRound(size, n, "sync"), () => floorRound(size, n, "2-op")]
        : []),
      ...wanted.map((v) => () => Effect.runPromise(libraryRound(v.backend[1], size, n, v.write, v.read)))
    ]
    const results = await interleave(rounds, options, label, sides)
    for (const side of results) {
      for (const m of side) {
        check(m.messages === n && m.bytes === n * size, `${label}: received ${m.messages} of ${n} messages`)
        check(m.seconds > 0 && Number.isFinite(m.seconds), `${label}: positive duration`)
      }
    }
    const rates = results.map((side) => side.map((m) => m.messages / m.seconds))
    const raw = withRaw ? rates[0]! : []
    const floorSync = withRaw ? rates[1]! : []
    const floor2 = withRaw ? rates[2]! : []
    const gib = (n * size) / 2 ** 30
    // The sink rows are compared with `writeAll` into the same reader, round by round.
    const writeAllIndex = wanted.findIndex(
      (v) => v.backend === poll && v.write === "writeAll" && v.read === "forEachChunk"
    )
    const describe = (name: string, index: number, variant?: Variant): Row => {
      const own = rates[index]!
      const againstWriteAll =
        variant !== undefined && variant.write.startsWith("sink") && writeAllIndex >= 0
          ? `; x writeAll ${median(ratios(own, rates[(withRaw ? 3 : 0) + writeAllIndex]!)).toFixed(3)}`
          : ""
      const majors = median(results[index]!.map((m) => m.majorGcs))
      return {
        name,
        size,
        unit: "msg/s",
        ...againstFloors(own, raw, floorSync, floor2),
        better: "higher",
        note:
          `rounds ${results[index]!.map((m) => (m.seconds * 1000).toFixed(0)).join("/")} ms` +
          (size >= 65536 ? `; major GCs per GiB ${(majors / gib).toFixed(1)}` : "") +
          againstWriteAll
      }
    }
    if (withRaw) {
      rows.push(describe("throughput floor sync", 1), describe("throughput floor 2-op", 2))
    }
    wanted.forEach((v, i) => rows.push(describe(rowName(v), (withRaw ? 3 : 0) + i, v)))
    for (const row of rows.filter((r) => r.size === size)) {
      options.log(
        `    ${row.name} ${formatSize(size)}: ${row.value.toFixed(0)} msg/s, x raw ${row.ratio}, x floor ${row.floorRatio}, x 2-op ${row.floor2Ratio} (${row.note})`
      )
    }
  }
  return rows
}

/**
 * One-way throughput: one writer sends `n` messages of one size, one
 * `write` per message, sequentially; the reader counts them. The clock starts
 * as the writer starts and stops when the last message arrives at the reader.
 * Before that, `lead(n)` untimed messages warm the connection up, and the
 * clock starts only once the reader has all of them (an empty pipe).
 *
 * - Library: `yield* writing.write(m)` in a loop in one fiber; the reader
 *   consumes `reading.messages` (`Stream.runForEach`, one handler call per
 *   message) or, for the `take` variant, loops on `yield* reading.take`.
 *   As in the baseline, the connecting Stocking reads and the accepted one
 *   writes.
 * - Baseline: `Sender.write` in a loop (awaiting `drained()` when it says
 *   so); the reader is a `Receiver` fed by pooled reads (`reader`).
 */
import { Deferred, Effect, Exit, Fiber, Stream } from "effect"
import { Backend, Poll, Select } from "../src/node.js"
import { BULK_POOL, Receiver, Sender, socketPair } from "./baseline.js"
import {
  alternate,
  check,
  formatSize,
  median,
  now,
  type Options,
  ratios,
  round3,
  type Row,
  stockingPair
} from "./util.js"

export type ReadMode = "stream" | "take"

export interface Measurement {
  readonly seconds: number
  readonly messages: number
  readonly bytes: number
}

/**
 * Messages sent ahead of the timed ones on the same connection, to warm it
 * up (TCP buffer growth, first allocations). The clock starts once the
 * reader has them all, as the writer starts on the timed ones.
 */
const lead = (n: number): number => Math.max(1, Math.floor(n / 10))

const makePayload = (size: number): Uint8Array => {
  const payload = new Uint8Array(size)
  for (let i = 0; i < size; i++) payload[i] = (i * 31 + 7) & 0xff
  return payload
}

const checkLast = (got: Uint8Array, payload: Uint8Array): boolean =>
  got.length === payload.length &&
  (got.length === 0 || (got[0] === payload[0] && got[got.length - 1] === payload[payload.length - 1]))

export const baselineRound = async (size: number, n: number): Promise<Measurement> => {
  const payload = makePayload(size)
  let count = 0
  let bytes = 0
  let last: Uint8Array | undefined
  let t1 = 0
  let finish!: () => void
  const finished = new Promise<void>((resolve) => (finish = resolve))
  let t0 = 0
  const total = lead(n) + n
  let leadIn!: () => void
  const leadReceived = new Promise<void>((resolve) => (leadIn = resolve))
  const receiver = new Receiver((message) => {
    bytes += message.length
    if (++count === lead(n)) leadIn()
    if (count === total) {
      t1 = now()
      last = message
      finish()
    }
  })
  // The connecting socket reads (node's `onread` pooling is only offered there); the accepted one writes.
  const pair = await socketPair(receiver.push, BULK_POOL)
  const sender = new Sender(pair.server)
  const writeMany = async (count: number) => {
    for (let i = 0; i < count; i++) {
      if (!sender.write(payload)) await sender.drained()
    }
    sender.flush()
  }
  const writer = (async () => {
    await writeMany(lead(n))
    await leadReceived
    t0 = now()
    await writeMany(n)
  })()
  await Promise.all([writer, finished])
  await pair.close()
  check(last !== undefined && checkLast(last, payload), `baseline ${size} B: last message intact`)
  return { seconds: (t1 - t0) / 1000, messages: count - lead(n), bytes: bytes - lead(n) * size }
}

export const libraryRound = (backend: Backend.Backend, size: number, n: number, mode: ReadMode) =>
  Effect.scoped(
    Effect.gen(function* () {
      // As in the baseline: the connecting side reads, the accepted side writes.
      const { client: reading, server: writing } = yield* stockingPair(backend)
      const payload = makePayload(size)
      let count = 0
      let bytes = 0
      let last: Uint8Array | undefined
      let t0 = 0
      let t1 = 0
      const total = lead(n) + n
      const leadReceived = yield* Deferred.make<void>()
      const onMessage = (message: string | Uint8Array) => {
        bytes += message.length
        if (++count === lead(n)) Deferred.unsafeDone(leadReceived, Exit.void)
        if (count === total) {
          t1 = now()
          last = message as Uint8Array
        }
        return Effect.void
      }
      const reader =
        mode === "stream"
          ? reading.messages.pipe(Stream.take(total), Stream.runForEach(onMessage))
          : Effect.gen(function* () {
              for (let i = 0; i < total; i++) onMessage(yield* reading.take)
            })
      const writer = Effect.gen(function* () {
        for (let i = 0; i < lead(n); i++) yield* writing.write(payload)
        yield* Deferred.await(leadReceived)
        t0 = now()
        for (let i = 0; i < n; i++) yield* writing.write(payload)
      })
      const readerFiber = yield* Effect.fork(reader)
      const writerFiber = yield* Effect.fork(writer)
      yield* Fiber.join(readerFiber)
      yield* Fiber.join(writerFiber)
      check(last !== undefined && checkLast(last, payload), `library ${size} B: last message intact`)
      return {
        seconds: (t1 - t0) / 1000,
        messages: count - lead(n),
        bytes: bytes - lead(n) * size
      } satisfies Measurement
    })
  ).pipe(
    Effect.timeoutFail({
      duration: "120 seconds",
      onTimeout: () => new Error(`library throughput ${size} B timed out`)
    })
  )

/** Messages per round for each size, full and quick. */
const COUNTS: Record<number, readonly [full: number, quick: number]> = {
  64: [300_000, 100_000],
  4096: [30_000, 10_000],
  65536: [3_000, 1_000],
  1048576: [300, 100]
}

const backends: ReadonlyArray<readonly [string, Backend.Backend]> = [
  ["poll", Poll.backend],
  ["select(0)", Select.make(0)]
]

interface Config {
  readonly name: string
  readonly backend: Backend.Backend
  readonly size: number
  readonly mode: ReadMode
}

export const configs = (): Array<Config> => {
  const out: Array<Config> = []
  for (const [backendName, backend] of backends) {
    for (const size of [64, 4096, 65536, 1048576]) {
      out.push({ name: `throughput ${backendName} stream`, backend, size, mode: "stream" })
    }
    for (const size of [64, 1048576]) out.push({ name: `throughput ${backendName} take`, backend, size, mode: "take" })
  }
  return out
}

export const run = async (options: Options): Promise<Array<Row>> => {
  const rows: Array<Row> = []
  const warmedSizes = new Set<number>()
  for (const config of configs()) {
    const label = `${config.name} ${formatSize(config.size)}`
    if (options.only !== undefined && !options.only.test(label)) continue
    const [full, quick] = COUNTS[config.size]!
    const n = options.quick ? quick : full
    // Warm-up (not counted) until the JIT has settled: the baseline's code takes
    // a few rounds to reach its optimised tier (95, 62, 46, then ~30 ms a round
    // at 64 B), so its warm-up is done in full once per size; the library's
    // (one round of half the size) once per configuration.
    const warm = Math.max(1, Math.floor(n / 2))
    if (!options.libraryOnly && !warmedSizes.has(config.size)) {
      warmedSizes.add(config.size)
      for (let i = 0; i < 3; i++) await baselineRound(config.size, warm)
    }
    await Effect.runPromise(libraryRound(config.backend, config.size, warm, config.mode))
    const { baseline, library } = await alternate(
      options.rounds,
      options,
      label,
      () => baselineRound(config.size, n),
      () => Effect.runPromise(libraryRound(config.backend, config.size, n, config.mode))
    )
    for (const m of [...baseline, ...library]) {
      check(m.messages === n && m.bytes === n * config.size, `${label}: received ${m.messages} of ${n} messages`)
      check(m.seconds > 0 && Number.isFinite(m.seconds), `${label}: positive duration`)
    }
    const libRates = library.map((m) => m.messages / m.seconds)
    const baseRates = baseline.map((m) => m.messages / m.seconds)
    const ratio = median(ratios(libRates, baseRates))
    const msgs = median(libRates)
    const baseMsgs = median(baseRates)
    const note = `rounds lib ${library.map((m) => (m.seconds * 1000).toFixed(0)).join("/")} ms, base ${baseline
      .map((m) => (m.seconds * 1000).toFixed(0))
      .join("/")} ms`
    rows.push({
      name: config.name,
      size: config.size,
      value: round3(msgs),
      unit: "msg/s",
      baseline: round3(baseMsgs),
      ratio: round3(ratio),
      better: "higher",
      note
    })
    rows.push({
      name: config.name,
      size: config.size,
      value: round3((msgs * config.size) / 1e6),
      unit: "MB/s",
      baseline: round3((baseMsgs * config.size) / 1e6),
      ratio: round3(ratio),
      better: "higher"
    })
    options.log(
      `    lib ${msgs.toFixed(0)} msg/s, base ${baseMsgs.toFixed(0)} msg/s, ratio ${ratio.toFixed(3)} (${note})`
    )
  }
  return rows
}

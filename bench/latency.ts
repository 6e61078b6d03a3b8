/**
 * Ping-pong latency with 64 B messages: the client writes one message and
 * waits for the echo before writing the next. Each round trip is timed; after
 * a warm-up, p50 and p99 of `trips` round trips are reported.
 *
 * - Library: client loops `write` then `take`; the server echoes with
 *   `server.messages.pipe(Stream.runForEach(server.write))`.
 * - Baseline: `Sender` + `Receiver` on both ends, the client sending the next
 *   ping from the read callback that delivered the pong.
 */
import { Effect, Stream } from "effect"
import { Backend, Poll, Select } from "../src/node.js"
import { Receiver, Sender, SMALL_POOL, socketPair } from "./baseline.js"
import {
  alternate,
  check,
  median,
  now,
  type Options,
  percentile,
  ratios,
  round3,
  type Row,
  stockingPair
} from "./util.js"

const SIZE = 64

export interface Trips {
  readonly p50: number
  readonly p99: number
  readonly count: number
}

const summarise = (samples: Float64Array): Trips => {
  samples.sort()
  return { p50: percentile(samples, 50) * 1000, p99: percentile(samples, 99) * 1000, count: samples.length }
}

export const baselineRound = async (warmup: number, trips: number): Promise<Trips> => {
  const payload = new Uint8Array(SIZE).fill(1)
  const samples = new Float64Array(trips)
  const total = warmup + trips
  let done = 0
  let t0 = 0
  let finish!: () => void
  const finished = new Promise<void>((resolve) => (finish = resolve))
  let clientSender!: Sender
  const clientReceiver = new Receiver((message) => {
    const t1 = now()
    if (done === 0) check(message.length === SIZE, "baseline pong size")
    if (done >= warmup) samples[done - warmup] = t1 - t0
    if (++done === total) return finish()
    t0 = now()
    clientSender.write(payload)
  })
  const pair = await socketPair(clientReceiver.push, SMALL_POOL)
  const serverSender = new Sender(pair.server)
  pair.server.on(
    "data",
    new Receiver((message) => {
      serverSender.write(message)
    }).push
  )
  clientSender = new Sender(pair.client)
  t0 = now()
  clientSender.write(payload)
  await finished
  await pair.close()
  return summarise(samples)
}

export const libraryRound = (backend: Backend.Backend, warmup: number, trips: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const { client, server } = yield* stockingPair(backend)
      yield* server.messages.pipe(Stream.runForEach(server.write), Effect.ignore, Effect.forkScoped)
      const payload = new Uint8Array(SIZE).fill(1)
      const samples = new Float64Array(trips)
      for (let i = 0; i < warmup + trips; i++) {
        const t0 = now()
        yield* client.write(payload)
        const pong = yield* client.take
        const t1 = now()
        if (i === 0) check(pong.length === SIZE, "library pong size")
        if (i >= warmup) samples[i - warmup] = t1 - t0
      }
      return summarise(samples)
    })
  ).pipe(Effect.timeoutFail({ duration: "120 seconds", onTimeout: () => new Error("library ping-pong timed out") }))

/**
 * Poll always; select(0) too in quick mode and when asked for with --only
 * (left out of the default full run to keep it within its time budget).
 */
const backends = (options: Options): ReadonlyArray<readonly [string, Backend.Backend]> =>
  options.quick || options.only !== undefined
    ? [
        ["poll", Poll.backend],
        ["select(0)", Select.make(0)]
      ]
    : [["poll", Poll.backend]]

export const run = async (options: Options): Promise<Array<Row>> => {
  const rows: Array<Row> = []
  const trips = options.quick ? 3_000 : 20_000
  const warmup = options.quick ? 500 : 2_000
  for (const [backendName, backend] of backends(options)) {
    const label = `latency ${backendName} ping-pong 64 B`
    if (options.only !== undefined && !options.only.test(label)) continue
    const { baseline, library } = await alternate(
      options.rounds,
      options,
      label,
      () => baselineRound(warmup, trips),
      () => Effect.runPromise(libraryRound(backend, warmup, trips))
    )
    for (const t of [...baseline, ...library]) {
      check(t.count === trips && t.p50 > 0 && t.p99 >= t.p50, `${label}: sane percentiles`)
    }
    for (const key of ["p50", "p99"] as const) {
      const lib = library.map((t) => t[key])
      const base = baseline.map((t) => t[key])
      rows.push({
        name: `latency ${backendName} ${key}`,
        size: SIZE,
        value: round3(median(lib)),
        unit: "µs",
        baseline: round3(median(base)),
        ratio: round3(median(ratios(lib, base))),
        better: "lower",
        note: `${trips} round trips per round`
      })
    }
    const last = rows.slice(-2)
    options.log(`    ${last.map((r) => `${r.name} lib ${r.value} µs base ${r.baseline} µs`).join("; ")}`)
  }
  return rows
}

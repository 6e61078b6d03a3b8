/**
 * Ping-pong latency with 64 B messages: the client writes one message and
 * waits for the echo before writing the next. Each round trip is timed; after
 * a warm-up, p50 and p99 of `trips` round trips are reported.
 *
 * Each round runs, one after another on fresh connections:
 *
 * - raw: `Sender` + `Receiver` on both ends, the client sending the next
 *   ping from the read callback that delivered the pong. No Effect at all.
 * - floor (sync, 2-op): the same raw path, each end a fiber doing one Effect
 *   per message it writes and one per message it takes (bench/floor.ts).
 * - the library: the client loops `write` then `take`; the server echoes
 *   with a `take` loop, with `forEach(write)`, with
 *   `messages.pipe(Stream.runForEach(write))`, or through `Server.serve`
 *   with a `forEach(write)` handler.
 */
import { Effect, Stream } from "effect"
import { Backend, Poll, Select, Server, Stocking } from "../src/node.js"
import { Receiver, Sender, SMALL_POOL, socketPair } from "./baseline.js"
import { type FloorKind, Inbox, write2, writeSync } from "./floor.js"
import { againstFloors, check, interleave, now, type Options, percentile, type Row, stockingPair } from "./util.js"

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

const floorWrite = (sender: Sender, payload: Uint8Array, kind: FloorKind): Effect.Effect<unknown> =>
  kind === "sync" ? writeSync(sender, payload) : write2(sender, payload)

export const floorRound = async (warmup: number, trips: number, kind: FloorKind): Promise<Trips> => {
  const clientInbox = new Inbox()
  const serverInbox = new Inbox()
  const pair = await socketPair(new Receiver(clientInbox.push).push, SMALL_POOL)
  pair.server.on("data", new Receiver(serverInbox.push).push)
  const clientSender = new Sender(pair.client)
  const serverSender = new Sender(pair.server)
  const total = warmup + trips
  const payload = new Uint8Array(SIZE).fill(1)
  // The server echoes from its own fiber: take one, write it back, one Effect each.
  const server = Effect.gen(function* () {
    for (let i = 0; i < total; i++) {
      let message: Uint8Array | undefined
      if (kind === "sync") {
        while ((message = yield* serverInbox.pollSync) === undefined) yield* serverInbox.wait
      } else message = yield* serverInbox.take2
      yield* floorWrite(serverSender, message, kind)
    }
  })
  const client = Effect.gen(function* () {
    const samples = new Float64Array(trips)
    for (let i = 0; i < total; i++) {
      const t0 = now()
      yield* floorWrite(clientSender, payload, kind)
      let pong: Uint8Array | undefined
      if (kind === "sync") {
        while ((pong = yield* clientInbox.pollSync) === undefined) yield* clientInbox.wait
      } else pong = yield* clientInbox.take2
      const t1 = now()
      if (i === 0) check(pong.length === SIZE, "floor pong size")
      if (i >= warmup) samples[i - warmup] = t1 - t0
    }
    return summarise(samples)
  })
  const result = await Effect.runPromise(Effect.zipRight(Effect.fork(server), client))
  await pair.close()
  return result
}

export type Echo = "take" | "forEach" | "stream" | "serve"

const ECHO_LABEL: Record<Echo, string> = {
  take: "take loop",
  forEach: "forEach(write)",
  stream: "messages/runForEach(write)",
  serve: "serve + forEach(write)"
}

const clientLoop = (client: Stocking.Stocking, warmup: number, trips: number) =>
  Effect.gen(function* () {
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

const echo = (server: Stocking.Stocking, how: Exclude<Echo, "serve">): Effect.Effect<void, unknown> => {
  switch (how) {
    case "take":
      return Effect.gen(function* () {
        while (true) yield* server.write(yield* server.take)
      })
    case "forEach":
      return server.forEach(server.write)
    case "stream":
      return server.messages.pipe(Stream.runForEach(server.write))
  }
}

export const libraryRound = (backend: Backend.Backend, how: Echo, warmup: number, trips: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      if (how === "serve") {
        const server = yield* Server.make({ port: 0 })
        yield* server.serve((s) => s.forEach(s.write)).pipe(Effect.forkScoped)
        const port = server.address._tag === "Tcp" ? server.address.port : 0
        const client = yield* Stocking.make({ host: "127.0.0.1", port })
        return yield* clientLoop(client, warmup, trips)
      }
      const { client, server } = yield* stockingPair(backend)
      yield* echo(server, how).pipe(Effect.ignore, Effect.forkScoped)
      return yield* clientLoop(client, warmup, trips)
    }).pipe(Effect.provideService(Backend.Backend, backend))
  ).pipe(Effect.timeoutFail({ duration: "120 seconds", onTimeout: () => new Error("library ping-pong timed out") }))

interface Variant {
  readonly backend: readonly [string, Backend.Backend]
  readonly echo: Echo
}

const poll = ["poll", Poll.backend] as const

/** Poll with every echo; select(0) with a take loop in quick mode and when asked for with --only. */
const variants = (options: Options): Array<Variant> => [
  { backend: poll, echo: "take" },
  { backend: poll, echo: "forEach" },
  { backend: poll, echo: "stream" },
  { backend: poll, echo: "serve" },
  ...(options.quick || options.only !== undefined
    ? [{ backend: ["select(0)", Select.make(0)] as const, echo: "take" as const }]
    : [])
]

export const run = async (options: Options): Promise<Array<Row>> => {
  const rows: Array<Row> = []
  const trips = options.quick ? 3_000 : 20_000
  const warmup = options.quick ? 500 : 2_000
  const name = (v: Variant) => `latency ${v.backend[0]} ${ECHO_LABEL[v.echo]}`
  const wanted = variants(options).filter(
    (v) => options.only === undefined || options.only.test(`${name(v)} ping-pong 64 B`)
  )
  if (wanted.length === 0 && options.only !== undefined && !options.only.test("latency floor ping-pong 64 B"))
    return rows
  const withRaw = !options.libraryOnly
  const sides: Array<() => Promise<Trips>> = [
    ...(withRaw
      ? [
          () => baselineRound(warmup, trips),
          () => floorRound(warmup, trips, "sync"),
          () => floorRound(warmup, trips, "2-op")
        ]
      : []),
    ...wanted.map((v) => () => Effect.runPromise(libraryRound(v.backend[1], v.echo, warmup, trips)))
  ]
  const results = await interleave(options.rounds, options, "latency ping-pong 64 B", sides)
  for (const side of results) {
    for (const t of side) check(t.count === trips && t.p50 > 0 && t.p99 >= t.p50, "latency: sane percentiles")
  }
  const names = [...(withRaw ? ["latency floor sync", "latency floor 2-op"] : []), ...wanted.map(name)]
  const offset = withRaw ? 1 : 0
  for (const key of ["p50", "p99"] as const) {
    const raw = withRaw ? results[0]!.map((t) => t[key]) : []
    const floorSync = withRaw ? results[1]!.map((t) => t[key]) : []
    const floor2 = withRaw ? results[2]!.map((t) => t[key]) : []
    names.forEach((rowName, i) => {
      const own = results[offset + i]!.map((t) => t[key])
      rows.push({
        name: `${rowName} ${key}`,
        size: SIZE,
        unit: "µs",
        ...againstFloors(own, raw, floorSync, floor2),
        better: "lower",
        note: `${trips} round trips per round; rounds ${own.map((v) => v.toFixed(1)).join("/")} µs`
      })
    })
  }
  for (const row of rows) options.log(`    ${row.name}: ${row.value} µs, x raw ${row.ratio}, x 2-op ${row.floor2Ratio}`)
  return rows
}

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
import type { Echo4 } from "./line4.js"
import {
  againstFloors,
  check,
  interleave,
  median,
  now,
  type Options,
  ratios,
  round3,
  type Row,
  stockingPair,
  summariseTrips,
  type Trips
} from "./util.js"

const SIZE = 64

export type { Trips } from "./common.js"

const summarise = summariseTrips

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

/**
 * The Effect 4 line's rows (bench/effect4/library/rows.ts; the client a `write` + `take` loop), and the Effect 3
 * row each is held against. Its `serve` handler echoes with a `take` loop.
 */
const EFFECT4_ROWS: Record<Echo4, { readonly name: string; readonly effect3: string }> = {
  take: { name: "latency effect4 take loop", effect3: "latency poll take loop" },
  serve: { name: "latency effect4 serve + take loop", effect3: "latency poll serve + forEach(write)" }
}

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
  const test = (rowName: string) => options.only === undefined || options.only.test(`${rowName} ping-pong 64 B`)
  // The Effect 4 sides (bench/line4.ts): its floors, and its library rows once src/effect4/Stocking.ts is there,
  // each held against the Effect 3 line's same row (which then runs with it).
  const line4 = options.effect4
  const library4 = (Object.keys(EFFECT4_ROWS) as Array<Echo4>).filter(
    (echo) => line4 !== undefined && test(EFFECT4_ROWS[echo].name)
  )
  if (line4 !== undefined && line4.skipLibrary !== undefined && library4.length > 0) {
    options.log(`  latency effect4 rows: skipped: ${line4.skipLibrary}`)
    library4.length = 0
  }
  const floors4 = line4 !== undefined && !options.libraryOnly && (library4.length > 0 || test("latency effect4 floor"))
  const wanted = variants(options).filter(
    (v) => test(name(v)) || library4.some((echo) => EFFECT4_ROWS[echo].effect3 === name(v))
  )
  if (
    wanted.length === 0 &&
    !floors4 &&
    options.only !== undefined &&
    !options.only.test("latency floor ping-pong 64 B")
  )
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
    ...wanted.map((v) => () => Effect.runPromise(libraryRound(v.backend[1], v.echo, warmup, trips))),
    ...(line4 !== undefined && floors4
      ? [() => line4.latencyFloor(warmup, trips, "sync"), () => line4.latencyFloor(warmup, trips, "2-op")]
      : []),
    ...(line4 === undefined ? [] : library4.map((echo) => () => line4.latencyLibrary(echo, warmup, trips)))
  ]
  // The Effect 4 sides run in a process of their own, which may not have run a ping-pong yet: one short round each
  // first (the Effect 3 sides run after the throughput section, in a process that has); not in quick mode.
  if (line4 !== undefined && !options.quick) {
    if (floors4) for (const kind of ["sync", "2-op"] as const) await line4.latencyFloor(warmup, warmup, kind)
    for (const echo of library4) await line4.latencyLibrary(echo, warmup, warmup)
  }
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
    // The Effect 4 rows: `x floor`, `x 2-op` against the Effect 4 floors, `x E3` against the Effect 3 line's row.
    const first4 = offset + names.length
    const floorSync4 = floors4 ? results[first4]!.map((t) => t[key]) : []
    const floor24 = floors4 ? results[first4 + 1]!.map((t) => t[key]) : []
    const sideOf = (rowName: string) => {
      const i = names.indexOf(rowName)
      return i < 0 ? [] : results[offset + i]!.map((t) => t[key])
    }
    const rows4: Array<readonly [string, string]> = [
      ...(floors4
        ? ([
            ["latency effect4 floor sync", "latency floor sync"],
            ["latency effect4 floor 2-op", "latency floor 2-op"]
          ] as const)
        : []),
      ...library4.map((echo) => [EFFECT4_ROWS[echo].name, EFFECT4_ROWS[echo].effect3] as const)
    ]
    rows4.forEach(([rowName, effect3], i) => {
      const own = results[first4 + i]!.map((t) => t[key])
      rows.push({
        name: `${rowName} ${key}`,
        size: SIZE,
        unit: "µs",
        ...againstFloors(own, raw, floorSync4, floor24),
        effect3Ratio: round3(median(ratios(own, sideOf(effect3)))),
        better: "lower",
        note: `${trips} round trips per round; rounds ${own.map((v) => v.toFixed(1)).join("/")} µs; x E3 against ${effect3}`
      })
    })
  }
  for (const row of rows) {
    options.log(
      `    ${row.name}: ${row.value} µs, x raw ${row.ratio}, x 2-op ${row.floor2Ratio}` +
        (row.effect3Ratio === undefined ? "" : `, x E3 ${row.effect3Ratio}`)
    )
  }
  return rows
}

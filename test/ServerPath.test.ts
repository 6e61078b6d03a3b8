/**
 * The send path's and the receive side's promises over connections made the way users make them: the server
 * side from `Server.make` (through `serve` or `connections`), the client from `Stocking.make`; TCP mostly, a
 * Unix socket and TLS in fewer runs; both backends; some runs with the server's shared byte budget under
 * pressure.
 *
 * - Send path: every message arrives exactly once, each writer's order is kept, nothing stalls, and nothing is
 *   left queued, whichever end writes.
 * - Receive side: what the peer wrote before closing gracefully all arrives, in order, then a clean end, however
 *   late the consumer starts and however it reads; after a reset, a prefix arrives, then an error that is not a
 *   clean close.
 *
 * `STOCKING_SOAK_RUNS` raises the runs (`npm run soak`).
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Either, Fiber, Stream } from "effect"
import type { Scope } from "effect"
import * as fc from "fast-check"
import * as net from "node:net"
import type { Framing } from "../src/index.js"
import type { Stocking } from "../src/node.js"
import { backends } from "./utils/net.js"
import {
  type ClientSettings,
  connectPair,
  describeError,
  isCleanClose,
  isPeerEnd,
  listen,
  rawPeer,
  resetPeer,
  type ServerSettings,
  type Transport,
  type Via,
  writeFrames
} from "./utils/server.js"
import { identify, messageOf, writePlan } from "./utils/messages.js"

const KiB = 1024
const MiB = 1024 * KiB

/** How long one run may take before it counts as stalled. */
const STALL_MS = 20_000

/** Runs per backend for the main properties; `STOCKING_SOAK_RUNS` raises it (see `npm run soak`). */
const RUNS = Number(process.env.STOCKING_SOAK_RUNS ?? 120)

/** Fails with `message` after `ms` milliseconds. */
const within =
  (ms: number, message: string) =>
  <A, E, R>(self: Effect.Effect<A, E, R>) =>
    Effect.timeoutFail(self, { duration: ms, onTimeout: () => new Error(`${message} (after ${ms} ms)`) })

const describeMessage = (m: Framing.Message) =>
  typeof m === "string" ? (m.length <= 8 ? JSON.stringify(m) : `text(${m.length})`) : `bytes(${m.length})`

/** Closes both ends at once, so neither waits for the other's end of stream through a `closeTimeout`. */
const closeBoth = (a: Stocking.Stocking, b: Stocking.Stocking) =>
  Effect.all([a.close, b.close], { concurrency: "unbounded", discard: true })

// ---------------------------------------------------------------------------
// Send path
// ---------------------------------------------------------------------------

/** Mostly small, some medium, a few up to 9 MiB. */
const sizeArb = fc.oneof(
  { weight: 30, arbitrary: fc.integer({ min: 0, max: 64 }) },
  { weight: 8, arbitrary: fc.integer({ min: 65, max: 64 * KiB }) },
  { weight: 2, arbitrary: fc.integer({ min: 64 * KiB, max: MiB }) },
  { weight: 1, arbitrary: fc.integer({ min: MiB, max: 9 * MiB }) }
)

/** Both sides of the 16 KiB per-connection allowance, none much larger than a small budget. */
const pressureSizeArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 64 }) },
  { weight: 4, arbitrary: fc.integer({ min: 65, max: 16 * KiB }) },
  { weight: 4, arbitrary: fc.integer({ min: 16 * KiB, max: 64 * KiB }) },
  { weight: 1, arbitrary: fc.integer({ min: 64 * KiB, max: 512 * KiB }) }
)

const opsArb = (size: fc.Arbitrary<number>, maxLength: number) =>
  fc.array(
    fc.record({
      size,
      asText: fc.boolean(),
      // Write this one with `writeAll` together with the next `batch - 1`, or alone with `write`.
      batch: fc.oneof(
        { weight: 3, arbitrary: fc.constant(1) },
        { weight: 1, arbitrary: fc.integer({ min: 2, max: 40 }) }
      ),
      pauseAfter: fc.oneof(
        { weight: 6, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 4 }) }
      )
    }),
    { minLength: 1, maxLength }
  )

const exchangeArb = (size: fc.Arbitrary<number>, maxOps: number, maxWriters: number) =>
  fc.record({
    writers: fc.array(opsArb(size, maxOps), { minLength: 1, maxLength: maxWriters }),
    // Which end writes: the server side (from Server.make) or the client (Stocking.make).
    writerSide: fc.constantFrom("server" as const, "client" as const),
    maxQueuedMessages: fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 8 }), fc.integer({ min: 9, max: 4096 })),
    maxQueuedBytes: fc.oneof(fc.integer({ min: KiB, max: 64 * KiB }), fc.integer({ min: 64 * KiB, max: 16 * MiB })),
    // The reader pauses (ms) after some messages.
    readerPauses: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 16 })
  })

type Exchange = ReturnType<typeof exchangeArb> extends fc.Arbitrary<infer A> ? A : never

const viaArb = fc.constantFrom<Via>("serve", "connections")

/** One connection's exchange: the writer side writes every plan (a fiber each), the other end reads them all. */
const runExchange = (c: Exchange, writer: Stocking.Stocking, reader: Stocking.Stocking) =>
  Effect.gen(function* () {
    const plans = c.writers.map((ops, w) =>
      ops.map((op, seq) => ({ ...op, message: messageOf(w, seq, op.size, op.asText) }))
    )
    const total = plans.reduce((n, p) => n + p.length, 0)
    const got: Array<Framing.Message> = []
    const readAll = Effect.gen(function* () {
      while (got.length < total) {
        got.push(yield* reader.take)
        const pause = c.readerPauses[got.length % c.readerPauses.length]!
        if (pause > 0 && got.length % 3 === 0) yield* Effect.sleep(pause)
      }
    })
    const writeAll = plans.map((plan) => writePlan(writer, plan))
    const stalled = (what: string) => () =>
      new Error(
        `stalled (${c.writerSide} side writing): ${what}; ${got.length} of ${total} messages arrived within ${STALL_MS} ms`
      )
    const readerFiber = yield* Effect.fork(readAll)
    yield* Effect.all(writeAll, { concurrency: "unbounded", discard: true }).pipe(
      Effect.timeoutFail({ duration: STALL_MS, onTimeout: stalled("a writer is still suspended") })
    )
    yield* Fiber.join(readerFiber).pipe(
      Effect.timeoutFail({ duration: STALL_MS, onTimeout: stalled("the reader is still waiting") })
    )
    const next = plans.map(() => 0)
    for (const m of got) {
      const { writer: w, seq, size } = identify(m)
      const expected = plans[w]?.[next[w]!]
      if (expected === undefined || seq !== next[w]) {
        throw new Error(`${c.writerSide} side writer ${w}: expected message ${next[w]}, got ${seq}`)
      }
      if (typeof m !== typeof expected.message || size !== expected.message.length) {
        throw new Error(`writer ${w} message ${seq}: wrong kind or size (${describeMessage(m)})`)
      }
      next[w]!++
    }
    assert.deepStrictEqual(
      next,
      plans.map((p) => p.length)
    )
    // Nothing left queued on the writer's side, the socket's buffer included.
    const deadline = Date.now() + STALL_MS
    while (yield* writer.writeDataQueued) {
      if (Date.now() > deadline) return yield* Effect.fail(new Error("writeDataQueued stayed true"))
      yield* Effect.sleep("2 millis")
    }
  })

const limitsOf = (c: Exchange) => ({ maxQueuedMessages: c.maxQueuedMessages, maxQueuedBytes: c.maxQueuedBytes })

/** Runs `body` once per case, each in a scope of its own; the first failure ends the property. */
const property = <A>(runs: number, arb: fc.Arbitrary<A>, body: (a: A) => Effect.Effect<void, unknown, Scope.Scope>) =>
  fc.assert(
    fc.asyncProperty(arb, (a) => Effect.runPromise(Effect.scoped(body(a)))),
    { numRuns: runs, endOnFailure: true }
  )

const sendCaseArb = (transports: fc.Arbitrary<Transport>) =>
  fc.record({ transport: transports, via: viaArb, exchange: exchangeArb(sizeArb, 40, 4) })

/** One connection from a server of its own; the writer's outbound limits are the case's. */
const runSendCase = (
  backend: (typeof backends)[number][1],
  { transport, via, exchange }: { transport: Transport; via: Via; exchange: Exchange }
) =>
  Effect.gen(function* () {
    const serverSide = exchange.writerSide === "server"
    const listening = yield* listen(backend, {
      transport,
      via,
      server: serverSide ? limitsOf(exchange) : {}
    })
    const { client, server } = yield* connectPair(listening, serverSide ? {} : limitsOf(exchange))
    const [writer, reader] = serverSide ? [server, client] : [client, server]
    yield* runExchange(exchange, writer, reader)
    yield* closeBoth(client, server)
  }).pipe(within(3 * STALL_MS + 5_000, `the run did not finish (${transport}, ${via}, ${exchange.writerSide} writes)`))

/** Several connections at once on one server with a small shared budget; each writes both ways of the allowance. */
const pressureArb = fc.record({
  maxTotalBytes: fc.integer({ min: 64 * KiB, max: MiB }),
  connections: fc.array(fc.record({ exchange: exchangeArb(pressureSizeArb, 30, 2) }), {
    minLength: 2,
    maxLength: 3
  }),
  via: viaArb
})

const runPressureCase = (
  backend: (typeof backends)[number][1],
  { maxTotalBytes, connections, via }: typeof pressureArb extends fc.Arbitrary<infer A> ? A : never
) =>
  Effect.gen(function* () {
    // The outbound limits are the server's for every connection (they are server options); each client has its own.
    const first = connections[0]!.exchange
    const server: ServerSettings = { maxTotalBytes, ...limitsOf(first) }
    const listening = yield* listen(backend, { transport: "tcp", via, server })
    const pairs: Array<{ exchange: Exchange; client: Stocking.Stocking; server: Stocking.Stocking }> = []
    for (const { exchange } of connections) {
      const client: ClientSettings = limitsOf(exchange)
      pairs.push({ exchange, ...(yield* connectPair(listening, client)) })
    }
    yield* Effect.forEach(
      pairs,
      ({ client, exchange, server }) =>
        exchange.writerSide === "server"
          ? runExchange(exchange, server, client)
          : runExchange(exchange, client, server),
      { concurrency: "unbounded", discard: true }
    )
    yield* Effect.forEach(pairs, ({ client, server }) => closeBoth(client, server), {
      concurrency: "unbounded",
      discard: true
    })
  }).pipe(within(3 * STALL_MS + 5_000, `the run did not finish (budget ${maxTotalBytes} B)`))

/**
 * Many echo clients at once through a server whose budget is far smaller than what they have in flight: each
 * message must cross both pools (received, then echoed). Found a stall that 2-3 connections never showed: a
 * holder granted while it waited stayed at the head of its pool's line, and with every holder waiting nothing
 * was released to move the line on.
 */
const echoArb = fc.record({
  maxTotalBytes: fc.integer({ min: 64 * KiB, max: 512 * KiB }),
  clients: fc.integer({ min: 8, max: 40 }),
  messages: fc.integer({ min: 10, max: 40 }),
  maxSize: fc.integer({ min: KiB, max: 256 * KiB }),
  /** Milliseconds a client sometimes waits before its next take (0: never). */
  pause: fc.integer({ min: 0, max: 3 }),
  seed: fc.integer(),
  via: viaArb
})

/** No echo at all for this long is a stall; a loaded machine slows the run, never stops it. */
const ECHO_STALL_MS = 10_000

const runEchoCase = (
  backend: (typeof backends)[number][1],
  {
    clients,
    maxSize,
    maxTotalBytes,
    messages,
    pause,
    seed,
    via
  }: typeof echoArb extends fc.Arbitrary<infer A> ? A : never
) =>
  Effect.gen(function* () {
    const listening = yield* listen(backend, {
      transport: "tcp",
      via,
      server: { maxTotalBytes, closeTimeout: "1 second" },
      handler: (s) => s.forEach((m) => s.write(m))
    })
    let echoes = 0
    let state = seed | 0
    const next = () => ((state = (Math.imul(state, 1103515245) + 12345) | 0) >>> 0) / 4294967296
    const plans = Array.from({ length: clients }, (_, c) =>
      Array.from({ length: messages }, (_, i) =>
        messageOf(c, i, Math.round(12 * Math.pow(maxSize / 12, next())), false)
      )
    )
    const pauses = plans.map((plan) => plan.map(() => pause > 0 && next() < 0.1))
    const client = (c: number) =>
      Effect.gen(function* () {
        const stocking = yield* listening.connect({ closeTimeout: "1 second" })
        const writer = yield* Effect.fork(Effect.forEach(plans[c]!, (m) => stocking.write(m), { discard: true }))
        for (let i = 0; i < messages; i++) {
          if (pauses[c]![i]) yield* Effect.sleep(pause)
          const got = identify(yield* stocking.take)
          if (got.writer !== c || got.seq !== i) {
            return yield* Effect.fail(new Error(`client ${c}: echo ${i} came back as ${got.writer}:${got.seq}`))
          }
          echoes++
        }
        yield* Fiber.join(writer)
      })
    const watchdog = Effect.gen(function* () {
      let last = -1
      while (echoes !== last) {
        last = echoes
        yield* Effect.sleep(ECHO_STALL_MS)
      }
      return yield* Effect.fail(
        new Error(`stalled: no echo for ${ECHO_STALL_MS} ms, ${echoes} of ${clients * messages} came back`)
      )
    })
    yield* Effect.forEach(plans, (_, c) => client(c), { concurrency: "unbounded", discard: true }).pipe(
      Effect.raceFirst(watchdog)
    )
  })

describe("server path: the send path over Server-made connections (property)", () => {
  for (const [name, backend] of backends) {
    it(
      `${name}: exactly once, each writer in order, no stall, nothing left queued; either end writes (TCP, ${RUNS} runs)`,
      () => property(RUNS, sendCaseArb(fc.constant("tcp")), (c) => runSendCase(backend, c)),
      1_200_000
    )

    it(
      `${name}: the same over a Unix socket and TLS (${Math.max(4, Math.round(RUNS / 6))} runs)`,
      () =>
        property(Math.max(4, Math.round(RUNS / 6)), sendCaseArb(fc.constantFrom<Transport>("unix", "tls")), (c) =>
          runSendCase(backend, c)
        ),
      1_200_000
    )

    it(
      `${name}: the same with 2-3 connections at once and maxTotalBytes 64 KiB-1 MiB (${Math.max(6, Math.round(RUNS / 3))} runs)`,
      () => property(Math.max(6, Math.round(RUNS / 3)), pressureArb, (c) => runPressureCase(backend, c)),
      1_200_000
    )

    it(
      `${name}: 8-40 echo clients at once, maxTotalBytes 64-512 KiB: every echo in order, none stalls (${Math.max(10, Math.round(RUNS / 10))} runs)`,
      () => property(Math.max(10, Math.round(RUNS / 10)), echoArb, (c) => runEchoCase(backend, c)),
      1_200_000
    )
  }
})

// ---------------------------------------------------------------------------
// Receive side
// ---------------------------------------------------------------------------

type Consumer = "take" | "messages" | "forEach" | "takeBatch" | "forEachChunk"

/** Who writes: the client (`Stocking.make`), the server side, or a raw socket writing frames by hand. */
type Peer = "client" | "server" | "raw"

const receiveArb = fc
  .record({
    transport: fc.oneof(
      { weight: 8, arbitrary: fc.constant<Transport>("tcp") },
      { weight: 1, arbitrary: fc.constant<Transport>("unix") },
      { weight: 1, arbitrary: fc.constant<Transport>("tls") }
    ),
    via: viaArb,
    peer: fc.constantFrom<Peer>("client", "server", "raw"),
    reset: fc.boolean(),
    consumer: fc.constantFrom<Consumer>("take", "messages", "forEach", "takeBatch", "forEachChunk"),
    delay: fc.integer({ min: 0, max: 300 }),
    messages: fc.array(
      fc.record({
        size: fc.oneof(
          { weight: 20, arbitrary: fc.integer({ min: 0, max: 64 }) },
          { weight: 6, arbitrary: fc.integer({ min: 65, max: 64 * KiB }) },
          { weight: 1, arbitrary: fc.integer({ min: 64 * KiB, max: 2 * MiB }) }
        ),
        asText: fc.boolean()
      }),
      { minLength: 0, maxLength: 60 }
    )
  })
  .map((c) => ({
    ...c,
    // A Unix socket cannot be reset. Over TLS, Node reports a reset that follows data as the end of the
    // stream and nothing more (no error, no close; README: Closing), so no reset can be told there.
    reset: c.reset && c.transport === "tcp"
  }))

type ReceiveCase = typeof receiveArb extends fc.Arbitrary<infer A> ? A : never

/** Reads everything with `consumer`; the messages, and how it ended (`undefined`: it ended without an error). */
const consume = (consumer: Consumer, stocking: Stocking.Stocking) =>
  Effect.gen(function* () {
    const got: Array<Framing.Message> = []
    const push = (m: Framing.Message) => Effect.sync(() => void got.push(m))
    const pushAll = (chunk: Chunk.Chunk<Framing.Message>) => Effect.sync(() => void got.push(...chunk))
    let ended: Either.Either<void, unknown>
    switch (consumer) {
      case "take":
        ended = yield* Effect.either(Effect.forever(Effect.flatMap(stocking.take, push)))
        break
      case "takeBatch":
        ended = yield* Effect.either(Effect.forever(Effect.flatMap(stocking.takeBatch, pushAll)))
        break
      case "messages":
        ended = yield* Effect.either(Stream.runForEach(stocking.messages, push))
        break
      case "forEach":
        ended = yield* Effect.either(stocking.forEach(push))
        break
      case "forEachChunk":
        ended = yield* Effect.either(stocking.forEachChunk(pushAll))
        break
    }
    return { got, error: Either.isLeft(ended) ? ended.left : undefined }
  })

const runReceiveCase = (backend: (typeof backends)[number][1], c: ReceiveCase) =>
  Effect.gen(function* () {
    const sent = c.messages.map((m, i) => messageOf(0, i, m.size, m.asText))
    const listening = yield* listen(backend, { transport: c.transport, via: c.via })
    let consumerSide: Stocking.Stocking
    let finish: Effect.Effect<void>
    if (c.peer === "raw") {
      const peer = yield* rawPeer(listening)
      consumerSide = yield* listening.accepted
      writeFrames(peer.socket, sent)
      if (c.reset) resetPeer(peer)
      else peer.socket.end()
      finish = Effect.void
    } else {
      const { client, server } = yield* connectPair(listening)
      const [writer, reader] = c.peer === "client" ? [client, server] : [server, client]
      consumerSide = reader
      yield* writer.writeAll(sent)
      if (c.reset) {
        // Handed to the socket, then the connection is reset under it.
        yield* writer.flushed
        const socket = writer.socket
        if (!(socket instanceof net.Socket)) throw new Error("expected a net.Socket")
        socket.resetAndDestroy()
        finish = Effect.void
      } else {
        // A graceful close, as leaving the writer's scope does; it completes once the reader's end closes too.
        const closing = yield* Effect.fork(writer.close)
        finish = Effect.asVoid(Fiber.join(closing))
      }
    }
    yield* Effect.sleep(c.delay)
    const { got, error } = yield* consume(c.consumer, consumerSide).pipe(
      within(STALL_MS, `the ${c.consumer} consumer neither ended nor failed`)
    )
    const label = `${c.peer} peer, ${c.reset ? "reset" : "graceful"}, ${c.consumer} after ${c.delay} ms`
    const prefix = got.length <= sent.length && got.every((m, i) => sameMessage(m, sent[i]!))
    assert.isTrue(prefix, `${label}: what arrived is not the start of what was sent, in order`)
    const ending = error === undefined ? "no error" : describeError(error)
    if (c.reset) {
      assert.isTrue(
        error !== undefined && !isCleanClose(error),
        `${label}: ended with ${ending} after ${got.length} of ${sent.length} messages: a reset must not read as a clean close`
      )
    } else {
      assert.strictEqual(
        got.length,
        sent.length,
        `${label}: ${got.length} of ${sent.length} messages arrived, then ${ending}`
      )
      const clean = c.consumer === "take" || c.consumer === "takeBatch" ? isPeerEnd(error) : error === undefined
      assert.isTrue(clean, `${label}: all arrived, then ${ending}, not a clean end`)
      yield* finish.pipe(within(STALL_MS, "the writer's graceful close did not complete"))
    }
  }).pipe(within(3 * STALL_MS, `the run did not finish`))

const sameMessage = (a: Framing.Message, b: Framing.Message): boolean =>
  typeof a === "string" || typeof b === "string" ? a === b : Buffer.from(a).equals(Buffer.from(b))

describe("server path: the receive side after the peer closes or resets (property)", () => {
  for (const [name, backend] of backends) {
    it(
      `${name}: everything in order then a clean end after a graceful close; a prefix then an error after a reset (${RUNS} runs)`,
      () => property(RUNS, receiveArb, (c) => runReceiveCase(backend, c)),
      1_200_000
    )
  }
})

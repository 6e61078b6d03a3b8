/**
 * The promise, on the Effect 4 line, on the paths users take: messages
 * arrive exactly once, in the order each writer wrote them, with no stall,
 * and everything written before a clean end is delivered before it. Each
 * case is a `Server.make` (through `serve` or through `connections`) and a
 * `Stocking.make` client over loopback, on each backend, with the writing
 * side chosen at random (the client, or the server's connection), so that
 * both directions are covered: random sizes (up to 1 MiB), random queue
 * bounds on both sides, one to three writer fibers using `write` and
 * `writeAll`, a reader that pauses at random, and a writer that closes
 * right after its last write half of the time.
 *
 * `STOCKING_SOAK_RUNS` raises the runs (`npm run soak`).
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Backend from "../../src/effect4/Backend/Backend.js"
import * as Poll from "../../src/effect4/Backend/Poll.js"
import * as Select from "../../src/effect4/Backend/Select.js"
import * as Server from "../../src/effect4/Server.js"
import * as Stocking from "../../src/effect4/Stocking.js"
import { labelled, labelOf } from "./utils.js"

const KiB = 1024
const RUNS = Math.max(12, Math.round(Number(process.env.STOCKING_SOAK_RUNS ?? 30) / 2))
const STALL_MS = 20_000

const sizeArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 8, max: 200 }) },
  { weight: 4, arbitrary: fc.integer({ min: 200, max: 64 * KiB }) },
  { weight: 1, arbitrary: fc.integer({ min: 64 * KiB, max: 1024 * KiB }) }
)

const caseArb = fc.record({
  via: fc.constantFrom("serve" as const, "connections" as const),
  clientWrites: fc.boolean(),
  writers: fc.array(
    fc.record({
      sizes: fc.array(sizeArb, { minLength: 1, maxLength: 30 }),
      asText: fc.boolean(),
      batched: fc.boolean()
    }),
    { minLength: 1, maxLength: 3 }
  ),
  closeAfter: fc.boolean(),
  writerBounds: fc.record({
    maxQueuedMessages: fc.integer({ min: 1, max: 64 }),
    maxQueuedBytes: fc.integer({ min: 1 * KiB, max: 2048 * KiB })
  }),
  readerBounds: fc.record({
    maxBufferedMessages: fc.integer({ min: 1, max: 64 }),
    maxBufferedBytes: fc.integer({ min: 1 * KiB, max: 2048 * KiB })
  }),
  pauses: fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 8 })
})

type Case = typeof caseArb extends fc.Arbitrary<infer A> ? A : never

/** Writes every writer's messages, concurrently; closes (gracefully) after them if asked. */
const writeAll = (stocking: Stocking.Stocking, c: Case) =>
  Effect.gen(function* () {
    yield* Effect.forEach(
      c.writers,
      (writer, sender) =>
        Effect.gen(function* () {
          const messages = writer.sizes.map((size, seq) => labelled(sender, seq, size, writer.asText))
          if (writer.batched) {
            for (let i = 0; i < messages.length; i += 5) yield* stocking.writeAll(messages.slice(i, i + 5))
          } else {
            for (const message of messages) yield* stocking.write(message)
          }
        }),
      { concurrency: "unbounded", discard: true }
    )
    if (c.closeAfter) yield* stocking.close
    else yield* stocking.flushed
    expect(yield* stocking.writeDataQueued).toBe(false)
  })

/** Reads until every message has come (or the clean end), pausing now and then; what came, in order. */
const readAll = (stocking: Stocking.Stocking, c: Case) =>
  Effect.gen(function* () {
    const total = c.writers.reduce((n, writer) => n + writer.sizes.length, 0)
    const got: Array<Stocking.Message> = []
    let i = 0
    while (got.length < total) {
      const pause = c.pauses[i++ % c.pauses.length]!
      if (pause > 10) yield* Effect.sleep(`${pause} millis`)
      const batch = yield* Effect.orElseSucceed(stocking.takeBatch, () => undefined)
      if (batch === undefined) break
      got.push(...batch)
    }
    return got
  })

/** Exactly once, each writer's order kept. */
const check = (got: ReadonlyArray<Stocking.Message>, c: Case) => {
  const next = c.writers.map(() => 0)
  for (const message of got) {
    const { sender, seq, size } = labelOf(message)
    expect(typeof message === "string").toBe(c.writers[sender]!.asText)
    expect(seq, `writer ${sender}: expected message ${next[sender]}, got ${seq}`).toBe(next[sender])
    expect(size).toBe(Math.max(size, c.writers[sender]!.sizes[seq]!))
    next[sender]!++
  }
  expect(next).toEqual(c.writers.map((writer) => writer.sizes.length))
}

const runCase = (backend: Backend.Backend, c: Case): Promise<void> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const serverSide = c.clientWrites ? c.readerBounds : c.writerBounds
        const clientSide = c.clientWrites ? c.writerBounds : c.readerBounds
        const server = yield* Server.make({ host: "127.0.0.1", port: 0, ...serverSide })
        const result = yield* Deferred.make<ReadonlyArray<Stocking.Message>>()
        const handle = (stocking: Stocking.Stocking) =>
          c.clientWrites
            ? Effect.flatMap(readAll(stocking, c), (got) => Deferred.succeed(result, got))
            : writeAll(stocking, c)
        const serving =
          c.via === "serve"
            ? server.serve((stocking) => Effect.orDie(handle(stocking)))
            : Stream.runForEach(Stream.take(server.connections, 1), (stocking) => Effect.orDie(handle(stocking)))
        yield* Effect.forkScoped(serving)
        const client = yield* Stocking.make({ host: "127.0.0.1", port: server.port, ...clientSide })
        const got = c.clientWrites
          ? yield* Effect.andThen(Effect.orDie(writeAll(client, c)), Deferred.await(result))
          : yield* Effect.orDie(readAll(client, c))
        check(got, c)
      }).pipe(
        Effect.provideService(Backend.Backend, backend),
        Effect.timeoutOrElse({
          duration: `${STALL_MS} millis`,
          orElse: () => Effect.die(new Error(`stalled: not done within ${STALL_MS} ms`))
        })
      )
    )
  )

const backends = [
  ["poll", Poll.backend],
  ["select", Select.make("2 millis")]
] as const

describe("effect4 promises through Server and Stocking.make", () => {
  for (const [name, backend] of backends) {
    it(
      `${name}: exactly once, each writer in order, no stall, everything before a close; either end writes (${RUNS} runs)`,
      () =>
        fc.assert(
          fc.asyncProperty(caseArb, (c) => runCase(backend, c)),
          { numRuns: RUNS }
        ),
      RUNS * STALL_MS
    )
  }
})

describe("effect4 regression: a writer resumed from inside a flush", () => {
  // Effect 4 runs a resumed fiber on the caller's stack: the writer admitted by the flush that made room used
  // to queue and send its message before that flush had written what it took ("0", "2", "1").
  for (const [name, backend] of backends) {
    it(`${name}: maxQueuedMessages 1, three writes arrive in order`, () =>
      Effect.runPromise(
        Effect.scoped(
          Effect.gen(function* () {
            const server = yield* Server.make({ host: "127.0.0.1", port: 0, maxQueuedMessages: 1 })
            yield* Effect.forkScoped(
              server.serve((stocking) =>
                Effect.orDie(Effect.andThen(stocking.writeAll([]), Effect.forEach(["0", "1", "2"], stocking.write)))
              )
            )
            const client = yield* Stocking.make({ host: "127.0.0.1", port: server.port })
            const got = [yield* client.take, yield* client.take, yield* client.take]
            expect(got).toEqual(["0", "1", "2"])
          })
        ).pipe(Effect.provideService(Backend.Backend, backend))
      ))
  }
})

/**
 * Exactly once under interruption, over real sockets and the paths users
 * take: writes (`write`, `writeAll`, `sink`) interrupted at random moments
 * while they wait for room in a small outbound queue, takes interrupted by
 * timeouts on the reading end, and a graceful close at the end. Every write
 * whose Exit is a success arrives exactly once, in order; no message of an
 * interrupted write arrives at all.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Exit, Fiber, Option, Stream } from "effect"
import * as fc from "fast-check"
import type { Framing } from "../src/index.js"
import type { Stocking } from "../src/node.js"
import { backends } from "./utils/net.js"
import { serverPair, type Via } from "./utils/server.js"

const KiB = 1024

/** Property runs per backend; `STOCKING_SOAK_RUNS` raises it (see `npm run soak`). */
const RUNS = Math.max(10, Math.round(Number(process.env.STOCKING_SOAK_RUNS ?? 200) / 5))

type Kind = "write" | "writeAll" | "sink"

interface Op {
  readonly kind: Kind
  readonly count: number
  readonly size: number
  /** Interrupt the operation after this many milliseconds, or let it finish. */
  readonly interruptAfter: number | undefined
}

const opArb: fc.Arbitrary<Op> = fc
  .record({
    kind: fc.constantFrom<Kind>("write", "writeAll", "sink"),
    count: fc.integer({ min: 1, max: 4 }),
    size: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 1 * KiB, max: 48 * KiB })),
    interruptAfter: fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined })
  })
  // A `write` is one message (several writes in a row are several operations, each with its own Exit).
  .map((op) => (op.kind === "write" ? { ...op, count: 1 } : op))

const caseArb = fc.record({
  via: fc.constantFrom<Via>("serve", "connections"),
  /** Which end writes. */
  writer: fc.constantFrom<"client" | "server">("client", "server"),
  ops: fc.array(opArb, { minLength: 1, maxLength: 40 }),
  /** The reader's take timeouts (ms; 0: take without a timeout) and pauses, used in turn. */
  takeTimeouts: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 8 }),
  pauses: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 8 })
})

/** The messages of op `i`: text tagged with the op and its place, padded to `size`. */
const messagesOf = (op: Op, i: number): Array<Framing.Message> =>
  Array.from({ length: op.count }, (_, j) => `${i}.${j}:${"x".repeat(op.size)}`)

const run = (stocking: Stocking.Stocking, op: Op, messages: Array<Framing.Message>) => {
  switch (op.kind) {
    case "write":
      return Effect.forEach(messages, (m) => stocking.write(m), { discard: true })
    case "writeAll":
      return stocking.writeAll(messages)
    case "sink":
      return Stream.run(Stream.fromChunk(Chunk.unsafeFromArray(messages)), stocking.sink)
  }
}

describe("interrupts: exactly once over Server-made connections", () => {
  for (const [name, backend] of backends) {
    it.live(
      `${name}: writes interrupted at random while waiting for room, takes timing out, then a graceful close (${RUNS} runs)`,
      () =>
        Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(caseArb, (c) =>
              Effect.runPromise(
                Effect.scoped(
                  Effect.gen(function* () {
                    const pair = yield* serverPair(backend, {
                      transport: "tcp",
                      via: c.via,
                      server: { maxQueuedBytes: 64 * KiB },
                      client: { maxQueuedBytes: 64 * KiB }
                    })
                    const [writer, reader] =
                      c.writer === "client" ? [pair.client, pair.server] : [pair.server, pair.client]
                    // One writing fiber: each op in turn, some interrupted; what each op's Exit was.
                    const writing = yield* Effect.fork(
                      Effect.forEach(c.ops, (op, i) => {
                        const effect = run(writer, op, messagesOf(op, i))
                        if (op.interruptAfter === undefined) return Effect.exit(effect)
                        return Effect.flatMap(Effect.fork(effect), (fiber) =>
                          Effect.zipRight(Effect.sleep(Duration.millis(op.interruptAfter!)), Fiber.interrupt(fiber))
                        )
                      }).pipe(Effect.tap(() => writer.close))
                    )
                    // The reader: takes with timeouts (an interrupted take takes nothing), and pauses.
                    const got: Array<Framing.Message> = []
                    let step = 0
                    while (true) {
                      const timeout = c.takeTimeouts[step % c.takeTimeouts.length]!
                      const pause = c.pauses[step % c.pauses.length]!
                      step++
                      const take =
                        timeout === 0
                          ? Effect.asSome(reader.take)
                          : Effect.timeoutOption(reader.take, Duration.millis(timeout))
                      const exit = yield* Effect.exit(take)
                      // A failure is the writer's graceful close: the end.
                      if (Exit.isFailure(exit)) break
                      if (Option.isSome(exit.value)) got.push(exit.value.value)
                      if (pause > 0) yield* Effect.sleep(Duration.millis(pause))
                    }
                    const exits = yield* Fiber.join(writing)
                    const expected = exits.flatMap((exit, i) => (Exit.isSuccess(exit) ? messagesOf(c.ops[i]!, i) : []))
                    const label = (m: Framing.Message) => (typeof m === "string" ? m.split(":")[0] : "bytes")
                    const interrupted = new Set(exits.flatMap((exit, i) => (Exit.isSuccess(exit) ? [] : [String(i)])))
                    for (const m of got) {
                      const op = String(label(m)).split(".")[0]!
                      assert.isFalse(interrupted.has(op), `a message of interrupted op ${op} arrived`)
                    }
                    assert.deepStrictEqual(got.map(label), expected.map(label))
                  })
                )
              )
            ),
            { numRuns: RUNS }
          )
        ),
      300_000
    )
  }
})

/**
 * The bounded message queue on its own: order, the two bounds, waiting
 * writers admitted in arrival order, the end, interruption.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import * as fc from "fast-check"
import { MessageQueue } from "../src/internal/queue.js"

const len = (s: string) => s.length

/** Lets forked fibers run up to their next suspension. */
const settle = Effect.repeatN(Effect.yieldNow(), 5)

describe("MessageQueue", () => {
  it.effect("keeps order across poll, takeAll and take", () =>
    Effect.gen(function* () {
      const q = new MessageQueue<string, string>(100, 1000)
      for (const m of ["a", "b", "c", "d"]) q.unsafePush(m, 1)
      assert.strictEqual(q.poll(), "a")
      assert.deepStrictEqual(q.takeAll(), ["b", "c", "d"])
      assert.strictEqual(q.poll(), undefined)
      q.unsafePush("e", 1)
      assert.strictEqual(yield* q.take(), "e")
    })
  )

  it.effect("is bounded by count: a writer past the bound waits until a message is taken", () =>
    Effect.gen(function* () {
      const q = new MessageQueue<string, string>(2, 1000)
      yield* Effect.suspend(() => q.unsafeOffer("a", 1))
      yield* Effect.suspend(() => q.unsafeOffer("b", 1))
      assert.isTrue(q.isFull)
      const third = yield* Effect.fork(Effect.suspend(() => q.unsafeOffer("c", 1)))
      yield* settle
      assert.strictEqual(q.size, 2)
      assert.isNull(third.unsafePoll())
      assert.strictEqual(q.poll(), "a")
      yield* Fiber.join(third)
      assert.deepStrictEqual(q.takeAll(), ["b", "c"])
    })
  )

  it.effect("is bounded by bytes; a message larger than the bound still goes into an empty queue", () =>
    Effect.gen(function* () {
      const q = new MessageQueue<string, string>(100, 10)
      yield* Effect.suspend(() => q.unsafeOffer("x".repeat(25), 25))
      assert.strictEqual(q.bytes, 25)
      const next = yield* Effect.fork(Effect.suspend(() => q.unsafeOffer("y", 1)))
      yield* settle
      assert.strictEqual(q.size, 1)
      assert.strictEqual(q.poll(), "x".repeat(25))
      yield* Fiber.join(next)
      assert.strictEqual(q.bytes, 1)
      // pushWhileRoom stops at the bound.
      assert.strictEqual(q.pushWhileRoom(["aaaa", "bbbb", "cccc"], len), 2)
      assert.strictEqual(q.bytes, 9)
    })
  )

  it.effect("waiting writers are admitted in the order they came, and new writers queue behind them", () =>
    Effect.gen(function* () {
      const q = new MessageQueue<string, string>(1, 1000)
      q.unsafePush("0", 1)
      const fibers = []
      for (const m of ["1", "2", "3"]) {
        fibers.push(yield* Effect.fork(Effect.suspend(() => q.unsafeOffer(m, 1))))
        yield* settle
      }
      // A bulk push must not overtake them.
      assert.strictEqual(q.pushWhileRoom(["late"], len), 0)
      const got: Array<string> = []
      for (let i = 0; i < 4; i++) got.push(yield* q.take())
      assert.deepStrictEqual(got, ["0", "1", "2", "3"])
      for (const f of fibers) yield* Fiber.join(f)
    })
  )

  it.effect("end: takers get what is queued, then the reason; waiting writers fail with it", () =>
    Effect.gen(function* () {
      const q = new MessageQueue<string, string>(1, 1000)
      q.unsafePush("kept", 1)
      const writer = yield* Effect.fork(Effect.suspend(() => q.unsafeOffer("refused", 1)))
      yield* settle
      assert.isTrue(q.end("bye"))
      assert.isFalse(q.end("again"))
      assert.deepStrictEqual(yield* Fiber.await(writer), Exit.fail("bye"))
      assert.strictEqual(yield* q.take(), "kept")
      assert.deepStrictEqual(yield* Effect.exit(q.take()), Exit.fail("bye"))
      assert.deepStrictEqual(yield* Effect.exit(Effect.suspend(() => q.unsafeOffer("late", 1))), Exit.fail("bye"))
      assert.isFalse(q.unsafePush("late", 1))
      assert.isFalse(yield* q.awaitItems())
    })
  )

  it.effect("a waiting take is woken by a push, and by the end", () =>
    Effect.gen(function* () {
      const q = new MessageQueue<string, string>(10, 1000)
      const taker = yield* Effect.fork(q.take())
      yield* settle
      q.unsafePush("m", 1)
      assert.strictEqual(yield* Fiber.join(taker), "m")
      const second = yield* Effect.fork(q.take())
      yield* settle
      q.end("done")
      assert.deepStrictEqual(yield* Fiber.await(second), Exit.fail("done"))
    })
  )

  it.effect("an interrupted waiting writer leaves no trace; an interrupted take takes nothing", () =>
    Effect.gen(function* () {
      const q = new MessageQueue<string, string>(1, 1000)
      q.unsafePush("a", 1)
      const writer = yield* Effect.fork(Effect.suspend(() => q.unsafeOffer("never", 1)))
      yield* settle
      yield* Fiber.interrupt(writer)
      assert.deepStrictEqual(q.takeAll(), ["a"])
      assert.strictEqual(q.size, 0)
      const taker = yield* Effect.fork(q.take())
      yield* settle
      yield* Fiber.interrupt(taker)
      q.unsafePush("b", 1)
      assert.strictEqual(q.poll(), "b")
    })
  )

  it.effect("property: any mix of bounds, writers and takes keeps each writer's order, exactly once", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 5 }),
          fc.integer({ min: 1, max: 40 }),
          fc.array(fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 20 }), { minLength: 1, maxLength: 4 }),
          fc.array(fc.boolean(), { minLength: 1, maxLength: 10 }),
          (maxItems, maxBytes, writers, takeAllPattern) =>
            Effect.runPromise(
              Effect.gen(function* () {
                const q = new MessageQueue<string, string>(maxItems, maxBytes)
                const total = writers.reduce((n, w) => n + w.length, 0)
                const fibers = yield* Effect.forEach(writers, (sizes, w) =>
                  Effect.fork(
                    Effect.forEach(
                      sizes,
                      (size, i) => Effect.suspend(() => q.unsafeOffer(`${w}:${i}:${"x".repeat(size)}`, size)),
                      { discard: true }
                    )
                  )
                )
                const got: Array<string> = []
                let step = 0
                while (got.length < total) {
                  if (takeAllPattern[step++ % takeAllPattern.length]) got.push(...q.takeAll())
                  else got.push(yield* q.take())
                  assert.isAtMost(q.size, Math.max(maxItems, 1))
                  yield* Effect.yieldNow()
                }
                for (const f of fibers) yield* Fiber.join(f)
                const next = writers.map(() => 0)
                for (const m of got) {
                  const [w, i] = m.split(":").map(Number) as [number, number]
                  assert.strictEqual(i, next[w])
                  next[w]!++
                }
                assert.deepStrictEqual(
                  next,
                  writers.map((w) => w.length)
                )
              })
            )
        ),
        { numRuns: 200 }
      )
    )
  )
})

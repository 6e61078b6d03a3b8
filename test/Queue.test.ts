/**
 * The bounded message queue on its own: order, the two bounds, waiting
 * writers admitted in arrival order, batches all or none, the end,
 * interruption (an interrupted writer never queued; a successful one did),
 * and a shared budget's pool.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import * as fc from "fast-check"
import { Holder, Pool } from "../src/internal/budget.js"
import { MessageQueue } from "../src/internal/queue.js"

const len = (s: string) => s.length

/** Pushes without bounds (as the inbound side does), for setting a queue up. */
const push = (q: MessageQueue<string, string>, ...items: Array<string>) => q.unsafePushAll(items, len)

/** Lets forked fibers run up to their next suspension. */
const settle = Effect.repeatN(Effect.yieldNow(), 5)

describe("MessageQueue", () => {
  it.effect("keeps order across poll, takeAll and take", () =>
    Effect.gen(function* () {
      const q = new MessageQueue<string, string>(100, 1000)
      push(q, "a", "b", "c", "d")
      assert.strictEqual(q.poll(), "a")
      assert.deepStrictEqual(q.takeAll(), ["b", "c", "d"])
      assert.strictEqual(q.poll(), undefined)
      push(q, "e")
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
      // A batch goes in whole or waits whole: 1 + 12 bytes is past the bound.
      const batch = yield* Effect.fork(Effect.suspend(() => q.unsafeOfferAll(["aaaa", "bbbb", "cccc"], len)))
      yield* settle
      assert.strictEqual(q.bytes, 1)
      assert.isNull(batch.unsafePoll())
      assert.strictEqual(q.poll(), "y")
      yield* Fiber.join(batch)
      // Into the empty queue: past the bound, but whole.
      assert.deepStrictEqual(q.takeAll(), ["aaaa", "bbbb", "cccc"])
      yield* Effect.suspend(() => q.unsafeOfferAll(["12345", "67890"], len))
      assert.strictEqual(q.bytes, 10)
    })
  )

  it.effect("waiting writers are admitted in the order they came, and new writers queue behind them", () =>
    Effect.gen(function* () {
      const q = new MessageQueue<string, string>(1, 1000)
      push(q, "0")
      const fibers = []
      for (const m of ["1", "2", "3"]) {
        fibers.push(yield* Effect.fork(Effect.suspend(() => q.unsafeOffer(m, 1))))
        yield* settle
      }
      // A batch must not overtake them.
      fibers.push(yield* Effect.fork(Effect.suspend(() => q.unsafeOfferAll(["late"], len))))
      const got: Array<string> = []
      for (let i = 0; i < 5; i++) got.push(yield* q.take())
      assert.deepStrictEqual(got, ["0", "1", "2", "3", "late"])
      for (const f of fibers) yield* Fiber.join(f)
    })
  )

  it.effect("end: takers get what is queued, then the reason; waiting writers fail with it", () =>
    Effect.gen(function* () {
      const q = new MessageQueue<string, string>(1, 1000)
      push(q, "kept")
      const writer = yield* Effect.fork(Effect.suspend(() => q.unsafeOffer("refused", 1)))
      yield* settle
      assert.isTrue(q.end("bye"))
      assert.isFalse(q.end("again"))
      assert.deepStrictEqual(yield* Fiber.await(writer), Exit.fail("bye"))
      assert.strictEqual(yield* q.take(), "kept")
      assert.deepStrictEqual(yield* Effect.exit(q.take()), Exit.fail("bye"))
      assert.deepStrictEqual(yield* Effect.exit(Effect.suspend(() => q.unsafeOffer("late", 1))), Exit.fail("bye"))
      push(q, "late")
      assert.strictEqual(q.size, 0)
    })
  )

  it.effect("a waiting take is woken by a push, and by the end", () =>
    Effect.gen(function* () {
      const q = new MessageQueue<string, string>(10, 1000)
      const taker = yield* Effect.fork(q.take())
      yield* settle
      push(q, "m")
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
      push(q, "a")
      const writer = yield* Effect.fork(Effect.suspend(() => q.unsafeOffer("never", 1)))
      yield* settle
      yield* Fiber.interrupt(writer)
      assert.deepStrictEqual(q.takeAll(), ["a"])
      assert.strictEqual(q.size, 0)
      const taker = yield* Effect.fork(q.take())
      yield* settle
      yield* Fiber.interrupt(taker)
      push(q, "b")
      assert.strictEqual(q.poll(), "b")
    })
  )

  it.effect("a writer admitted but interrupted before it ran queued nothing, and the next writer gets its room", () =>
    Effect.gen(function* () {
      const q = new MessageQueue<string, string>(1, 1000)
      push(q, "a")
      const first = yield* Effect.fork(Effect.suspend(() => q.unsafeOffer("first", 1)))
      yield* settle
      const second = yield* Effect.fork(Effect.suspend(() => q.unsafeOffer("second", 1)))
      yield* settle
      // Taking "a" admits `first`; interrupting it before it runs withdraws it.
      assert.strictEqual(q.poll(), "a")
      yield* Fiber.interrupt(first)
      assert.deepStrictEqual(yield* Fiber.await(second), Exit.void)
      assert.deepStrictEqual(q.takeAll(), ["second"])
    })
  )

  it.effect("property: random interrupts of waiting writers: exactly the writes that succeeded are queued", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 4 }),
          fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.nat(4)), { minLength: 1, maxLength: 30 }),
          (maxItems, writes) =>
            Effect.runPromise(
              Effect.gen(function* () {
                const q = new MessageQueue<string, string>(maxItems, 1000)
                const fibers = yield* Effect.forEach(writes, ([count, batch], i) =>
                  Effect.fork(
                    Effect.suspend(() =>
                      batch
                        ? q.unsafeOfferAll(
                            Array.from({ length: count }, (_, j) => `${i}.${j}`),
                            len
                          )
                        : q.unsafeOffer(`${i}.0`, 1)
                    )
                  )
                )
                const got: Array<string> = []
                for (const [, , pause] of writes) {
                  got.push(...q.takeAll())
                  yield* Effect.repeatN(Effect.yieldNow(), pause)
                }
                // Interrupt every other writer, wherever it is.
                yield* Effect.forEach(fibers, (f, i) => (i % 2 === 0 ? Fiber.interrupt(f) : Effect.void), {
                  discard: true
                })
                for (let k = 0; k < 50; k++) {
                  got.push(...q.takeAll())
                  yield* Effect.yieldNow()
                }
                const exits = yield* Effect.forEach(fibers, Fiber.await)
                const delivered = new Map<number, number>()
                for (const m of got) {
                  const i = Number(m.split(".")[0])
                  delivered.set(i, (delivered.get(i) ?? 0) + 1)
                }
                exits.forEach((exit, i) => {
                  const count = writes[i]![1] ? writes[i]![0] : 1
                  if (Exit.isSuccess(exit)) assert.strictEqual(delivered.get(i), count, `write ${i} succeeded`)
                  else assert.isUndefined(delivered.get(i), `write ${i} was interrupted`)
                })
              })
            )
        ),
        { numRuns: 300 }
      )
    )
  )

  it.effect("with a holder: admitted only when the pool has room, in line, and charged what it holds", () =>
    Effect.gen(function* () {
      const pool = new Pool(100, 10)
      let a: MessageQueue<string, string> | undefined = undefined
      let b: MessageQueue<string, string> | undefined = undefined
      a = new MessageQueue<string, string>(100, 10_000, new Holder(pool, () => a!.retry()))
      b = new MessageQueue<string, string>(100, 10_000, new Holder(pool, () => b!.retry()))
      // The first 10 bytes are free; 90 more are charged.
      yield* Effect.suspend(() => a.unsafeOffer("x".repeat(100), 100))
      assert.strictEqual(pool.used, 90)
      // b asks for 50 bytes: 40 charged, past the pool; it waits in line.
      const waiting = yield* Effect.fork(Effect.suspend(() => b.unsafeOffer("y".repeat(50), 50)))
      yield* settle
      assert.isNull(waiting.unsafePoll())
      assert.strictEqual(b.size, 0)
      // a takes: 90 released; b is admitted on the next microtask and queues itself.
      assert.strictEqual(a.poll(), "x".repeat(100))
      assert.strictEqual(pool.used, 0)
      yield* Fiber.join(waiting)
      assert.strictEqual(b.size, 1)
      assert.strictEqual(pool.used, 40)
      b.clear()
      assert.strictEqual(pool.used, 0)
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

describe("budget Pool", () => {
  /** Lets queued microtasks (the pool serves its line in one) run. */
  const microtasks = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 0)))

  it.effect(
    "a holder granted while in line (its need fell within its allowance) leaves the line: the next is served",
    () =>
      Effect.gen(function* () {
        const pool = new Pool(100, 10)
        const needs = new Map<Holder, number>()
        const granted: Array<string> = []
        const make = (name: string) => {
          const holder: Holder = new Holder(pool, () => {
            if (holder.tryHold(needs.get(holder)!)) granted.push(name)
          })
          return holder
        }
        const [big, a, b] = [make("big"), make("a"), make("b")]
        needs.set(big, 110)
        assert.isTrue(big.tryHold(110))
        assert.strictEqual(pool.used, 100)
        // a and b are refused and wait in line, a first.
        needs.set(a, 60)
        needs.set(b, 30)
        assert.isFalse(a.tryHold(60))
        assert.isFalse(b.tryHold(30))
        // a's need falls within its free allowance (its reader took what it held): granted at once, out of the line.
        needs.set(a, 5)
        assert.isTrue(a.tryHold(5))
        assert.deepStrictEqual(pool.line, [b])
        // The pool empties: b, now at the head, is served.
        big.release()
        yield* microtasks
        assert.deepStrictEqual(granted, ["b"])
        assert.strictEqual(pool.line.length, 0)
        assert.strictEqual(pool.used, 20)
      })
  )
})

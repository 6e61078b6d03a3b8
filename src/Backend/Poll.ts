/**
 * The readiness-driven backend (the original's PollStocking): what is queued
 * goes to the socket at once, everything queued in one write, and when the
 * OS buffer is full the send loop waits for the socket's `drain` signal
 * before writing more.
 *
 * The strategy, as a small state machine per connection:
 *
 * - **Idle** (the socket keeps up, nothing scheduled). A write into an idle
 *   connection goes to the socket inside the `write` itself: one system
 *   call, as a hand-written request/response loop would make. It also
 *   schedules one microtask flush, so the connection is **Scheduled**.
 * - **Scheduled**: later writes in the same turn only queue; the microtask
 *   flushes them all as one batch, then flushes again for writers that were
 *   admitted from a wait for room meanwhile, until the queue is empty (back
 *   to Idle) or the socket is past its high-water mark.
 * - **Draining**: the send loop's fiber, started for it, waits for the
 *   socket's `drain`, then flushes what queued up meanwhile and goes back to
 *   Idle (the fiber ends).
 * - **Done** once a close has emptied the queue.
 *
 * While the socket keeps up there is no fiber at all: the flushes run as
 * microtasks started by the writes. Waking a fiber for every batch cost more
 * than the batch, and a fiber parked on every idle connection costs memory.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Backend from "./Backend.js"

/**
 * Flushes until the socket needs draining (`true`) or the queue is closed
 * and empty (`false`); `undefined` while the socket keeps up.
 */
const flushAll = (link: Backend.Link): boolean | undefined => {
  while (link.queued > 0) if (!link.flush()) return true
  if (link.isDone()) return false
  return link.needsDrain() ? true : undefined
}

/**
 * Idle and Scheduled, without a fiber: flushes from the writes and from
 * microtasks. When the connection leaves them (Draining, or Done), the
 * listener is removed and the send loop's fiber started.
 */
const idle = (link: Backend.Link): void => {
  if (flushAll(link) !== undefined) return link.startLoop()
  let scheduled = false
  // True while a batch is going out: a write then waits for the microtask, so a burst stays one batch.
  let busy = false
  const flushScheduled = () => {
    scheduled = false
    busy = link.queued > 1
    if (flushAll(link) !== undefined) {
      link.onQueued(undefined)
      link.startLoop()
    }
  }
  link.onQueued(() => {
    if (scheduled) return
    scheduled = true
    queueMicrotask(flushScheduled)
    if (!busy && link.queued === 1 && !link.isClosing() && link.isIdle()) {
      busy = true
      link.flush()
    }
  })
}

/**
 * Draining: waits for the socket's `drain`, flushes what queued up
 * meanwhile, and returns once the socket keeps up again (back to `idle`) or
 * the queue is done.
 */
const sendLoop = (link: Backend.Link): Effect.Effect<void> =>
  Effect.gen(function* () {
    while (true) {
      if (link.needsDrain()) yield* link.drained
      if (flushAll(link) !== true) return
    }
  })

/**
 * The readiness-driven backend.
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Backend, Poll, Stocking } from "effect-stockings/node"
 *
 * // Force the readiness-driven backend for one Stocking.
 * const client = Stocking.make({ host: "localhost", port: 4000 }).pipe(
 *   Effect.provideService(Backend.Backend, Poll.backend)
 * )
 * ```
 */
export const backend: Backend.Backend = {
  [Backend.TypeId]: Backend.TypeId,
  name: "poll",
  sendLoop,
  idle
}

/**
 * Provides the readiness-driven backend.
 *
 * @since 0.1.0
 * @category layers
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Poll, Stocking } from "effect-stockings/node"
 *
 * const program = Effect.scoped(Stocking.make({ host: "localhost", port: 4000 })).pipe(
 *   Effect.provide(Poll.layer)
 * )
 * ```
 */
export const layer: Layer.Layer<Backend.Backend> = Layer.succeed(Backend.Backend, backend)

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
 *
 * A graceful close finding messages queued flushes them at once, whatever
 * the socket holds: a close needs no fiber.
 *
 * While the socket keeps up there is no fiber at all: the flushes run as
 * microtasks started by the writes. Waking a fiber for every batch cost more
 * than the batch, and a fiber parked on every idle connection costs memory.
 * The code is one function of the `Link`, in `src/internal/poll.ts`.
 *
 * @since 0.1.0
 */
import "../internal/line3.js"
import * as Layer from "effect/Layer"
import * as internal from "../internal/poll.js"
import * as Backend from "./Backend.js"

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
export const backend: Backend.Backend = internal.backend

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

/**
 * A `Backend` moves a Stocking's queued messages to its socket: it is the
 * send loop. Two ship with the library, the original's two flavours:
 *
 * - `Poll` (the original's PollStocking): readiness-driven. What is queued
 *   goes out at once, from the write itself or a microtask, with no fiber;
 *   when the OS buffer is full, its send loop waits on the socket's own
 *   drain signal.
 * - `Select` (the original's SelectStocking): interval-driven. The first
 *   message queued starts its send loop, which waits out
 *   `STOCKING_SELECT_SEND_INTERVAL` seconds, then sends everything queued
 *   by then in one write.
 *
 * A backend's send loop runs in a fiber only while it has work: with its
 * optional `idle`, a connection with nothing to send holds no fiber and no
 * timer.
 *
 * `Auto.layer` picks the best one the platform can run. Endpoints using
 * different backends talk to each other: the wire format is the same.
 *
 * @since 0.1.0
 */
import type * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as internal from "../internal/backend.js"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = internal.TypeId

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * The backends' names, as the CLI's `--backend` and `STOCKING_BACKEND` spell them.
 *
 * @since 0.1.0
 * @category models
 */
export type Name = "poll" | "select"

/**
 * What a backend drives: one Stocking's outbound queue and its socket. The
 * Stocking makes one per connection and runs `sendLoop` on it in a fiber of
 * the connection only while the loop has work (see `Backend.idle`). A
 * backend decides only *when* to flush; order is the Link's: `flush` writes
 * everything it takes before it returns.
 *
 * @since 0.1.0
 * @category models
 */
export interface Link {
  /** How many messages are queued. */
  readonly queued: number
  /**
   * Sets (or, with `undefined`, clears) the function called synchronously
   * each time a writer queues messages or the queue is closed: a backend
   * that flushes without waking a fiber listens here. It is not called for
   * writers admitted from a wait for room, which happens inside `flush`:
   * check `queued` after flushing.
   */
  readonly onQueued: (listener: (() => void) | undefined) => void
  /**
   * Encodes every queued message and hands them to the socket (small
   * messages batched into one buffer, large payloads passed without a
   * copy). Writers waiting for room may be admitted meanwhile: they stay
   * queued for the next flush. Returns `false` when the socket's buffer is
   * past its high-water mark: wait for `drained` before flushing again.
   */
  readonly flush: () => boolean
  /** Completes when the socket's buffer has drained (at once if it is not full). */
  readonly drained: Effect.Effect<void>
  /** True when the socket's buffer is past its high-water mark. */
  readonly needsDrain: () => boolean
  /** True when the socket holds nothing unsent: a write now goes straight to the OS. */
  readonly isIdle: () => boolean
  /** True once a close is waiting for the queue to empty: a backend should not delay then. */
  readonly isClosing: () => boolean
  /** Completes once a close is waiting for the queue to empty (see `isClosing`). */
  readonly closing: Effect.Effect<void>
  /** True once the queue is closed and empty: the send loop is done. */
  readonly isDone: () => boolean
  /**
   * Runs `sendLoop` in a fiber of the connection unless it is running; when
   * the link is already done and no loop runs, reports it done at once
   * instead. For a backend's `idle` strategy, when it needs its fiber.
   */
  readonly startLoop: () => void
}

/**
 * A send strategy.
 *
 * @since 0.1.0
 * @category models
 */
export interface Backend {
  readonly [TypeId]: TypeId
  /** Which backend this is. */
  readonly name: Name
  /**
   * The send loop for one connection, run in a fiber. It returns once the
   * queue is closed and empty (`isDone`); a backend with `idle` may also
   * return as soon as it has nothing left to do, and is handed back to
   * `idle` then.
   */
  readonly sendLoop: (link: Link) => Effect.Effect<void>
  /**
   * Optional: what the backend does while no send loop runs, so that an
   * idle connection holds no fiber. The Stocking calls it once the
   * connection starts, and again each time `sendLoop` returns before the
   * link is done. It may set an `onQueued` listener that flushes without a
   * fiber, and calls `link.startLoop()` when it needs one (the socket must
   * drain, or the queue is done). Without it, the loop is started at the
   * first queued message (or close) and runs until the link is done.
   */
  readonly idle?: ((link: Link) => void) | undefined
}

/**
 * The service a Stocking uses to drive its socket. A Stocking made without
 * one in context uses `Auto`'s choice.
 *
 * @since 0.1.0
 * @category tags
 * @example
 * ```ts
 * import { Console, Effect } from "effect"
 * import { Auto, Backend } from "effect-stockings/node"
 *
 * const program = Effect.gen(function* () {
 *   const backend = yield* Backend.Backend
 *   yield* Console.log(`Stockings here send with ${backend.name}`)
 * }).pipe(Effect.provide(Auto.layer))
 * ```
 */
export const Backend: Context.Tag<Backend, Backend> = internal.Backend

/**
 * Tells whether a value is a `Backend`.
 *
 * @since 0.1.0
 * @category refinements
 * @example
 * ```ts
 * import { Backend, Poll } from "effect-stockings/node"
 *
 * Backend.isBackend(Poll.backend) // true
 * Backend.isBackend({ name: "poll" }) // false
 * ```
 */
export const isBackend = (u: unknown): u is Backend => typeof u === "object" && u !== null && TypeId in u

/**
 * A `Backend` moves a Stocking's queued messages to its socket: it is the
 * send loop. Two ship with the library, the original's two flavours:
 *
 * - `Poll` (the original's PollStocking): readiness-driven. It wakes the
 *   moment a message is queued and, when the OS buffer is full, waits on the
 *   socket's own drain signal.
 * - `Select` (the original's SelectStocking): interval-driven. It sends what
 *   is queued at most every `STOCKING_SELECT_SEND_INTERVAL` seconds, in one
 *   write.
 *
 * `Auto.layer` picks the best one the platform can run. Endpoints using
 * different backends talk to each other: the wire format is the same.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("effect-stockings/Backend")

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
 * the connection's scope.
 *
 * @since 0.1.0
 * @category models
 */
export interface Link {
  /**
   * Waits until at least one message is queued and succeeds with `true`; or
   * with `false` once the queue is closed and empty, when the loop must end.
   */
  readonly awaitQueued: Effect.Effect<boolean>
  /**
   * Encodes every queued message and hands them to the socket in one write
   * (small messages batched into one buffer, large payloads passed without a
   * copy). Returns `false` when the socket's buffer is past its high-water
   * mark: wait for `drained` before flushing again.
   */
  readonly flush: () => boolean
  /**
   * Flushes from microtasks rather than from the loop's fiber: while this
   * runs, each write into an empty queue schedules one flush (a microtask,
   * no fiber woken), so a burst of writes still goes out as one batch and a
   * lone message goes out at once. Queued messages are flushed first.
   * Succeeds with `true` when a flush left the socket past its high-water
   * mark (wait for `drained`, then call this again), or `false` once the
   * queue is closed and empty. Interrupting it stops the flushing.
   */
  readonly flushEagerly: Effect.Effect<boolean>
  /** Completes when the socket's buffer has drained (at once if it is not full). */
  readonly drained: Effect.Effect<void>
  /** True once a close is waiting for the queue to empty: a backend should not delay then. */
  readonly isClosing: () => boolean
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
  /** The send loop for one connection; returns once the queue is closed and empty (`awaitQueued` or `flushEagerly` say `false`). */
  readonly sendLoop: (link: Link) => Effect.Effect<void>
}

/**
 * The service a Stocking uses to drive its socket. A Stocking made without
 * one in context uses `Auto`'s choice.
 *
 * @since 0.1.0
 * @category tags
 */
export const Backend: Context.Tag<Backend, Backend> = Context.GenericTag<Backend>("effect-stockings/Backend")

/**
 * Tells whether a value is a `Backend`.
 *
 * @since 0.1.0
 * @category refinements
 */
export const isBackend = (u: unknown): u is Backend => typeof u === "object" && u !== null && TypeId in u

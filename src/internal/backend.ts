/**
 * What a backend is, for the shared machinery and both lines' `Backend`
 * modules (which re-export it, with their documentation): its type id, its
 * name, the `Link` it drives and the strategy itself. Plain data and
 * functions: a backend is the same on both lines of Effect.
 *
 * @internal
 */
import type * as Effect from "effect/Effect"
import type { Duplex } from "node:stream"

/** `Backend.TypeId`. @internal */
export const TypeId: unique symbol = Symbol.for("effect-stockings/Backend")

/** @internal */
export type TypeId = typeof TypeId

/** `Backend.Name`. @internal */
export type Name = "poll" | "select"

/** `Backend.Link`. @internal */
export interface Link {
  /** How many messages are queued. */
  readonly queued: number
  /** True once the connection is closing: what is queued should go out without delay. */
  readonly closing: boolean
  /** True when the socket holds nothing unsent: a write now goes straight to the OS. */
  readonly idle: boolean
  /**
   * Encodes every queued message and hands them to the socket (small
   * messages batched into one buffer, large payloads passed without a
   * copy). Writers waiting for room may be admitted meanwhile: they queue
   * their messages after it returns, and the strategy hears of them then.
   * Returns `false` when the socket's buffer is past its high-water mark:
   * wait for `drained` before flushing again.
   */
  readonly flush: () => boolean
  /** Completes when the socket's buffer has drained (at once if it is not past its high-water mark). */
  readonly drained: Effect.Effect<void>
  /**
   * Runs `loop` in the connection's send fiber, unless that fiber is
   * running: the Stocking's scope owns it, and interrupts it once it has
   * closed the connection. A loop should return once it has nothing left
   * to do, so that an idle connection holds no fiber; if messages were
   * queued while it was returning, the strategy is told of them again.
   * Does nothing once the connection is closing: a strategy told of a
   * close flushes at once.
   */
  readonly run: (loop: Effect.Effect<void>) => void
}

/** `Backend.Backend`. @internal */
export interface Backend {
  readonly [TypeId]: TypeId
  /** Which backend this is (`Auto`'s: the one it picks for a socket that signals readiness). */
  readonly name: Name
  /**
   * Sets up the strategy for one connection, when it starts, and returns
   * what the connection calls, synchronously, each time writers have queued
   * messages, and once when a graceful close finds messages still queued
   * (`closing` is then true: flush them at once). It may flush at once,
   * schedule a flush, or `run` a send loop.
   */
  readonly start: (link: Link) => () => void
  /**
   * Optional: picks the backend for one connection from its socket, as
   * `Auto`'s does. A Stocking then uses the backend it returns (and reports
   * its name).
   */
  readonly forSocket?: ((socket: Duplex) => Backend) | undefined
}

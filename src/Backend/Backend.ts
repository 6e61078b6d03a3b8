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
 * A backend's send loop runs in a fiber only while it has work: a
 * connection with nothing to send holds no fiber and no timer. Each
 * backend's whole strategy is one function of a small `Link` (what is
 * queued, flush it, wait for the drain, run a loop), in its own file.
 *
 * `Auto.layer` picks the best one for each connection's socket. Endpoints
 * using different backends talk to each other: the wire format is the same.
 *
 * @since 0.1.0
 */
import type * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { Duplex } from "node:stream"
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
 * What a backend drives: one Stocking's outbound queue and its socket. A
 * backend decides only *when* to flush; order is the Link's: `flush` writes
 * everything it takes before it returns.
 *
 * @since 0.1.0
 * @category models
 */
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

/**
 * A send strategy.
 *
 * @since 0.1.0
 * @category models
 */
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

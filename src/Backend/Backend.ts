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
import "../internal/line3.js"
import type * as Context from "effect/Context"
import * as internal from "../internal/backend.js"
import * as tag from "../internal/backendTag.js"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: typeof internal.TypeId = internal.TypeId

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
export type Name = internal.Name

/**
 * What a backend drives: one Stocking's outbound queue and its socket. A
 * backend decides only *when* to flush; order is the Link's: `flush` writes
 * everything it takes before it returns.
 *
 * @since 0.1.0
 * @category models
 */
export interface Link extends internal.Link {}

/**
 * A send strategy.
 *
 * @since 0.1.0
 * @category models
 */
export interface Backend extends internal.Backend {}

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
export const Backend: Context.Tag<Backend, Backend> = tag.Backend

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

/**
 * A `Backend` moves a Stocking's queued messages to its socket: it is the
 * send loop. The Effect 4 line uses the very strategies of the Effect 3
 * line (one copy: `Poll`, readiness-driven, the original's PollStocking;
 * `Select`, interval-driven, the original's SelectStocking), so endpoints
 * on either line and either backend talk to each other.
 *
 * A Stocking made without a `Backend` in context uses `Auto`'s choice for
 * its socket.
 *
 * @since 0.2.0
 */
import "../internal/line.js"
import * as Context from "effect/Context"
import * as internal from "../../internal/backend.js"

/**
 * @since 0.2.0
 * @category type ids
 */
export const TypeId: typeof internal.TypeId = internal.TypeId

/**
 * @since 0.2.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * The backends' names, as the CLI's `--backend` and `STOCKING_BACKEND` spell them.
 *
 * @since 0.2.0
 * @category models
 */
export type Name = internal.Name

/**
 * What a backend drives: one Stocking's outbound queue and its socket
 * (what is queued, flush it, wait for the drain, run a loop). A backend
 * decides only *when* to flush; order is the Link's.
 *
 * @since 0.2.0
 * @category models
 */
export interface Link extends internal.Link {}

/**
 * A send strategy: `start(link)` sets it up for one connection and returns
 * what the connection calls each time writers have queued messages.
 *
 * @since 0.2.0
 * @category models
 */
export interface Backend extends internal.Backend {}

/**
 * The service a Stocking uses to drive its socket.
 *
 * @since 0.2.0
 * @category services
 * @example
 * ```ts
 * import { Console, Effect } from "effect"
 * import { Auto, Backend } from "effect-stockings/effect4/node"
 *
 * const program = Effect.gen(function* () {
 *   const backend = yield* Backend.Backend
 *   yield* Console.log(`Stockings here send with ${backend.name}`)
 * }).pipe(Effect.provide(Auto.layer))
 * ```
 */
export const Backend: Context.Service<Backend, Backend> = Context.Service<Backend>("effect-stockings/Backend")

/**
 * Tells whether a value is a `Backend`.
 *
 * @since 0.2.0
 * @category refinements
 * @example
 * ```ts
 * import { Backend, Poll } from "effect-stockings/effect4/node"
 *
 * Backend.isBackend(Poll.backend) // true
 * ```
 */
export const isBackend = (u: unknown): u is Backend => typeof u === "object" && u !== null && TypeId in u

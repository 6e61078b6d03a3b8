import * as internal from "../internal/backend.js"
/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId = internal.TypeId
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
export const Backend = internal.Backend
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
export const isBackend = (u) => typeof u === "object" && u !== null && TypeId in u

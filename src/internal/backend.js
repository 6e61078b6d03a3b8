/**
 * What internal code needs of the `Backend` module at run time (its type id
 * and its tag), declared here so that it imports no public module. The
 * `Backend` module re-exports them, with their documentation.
 *
 * @internal
 */
import * as Context from "effect/Context"
/** `Backend.TypeId`. @internal */
export const TypeId = Symbol.for("effect-stockings/Backend")
/** `Backend.Backend`, the tag. @internal */
export const Backend = Context.GenericTag("effect-stockings/Backend")

/**
 * What internal code needs of the `Backend` module at run time (its type id
 * and its tag), declared here so that it imports no public module. The
 * `Backend` module re-exports them, with their documentation.
 *
 * @internal
 */
import * as Context from "effect/Context"
import type * as Public from "../Backend/Backend.js"

/** `Backend.Link`. @internal */
export type Link = Public.Link

/** `Backend.Name`. @internal */
export type Name = Public.Name

/** `Backend.TypeId`. @internal */
export const TypeId: typeof Public.TypeId = Symbol.for("effect-stockings/Backend") as typeof Public.TypeId

/** @internal */
export type TypeId = Public.TypeId

/** `Backend.Backend`, the tag. @internal */
export const Backend: Context.Tag<Public.Backend, Public.Backend> =
  Context.GenericTag<Public.Backend>("effect-stockings/Backend")

/** @internal */
export type Backend = Public.Backend

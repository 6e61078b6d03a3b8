/**
 * The `Stocking` service's tag, on its own so that the `Stocking` module
 * (which exports it) and the `StockingLayer` module (whose layers provide
 * it) share it without importing each other.
 */
import * as Context from "effect/Context"
import type * as Stocking_ from "../Stocking.js"

/** @internal */
export const Stocking = Context.GenericTag<Stocking_.Stocking>("effect-stockings/Stocking")

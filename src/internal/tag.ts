/**
 * The `Stocking` and `Server` services' tags, on their own so that the
 * modules that export them (`Stocking`, `Server`) and the ones whose layers
 * provide them (`StockingLayer`, `ServerLayer`) share them without
 * importing each other.
 */
import * as Context from "effect/Context"
import type * as Server_ from "../Server.js"
import type * as Stocking_ from "../Stocking.js"

/** @internal */
export const Stocking = Context.GenericTag<Stocking_.Stocking>("effect-stockings/Stocking")

/** @internal */
export const Server = Context.GenericTag<Server_.Server>("effect-stockings/Server")

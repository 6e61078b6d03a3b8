/**
 * What internal code needs of the `Codec` module at run time (`make`, and
 * the identity codec, which a Stocking skips), declared here so that it
 * imports no public module. The `Codec` module re-exports them, with their
 * documentation. The codecs made from a `Schema` are in `codecSchema.ts`,
 * so that a Stocking does not load `Schema`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
/** `Codec.TypeId`. @internal */
export const TypeId = Symbol.for("effect-stockings/Codec")
/** `Codec.make`. @internal */
export const make = (conversions) => ({ [TypeId]: TypeId, encode: conversions.encode, decode: conversions.decode })
/** `Codec.identity`. @internal */
export const identity = make({ encode: Effect.succeed, decode: Effect.succeed })

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
import type * as Public from "../Codec.js"
import type { Message } from "../Framing.js"

/** `Codec.Codec`. @internal */
export type Codec<I, O, E = never> = Public.Codec<I, O, E>

/** `Codec.TypeId`. @internal */
export const TypeId: typeof Public.TypeId = Symbol.for("effect-stockings/Codec") as typeof Public.TypeId

/** @internal */
export type TypeId = Public.TypeId

/** `Codec.make`. @internal */
export const make = <I, O, E = never>(conversions: {
  readonly encode: (value: I) => Effect.Effect<Message, E>
  readonly decode: (message: Message) => Effect.Effect<O, E>
}): Public.Codec<I, O, E> => ({ [TypeId]: TypeId, encode: conversions.encode, decode: conversions.decode })

/** `Codec.identity`. @internal */
export const identity: Public.Codec<Message, Message> = make({ encode: Effect.succeed, decode: Effect.succeed })

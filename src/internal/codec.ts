/**
 * What internal code needs of the `Codec` module at run time (`make`, and
 * the identity codec, which a Stocking skips), declared here so that it
 * imports no public module, and the `Codec` type itself. The `Codec` module
 * of each line re-exports them, with their documentation: nothing here
 * differs between Effect 3 and 4 but the `Effect` type and `Effect.succeed`,
 * which each line's build takes from its own `effect/Effect`. The codecs made
 * from a `Schema` are per line (`codecSchema.ts` here, the Effect 4 one in
 * `effect4/internal/`), so that a Stocking does not load `Schema`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type { Message } from "./wire.js"

/** `Codec.TypeId`. @internal */
export const TypeId: unique symbol = Symbol.for("effect-stockings/Codec")

/** @internal */
export type TypeId = typeof TypeId

/** `Codec.Codec`. @internal */
export interface Codec<in I, out O, out E = never> {
  readonly [TypeId]: TypeId
  readonly encode: (value: I) => Effect.Effect<Message, E>
  readonly decode: (message: Message) => Effect.Effect<O, E>
}

/** `Codec.make`. @internal */
export const make = <I, O, E = never>(conversions: {
  readonly encode: (value: I) => Effect.Effect<Message, E>
  readonly decode: (message: Message) => Effect.Effect<O, E>
}): Codec<I, O, E> => ({ [TypeId]: TypeId, encode: conversions.encode, decode: conversions.decode })

/** `Codec.identity`. @internal */
export const identity: Codec<Message, Message> = make({ encode: Effect.succeed, decode: Effect.succeed })

/** `Codec.isCodec`. @internal */
export const isCodec = (u: unknown): u is Codec<unknown, unknown, unknown> =>
  typeof u === "object" && u !== null && TypeId in u

/**
 * Codecs turn the values a program writes into messages, and the messages a
 * Stocking reads back into values: the original library's `preWrite` and
 * `postRead` hooks, typed and effectful. This is the Effect 4 line's module:
 * the codecs made from a `Schema` take Effect 4's `Schema` and fail with its
 * `SchemaError`; a `Codec` value is the same shape on both lines.
 *
 * @since 0.2.0
 */
import "./internal/line.js"
import type * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import type * as SchemaAST from "effect/SchemaAST"
import * as internal from "../internal/codec.js"
import type { Message } from "../internal/wire.js"
import * as schemaInternal from "./internal/codecSchema.js"

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
 * A pair of conversions: `encode` runs on every `write` (in the writer's
 * fiber, before the message is queued), `decode` on every message read.
 * A failure of either is returned to that `write` or read, typed as `E`; a
 * failed decode consumes its message and the next read goes on with the next.
 *
 * - `I`: what `write` takes.
 * - `O`: what `read` / `take` / `messages` give.
 * - `E`: the error of a failed conversion.
 *
 * The value is `{ [TypeId], encode, decode }`, with `encode` and `decode`
 * returning Effect 4 `Effect`s.
 *
 * @since 0.2.0
 * @category models
 */
export type Codec<I, O, E = never> = internal.Codec<I, O, E>

/**
 * Tells whether a value is a `Codec`.
 *
 * @example
 * ```ts
 * import { Codec } from "effect-stockings/effect4"
 *
 * Codec.isCodec(Codec.identity) // true
 * Codec.isCodec({ encode: () => "" }) // false
 * ```
 *
 * @since 0.2.0
 * @category refinements
 */
export const isCodec: (u: unknown) => u is Codec<unknown, unknown, unknown> = internal.isCodec

/**
 * Makes a codec from two effectful conversions.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Codec } from "effect-stockings/effect4"
 *
 * // The original README's preWrite / postRead example: "user:status" text messages.
 * const userStatus = Codec.make({
 *   encode: ({ user, status }: { user: string; status: string }) => Effect.succeed(`${user}:${status}`),
 *   decode: (message) => {
 *     const match = typeof message === "string" ? /^(.*):(.*)$/.exec(message) : null
 *     return match ? Effect.succeed({ user: match[1]!, status: match[2]! }) : Effect.fail("not user:status" as const)
 *   }
 * })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const make: <I, O, E = never>(conversions: {
  readonly encode: (value: I) => Effect.Effect<Message, E>
  readonly decode: (message: Message) => Effect.Effect<O, E>
}) => Codec<I, O, E> = internal.make

/**
 * The codec that changes nothing: `write` takes a `string` or `Uint8Array`
 * and the peer reads the same kind back. The default; a Stocking using it
 * skips the codec step entirely.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Codec } from "effect-stockings/effect4"
 *
 * const program = Effect.gen(function* () {
 *   const message = yield* Codec.identity.encode(new Uint8Array([1, 2])) // the same Uint8Array
 *   const value = yield* Codec.identity.decode("hi") // "hi"
 * })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const identity: Codec<Message, Message> = internal.identity

/**
 * A codec from a `Schema` whose encoded side is a message (`string`,
 * `Uint8Array`, or a union of them): `write` encodes with the schema,
 * reads decode with it. Failures are `SchemaError`s.
 *
 * Errors say what was received as well as what was expected: the schema is
 * run with `reportInput: true` unless `options` says otherwise (pass
 * `{ reportInput: false }` to keep message contents out of errors and logs).
 * `options` are the `ParseOptions` of Effect 4's `Schema` (`errors: "all"`,
 * `onExcessProperty`, ...).
 *
 * @example
 * ```ts
 * import { Schema, SchemaGetter } from "effect"
 * import { Codec } from "effect-stockings/effect4"
 *
 * const UserStatus = Schema.String.pipe(
 *   Schema.decodeTo(Schema.Struct({ user: Schema.String, status: Schema.String }), {
 *     decode: SchemaGetter.transform((s: string) => ({
 *       user: s.slice(0, s.indexOf(":")),
 *       status: s.slice(s.indexOf(":") + 1)
 *     })),
 *     encode: SchemaGetter.transform(({ user, status }: { readonly user: string; readonly status: string }) =>
 *       `${user}:${status}`
 *     )
 *   })
 * )
 * const codec = Codec.schema(UserStatus) // Codec<{ user; status }, { user; status }, SchemaError>
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const schema: <A, I extends Message>(
  schema: Schema.Codec<A, I>,
  options?: SchemaAST.ParseOptions
) => Codec<A, A, Schema.SchemaError> = schemaInternal.schema

/**
 * A codec that sends values as JSON in text messages, checked by `schema`
 * both ways. A bytes message is read as UTF-8 JSON too, so a peer that sends
 * JSON as bytes is understood. Failures (bytes that are not UTF-8, text that
 * is not JSON, a value that does not match) are `SchemaError`s saying what
 * was received and what was expected; `options` as for `schema`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Codec } from "effect-stockings/effect4"
 *
 * const Status = Schema.Struct({ user: Schema.String, status: Schema.Literals(["OK", "ERROR"]) })
 * const codec = Codec.json(Status) // Codec<{ user; status }, { user; status }, SchemaError>
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const json: <A, I>(
  schema: Schema.Codec<A, I>,
  options?: SchemaAST.ParseOptions
) => Codec<A, A, Schema.SchemaError> = schemaInternal.json

/**
 * Like `json`, for protocols whose two directions carry different types: a
 * client writes requests and reads responses.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Codec } from "effect-stockings/effect4"
 *
 * const Request = Schema.Struct({ id: Schema.Number, query: Schema.String })
 * const Response = Schema.Struct({ id: Schema.Number, rows: Schema.Array(Schema.String) })
 *
 * // The client's codec: it writes Requests and reads Responses.
 * const client = Codec.jsonPair(Request, Response) // Codec<Request, Response, SchemaError>
 * // The server's is the mirror image.
 * const server = Codec.jsonPair(Response, Request)
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const jsonPair: <W, WI, R, RI>(
  write: Schema.Codec<W, WI>,
  read: Schema.Codec<R, RI>,
  options?: SchemaAST.ParseOptions
) => Codec<W, R, Schema.SchemaError> = schemaInternal.jsonPair

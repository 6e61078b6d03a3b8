import * as internal from "./internal/codec.js"
import * as schemaInternal from "./internal/codecSchema.js"
/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId = internal.TypeId
/**
 * Tells whether a value is a `Codec`.
 *
 * @example
 * ```ts
 * import { Codec } from "effect-stockings"
 *
 * Codec.isCodec(Codec.identity) // true
 * Codec.isCodec({ encode: () => "" }) // false
 * ```
 *
 * @since 0.1.0
 * @category refinements
 */
export const isCodec = (u) => typeof u === "object" && u !== null && TypeId in u
/**
 * Makes a codec from two effectful conversions.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Codec } from "effect-stockings"
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
 * @since 0.1.0
 * @category constructors
 */
export const make = internal.make
/**
 * The codec that changes nothing: `write` takes a `string` or `Uint8Array`
 * and the peer reads the same kind back. The default; a Stocking using it
 * skips the codec step entirely.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Codec } from "effect-stockings"
 *
 * const program = Effect.gen(function* () {
 *   const message = yield* Codec.identity.encode(new Uint8Array([1, 2])) // the same Uint8Array
 *   const value = yield* Codec.identity.decode("hi") // "hi"
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const identity = internal.identity
/**
 * A codec from a `Schema` whose encoded side is a message (`string`,
 * `Uint8Array`, or a union of them): `write` encodes with the schema,
 * reads decode with it. Failures are `ParseError`s.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Codec } from "effect-stockings"
 *
 * const UserStatus = Schema.transform(
 *   Schema.String,
 *   Schema.Struct({ user: Schema.String, status: Schema.String }),
 *   {
 *     decode: (s) => ({ user: s.slice(0, s.indexOf(":")), status: s.slice(s.indexOf(":") + 1) }),
 *     encode: ({ user, status }) => `${user}:${status}`
 *   }
 * )
 * const codec = Codec.schema(UserStatus)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const schema = schemaInternal.schema
/**
 * A codec that sends values as JSON in text messages, checked by `schema`
 * both ways. A bytes message is read as UTF-8 JSON too, so a peer that sends
 * JSON as bytes is understood. Failures (bad JSON, a value that does not
 * match) are `ParseError`s saying what was wrong.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Codec } from "effect-stockings"
 *
 * const Status = Schema.Struct({ user: Schema.String, status: Schema.Literal("OK", "ERROR") })
 * const codec = Codec.json(Status) // Codec<{ user; status }, { user; status }, ParseError>
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const json = schemaInternal.json
/**
 * Like `json`, for protocols whose two directions carry different types: a
 * client writes requests and reads responses.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Codec } from "effect-stockings"
 *
 * const Request = Schema.Struct({ id: Schema.Number, query: Schema.String })
 * const Response = Schema.Struct({ id: Schema.Number, rows: Schema.Array(Schema.String) })
 *
 * // The client's codec: it writes Requests and reads Responses.
 * const client = Codec.jsonPair(Request, Response) // Codec<Request, Response, ParseError>
 * // The server's is the mirror image.
 * const server = Codec.jsonPair(Response, Request)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const jsonPair = schemaInternal.jsonPair

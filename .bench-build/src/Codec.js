/**
 * Codecs turn the values a program writes into messages, and the messages a
 * Stocking reads back into values: the original library's `preWrite` and
 * `postRead` hooks, typed and effectful.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect";
import * as ParseResult from "effect/ParseResult";
import * as Schema from "effect/Schema";
/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId = Symbol.for("effect-stockings/Codec");
/**
 * Tells whether a value is a `Codec`.
 *
 * @since 0.1.0
 * @category refinements
 */
export const isCodec = (u) => typeof u === "object" && u !== null && TypeId in u;
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
export const make = (conversions) => ({ [TypeId]: TypeId, encode: conversions.encode, decode: conversions.decode });
/**
 * The codec that changes nothing: `write` takes a `string` or `Uint8Array`
 * and the peer reads the same kind back. The default; a Stocking using it
 * skips the codec step entirely.
 *
 * @since 0.1.0
 * @category constructors
 */
export const identity = make({ encode: Effect.succeed, decode: Effect.succeed });
const textDecoder = new TextDecoder("utf-8", { fatal: true });
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
export const schema = (schema) => {
    const encode = Schema.encode(schema);
    const decode = Schema.decodeUnknown(schema);
    return make({ encode, decode });
};
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
export const json = (schema) => jsonPair(schema, schema);
/**
 * Like `json`, for protocols whose two directions carry different types: a
 * client writes requests and reads responses.
 *
 * @since 0.1.0
 * @category constructors
 */
export const jsonPair = (write, read) => {
    const encode = Schema.encode(Schema.parseJson(write));
    const decode = Schema.decodeUnknown(Schema.parseJson(read));
    return make({
        encode,
        decode: (message) => {
            if (typeof message === "string")
                return decode(message);
            let text;
            try {
                text = textDecoder.decode(message);
            }
            catch {
                return Effect.fail(new ParseResult.ParseError({
                    issue: new ParseResult.Type(Schema.String.ast, message, `expected a JSON text message, got ${message.length} bytes that are not UTF-8`)
                }));
            }
            return decode(text);
        }
    });
};
//# sourceMappingURL=Codec.js.map
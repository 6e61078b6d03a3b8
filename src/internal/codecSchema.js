/**
 * The `Codec` module's codecs made from a `Schema`, apart from `codec.ts` so
 * that a Stocking, which needs the identity codec only, does not load
 * `Schema`. The `Codec` module re-exports them, with their documentation.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { make } from "./codec.js"
/** `Codec.schema`. @internal */
export const schema = (schema) => {
  const encode = Schema.encode(schema)
  const decode = Schema.decodeUnknown(schema)
  return make({ encode, decode })
}
/** `Codec.json`. @internal */
export const json = (schema) => jsonPair(schema, schema)
const textDecoder = new TextDecoder("utf-8", { fatal: true })
/** `Codec.jsonPair`. @internal */
export const jsonPair = (write, read) => {
  const encode = Schema.encode(Schema.parseJson(write))
  const decode = Schema.decodeUnknown(Schema.parseJson(read))
  return make({
    encode,
    decode: (message) => {
      if (typeof message === "string") return decode(message)
      let text
      try {
        text = textDecoder.decode(message)
      } catch {
        return Effect.fail(
          new ParseResult.ParseError({
            issue: new ParseResult.Type(
              Schema.String.ast,
              message,
              `expected a JSON text message, got ${message.length} bytes that are not UTF-8`
            )
          })
        )
      }
      return decode(text)
    }
  })
}

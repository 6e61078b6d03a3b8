/**
 * The Effect 4 `Codec` module's codecs made from a `Schema` (Effect 4's
 * `Schema`, failing with `SchemaError`), apart from the shared `codec.ts` so
 * that a Stocking, which needs the identity codec only, does not load
 * `Schema`. The `Codec` module re-exports them, with their documentation.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as SchemaAST from "effect/SchemaAST"
import * as SchemaIssue from "effect/SchemaIssue"
import { type Codec, make } from "../../internal/codec.js"
import type { Message } from "../../internal/wire.js"

/**
 * What every codec parses with unless told otherwise: errors say what was
 * received (`reportInput`), as the project's errors do, and not only what
 * was expected (Effect 4's default).
 */
const defaults: SchemaAST.ParseOptions = { reportInput: true }

const parseOptions = (options: SchemaAST.ParseOptions | undefined): SchemaAST.ParseOptions =>
  options === undefined ? defaults : { ...defaults, ...options }

/** `Codec.schema`. @internal */
export const schema = <A, I extends Message>(
  schema: Schema.Codec<A, I>,
  options?: SchemaAST.ParseOptions
): Codec<A, A, Schema.SchemaError> => {
  const parse = parseOptions(options)
  const encode = Schema.encodeEffect(schema, parse)
  const decode = Schema.decodeUnknownEffect(schema, parse)
  return make({ encode: (value) => encode(value), decode: (message) => decode(message) })
}

/** `Codec.json`. @internal */
export const json = <A, I>(
  schema: Schema.Codec<A, I>,
  options?: SchemaAST.ParseOptions
): Codec<A, A, Schema.SchemaError> => jsonPair(schema, schema, options)

const textDecoder = new TextDecoder("utf-8", { fatal: true })

const invalid = (
  message: string,
  input: unknown,
  options: SchemaAST.ParseOptions
): Effect.Effect<never, Schema.SchemaError> =>
  Effect.fail(new Schema.SchemaError(new SchemaIssue.InvalidValue({ message }, input, options)))

/** `Codec.jsonPair`. @internal */
export const jsonPair = <W, WI, R, RI>(
  write: Schema.Codec<W, WI>,
  read: Schema.Codec<R, RI>,
  options?: SchemaAST.ParseOptions
): Codec<W, R, Schema.SchemaError> => {
  const parse = parseOptions(options)
  const encode = Schema.encodeEffect(Schema.fromJsonString(write), parse)
  const decode = Schema.decodeUnknownEffect(read, parse)
  // The JSON is parsed here rather than by `Schema.fromJsonString`, whose
  // error says only "a valid JSON string" (and quotes the whole message):
  // this one gives the parser's reason, which quotes the part at fault.
  const decodeText = (text: string): Effect.Effect<R, Schema.SchemaError> => {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (cause) {
      return invalid(
        `Expected JSON text, got ${text.length} characters that are not JSON (${cause instanceof Error ? cause.message : String(cause)})`,
        text,
        parse
      )
    }
    return decode(value)
  }
  return make({
    encode: (value) => encode(value),
    decode: (message) => {
      if (typeof message === "string") return decodeText(message)
      let text: string
      try {
        text = textDecoder.decode(message)
      } catch {
        return invalid(`Expected a JSON text message, got ${message.length} bytes that are not UTF-8`, message, parse)
      }
      return decodeText(text)
    }
  })
}

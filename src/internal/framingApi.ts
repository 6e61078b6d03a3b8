/**
 * The `Framing` module's values as internal code uses them (its decoder
 * constructors, its error, `encode`), declared (or re-exported) here so that
 * internal modules import this one as `Framing` and never the public module,
 * which imports them. The `Framing` module re-exports these values, with
 * their documentation.
 *
 * @internal
 */
import type * as Public from "./wire.js"
import { DecoderImpl, decodeHeader as decodeHeaderWith, type MakeError } from "./decoder.js"
import { FramingError } from "./framingError.js"

export { DEFAULT_MAX_MESSAGE_SIZE, encode } from "./framing.js"
export { FramingError, FramingErrorTypeId, isFramingError } from "./framingError.js"

/** `Framing.Message`. @internal */
export type Message = Public.Message

const makeError: MakeError = (fields) => new FramingError(fields)

/** `Framing.unsafeMakeDecoder`. @internal */
export const unsafeMakeDecoder = (options?: Public.DecoderOptions): Public.Decoder =>
  new DecoderImpl(options, makeError)

/** `Framing.decodeHeader`. @internal */
export const decodeHeader = (bytes: Uint8Array): Public.Header | FramingError | undefined =>
  decodeHeaderWith(bytes, makeError)

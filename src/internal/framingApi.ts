/**
 * The `Framing` module as internal code uses it: its values declared (or
 * re-exported) here, and its types re-exported, so that internal modules
 * import this one as `Framing` and never the public module (which imports
 * them: an import cycle). The `Framing` and `FramingDecoder` modules
 * re-export these values, with their documentation.
 *
 * @internal
 */
import type { Decoder, DecoderOptions, Header } from "../Framing.js"
import { DecoderImpl, decodeHeader as decodeHeaderWith, type MakeError } from "./decoder.js"
import { FramingError } from "./framingError.js"

export type * from "../Framing.js"
export { DEFAULT_MAX_MESSAGE_SIZE, encode } from "./framing.js"
export { FramingError, FramingErrorTypeId, isFramingError } from "./framingError.js"

const makeError: MakeError = (fields) => new FramingError(fields)

/** `FramingDecoder.unsafeMakeDecoder`. @internal */
export const unsafeMakeDecoder = (options?: DecoderOptions): Decoder => new DecoderImpl(options, makeError)

/** `FramingDecoder.decodeHeader`. @internal */
export const decodeHeader = (bytes: Uint8Array): Header | FramingError | undefined => decodeHeaderWith(bytes, makeError)

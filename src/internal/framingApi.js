import { DecoderImpl, decodeHeader as decodeHeaderWith } from "./decoder.js"
import { FramingError } from "./framingError.js"
export { DEFAULT_MAX_MESSAGE_SIZE, encode } from "./framing.js"
export { FramingError, FramingErrorTypeId, isFramingError } from "./framingError.js"
const makeError = (fields) => new FramingError(fields)
/** `Framing.unsafeMakeDecoder`. @internal */
export const unsafeMakeDecoder = (options) => new DecoderImpl(options, makeError)
/** `Framing.decodeHeader`. @internal */
export const decodeHeader = (bytes) => decodeHeaderWith(bytes, makeError)

/**
 * The parser behind both lines' `Rpc` serializations: each RPC message as
 * one Stockings TEXT frame of its JSON, decoded by one incremental decoder
 * per connection. Effect-free but for the error each line's RPC library
 * expects for a message over the limit, which the line passes in
 * (`tooLarge`): Effect 3's `@effect/rpc` closes a socket server's
 * connection on its `RpcSerializationError`, Effect 4's `effect/rpc` on its
 * `MaxBufferSizeExceeded`.
 *
 * @internal
 */
import * as Framing from "./framingApi.js"

/**
 * Makes the error thrown for a message over the limit: the limit, the size
 * seen (declared by a peer's header, or of our own encoded message), and,
 * when decoding, the decoder's `MessageTooLarge` error.
 *
 * @internal
 */
export type TooLarge = (limit: number, size: number, cause?: Framing.FramingError) => unknown

/** @internal */
export interface Parser {
  readonly decode: (data: Uint8Array | string) => ReadonlyArray<unknown>
  readonly encode: (message: unknown) => Uint8Array | undefined
}

/**
 * The error a parser throws for a stream that broke the framing: a message
 * over the limit as the line's `tooLarge` error, with the `FramingError` as
 * its cause; any other fault as the `FramingError` itself.
 *
 * @internal
 */
export const decodeFailure = (failure: Framing.FramingError, tooLarge: TooLarge): unknown =>
  failure.reason === "MessageTooLarge" ? tooLarge(failure.limit ?? 0, failure.declaredLength ?? 0, failure) : failure

const encodeOne = (message: unknown, maxMessageSize: number, tooLarge: TooLarge): Uint8Array => {
  const frame = Framing.encode(JSON.stringify(message))
  if (frame.length > maxMessageSize) {
    const header = Framing.decodeHeader(frame)
    const size = header !== undefined && !Framing.isFramingError(header) ? header.length : frame.length
    if (size > maxMessageSize) throw tooLarge(maxMessageSize, size)
  }
  return frame
}

// Stateless (no `stream` option), so one of each serves every parser.
const utf8Decoder = new TextDecoder("utf-8", { fatal: true })
const utf8Encoder = new TextEncoder()

const parseMessage = (message: Framing.Message): unknown => {
  const value: unknown = JSON.parse(typeof message === "string" ? message : utf8Decoder.decode(message))
  if (typeof value !== "object" || value === null) {
    throw new TypeError(`expected a JSON object for an RPC message, got ${value === null ? "null" : typeof value}`)
  }
  return value
}

const concat = (frames: ReadonlyArray<Uint8Array>): Uint8Array => {
  let size = 0
  for (const frame of frames) size += frame.length
  const out = new Uint8Array(size)
  let offset = 0
  for (const frame of frames) {
    out.set(frame, offset)
    offset += frame.length
  }
  return out
}

/**
 * One connection's parser. Decoding accepts TEXT frames and BYTES frames of
 * UTF-8 JSON; each message must be a JSON object. It throws the
 * `decodeFailure` of a broken stream (and again on every later chunk: a
 * failed decoder stays failed), and the `SyntaxError` / `TypeError` of a
 * well-framed message that is not a JSON object (the next one decodes).
 * Encoding an array gives its messages' frames one after the other, an
 * empty array nothing; a message over the limit throws `tooLarge`.
 *
 * @internal
 */
export const makeParser = (maxMessageSize: number, tooLarge: TooLarge): Parser => {
  const decoder = Framing.unsafeMakeDecoder({ maxMessageSize })
  return {
    decode: (data) => {
      const messages = decoder.push(typeof data === "string" ? utf8Encoder.encode(data) : data)
      // Messages completed earlier in the same chunk as a fault are dropped with it.
      if (decoder.failure !== undefined) throw decodeFailure(decoder.failure, tooLarge)
      if (messages.length === 0) return messages
      const out: Array<unknown> = new Array(messages.length)
      for (let i = 0; i < messages.length; i++) out[i] = parseMessage(messages[i]!)
      return out
    },
    encode: (message) => {
      if (!Array.isArray(message)) return encodeOne(message, maxMessageSize, tooLarge)
      if (message.length === 0) return undefined
      if (message.length === 1) return encodeOne(message[0], maxMessageSize, tooLarge)
      return concat(message.map((m) => encodeOne(m, maxMessageSize, tooLarge)))
    }
  }
}

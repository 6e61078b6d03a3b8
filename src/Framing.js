import * as internal from "./internal/framing.js"
import * as decoderInternal from "./internal/framingApi.js"
import * as errorInternal from "./internal/framingError.js"
import * as streamInternal from "./internal/framingStream.js"
/**
 * The largest length a header may carry: 2^53 - 1, the largest integer a
 * JavaScript number holds exactly.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_LENGTH = internal.MAX_LENGTH
/**
 * A header is at most 8 bytes long (enough for any length up to 2^53 - 1).
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_HEADER_SIZE = internal.MAX_HEADER_SIZE
/**
 * The default limit on one message's payload: 16 MiB.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_MESSAGE_SIZE = internal.DEFAULT_MAX_MESSAGE_SIZE
// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------
/**
 * @since 0.1.0
 * @category type ids
 */
export const FramingErrorTypeId = errorInternal.FramingErrorTypeId
/**
 * A byte stream that is not valid Stockings framing. Once a decoder has
 * failed it stays failed: there is no resynchronising on garbage.
 *
 * @since 0.1.0
 * @category errors
 */
export const FramingError = errorInternal.FramingError
/**
 * Tells whether a value is a `FramingError`.
 *
 * @example
 * ```ts
 * import { Framing } from "effect-stockings"
 *
 * const decoder = Framing.unsafeMakeDecoder({ maxMessageSize: 4 })
 * decoder.push(Uint8Array.of(0x85)) // []: the header declares a 5-byte text message, over the limit
 * Framing.isFramingError(decoder.failure) // true, with reason "MessageTooLarge"
 * Framing.isFramingError(new Error("no")) // false
 * ```
 *
 * @since 0.1.0
 * @category refinements
 */
export const isFramingError = errorInternal.isFramingError
/**
 * Makes an incremental decoder. `unsafe` because it is mutable state: use one
 * per stream and do not share it between fibers.
 *
 * @example
 * ```ts
 * import { Framing } from "effect-stockings"
 *
 * const decoder = Framing.unsafeMakeDecoder({ maxMessageSize: 1024 })
 * decoder.push(Uint8Array.of(0x82, 0x68)) // []
 * decoder.push(Uint8Array.of(0x69, 0xc1)) // ["hi"]
 * decoder.push(Uint8Array.of(0x07))       // [Uint8Array [7]]
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const unsafeMakeDecoder = decoderInternal.unsafeMakeDecoder
/**
 * Reads the header at the start of `bytes`: the header, a `FramingError` if
 * it is malformed, or `undefined` if `bytes` ends before the header does.
 *
 * @example
 * ```ts
 * import { Framing } from "effect-stockings"
 *
 * Framing.decodeHeader(Uint8Array.of(0x68, 0x8f, 0xff)) // { kind: "bytes", length: 1000, size: 2 }
 * Framing.decodeHeader(Uint8Array.of(0x68)) // undefined: the header goes on past these bytes
 * Framing.decodeHeader(new Uint8Array(8)) // a FramingError: HeaderTooLong
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeHeader = decoderInternal.decodeHeader
// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------
/**
 * The kind of a message: `"text"` for a string, `"bytes"` for a `Uint8Array`.
 *
 * @example
 * ```ts
 * import { Framing } from "effect-stockings"
 *
 * Framing.kindOf("hi") // "text"
 * Framing.kindOf(new Uint8Array([1, 2])) // "bytes"
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const kindOf = internal.kindOf
/**
 * The header for a payload of `length` bytes. Throws a `RangeError` for a
 * length that is not an integer from 0 to 2^53 - 1 (a programming error).
 *
 * @example
 * ```ts
 * import { Framing } from "effect-stockings"
 *
 * Framing.encodeHeader("text", 64) // Uint8Array [0x00, 0x81]
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeHeader = internal.encodeHeader
/**
 * How many bytes the header for a payload of `length` bytes takes (1 to 8).
 *
 * @example
 * ```ts
 * import { Framing } from "effect-stockings"
 *
 * Framing.headerSize(63) // 1
 * Framing.headerSize(64) // 2
 * Framing.headerSize(Framing.MAX_LENGTH) // 8
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const headerSize = internal.headerSize
/**
 * Bytes one message takes on the wire, header included.
 *
 * @example
 * ```ts
 * import { Framing } from "effect-stockings"
 *
 * Framing.encodedSize("héllo") // 7: a 1-byte header and 6 bytes of UTF-8
 * Framing.encodedSize(new Uint8Array(1000)) // 1002
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodedSize = internal.encodedSize
/**
 * One whole frame (header then payload) in a single new buffer. Text is
 * encoded as UTF-8 (a lone surrogate becomes U+FFFD, as with `TextEncoder`).
 *
 * @example
 * ```ts
 * import { Framing } from "effect-stockings"
 *
 * Framing.encode("hi") // Uint8Array [0x82, 0x68, 0x69]
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = internal.encode
/**
 * Header and payload as two buffers, for a writer that can send both
 * (`writev`, `cork`): a `Uint8Array` payload is returned as is, not copied.
 *
 * @example
 * ```ts
 * import type * as net from "node:net"
 * import { Framing } from "effect-stockings"
 *
 * declare const socket: net.Socket
 *
 * const payload = new Uint8Array(1000)
 * const [header, body] = Framing.encodeParts(payload) // header: Uint8Array [0x68, 0x8f]; body === payload
 * socket.cork()
 * socket.write(header)
 * socket.write(body)
 * socket.uncork() // one system call, and the payload was never copied
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeParts = internal.encodeParts
/**
 * Many frames in one buffer of exactly their total size: one allocation and
 * one copy per payload, ready for a single socket write.
 *
 * @example
 * ```ts
 * import { Framing } from "effect-stockings"
 *
 * Framing.encodeAll(["a", new Uint8Array([1])]) // Uint8Array [0x81, 0x61, 0xc1, 0x01]
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeAll = internal.encodeAll
/**
 * Writes one frame into `target` at `offset` and returns the offset past it.
 * `target` must have `encodedSize(message)` bytes of room from `offset`.
 *
 * @example
 * ```ts
 * import { Framing } from "effect-stockings"
 *
 * const messages = ["a", "bc"]
 * const target = new Uint8Array(messages.reduce((size, m) => size + Framing.encodedSize(m), 0))
 * let offset = 0
 * for (const message of messages) offset = Framing.encodeInto(target, offset, message)
 * // target: Uint8Array [0x81, 0x61, 0x82, 0x62, 0x63]; offset: 5
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeInto = internal.encodeInto
// ---------------------------------------------------------------------------
// Channels and streams
// ---------------------------------------------------------------------------
/**
 * A channel that frames messages into bytes, one output chunk per input chunk
 * (all its messages in one buffer).
 *
 * @example
 * ```ts
 * import { Stream } from "effect"
 * import { Framing } from "effect-stockings"
 *
 * const bytes = Stream.make("a", "bc").pipe(Stream.pipeThroughChannel(Framing.pack()))
 * // Stream<Uint8Array>: Uint8Array [0x81, 0x61, 0x82, 0x62, 0x63], one buffer for the chunk
 * ```
 *
 * @since 0.1.0
 * @category channels
 */
export const pack = streamInternal.pack
/**
 * A channel that turns bytes into whole messages. Fails with `FramingError`
 * on invalid framing (after emitting every message completed before it), and
 * with `Truncated` when its input ends in the middle of a message.
 *
 * @example
 * ```ts
 * import { Stream } from "effect"
 * import { Framing } from "effect-stockings"
 *
 * const messages = Stream.make(Uint8Array.of(0x82, 0x68), Uint8Array.of(0x69, 0xc1, 0x07)).pipe(
 *   Stream.pipeThroughChannelOrFail(Framing.unpack({ maxMessageSize: 1024 }))
 * )
 * // Stream<Framing.Message, Framing.FramingError>: "hi", then Uint8Array [7]
 * ```
 *
 * @since 0.1.0
 * @category channels
 */
export const unpack = streamInternal.unpack
/**
 * Frames a stream of byte chunks into a stream of whole messages.
 *
 * @example
 * ```ts
 * import { Stream } from "effect"
 * import { Framing } from "effect-stockings"
 *
 * const messages = Stream.make(Uint8Array.of(0x82, 0x68), Uint8Array.of(0x69)).pipe(Framing.decodeStream())
 * // Stream<Framing.Message, Framing.FramingError>: emits "hi"
 * ```
 *
 * @since 0.1.0
 * @category streams
 */
export const decodeStream = streamInternal.decodeStream
/**
 * Encodes a stream of messages into a stream of framed bytes.
 *
 * @example
 * ```ts
 * import { Stream } from "effect"
 * import { Framing } from "effect-stockings"
 *
 * const bytes = Stream.make("hi", new Uint8Array([7])).pipe(Framing.encodeStream)
 * // Stream<Uint8Array>: Uint8Array [0x82, 0x68, 0x69, 0xc1, 0x07], one buffer per chunk of messages
 * ```
 *
 * @since 0.1.0
 * @category streams
 */
export const encodeStream = streamInternal.encodeStream

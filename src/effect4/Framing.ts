/**
 * The Stockings wire format, for Effect 4: every message is a 1 to 8 byte
 * header (a little-endian base-128 length with a text/bytes flag) followed by
 * its payload. This module encodes and decodes it, byte-exact with the
 * original Python Stockings library, and frames any Effect `Stream` of bytes.
 *
 * The encoders and the incremental decoder are the same code as on the
 * Effect 3 line (`effect-stockings`'s `Framing`), and so is `FramingError`:
 * the same reasons, fields and messages. What follows Effect 4 is the stream
 * side: channels move `NonEmptyReadonlyArray` batches, not `Chunk`s.
 *
 * It depends on nothing platform-specific: use it over a WebSocket, a file or
 * a child process as well as a TCP socket.
 *
 * @since 0.2.0
 */
import "./internal/line.js"
import type { NonEmptyReadonlyArray } from "effect/Array"
import type * as Channel from "effect/Channel"
import type * as Stream from "effect/Stream"
import * as internal from "../internal/framing.js"
import * as decoderInternal from "../internal/framingApi.js"
import * as errorInternal from "../internal/framingError.js"
import type * as wire from "../internal/wire.js"
import * as streamInternal from "./internal/framingStream.js"

/**
 * A message: text (sent as UTF-8) or bytes. The kind survives the trip: a
 * `string` written arrives as a `string`, a `Uint8Array` as a `Uint8Array`.
 *
 * @since 0.2.0
 * @category models
 */
export type Message = wire.Message

/**
 * The payload kind carried in bit 6 of a header's first byte.
 *
 * @since 0.2.0
 * @category models
 */
export type Kind = wire.Kind

/**
 * A decoded header: the payload's kind and length in bytes, and how many
 * bytes the header itself took.
 *
 * @since 0.2.0
 * @category models
 */
export interface Header extends wire.Header {}

/**
 * The largest length a header may carry: 2^53 - 1, the largest integer a
 * JavaScript number holds exactly.
 *
 * @since 0.2.0
 * @category constants
 */
export const MAX_LENGTH: number = internal.MAX_LENGTH

/**
 * A header is at most 8 bytes long (enough for any length up to 2^53 - 1).
 *
 * @since 0.2.0
 * @category constants
 */
export const MAX_HEADER_SIZE: number = internal.MAX_HEADER_SIZE

/**
 * The default limit on one message's payload: 16 MiB.
 *
 * @since 0.2.0
 * @category constants
 */
export const DEFAULT_MAX_MESSAGE_SIZE: number = internal.DEFAULT_MAX_MESSAGE_SIZE

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/**
 * @since 0.2.0
 * @category type ids
 */
export const FramingErrorTypeId: typeof errorInternal.FramingErrorTypeId = errorInternal.FramingErrorTypeId

/**
 * @since 0.2.0
 * @category type ids
 */
export type FramingErrorTypeId = typeof FramingErrorTypeId

/**
 * Why a byte stream is not valid Stockings framing.
 *
 * - `MessageTooLarge`: a header declared more than `maxMessageSize` bytes.
 *   Raised as soon as the header is complete, before any payload is buffered.
 * - `HeaderTooLong`: 8 header bytes arrived without the last-byte flag.
 * - `LengthOverflow`: the header's length is above 2^53 - 1.
 * - `InvalidUtf8`: a text message's payload is not valid UTF-8.
 * - `Truncated`: the stream ended in the middle of a header or a payload.
 *
 * @since 0.2.0
 * @category errors
 */
export type FramingErrorReason = wire.FramingErrorReason

/**
 * @since 0.2.0
 * @category errors
 */
export declare namespace FramingError {
  /**
   * What a `FramingError` carries: its `reason`, the stream `offset` of the
   * offending header, and as they apply the header bytes `received` (hex),
   * the `declaredLength`, the `limit` and, for `Truncated`, how many bytes
   * had arrived (`buffered`).
   *
   * @since 0.2.0
   * @category errors
   */
  export interface Fields extends wire.FramingErrorFields {}
}

/**
 * A byte stream that is not valid Stockings framing: a `Data.TaggedError`
 * with `_tag` `"FramingError"`, so `Effect.catchTag("FramingError", ...)`
 * handles it. Its `message` says what arrived and what was expected. Once a
 * decoder has failed it stays failed: there is no resynchronising on garbage.
 *
 * @since 0.2.0
 * @category errors
 */
export const FramingError: typeof errorInternal.FramingError = errorInternal.FramingError

/**
 * The type of a `FramingError`.
 *
 * @since 0.2.0
 * @category errors
 */
export type FramingError = errorInternal.FramingError

/**
 * Tells whether a value is a `FramingError`.
 *
 * @example
 * ```ts
 * import { Framing } from "effect-stockings/effect4"
 *
 * const decoder = Framing.unsafeMakeDecoder({ maxMessageSize: 4 })
 * decoder.push(Uint8Array.of(0x85)) // []: the header declares a 5-byte text message, over the limit
 * Framing.isFramingError(decoder.failure) // true, with reason "MessageTooLarge"
 * Framing.isFramingError(new Error("no")) // false
 * ```
 *
 * @since 0.2.0
 * @category refinements
 */
export const isFramingError: (u: unknown) => u is FramingError = errorInternal.isFramingError

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

/**
 * The decoder's options: `maxMessageSize` (largest payload accepted, default
 * 16 MiB; a header declaring more fails with `MessageTooLarge` before any
 * payload byte is buffered) and `allocate` (makes the buffer a payload spread
 * over chunks is assembled in; default `new Uint8Array(size)`).
 *
 * @since 0.2.0
 * @category models
 */
export interface DecoderOptions extends wire.DecoderOptions {}

/**
 * An incremental decoder: feed it chunks as they arrive, get whole messages
 * back. A plain mutable object, one per byte stream, with no Effect inside.
 *
 * A payload lying whole inside one chunk is handed out as a view of that
 * chunk (no copy); a payload spread over chunks is assembled into one buffer
 * of exactly its length when it is complete. Text payloads come out as
 * strings. The decoder keeps views of the chunks it is given, so a chunk
 * must not be changed after it is pushed.
 *
 * Memory for an unfinished payload follows what has arrived, never what its
 * header declares.
 *
 * @since 0.2.0
 * @category models
 */
export interface Decoder extends wire.Decoder {}

/**
 * Makes an incremental decoder. `unsafe` because it is mutable state: use one
 * per stream and do not share it between fibers.
 *
 * @example
 * ```ts
 * import { Framing } from "effect-stockings/effect4"
 *
 * const decoder = Framing.unsafeMakeDecoder({ maxMessageSize: 1024 })
 * decoder.push(Uint8Array.of(0x82, 0x68)) // []
 * decoder.push(Uint8Array.of(0x69, 0xc1)) // ["hi"]
 * decoder.push(Uint8Array.of(0x07))       // [Uint8Array [7]]
 * decoder.end() // undefined: the stream ended between messages
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const unsafeMakeDecoder: (options?: DecoderOptions) => Decoder = decoderInternal.unsafeMakeDecoder

/**
 * Reads the header at the start of `bytes`: the header, a `FramingError` if
 * it is malformed, or `undefined` if `bytes` ends before the header does.
 *
 * @example
 * ```ts
 * import { Framing } from "effect-stockings/effect4"
 *
 * Framing.decodeHeader(Uint8Array.of(0x68, 0x8f, 0xff)) // { kind: "bytes", length: 1000, size: 2 }
 * Framing.decodeHeader(Uint8Array.of(0x68)) // undefined: the header goes on past these bytes
 * Framing.decodeHeader(new Uint8Array(8)) // a FramingError: HeaderTooLong
 * ```
 *
 * @since 0.2.0
 * @category decoding
 */
export const decodeHeader: (bytes: Uint8Array) => Header | FramingError | undefined = decoderInternal.decodeHeader

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

/**
 * The kind of a message: `"text"` for a string, `"bytes"` for a `Uint8Array`.
 *
 * @example
 * ```ts
 * import { Framing } from "effect-stockings/effect4"
 *
 * Framing.kindOf("hi") // "text"
 * Framing.kindOf(new Uint8Array([1, 2])) // "bytes"
 * ```
 *
 * @since 0.2.0
 * @category encoding
 */
export const kindOf: (message: Message) => Kind = internal.kindOf

/**
 * The header for a payload of `length` bytes. Throws a `RangeError` for a
 * length that is not an integer from 0 to 2^53 - 1 (a programming error).
 *
 * @example
 * ```ts
 * import { Framing } from "effect-stockings/effect4"
 *
 * Framing.encodeHeader("text", 64) // Uint8Array [0x00, 0x81]
 * ```
 *
 * @since 0.2.0
 * @category encoding
 */
export const encodeHeader: (kind: Kind, length: number) => Uint8Array = internal.encodeHeader

/**
 * How many bytes the header for a payload of `length` bytes takes (1 to 8).
 *
 * @example
 * ```ts
 * import { Framing } from "effect-stockings/effect4"
 *
 * Framing.headerSize(63) // 1
 * Framing.headerSize(64) // 2
 * Framing.headerSize(Framing.MAX_LENGTH) // 8
 * ```
 *
 * @since 0.2.0
 * @category encoding
 */
export const headerSize: (length: number) => number = internal.headerSize

/**
 * Bytes one message takes on the wire, header included.
 *
 * @example
 * ```ts
 * import { Framing } from "effect-stockings/effect4"
 *
 * Framing.encodedSize("héllo") // 7: a 1-byte header and 6 bytes of UTF-8
 * Framing.encodedSize(new Uint8Array(1000)) // 1002
 * ```
 *
 * @since 0.2.0
 * @category encoding
 */
export const encodedSize: (message: Message) => number = internal.encodedSize

/**
 * One whole frame (header then payload) in a single new buffer. Text is
 * encoded as UTF-8 (a lone surrogate becomes U+FFFD, as with `TextEncoder`).
 *
 * @example
 * ```ts
 * import { Framing } from "effect-stockings/effect4"
 *
 * Framing.encode("hi") // Uint8Array [0x82, 0x68, 0x69]
 * ```
 *
 * @since 0.2.0
 * @category encoding
 */
export const encode: (message: Message) => Uint8Array = internal.encode

/**
 * Header and payload as two buffers, for a writer that can send both
 * (`writev`, `cork`, `Socket.writer`'s `writeAll`): a `Uint8Array` payload
 * is returned as is, not copied.
 *
 * @example
 * ```ts
 * import { Framing } from "effect-stockings/effect4"
 *
 * const payload = new Uint8Array(1000)
 * const [header, body] = Framing.encodeParts(payload)
 * // header: Uint8Array [0x68, 0x8f]; body === payload, not a copy
 * ```
 *
 * @since 0.2.0
 * @category encoding
 */
export const encodeParts: (message: Message) => readonly [header: Uint8Array, payload: Uint8Array] =
  internal.encodeParts

/**
 * Many frames in one buffer of exactly their total size: one allocation and
 * one copy per payload, ready for a single socket write.
 *
 * @example
 * ```ts
 * import { Framing } from "effect-stockings/effect4"
 *
 * Framing.encodeAll(["a", new Uint8Array([1])]) // Uint8Array [0x81, 0x61, 0xc1, 0x01]
 * ```
 *
 * @since 0.2.0
 * @category encoding
 */
export const encodeAll: (messages: Iterable<Message>) => Uint8Array = internal.encodeAll

/**
 * Writes one frame into `target` at `offset` and returns the offset past it.
 * `target` must have `encodedSize(message)` bytes of room from `offset`.
 *
 * @example
 * ```ts
 * import { Framing } from "effect-stockings/effect4"
 *
 * const messages = ["a", "bc"]
 * const target = new Uint8Array(messages.reduce((size, m) => size + Framing.encodedSize(m), 0))
 * let offset = 0
 * for (const message of messages) offset = Framing.encodeInto(target, offset, message)
 * // target: Uint8Array [0x81, 0x61, 0x82, 0x62, 0x63]; offset: 5
 * ```
 *
 * @since 0.2.0
 * @category encoding
 */
export const encodeInto: (target: Uint8Array, offset: number, message: Message) => number = internal.encodeInto

// ---------------------------------------------------------------------------
// Channels and streams
// ---------------------------------------------------------------------------

/**
 * A channel that frames messages into bytes: each batch of messages it reads
 * becomes one buffer holding all their frames (a batch of one). Upstream
 * failures and the end value pass through.
 *
 * @example
 * ```ts
 * import { Stream } from "effect"
 * import { Framing } from "effect-stockings/effect4"
 *
 * const bytes = Stream.make("a", "bc").pipe(Stream.pipeThroughChannel(Framing.pack()))
 * // Stream<Uint8Array>: Uint8Array [0x81, 0x61, 0x82, 0x62, 0x63], one buffer for the batch
 * ```
 *
 * @since 0.2.0
 * @category channels
 */
export const pack: <IE = never, Done = unknown>() => Channel.Channel<
  NonEmptyReadonlyArray<Uint8Array>,
  IE,
  Done,
  NonEmptyReadonlyArray<Message>,
  IE,
  Done
> = streamInternal.pack

/**
 * A channel that turns batches of bytes into batches of whole messages. It
 * emits a batch when the bytes read complete at least one message. It fails
 * with `FramingError` on invalid framing (after emitting every message
 * completed before it), and with `Truncated` when its input ends in the
 * middle of a message; otherwise it ends with its input's end value.
 *
 * @example
 * ```ts
 * import { Stream } from "effect"
 * import { Framing } from "effect-stockings/effect4"
 *
 * const messages = Stream.make(Uint8Array.of(0x82, 0x68), Uint8Array.of(0x69, 0xc1, 0x07)).pipe(
 *   Stream.pipeThroughChannelOrFail(Framing.unpack({ maxMessageSize: 1024 }))
 * )
 * // Stream<Framing.Message, Framing.FramingError>: "hi", then Uint8Array [7]
 * ```
 *
 * @since 0.2.0
 * @category channels
 */
export const unpack: <IE = never, Done = unknown>(
  options?: DecoderOptions
) => Channel.Channel<
  NonEmptyReadonlyArray<Message>,
  IE | FramingError,
  Done,
  NonEmptyReadonlyArray<Uint8Array>,
  IE,
  Done
> = streamInternal.unpack

/**
 * Frames a stream of byte chunks into a stream of whole messages, as
 * `unpack` does, straight on the stream's pull. The stream's own failures
 * pass through.
 *
 * @example
 * ```ts
 * import { Stream } from "effect"
 * import { Framing } from "effect-stockings/effect4"
 *
 * const messages = Stream.make(Uint8Array.of(0x82, 0x68), Uint8Array.of(0x69)).pipe(Framing.decodeStream())
 * // Stream<Framing.Message, Framing.FramingError>: emits "hi"
 * ```
 *
 * @since 0.2.0
 * @category streams
 */
export const decodeStream: (
  options?: DecoderOptions
) => <E, R>(self: Stream.Stream<Uint8Array, E, R>) => Stream.Stream<Message, E | FramingError, R> =
  streamInternal.decodeStream

/**
 * Encodes a stream of messages into a stream of framed bytes: one buffer per
 * batch of messages.
 *
 * @example
 * ```ts
 * import { Stream } from "effect"
 * import { Framing } from "effect-stockings/effect4"
 *
 * const bytes = Stream.make("hi", new Uint8Array([7])).pipe(Framing.encodeStream)
 * // Stream<Uint8Array>: Uint8Array [0x82, 0x68, 0x69, 0xc1, 0x07], one buffer for the batch
 * ```
 *
 * @since 0.2.0
 * @category streams
 */
export const encodeStream: <E, R>(self: Stream.Stream<Message, E, R>) => Stream.Stream<Uint8Array, E, R> =
  streamInternal.encodeStream

/**
 * The Stockings wire format: every message is a 1 to 8 byte header (a
 * little-endian base-128 length with a text/bytes flag) followed by its
 * payload. This module encodes and decodes it, byte-exact with the original
 * Python Stockings library, and frames any Effect `Stream` of bytes.
 *
 * It depends on nothing platform-specific: use it over a WebSocket, a file or
 * a child process as well as a TCP socket.
 *
 * `FramingError` and the hand-fed decoder are declared in the `FramingError`
 * and `FramingDecoder` modules; this one re-exports them.
 *
 * @since 0.1.0
 */
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Stream from "effect/Stream"
import { type DecoderOptions, unsafeMakeDecoder } from "./FramingDecoder.js"
import type { FramingError } from "./FramingError.js"
import * as internal from "./internal/framing.js"

/**
 * A message: text (sent as UTF-8) or bytes. The kind survives the trip: a
 * `string` written arrives as a `string`, a `Uint8Array` as a `Uint8Array`.
 *
 * @since 0.1.0
 * @category models
 */
export type Message = string | Uint8Array

/**
 * The payload kind carried in bit 6 of a header's first byte.
 *
 * @since 0.1.0
 * @category models
 */
export type Kind = "text" | "bytes"

/**
 * A decoded header: the payload's kind and length in bytes, and how many
 * bytes the header itself took.
 *
 * @since 0.1.0
 * @category models
 */
export interface Header {
  readonly kind: Kind
  readonly length: number
  readonly size: number
}

/**
 * The largest length a header may carry: 2^53 - 1, the largest integer a
 * JavaScript number holds exactly.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_LENGTH: number = internal.MAX_LENGTH

/**
 * A header is at most 8 bytes long (enough for any length up to 2^53 - 1).
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_HEADER_SIZE: number = internal.MAX_HEADER_SIZE

/**
 * The default limit on one message's payload: 16 MiB.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_MESSAGE_SIZE: number = internal.DEFAULT_MAX_MESSAGE_SIZE

// ---------------------------------------------------------------------------
// Errors and decoding, declared in their own modules
// ---------------------------------------------------------------------------

export {
  /** @since 0.1.0 */
  FramingError,
  /** @since 0.1.0 */
  FramingErrorTypeId,
  /** @since 0.1.0 */
  isFramingError
} from "./FramingError.js"
export type {
  /** @since 0.1.0 */
  FramingErrorReason
} from "./FramingError.js"
export {
  /** @since 0.1.0 */
  decodeHeader,
  /** @since 0.1.0 */
  unsafeMakeDecoder
} from "./FramingDecoder.js"
export type {
  /** @since 0.1.0 */
  Decoder,
  /** @since 0.1.0 */
  DecoderOptions
} from "./FramingDecoder.js"

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
export const kindOf: (message: Message) => Kind = internal.kindOf

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
export const encodeHeader: (kind: Kind, length: number) => Uint8Array = internal.encodeHeader

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
export const headerSize: (length: number) => number = internal.headerSize

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
export const encodedSize: (message: Message) => number = internal.encodedSize

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
export const encode: (message: Message) => Uint8Array = internal.encode

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
export const encodeParts: (message: Message) => readonly [header: Uint8Array, payload: Uint8Array] =
  internal.encodeParts

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
export const encodeAll: (messages: Iterable<Message>) => Uint8Array = internal.encodeAll

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
export const encodeInto: (target: Uint8Array, offset: number, message: Message) => number = internal.encodeInto

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
export const pack = <IE = never, Done = unknown>(): Channel.Channel<
  Chunk.Chunk<Uint8Array>,
  Chunk.Chunk<Message>,
  IE,
  IE,
  Done,
  Done
> => {
  const loop: Channel.Channel<Chunk.Chunk<Uint8Array>, Chunk.Chunk<Message>, IE, IE, Done, Done> = Channel.readWith({
    onInput: (input: Chunk.Chunk<Message>) =>
      Chunk.isEmpty(input) ? loop : Channel.zipRight(Channel.write(Chunk.of(internal.encodeAll(input))), loop),
    onFailure: Channel.fail,
    onDone: Channel.succeed
  })
  return loop
}

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
export const unpack = <IE = never, Done = unknown>(
  options?: DecoderOptions
): Channel.Channel<Chunk.Chunk<Message>, Chunk.Chunk<Uint8Array>, IE | FramingError, IE, Done, Done> =>
  Channel.suspend(() => {
    const decoder = unsafeMakeDecoder(options)
    const loop: Channel.Channel<
      Chunk.Chunk<Message>,
      Chunk.Chunk<Uint8Array>,
      IE | FramingError,
      IE,
      Done,
      Done
    > = Channel.readWith({
      onInput: (input: Chunk.Chunk<Uint8Array>) => {
        let messages: Array<Message> = []
        for (const chunk of input) {
          const out = decoder.push(chunk)
          messages = messages.length === 0 ? out : messages.concat(out)
          if (decoder.failure !== undefined) break
        }
        const emitted =
          messages.length === 0 ? loop : Channel.zipRight(Channel.write(Chunk.unsafeFromArray(messages)), loop)
        return decoder.failure === undefined
          ? emitted
          : Channel.zipRight(
              messages.length === 0 ? Channel.void : Channel.write(Chunk.unsafeFromArray(messages)),
              Channel.fail(decoder.failure)
            )
      },
      onFailure: Channel.fail,
      onDone: (done) => {
        const failure = decoder.end()
        return failure === undefined ? Channel.succeed(done) : Channel.fail(failure)
      }
    })
    return loop
  })

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
export const decodeStream =
  (options?: DecoderOptions) =>
  <E, R>(self: Stream.Stream<Uint8Array, E, R>): Stream.Stream<Message, E | FramingError, R> =>
    Stream.pipeThroughChannelOrFail(self, unpack<E>(options))

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
export const encodeStream = <E, R>(self: Stream.Stream<Message, E, R>): Stream.Stream<Uint8Array, E, R> =>
  Stream.pipeThroughChannelOrFail(self, pack<E>())

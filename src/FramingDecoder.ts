/**
 * Decoding the wire format by hand: `unsafeMakeDecoder` makes an incremental
 * decoder to feed chunks as they arrive, and `decodeHeader` reads a single
 * header. The `Framing` module re-exports both, and its stream functions
 * (`unpack`, `decodeStream`) use them.
 *
 * @since 0.1.0
 */
import type { Header, Message } from "./Framing.js"
import type { FramingError } from "./FramingError.js"
import * as internal from "./internal/framingApi.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface DecoderOptions {
  /**
   * Largest payload accepted, in bytes. A header declaring more fails the
   * decoder with `MessageTooLarge` before any payload byte is buffered.
   * Default 16 MiB; at most 2^53 - 1.
   */
  readonly maxMessageSize?: number | undefined
  /**
   * Allocates the buffer a payload spread over chunks is handed out in, of
   * exactly the payload's length; it is filled completely before it is
   * handed out, so it need not be zeroed (on Node.js,
   * `Buffer.allocUnsafeSlow`). Default: `new Uint8Array(size)`.
   */
  readonly allocate?: ((size: number) => Uint8Array) | undefined
}

/**
 * An incremental decoder: feed it chunks as they arrive, get whole messages
 * back. A plain mutable object, one per byte stream, with no Effect inside.
 *
 * A payload lying whole inside one chunk is handed out as a view of that
 * chunk (no copy); a payload spread over chunks is assembled into one buffer
 * of exactly its length when it is complete. Text payloads come out as
 * strings. The decoder keeps views of the chunks it is given, so a chunk
 * must not be changed after it is pushed (reading into one reused buffer
 * calls for a copy of each read).
 *
 * Memory for an unfinished payload follows what has arrived, never what its
 * header declares: a payload in large chunks is held as views of them and
 * copied once, at its end; one arriving in many small chunks (a peer that
 * drips it a byte at a time) is copied into blocks as it arrives, so it holds
 * at most its bytes plus one block (1 KiB, growing with what has arrived to
 * 64 KiB), not the few hundred bytes each chunk would cost to keep.
 *
 * @since 0.1.0
 * @category models
 */
export interface Decoder {
  /** The limit this decoder enforces. */
  readonly maxMessageSize: number
  /**
   * Takes the next chunk of the stream and returns the messages it completes
   * (often none, sometimes many). Never throws: when the stream turns out to
   * be invalid, returns the messages completed before the fault and sets
   * `failure`; every later call returns `[]`.
   */
  push(chunk: Uint8Array): Array<Message>
  /**
   * Marks the end of the stream: a `Truncated` error if a message was
   * unfinished, else the earlier failure if any, else `undefined`.
   */
  end(): FramingError | undefined
  /** Set once the stream has proved invalid. */
  readonly failure: FramingError | undefined
  /** Bytes consumed so far. */
  readonly position: number
  /** Bytes held of the unfinished header or payload. */
  readonly buffered: number
  /** True when no message is in progress (at a message boundary). */
  readonly idle: boolean
}

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
export const unsafeMakeDecoder: (options?: DecoderOptions) => Decoder = internal.unsafeMakeDecoder

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
export const decodeHeader: (bytes: Uint8Array) => Header | FramingError | undefined = internal.decodeHeader

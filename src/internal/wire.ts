/**
 * The wire format's plain types, for the shared machinery and both lines'
 * `Framing` modules (which re-export them, with their documentation).
 *
 * @internal
 */
import type { FramingError } from "./framingError.js"

/** `Framing.Message`. @internal */
export type Message = string | Uint8Array

/** `Framing.Kind`. @internal */
export type Kind = "text" | "bytes"

export type { FramingError, FramingErrorReason, FramingErrorFields } from "./framingError.js"

/** `Framing.Header`. @internal */
export interface Header {
  readonly kind: Kind
  readonly length: number
  readonly size: number
}

/** `Framing.DecoderOptions`. @internal */
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

/** `Framing.Decoder`. @internal */
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

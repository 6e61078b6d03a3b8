/**
 * The one error of the wire format, `FramingError`: why a byte stream is not
 * valid Stockings framing, with the offset and the header bytes it failed
 * at. The `Framing` module re-exports it.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as internal from "./internal/framing.js"

/**
 * @since 0.1.0
 * @category type ids
 */
export const FramingErrorTypeId: unique symbol = Symbol.for("effect-stockings/Framing/FramingError")

/**
 * @since 0.1.0
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
 * @since 0.1.0
 * @category errors
 */
export type FramingErrorReason = "MessageTooLarge" | "HeaderTooLong" | "LengthOverflow" | "InvalidUtf8" | "Truncated"

/**
 * @since 0.1.0
 * @category errors
 */
export declare namespace FramingError {
  /**
   * What a `FramingError` carries.
   *
   * @since 0.1.0
   * @category errors
   */
  export interface Fields {
    readonly reason: FramingErrorReason
    /** Byte offset, in the whole stream, of the first byte of the offending header. */
    readonly offset: number
    /** The header bytes received, as hex. */
    readonly received?: string | undefined
    /** The payload length the header declared. */
    readonly declaredLength?: number | undefined
    /** The configured `maxMessageSize`. */
    readonly limit?: number | undefined
    /** For `Truncated`: how many bytes of the unfinished header or payload had arrived. */
    readonly buffered?: number | undefined
    readonly cause?: unknown
  }
}

/**
 * A byte stream that is not valid Stockings framing. Once a decoder has
 * failed it stays failed: there is no resynchronising on garbage.
 *
 * @since 0.1.0
 * @category errors
 */
export class FramingError extends Data.TaggedError("FramingError")<FramingError.Fields> {
  /**
   * @since 0.1.0
   */
  readonly [FramingErrorTypeId]: FramingErrorTypeId = FramingErrorTypeId

  /**
   * @since 0.1.0
   */
  override get message(): string {
    const at = `at stream offset ${this.offset}`
    const header = this.received === undefined ? "" : ` (header bytes 0x${this.received})`
    switch (this.reason) {
      case "MessageTooLarge":
        return `message of ${this.declaredLength} bytes declared ${at}${header} exceeds maxMessageSize of ${this.limit} bytes`
      case "HeaderTooLong":
        return `header ${at}${header} is unfinished after ${internal.MAX_HEADER_SIZE} bytes: expected a byte with bit 0x80 set within ${internal.MAX_HEADER_SIZE} bytes`
      case "LengthOverflow":
        return `header ${at}${header} declares a length above 2^53 - 1 (${internal.MAX_LENGTH})`
      case "InvalidUtf8":
        return `text message of ${this.declaredLength} bytes ${at} is not valid UTF-8`
      case "Truncated":
        return this.declaredLength === undefined
          ? `stream ended inside a header ${at}${header}: ${this.buffered} header bytes received`
          : `stream ended inside a message ${at}: ${this.buffered} of ${this.declaredLength} payload bytes received`
    }
  }
}

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
export const isFramingError = (u: unknown): u is FramingError =>
  typeof u === "object" && u !== null && FramingErrorTypeId in u

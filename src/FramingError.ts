/**
 * The one error of the wire format, `FramingError`: why a byte stream is not
 * valid Stockings framing, with the offset and the header bytes it failed
 * at. The `Framing` module re-exports it.
 *
 * @since 0.1.0
 */
import * as internal from "./internal/framingError.js"

/**
 * @since 0.1.0
 * @category type ids
 */
export const FramingErrorTypeId: unique symbol = internal.FramingErrorTypeId

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
export const FramingError: typeof internal.FramingError = internal.FramingError

/**
 * The type of a `FramingError`.
 *
 * @since 0.1.0
 * @category errors
 */
export type FramingError = internal.FramingError

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
export const isFramingError: (u: unknown) => u is FramingError = internal.isFramingError

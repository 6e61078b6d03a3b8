/**
 * The wire format's error, `FramingError`, declared here so that the
 * modules that make it import no public module. The `Framing` module
 * re-exports it, with its documentation.
 *
 * @internal
 */
import * as Data from "effect/Data"
import { MAX_HEADER_SIZE, MAX_LENGTH } from "./framing.js"

/** `Framing.FramingErrorTypeId`. @internal */
export const FramingErrorTypeId: unique symbol = Symbol.for("effect-stockings/Framing/FramingError")

/** `Framing.FramingErrorReason`. @internal */
export type FramingErrorReason = "MessageTooLarge" | "HeaderTooLong" | "LengthOverflow" | "InvalidUtf8" | "Truncated"

/** `Framing.FramingError.Fields`. @internal */
export interface FramingErrorFields {
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

/** `Framing.FramingError`. @internal */
export class FramingError extends Data.TaggedError("FramingError")<FramingErrorFields> {
  /**
   * @since 0.1.0
   */
  readonly [FramingErrorTypeId]: typeof FramingErrorTypeId = FramingErrorTypeId

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
        return `header ${at}${header} is unfinished after ${MAX_HEADER_SIZE} bytes: expected a byte with bit 0x80 set within ${MAX_HEADER_SIZE} bytes`
      case "LengthOverflow":
        return `header ${at}${header} declares a length above 2^53 - 1 (${MAX_LENGTH})`
      case "InvalidUtf8":
        return `text message of ${this.declaredLength} bytes ${at} is not valid UTF-8`
      case "Truncated":
        return this.declaredLength === undefined
          ? `stream ended inside a header ${at}${header}: ${this.buffered} header bytes received`
          : `stream ended inside a message ${at}: ${this.buffered} of ${this.declaredLength} payload bytes received`
    }
  }
}

/** `Framing.isFramingError`. @internal */
export const isFramingError = (u: unknown): u is FramingError =>
  typeof u === "object" && u !== null && FramingErrorTypeId in u

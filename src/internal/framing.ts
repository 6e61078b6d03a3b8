/**
 * The wire format's machinery: header arithmetic and the encoders (the
 * incremental decoder is in `decoder.ts`). Plain synchronous code with no Effect in it, so the hot paths cost
 * nothing per byte beyond the work itself.
 *
 * @internal
 */
import type * as Framing from "./wire.js"

/** @internal */
export const MAX_LENGTH = Number.MAX_SAFE_INTEGER

/** @internal */
export const MAX_HEADER_SIZE = 8

/** @internal */
export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024

/** The header byte flag that marks the header's last byte. @internal */
export const LAST = 0x80
/** The first header byte's flag for a bytes (not text) message. @internal */
export const BYTES = 0x40

const textEncoder = new TextEncoder()

/** @internal */
export const toHex = (bytes: Uint8Array): string => {
  let out = ""
  for (let i = 0; i < bytes.length; i++) out += bytes[i]!.toString(16).padStart(2, "0")
  return out
}

/**
 * Number of bytes `encodeInto` writes for a string: its UTF-8 length, with a
 * lone surrogate counted as U+FFFD (3 bytes), as `TextEncoder` writes it.
 *
 * @internal
 */
export const utf8Length = (text: string): number => {
  const n = text.length
  let bytes = n
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) continue
    if (c < 0x800) {
      bytes += 1
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) i++
      bytes += 2
    } else {
      bytes += 2
    }
  }
  return bytes
}

/** @internal */
export const checkLength = (length: number): void => {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`Stockings header length must be an integer from 0 to 2^53 - 1, got ${length}`)
  }
}

/** @internal */
export const headerSize = (length: number): number => {
  let size = 1
  let rest = Math.floor(length / 64)
  while (rest > 0) {
    size++
    rest = Math.floor(rest / 128)
  }
  return size
}

/**
 * Writes the header for a payload of `length` bytes at `offset` and returns
 * the offset just past it. Division, not shifts, keeps lengths above 2^32 exact.
 *
 * @internal
 */
export const writeHeader = (target: Uint8Array, offset: number, kind: Framing.Kind, length: number): number => {
  let rest = Math.floor(length / 64)
  let byte = (kind === "bytes" ? BYTES : 0) | (length % 64)
  while (rest > 0) {
    target[offset++] = byte
    byte = rest % 128
    rest = Math.floor(rest / 128)
  }
  target[offset++] = byte | LAST
  return offset
}

/** @internal */
export const encodeHeader = (kind: Framing.Kind, length: number): Uint8Array => {
  checkLength(length)
  const out = new Uint8Array(headerSize(length))
  writeHeader(out, 0, kind, length)
  return out
}

/** @internal */
export const kindOf = (message: Framing.Message): Framing.Kind => (typeof message === "string" ? "text" : "bytes")

/** The payload's length in bytes: UTF-8 bytes for text. @internal */
export const payloadLength = (message: Framing.Message): number =>
  typeof message === "string" ? utf8Length(message) : message.length

/** @internal */
export const encodedSize = (message: Framing.Message): number => {
  const length = payloadLength(message)
  return headerSize(length) + length
}

/**
 * Writes one whole frame at `offset`, given the payload's byte length (as
 * `payloadLength` gives it, or a native equivalent); `target` must have room
 * for the header and payload. Returns the offset past the frame.
 *
 * @internal
 */
export const encodeFrameInto = (
  target: Uint8Array,
  offset: number,
  message: Framing.Message,
  length: number
): number => {
  if (typeof message === "string") {
    offset = writeHeader(target, offset, "text", length)
    if (length === message.length && length < 64) {
      // Short ASCII: a plain loop beats encodeInto's call overhead.
      for (let i = 0; i < length; i++) target[offset + i] = message.charCodeAt(i)
    } else {
      textEncoder.encodeInto(message, target.subarray(offset, offset + length))
    }
    return offset + length
  }
  offset = writeHeader(target, offset, "bytes", length)
  target.set(message, offset)
  return offset + length
}

/**
 * Writes one whole frame at `offset`; `target` must have room for
 * `encodedSize(message)` bytes from there. Returns the offset past the frame.
 *
 * @internal
 */
export const encodeInto = (target: Uint8Array, offset: number, message: Framing.Message): number =>
  encodeFrameInto(target, offset, message, payloadLength(message))

/** @internal */
export const encode = (message: Framing.Message): Uint8Array => {
  const out = new Uint8Array(encodedSize(message))
  encodeInto(out, 0, message)
  return out
}

/** @internal */
export const encodeAll = (messages: Iterable<Framing.Message>): Uint8Array => {
  const list = Array.isArray(messages) ? (messages as ReadonlyArray<Framing.Message>) : Array.from(messages)
  let total = 0
  for (let i = 0; i < list.length; i++) total += encodedSize(list[i]!)
  const out = new Uint8Array(total)
  let offset = 0
  for (let i = 0; i < list.length; i++) offset = encodeInto(out, offset, list[i]!)
  return out
}

/** @internal */
export const encodeParts = (message: Framing.Message): readonly [header: Uint8Array, payload: Uint8Array] => {
  if (typeof message === "string") {
    const payload = textEncoder.encode(message)
    return [encodeHeader("text", payload.length), payload]
  }
  return [encodeHeader("bytes", message.length), message]
}

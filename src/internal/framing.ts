/**
 * The wire format's machinery: header arithmetic, encoders and the incremental
 * decoder. Plain synchronous code with no Effect in it, so the hot paths cost
 * nothing per byte beyond the work itself.
 *
 * @internal
 */
import type * as Framing from "../Framing.js"

/** @internal */
export const MAX_LENGTH = Number.MAX_SAFE_INTEGER

/** @internal */
export const MAX_HEADER_SIZE = 8

/** @internal */
export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024

const LAST = 0x80
const BYTES = 0x40

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

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

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

/** @internal */
export type MakeError = (fields: Framing.FramingError.Fields) => Framing.FramingError

const enum State {
  Header,
  Payload,
  Failed
}

/**
 * The incremental decoder. One instance per byte stream; `push` hands out the
 * messages each chunk completes. Payloads lying whole inside a chunk are
 * handed out as views of it; a payload that spans chunks is kept as a list
 * of views of its chunks and copied once, into a buffer of exactly its
 * length, when its last byte arrives. Allocating at the end rather than at
 * the start keeps the buffer short-lived: a large payload assembled over many
 * reads is not held (and promoted out of the young generation) while it
 * fills, which matters to the garbage collector at hundreds of MB/s.
 *
 * @internal
 */
export class DecoderImpl implements Framing.Decoder {
  readonly maxMessageSize: number
  private readonly allocate: (size: number) => Uint8Array
  failure: Framing.FramingError | undefined = undefined
  position = 0

  private state = State.Header
  // header in progress
  private headerStart = 0
  private headerCount = 0
  private readonly headerBytes = new Uint8Array(MAX_HEADER_SIZE)
  private length = 0
  private scale = 1
  private text = false
  // payload in progress: its length, and views of the parts received so far
  private need = 0
  private parts: Array<Uint8Array> = []
  private filled = 0

  constructor(
    options: Framing.DecoderOptions | undefined,
    private readonly makeError: MakeError
  ) {
    const max = options?.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE
    checkLength(max)
    this.maxMessageSize = max
    this.allocate = options?.allocate ?? ((size) => new Uint8Array(size))
  }

  get buffered(): number {
    return this.state === State.Payload ? this.filled : this.headerCount
  }

  get idle(): boolean {
    return this.state === State.Header && this.headerCount === 0
  }

  push(chunk: Uint8Array): Array<Framing.Message> {
    const out: Array<Framing.Message> = []
    if (this.state === State.Failed) return out
    const end = chunk.length
    let pos = 0
    while (pos < end) {
      if (this.state === State.Payload) {
        const take = Math.min(this.need - this.filled, end - pos)
        this.parts.push(take === end && pos === 0 ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset + pos, take))
        this.filled += take
        pos += take
        if (this.filled === this.need) {
          const payload = this.assemble()
          this.state = State.Header
          if (!this.emit(out, payload)) return out
        }
        continue
      }
      // Header: one byte at a time, exact arithmetic up to 2^53 - 1.
      const byte = chunk[pos++]!
      if (this.headerCount === 0) {
        this.headerStart = this.position + pos - 1
        this.text = (byte & BYTES) === 0
        this.length = byte & 0x3f
        this.scale = 64
      } else {
        this.length += (byte & 0x7f) * this.scale
        this.scale *= 128
      }
      this.headerBytes[this.headerCount++] = byte
      if ((byte & LAST) === 0) {
        if (this.headerCount === MAX_HEADER_SIZE) {
          this.fail({
            reason: "HeaderTooLong",
            offset: this.headerStart,
            received: this.receivedHeader(MAX_HEADER_SIZE)
          })
          break
        }
        continue
      }
      const length = this.length
      const size = this.headerCount
      this.headerCount = 0
      if (length > MAX_LENGTH) {
        this.fail({ reason: "LengthOverflow", offset: this.headerStart, received: this.receivedHeader(size) })
        break
      }
      if (length > this.maxMessageSize) {
        this.fail({
          reason: "MessageTooLarge",
          offset: this.headerStart,
          declaredLength: length,
          limit: this.maxMessageSize,
          received: this.receivedHeader(size)
        })
        break
      }
      if (end - pos >= length) {
        // A plain view: cheaper than `subarray`, which on a Node Buffer builds another Buffer.
        const view = new Uint8Array(chunk.buffer, chunk.byteOffset + pos, length)
        pos += length
        if (!this.emit(out, view)) break
      } else {
        this.need = length
        this.filled = 0
        this.state = State.Payload
      }
    }
    this.position += pos
    return out
  }

  end(): Framing.FramingError | undefined {
    if (this.state === State.Failed || this.idle) return this.failure
    const declaredLength = this.state === State.Payload ? this.need : undefined
    this.fail({
      reason: "Truncated",
      offset: this.headerStart,
      received: this.state === State.Payload ? undefined : this.receivedHeader(this.headerCount),
      declaredLength,
      buffered: this.buffered
    })
    return this.failure
  }

  /** Copies the parts of the finished payload into one buffer of its length. */
  private assemble(): Uint8Array {
    const parts = this.parts
    const payload = this.allocate(this.need)
    let offset = 0
    for (let i = 0; i < parts.length; i++) {
      payload.set(parts[i]!, offset)
      offset += parts[i]!.length
    }
    this.parts = []
    this.filled = 0
    return payload
  }

  private receivedHeader(size: number): string {
    return toHex(this.headerBytes.subarray(0, size))
  }

  private emit(out: Array<Framing.Message>, payload: Uint8Array): boolean {
    if (!this.text) {
      out.push(payload)
      return true
    }
    try {
      out.push(payload.length === 0 ? "" : textDecoder.decode(payload))
      return true
    } catch (cause) {
      this.fail({ reason: "InvalidUtf8", offset: this.headerStart, declaredLength: payload.length, cause })
      return false
    }
  }

  private fail(fields: Framing.FramingError.Fields): void {
    this.state = State.Failed
    this.parts = []
    this.failure = this.makeError(fields)
  }
}

/**
 * Reads one header from the start of `bytes`. `undefined` when `bytes` ends
 * before the header does.
 *
 * @internal
 */
export const decodeHeader = (
  bytes: Uint8Array,
  makeError: MakeError
): Framing.Header | Framing.FramingError | undefined => {
  let length = 0
  let scale = 64
  for (let i = 0; i < bytes.length && i < MAX_HEADER_SIZE; i++) {
    const byte = bytes[i]!
    if (i === 0) {
      length = byte & 0x3f
    } else {
      length += (byte & 0x7f) * scale
      scale *= 128
    }
    if ((byte & LAST) !== 0) {
      const received = toHex(bytes.subarray(0, i + 1))
      if (length > MAX_LENGTH) return makeError({ reason: "LengthOverflow", offset: 0, received })
      return { kind: (bytes[0]! & BYTES) === 0 ? "text" : "bytes", length, size: i + 1 }
    }
  }
  if (bytes.length >= MAX_HEADER_SIZE) {
    return makeError({ reason: "HeaderTooLong", offset: 0, received: toHex(bytes.subarray(0, MAX_HEADER_SIZE)) })
  }
  return undefined
}

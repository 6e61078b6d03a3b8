/**
 * The incremental decoder: turns chunks of bytes into whole messages,
 * holding at most one partial message (bounded whatever the peer sends),
 * and reads single headers. The header arithmetic and the encoders are in
 * `framing.ts`.
 *
 * @internal
 */
import type * as Framing from "./wire.js"
import { BYTES, checkLength, DEFAULT_MAX_MESSAGE_SIZE, LAST, MAX_HEADER_SIZE, MAX_LENGTH, toHex } from "./framing.js"

const textDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

/** @internal */
export type MakeError = (fields: Framing.FramingErrorFields) => Framing.FramingError

const enum State {
  Header,
  Payload,
  /** A header was read, and `admit` refused its message: nothing more is read until `admitted`. */
  Blocked,
  Failed
}

/**
 * Views of a payload's parts are kept while there are at most this many, or
 * while they average at least `MIN_VIEW_AVERAGE` bytes.
 */
const MAX_SMALL_VIEWS = 16
/**
 * Each view held costs a few hundred bytes beyond its payload bytes (the view
 * and the chunk it shows); at 4 KiB a part that is under 10%.
 */
const MIN_VIEW_AVERAGE = 4096
/** Blocks a drip-fed payload is copied into: as large as what has arrived, within these bounds. */
const MIN_BLOCK = 1024
const MAX_BLOCK = 64 * 1024

/**
 * The incremental decoder. One instance per byte stream; `push` hands out the
 * messages each chunk completes. Payloads lying whole inside a chunk are
 * handed out as views of it. A payload that spans chunks is kept as a list
 * of views of its chunks and copied once, into a buffer of exactly its
 * length, when its last byte arrives. Allocating at the end rather than at
 * the start keeps the buffer short-lived: a large payload assembled over many
 * reads is not held (and promoted out of the young generation) while it
 * fills, which matters to the garbage collector at hundreds of MB/s.
 *
 * Views are cheap only when the parts are large. A payload arriving in many
 * small parts (a peer writing one byte at a time) would cost a few hundred
 * bytes per part, so once there are more than `MAX_SMALL_VIEWS` parts
 * averaging under `MIN_VIEW_AVERAGE` bytes, the parts are copied into blocks
 * instead, each as large as what has arrived so far (from `MIN_BLOCK` to
 * `MAX_BLOCK`, never past the declared length), and every later part is
 * copied on arrival. A partial payload then holds at most its bytes plus
 * one block (at most `MIN_BLOCK` or as many bytes as had arrived, up to
 * `MAX_BLOCK`), whatever the peer does: the declared length is never
 * allocated before its bytes have arrived.
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
  // (or, once `copying`, the blocks they were copied into, the last one
  // filled up to `blockUsed`)
  private need = 0
  private parts: Array<Uint8Array> = []
  private filled = 0
  private copying = false
  private blockUsed = 0

  /**
   * Asked at each header with the message's declared length, before any of
   * its payload is read: `false` stops `push` right after the header (see
   * `blocked`, `consumed`), until `admitted` is called. For a reader that
   * must make room for a message before taking it (a server's budget).
   */
  admit: ((length: number) => boolean) | undefined = undefined
  /** How many bytes of the last chunk `push` read (all of them unless it stopped at a refused header). */
  consumed = 0

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
    return this.state === State.Payload ? this.filled : this.state === State.Blocked ? 0 : this.headerCount
  }

  /** True while a refused message waits for `admitted`. */
  get blocked(): boolean {
    return this.state === State.Blocked
  }

  /** The declared length of the message being received (or waiting to be), 0 between messages. */
  get pendingLength(): number {
    return this.state === State.Payload || this.state === State.Blocked ? this.need : 0
  }

  /** The refused message may now be read: the next `push` starts on its payload. */
  admitted(): void {
    if (this.state !== State.Blocked) return
    this.filled = 0
    this.state = State.Payload
  }

  get idle(): boolean {
    return this.state === State.Header && this.headerCount === 0
  }

  push(chunk: Uint8Array): Array<Framing.Message> {
    const out: Array<Framing.Message> = []
    this.consumed = 0
    if (this.state === State.Failed || this.state === State.Blocked) return out
    const end = chunk.length
    let pos = 0
    while (pos < end) {
      if (this.state === State.Payload) {
        const take = Math.min(this.need - this.filled, end - pos)
        const parts = this.parts
        if (
          !this.copying &&
          (parts.length < MAX_SMALL_VIEWS || this.filled + take >= (parts.length + 1) * MIN_VIEW_AVERAGE)
        ) {
          parts.push(take === end && pos === 0 ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset + pos, take))
          this.filled += take
        } else {
          if (!this.copying) this.startCopying()
          this.copyIn(chunk, pos, take)
        }
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
      if (length > 0 && this.admit !== undefined && !this.admit(length)) {
        this.need = length
        this.state = State.Blocked
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
    this.consumed = pos
    return out
  }

  end(): Framing.FramingError | undefined {
    if (this.state === State.Failed || this.idle) return this.failure
    const declaredLength = this.state === State.Payload || this.state === State.Blocked ? this.need : undefined
    this.fail({
      reason: "Truncated",
      offset: this.headerStart,
      received:
        this.state === State.Payload || this.state === State.Blocked
          ? undefined
          : this.receivedHeader(this.headerCount),
      declaredLength,
      buffered: this.buffered
    })
    return this.failure
  }

  /** Copies the parts of the finished payload into one buffer of its length. */
  private assemble(): Uint8Array {
    const parts = this.parts
    this.parts = []
    this.filled = 0
    if (this.copying) {
      this.copying = false
      // A payload that fit in its first block: that block was allocated at its exact length.
      if (parts.length === 1 && parts[0]!.length === this.need) return parts[0]!
    }
    const payload = this.allocate(this.need)
    let offset = 0
    for (let i = 0; i < parts.length; i++) {
      payload.set(parts[i]!, offset)
      offset += parts[i]!.length
    }
    return payload
  }

  /** Turns the views held so far into blocks; from now on parts are copied as they arrive. */
  private startCopying(): void {
    const views = this.parts
    this.parts = []
    this.filled = 0
    this.blockUsed = 0
    this.copying = true
    for (let i = 0; i < views.length; i++) this.copyIn(views[i]!, 0, views[i]!.length)
  }

  /** Copies `take` bytes of `chunk` from `pos` into the blocks, adding blocks as needed. */
  private copyIn(chunk: Uint8Array, pos: number, take: number): void {
    const parts = this.parts
    while (take > 0) {
      let block = parts.length === 0 ? undefined : parts[parts.length - 1]!
      if (block === undefined || this.blockUsed === block.length) {
        // Blocks are sized to end exactly where the payload does.
        const size = Math.min(this.need - this.filled, Math.max(MIN_BLOCK, Math.min(this.filled, MAX_BLOCK)))
        // A block holding the whole payload is the payload's own buffer: fill it, hand it out.
        block = size === this.need ? this.allocate(size) : new Uint8Array(size)
        parts.push(block)
        this.blockUsed = 0
      }
      const n = Math.min(take, block.length - this.blockUsed)
      const at = this.blockUsed
      if (n <= 16) {
        // A few bytes (the drip case): a loop beats making a view to copy from.
        for (let i = 0; i < n; i++) block[at + i] = chunk[pos + i]!
      } else {
        block.set(new Uint8Array(chunk.buffer, chunk.byteOffset + pos, n), at)
      }
      this.blockUsed += n
      this.filled += n
      pos += n
      take -= n
    }
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

  private fail(fields: Framing.FramingErrorFields): void {
    this.state = State.Failed
    this.parts = []
    this.copying = false
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

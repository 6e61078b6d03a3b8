/**
 * Hands a batch of messages to a socket as few writes as possible: small
 * frames are encoded together into one buffer; a large bytes payload is
 * written as it is, after its header, so it is never copied. The writes are
 * corked so Node sends them with one `writev`.
 *
 * @internal
 */
import type { Duplex } from "node:stream"
import type * as Framing from "./wire.js"
import * as framing from "./framing.js"

/** Bytes payloads at least this large are written without copying. */
const LARGE = 64 * 1024
/** A batch buffer is cut at about this size. */
const BATCH = 256 * 1024

const textLength = (text: string): number => (text.length < 32 ? framing.utf8Length(text) : Buffer.byteLength(text))

const encodeRun = (
  messages: ReadonlyArray<Framing.Message>,
  sizes: Array<number>,
  from: number,
  to: number,
  total: number
) => {
  const out = Buffer.allocUnsafe(total)
  let offset = 0
  for (let i = from; i < to; i++) offset = framing.encodeFrameInto(out, offset, messages[i]!, sizes[i]!)
  return out
}

/**
 * Writes the frames and returns how many bytes they took.
 *
 * @internal
 */
export const writeFrames = (socket: Duplex, messages: ReadonlyArray<Framing.Message>): number => {
  const count = messages.length
  if (count === 1) {
    const message = messages[0]!
    if (typeof message !== "string" && message.length >= LARGE) {
      const header = framing.encodeHeader("bytes", message.length)
      socket.cork()
      socket.write(header)
      socket.write(message)
      socket.uncork()
      return header.length + message.length
    }
    const length = typeof message === "string" ? textLength(message) : message.length
    const frame = encodeRun(messages, [length], 0, 1, framing.headerSize(length) + length)
    socket.write(frame)
    return frame.length
  }
  socket.cork()
  const sizes = new Array<number>(count)
  let total = 0
  let runStart = 0
  let runBytes = 0
  for (let i = 0; i < count; i++) {
    const message = messages[i]!
    if (typeof message !== "string" && message.length >= LARGE) {
      if (runBytes > 0) socket.write(encodeRun(messages, sizes, runStart, i, runBytes))
      const header = framing.encodeHeader("bytes", message.length)
      socket.write(header)
      socket.write(message)
      total += runBytes + header.length + message.length
      runStart = i + 1
      runBytes = 0
      continue
    }
    const length = typeof message === "string" ? textLength(message) : message.length
    sizes[i] = length
    runBytes += framing.headerSize(length) + length
    if (runBytes >= BATCH) {
      socket.write(encodeRun(messages, sizes, runStart, i + 1, runBytes))
      total += runBytes
      runStart = i + 1
      runBytes = 0
    }
  }
  if (runBytes > 0) socket.write(encodeRun(messages, sizes, runStart, count, runBytes))
  socket.uncork()
  return total + runBytes
}

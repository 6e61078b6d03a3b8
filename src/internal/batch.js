import * as framing from "./framing.js"
/** Bytes payloads at least this large are written without copying. */
const LARGE = 64 * 1024
/** A batch buffer is cut at about this size. */
const BATCH = 256 * 1024
const textLength = (text) => (text.length < 32 ? framing.utf8Length(text) : Buffer.byteLength(text))
const encodeRun = (messages, sizes, from, to, total) => {
  const out = Buffer.allocUnsafe(total)
  let offset = 0
  for (let i = from; i < to; i++) offset = framing.encodeFrameInto(out, offset, messages[i], sizes[i])
  return out
}
/**
 * Writes the frames and returns how many bytes they took.
 *
 * @internal
 */
export const writeFrames = (socket, messages) => {
  const count = messages.length
  if (count === 1) {
    const message = messages[0]
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
  const sizes = new Array(count)
  let total = 0
  let runStart = 0
  let runBytes = 0
  for (let i = 0; i < count; i++) {
    const message = messages[i]
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

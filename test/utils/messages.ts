/**
 * Messages that say who wrote them and their number, for the send-path
 * properties (`SendPath`, `ServerPath`): checking order and exactly-once
 * needs only `identify` on what arrives.
 */
import { Effect } from "effect"
import type { Framing } from "../../src/index.js"
import type { Stocking } from "../../src/node.js"

/** A message that says who wrote it and its number: text `w:n:` padded, or bytes [w, n(4), fill...]. */
export const messageOf = (writer: number, seq: number, size: number, asText: boolean): Framing.Message => {
  if (asText) return `${writer}:${seq}:`.padEnd(size, "x")
  const bytes = new Uint8Array(Math.max(size, 5))
  bytes[0] = writer
  new DataView(bytes.buffer).setUint32(1, seq)
  if (bytes.length > 5) bytes.fill((writer * 31 + seq) & 255, 5)
  return bytes
}

/** Who wrote `m` and its number; throws if a bytes message's fill is wrong (assembled from the wrong parts). */
export const identify = (m: Framing.Message): { writer: number; seq: number; size: number } => {
  if (typeof m === "string") {
    const [w, n] = m.split(":")
    return { writer: Number(w), seq: Number(n), size: m.length }
  }
  const view = new DataView(m.buffer, m.byteOffset, m.byteLength)
  const writer = m[0]!
  const seq = view.getUint32(1)
  // The fill is checked at both ends and in the middle.
  if (m.length > 5) {
    const fill = (writer * 31 + seq) & 255
    if (m[5] !== fill || m[m.length - 1] !== fill || m[(m.length + 5) >> 1] !== fill) {
      throw new Error(`bytes message ${writer}:${seq} is corrupted`)
    }
  }
  return { writer, seq, size: m.length }
}

/** One write of a writer's plan: its message, how many messages from here go in one `writeAll`, a pause after. */
export interface PlannedWrite {
  readonly message: Framing.Message
  readonly batch: number
  readonly pauseAfter: number
}

/** Writes `plan` in order with `write`, or `writeAll` where a batch starts, pausing where it says. */
export const writePlan = (writer: Stocking.Stocking, plan: ReadonlyArray<PlannedWrite>) =>
  Effect.gen(function* () {
    let i = 0
    while (i < plan.length) {
      const op = plan[i]!
      if (op.batch > 1) {
        const batch = plan.slice(i, i + op.batch)
        yield* writer.writeAll(batch.map((p) => p.message))
        i += batch.length
      } else {
        yield* writer.write(op.message)
        i++
      }
      if (op.pauseAfter > 0) yield* Effect.sleep(op.pauseAfter)
    }
  })

/**
 * In-memory connections for the same-run tools of bench/ab.
 */
import { Duplex } from "node:stream"

/**
 * Two connected in-memory duplex streams, for `--memory`: what one writes
 * the other reads, on the same turn (no kernel, no I/O polling), so a run
 * takes the same steps whatever the machine's load: instruction counts of
 * the library's own work repeat exactly, which over TCP they do not (how
 * many messages each read brings depends on timing, and with it the work
 * per message).
 */
export const memoryPair = (): readonly [Duplex, Duplex] => {
  const ends: Array<Duplex> = []
  const make = (other: number) =>
    new Duplex({
      read() {},
      write(chunk: Uint8Array, _encoding, callback) {
        ends[other]!.push(chunk)
        callback()
      },
      writev(chunks, callback) {
        for (const { chunk } of chunks) ends[other]!.push(chunk as Uint8Array)
        callback()
      },
      final(callback) {
        ends[other]!.push(null)
        callback()
      }
    })
  ends.push(make(1), make(0))
  return [ends[0]!, ends[1]!]
}

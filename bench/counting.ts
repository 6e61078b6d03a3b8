/**
 * What every one-way throughput side shares (bench/throughput.ts and the
 * peers of bench/peers.ts): the lead-in, the payload, and the counter that
 * times the messages a reader receives.
 */
import { check, gcCounter, now } from "./common.js"

export interface Measurement {
  readonly seconds: number
  readonly messages: number
  readonly bytes: number
  /** Major collections during the timed part. */
  readonly majorGcs: number
}

/**
 * Messages sent ahead of the timed ones on the same connection, to warm it
 * up (TCP buffer growth, first allocations). The clock starts once the
 * reader has them all, as the writer starts on the timed ones.
 */
export const lead = (n: number): number => Math.max(1, Math.floor(n / 10))

export const makePayload = (size: number): Uint8Array => {
  const payload = new Uint8Array(size)
  for (let i = 0; i < size; i++) payload[i] = (i * 31 + 7) & 0xff
  return payload
}

export const checkLast = (got: Uint8Array, payload: Uint8Array): boolean =>
  got.length === payload.length &&
  (got.length === 0 || (got[0] === payload[0] && got[got.length - 1] === payload[payload.length - 1]))

/** Counts what arrives; `onMessage` returns whether the lead-in has just completed. */
export const counter = (size: number, n: number) => {
  const total = lead(n) + n
  let count = 0
  let bytes = 0
  let t0 = 0
  let t1 = 0
  let last: Uint8Array | undefined
  let majors = 0
  const gcs = gcCounter()
  return {
    total,
    start: () => {
      t0 = now()
      majors = gcs.majors()
    },
    onMessage: (message: Uint8Array | string): boolean => {
      bytes += message.length
      if (++count === total) {
        t1 = now()
        majors = gcs.majors() - majors
        last = message as Uint8Array
      }
      return count === lead(n)
    },
    finish: (label: string, payload: Uint8Array): Measurement => {
      gcs.stop()
      check(last !== undefined && checkLast(last, payload), `${label} ${size} B: last message intact`)
      return { seconds: (t1 - t0) / 1000, messages: count - lead(n), bytes: bytes - lead(n) * size, majorGcs: majors }
    }
  }
}

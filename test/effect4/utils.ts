/**
 * Helpers shared by the Effect 4 line's tests (`test/effect4/`). Plain
 * `vitest`: `@effect/vitest` in this repository is the Effect 3 one. Each
 * group below is kept apart so that branches adding helpers do not collide.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as fc from "fast-check"
import { expect } from "vitest"
import type { Message } from "../../src/internal/wire.js"

// ---------------------------------------------------------------------------
// Running effects
// ---------------------------------------------------------------------------

/**
 * Runs `effect`, which must fail with a typed error, and returns that error.
 * Fails the test with what happened instead if it succeeds or dies.
 */
export const failureOf = async <A, E>(effect: Effect.Effect<A, E>): Promise<E> => {
  const exit = await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) throw new Error(`expected a failure, got a success: ${String(exit.value)}`)
  const error = exit.cause.reasons.find((reason) => reason._tag === "Fail")
  if (error === undefined || error._tag !== "Fail")
    throw new Error(`expected a typed failure, got ${String(exit.cause)}`)
  return error.error
}

// ---------------------------------------------------------------------------
// Messages and bytes (Framing, Codec)
// ---------------------------------------------------------------------------

/** Bytes as lowercase hex. */
export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex")

/** The bytes of `parts`, one after the other, in one buffer. */
export const concatBytes = (parts: ReadonlyArray<Uint8Array>): Uint8Array => Uint8Array.from(Buffer.concat(parts))

/** Splits `bytes` at the given cut points (taken modulo its length + 1, so empty pieces happen). */
export const splitAt = (bytes: Uint8Array, cuts: ReadonlyArray<number>): Array<Uint8Array> => {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const out: Array<Uint8Array> = []
  let previous = 0
  for (const point of points) {
    out.push(bytes.subarray(previous, point))
    previous = point
  }
  out.push(bytes.subarray(previous))
  return out
}

/** Groups `items` into consecutive non-empty batches, cutting where `cuts` say (modulo the length). */
export const batchesOf = <A>(items: ReadonlyArray<A>, cuts: ReadonlyArray<number>): Array<Array<A>> => {
  if (items.length === 0) return []
  const points = [...new Set(cuts.map((c) => 1 + (c % items.length)))]
    .filter((p) => p < items.length)
    .sort((a, b) => a - b)
  const out: Array<Array<A>> = []
  let previous = 0
  for (const point of [...points, items.length]) {
    out.push(items.slice(previous, point))
    previous = point
  }
  return out
}

/** Checks messages one by one with their kinds: a string must stay a string, bytes stay bytes. */
export const expectMessages = (actual: ReadonlyArray<Message>, expected: ReadonlyArray<Message>): void => {
  expect(actual.length, "message count").toBe(expected.length)
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!
    const e = expected[i]!
    if (typeof e === "string") {
      expect(typeof a, `message ${i} kind`).toBe("string")
      expect(a, `message ${i}`).toBe(e)
    } else {
      expect(a, `message ${i} kind`).toBeInstanceOf(Uint8Array)
      expect(hex(a as Uint8Array), `message ${i}`).toBe(hex(e))
    }
  }
}

/** Any message: text (ASCII or not, empty or not) or bytes. */
export const messageArb: fc.Arbitrary<Message> = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 300 }).filter((s) => s.isWellFormed()),
  fc.uint8Array({ maxLength: 300 }),
  fc.constant(""),
  fc.constant(new Uint8Array(0))
)

/**
 * Helpers shared by the Effect 4 line's tests (`test/effect4/`). Plain
 * `vitest`: `@effect/vitest` in this repository is the Effect 3 one. Each
 * group below is kept apart so that branches adding helpers do not collide.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as fc from "fast-check"
import * as net from "node:net"
import * as tls from "node:tls"
import { expect } from "vitest"
import { DecoderImpl } from "../../src/internal/decoder.js"
import { encodeAll } from "../../src/internal/framing.js"
import { FramingError } from "../../src/internal/framingError.js"
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

// ---------------------------------------------------------------------------
// A raw client speaking the wire format (Server tests)
// ---------------------------------------------------------------------------

/**
 * A plain `node:net` socket connected to a server, speaking the wire format
 * itself (`framing.ts` to encode, the decoder to decode): a peer that owes
 * nothing to the Stocking under test.
 */
export interface WireClient {
  readonly socket: net.Socket
  /** Every message received so far, in order. */
  readonly received: Array<Message>
  /** Writes these messages, framed, in one socket write. */
  readonly send: (...messages: ReadonlyArray<Message>) => void
  /** Resolves with the next message not yet returned by `next` (in order), rejecting if the stream ends first. */
  readonly next: () => Promise<Message>
  /** Resolves with `count` messages (from where `next` is), rejecting if the stream ends first. */
  readonly take: (count: number) => Promise<Array<Message>>
  /** Ends this side's stream (FIN) after what was sent. */
  readonly end: () => void
  /** Resolves once the server's side ended its stream (or the socket closed): `true` for a clean end, `false` for an error. */
  readonly ended: Promise<boolean>
  /** Resolves once the socket is closed. */
  readonly closed: Promise<void>
  readonly destroy: () => void
}

/**
 * Connects a `WireClient` to `target`: a TCP port on 127.0.0.1 (over TLS
 * with `tls`), or a Unix socket path.
 */
export const wireClient = (
  target: { readonly port: number; readonly tls?: tls.ConnectionOptions | undefined } | { readonly path: string }
): Promise<WireClient> =>
  new Promise((resolve, reject) => {
    const socket: net.Socket =
      "path" in target
        ? net.createConnection({ path: target.path, allowHalfOpen: true })
        : target.tls !== undefined
          ? tls.connect({ ...target.tls, port: target.port, host: "127.0.0.1" })
          : net.createConnection({ port: target.port, host: "127.0.0.1", allowHalfOpen: true })
    const decoder = new DecoderImpl({ maxMessageSize: 64 * 1024 * 1024 }, (fields) => new FramingError(fields))
    const received: Array<Message> = []
    let read = 0
    let waiters: Array<() => void> = []
    let done: "open" | "clean" | "error" = "open"
    const wake = () => {
      const now = waiters
      waiters = []
      for (const waiter of now) waiter()
    }
    socket.on("data", (chunk: Buffer) => {
      for (const message of decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length))) {
        received.push(message)
      }
      wake()
    })
    let resolveEnded: (clean: boolean) => void = () => {}
    const ended = new Promise<boolean>((r) => (resolveEnded = r))
    const finish = (how: "clean" | "error") => {
      if (done !== "open") return
      done = how
      resolveEnded(how === "clean")
      wake()
    }
    socket.on("end", () => finish("clean"))
    socket.on("error", () => finish("error"))
    const closed = new Promise<void>((r) => socket.once("close", () => r()))
    socket.once("close", () => finish("error"))
    const take = (count: number): Promise<Array<Message>> =>
      new Promise((resolveTake, rejectTake) => {
        const check = () => {
          if (received.length - read >= count) {
            const out = received.slice(read, read + count)
            read += count
            resolveTake(out)
          } else if (done !== "open") {
            rejectTake(
              new Error(`the stream ended (${done}) after ${received.length} messages; wanted ${read + count}`)
            )
          } else {
            waiters.push(check)
          }
        }
        check()
      })
    socket.once("path" in target || target.tls === undefined ? "connect" : "secureConnect", () => {
      socket.off("error", reject)
      resolve({
        socket,
        received,
        send: (...messages) => void socket.write(encodeAll(messages)),
        next: () => take(1).then((messages) => messages[0]!),
        take,
        end: () => void socket.end(),
        ended,
        closed,
        destroy: () => void socket.destroy()
      })
    })
    socket.once("error", reject)
  })

/** A message that says who sent it and which it is, `size` bytes or characters long (at least its label's length). */
export const labelled = (sender: number, seq: number, size: number, asText: boolean): Message => {
  const label = `${sender}:${seq};`
  const text = label + "x".repeat(Math.max(0, size - label.length))
  return asText ? text : new TextEncoder().encode(text)
}

/** The sender and sequence number of a `labelled` message. */
export const labelOf = (message: Message): { readonly sender: number; readonly seq: number; readonly size: number } => {
  const text = typeof message === "string" ? message : new TextDecoder().decode(message.subarray(0, 32))
  const match = /^(\d+):(\d+);/.exec(text)
  if (match === null) throw new Error(`not a labelled message: ${text.slice(0, 32)}`)
  return { sender: Number(match[1]), seq: Number(match[2]), size: message.length }
}

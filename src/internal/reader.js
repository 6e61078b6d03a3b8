/**
 * The read side of a Stocking, as users see it: `read`, `take`, the batch
 * reads, the consumers and `messages`, over the inbound queue. Each Effect is
 * built on first use and kept; a wait is one `Effect.async` that resumes
 * into the same step (see `MessageQueue.makeWait`).
 *
 * @internal
 */
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import { constVoid } from "effect/Function"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { NotReady } from "./stockingError.js"
import { sizeOf } from "./outbound.js"
/**
 * Why a read or a write cannot go ahead before the handshake has completed:
 * `NotReady`, or the `Closed` error once the connection has closed (say why,
 * not just "not ready").
 */
export const notReady = (conn, operation) => conn.closedWith ?? new NotReady({ stockingId: conn.id, operation })
/** The end of the stream, for consumers that end quietly on a clean close. */
const END = Symbol("effect-stockings/END")
/** Runs `f` on each value `next` gives, until it gives `END`: one step per value, no Effect of ours in between. */
const untilEnd = (next, f) =>
  Effect.suspend(() => {
    let done = false
    const handle = (value) => {
      if (value !== END) return f(value)
      done = true
      return Effect.void
    }
    return Effect.whileLoop({
      while: () => !done,
      body: () => Effect.flatMap(next, handle),
      step: constVoid
    })
  })
/** @internal */
export const pollInbox = (conn) => {
  const inbox = conn.inbound.queue
  const message = inbox.poll()
  if (message !== undefined) return Effect.succeed(Option.some(message))
  const ended = inbox.endedWith
  return ended === undefined ? Effect.succeed(Option.none()) : Effect.fail(ended)
}
/** @internal */
export class Reader {
  conn
  decode
  // A decode failure found after some good messages of a batch: those are
  // emitted first, and the failure ends the stream on the next pull.
  deferredFailure = undefined
  cachedRead = undefined
  cachedTake = undefined
  cachedTakeOrEnd = undefined
  cachedTakeAll = undefined
  cachedTakeBatch = undefined
  cachedPull = undefined
  constructor(conn, decode) {
    this.conn = conn
    this.decode = decode
  }
  get read() {
    if (this.cachedRead !== undefined) return this.cachedRead
    const conn = this.conn
    const decode = this.decode
    const readMessage = Effect.suspend(() => (conn.opened ? pollInbox(conn) : Effect.fail(notReady(conn, "read"))))
    return (this.cachedRead =
      decode === undefined
        ? readMessage
        : Effect.flatMap(readMessage, (message) =>
            Option.isNone(message) ? Effect.succeedNone : Effect.asSome(decode(message.value))
          ))
  }
  get take() {
    if (this.cachedTake !== undefined) return this.cachedTake
    const conn = this.conn
    const inbox = conn.inbound.queue
    // One step when a message is waiting (the common case under load); else one wait, woken into this same step.
    const takeMessage = Effect.suspend(() => {
      if (!conn.opened) return Effect.fail(notReady(conn, "read"))
      const message = inbox.poll()
      if (message !== undefined) return Effect.succeed(message)
      return inbox.isEnded ? Effect.fail(inbox.endedWith) : wait
    })
    const wait = inbox.makeWait(takeMessage)
    const decode = this.decode
    return (this.cachedTake = decode === undefined ? takeMessage : Effect.flatMap(takeMessage, decode))
  }
  /**
   * What is queued, as one Effect to run: `undefined` when nothing is. A
   * decode failure left over from the last batch comes first.
   */
  drain() {
    const failure = this.deferredFailure
    if (failure !== undefined) {
      this.deferredFailure = undefined
      return Effect.fail(failure.error)
    }
    const messages = this.conn.inbound.queue.takeAll()
    if (messages.length === 0) return undefined
    const decode = this.decode
    if (decode === undefined) return Effect.succeed(Chunk.unsafeFromArray(messages))
    return decodeBatch(this.conn, messages, decode, (error) => {
      this.deferredFailure = { error }
    })
  }
  /**
   * Everything queued, as one chunk. Once nothing is: `whenEmpty` while the
   * connection is open; at its end, the end (`clean` for a clean close).
   */
  batch(whenEmpty, atEnd) {
    const conn = this.conn
    const inbox = conn.inbound.queue
    const self = Effect.suspend(() => {
      if (!conn.opened) return Effect.fail(notReady(conn, "read"))
      const queued = this.drain()
      if (queued !== undefined) return queued
      return inbox.isEnded ? atEnd(inbox.endedWith) : empty
    })
    const empty = whenEmpty(self)
    return self
  }
  get takeAll() {
    return (this.cachedTakeAll ??= this.batch(() => Effect.succeed(Chunk.empty()), Effect.fail))
  }
  get takeBatch() {
    return (this.cachedTakeBatch ??= this.batch((self) => this.conn.inbound.queue.makeWait(self), Effect.fail))
  }
  /** Everything queued, as one chunk, once there is something; `END` at a clean end of stream. */
  pull() {
    return (this.cachedPull ??= this.batch(
      (self) => this.conn.inbound.queue.makeWait(self),
      (closed) => (closed.isClean ? Effect.succeed(END) : Effect.fail(closed))
    ))
  }
  forEachChunk = (f) => untilEnd(this.pull(), f)
  forEach = (f) => untilEnd(this.takeOrEnd(), f)
  /** As `take`, but `END` at a clean end of stream (for `forEach`). */
  takeOrEnd() {
    if (this.cachedTakeOrEnd !== undefined) return this.cachedTakeOrEnd
    const conn = this.conn
    const inbox = conn.inbound.queue
    const takeMessage = Effect.suspend(() => {
      if (!conn.opened) return Effect.fail(notReady(conn, "read"))
      const message = inbox.poll()
      if (message !== undefined) return Effect.succeed(message)
      if (!inbox.isEnded) return wait
      const closed = inbox.endedWith
      return closed.isClean ? Effect.succeed(END) : Effect.fail(closed)
    })
    const wait = inbox.makeWait(takeMessage)
    const decode = this.decode
    return (this.cachedTakeOrEnd =
      decode === undefined
        ? takeMessage
        : Effect.flatMap(takeMessage, (message) => (message === END ? Effect.succeed(END) : decode(message))))
  }
  // The stream as a hand-written channel loop: per chunk, a quarter cheaper
  // than `Stream.repeatEffectChunkOption`, which matters when messages come
  // one at a time (request/response).
  get messages() {
    const pull = this.pull()
    const emitAll = Channel.flatMap(Channel.fromEffect(pull), (chunk) =>
      chunk === END ? Channel.void : Channel.flatMap(Channel.write(chunk), () => emitAll)
    )
    return Stream.fromChannel(emitAll)
  }
}
/**
 * Decodes a batch in order. When message `k` fails, the values decoded
 * before it are still returned, the failure is handed to `onFailure` for the
 * next pull, and the messages after it go back to the front of the inbound
 * queue: nothing that arrived is lost or decoded twice.
 */
const decodeBatch = (conn, messages, decode, onFailure) =>
  Effect.suspend(() => {
    const out = []
    let index = 0
    return Effect.whileLoop({
      while: () => index < messages.length,
      body: () => decode(messages[index]),
      step: (value) => {
        out.push(value)
        index++
      }
    }).pipe(
      Effect.catchAll((error) => {
        conn.inbound.queue.unshiftAll(messages.slice(index + 1), sizeOf)
        if (out.length === 0) return Effect.fail(error)
        onFailure(error)
        return Effect.void
      }),
      Effect.map(() => Chunk.unsafeFromArray(out))
    )
  })

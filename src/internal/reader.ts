/**
 * The read side of a Stocking, as users see it: `read`, `take`, the batch
 * reads, the consumers and `messages`, over the inbound queue. Each Effect is
 * built on first use and kept; a wait is one `Effect.async` that resumes
 * into the same step (see `MessageQueue.makeWait`).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import { constVoid } from "effect/Function"
import * as Option from "effect/Option"
import * as fx from "./fx.js"
import type * as Framing from "./wire.js"
import { type Closed, NotReady } from "./stockingError.js"
import type { Connection } from "./lifecycle.js"
import { sizeOf } from "./outbound.js"

/**
 * Why a read or a write cannot go ahead before the handshake has completed:
 * `NotReady`, or the `Closed` error once the connection has closed (say why,
 * not just "not ready").
 */
export const notReady = (conn: Connection, operation: "read" | "write"): NotReady | Closed =>
  conn.closedWith ?? new NotReady({ stockingId: conn.id, operation })

/** The end of the stream, for consumers that end quietly on a clean close. */
export const END: unique symbol = Symbol("effect-stockings/END")

/** Runs `f` on each value `next` gives, until it gives `END`: one step per value, no Effect of ours in between. */
const untilEnd = <A, E1, X, R>(
  next: Effect.Effect<A | typeof END, E1>,
  f: (value: A) => Effect.Effect<void, X, R>
): Effect.Effect<void, E1 | X, R> =>
  Effect.suspend(() => {
    let done = false
    const handle = (value: A | typeof END): Effect.Effect<void, X, R> => {
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
export const pollInbox = (conn: Connection): Effect.Effect<Option.Option<Framing.Message>, Closed> => {
  const inbox = conn.inbound.queue
  const message = inbox.poll()
  if (message !== undefined) return Effect.succeed(Option.some(message))
  const ended = inbox.endedWith
  return ended === undefined ? Effect.succeed(Option.none()) : Effect.fail(ended)
}

/** @internal */
export class Reader<O, E, B> {
  // A decode failure found after some good messages of a batch: those are
  // emitted first, and the failure ends the stream on the next pull.
  private deferredFailure: { readonly error: E } | undefined = undefined
  private cachedRead: Effect.Effect<Option.Option<O>, NotReady | Closed | E> | undefined = undefined
  private cachedTake: Effect.Effect<O, NotReady | Closed | E> | undefined = undefined
  private cachedTakeOrEnd: Effect.Effect<O | typeof END, NotReady | Closed | E> | undefined = undefined
  private cachedTakeAll: Effect.Effect<B, NotReady | Closed | E> | undefined = undefined
  private cachedTakeBatch: Effect.Effect<B, NotReady | Closed | E> | undefined = undefined
  private cachedPull: Effect.Effect<B | typeof END, NotReady | Closed | E> | undefined = undefined

  constructor(
    private readonly conn: Connection,
    private readonly decode: ((message: Framing.Message) => Effect.Effect<O, E>) | undefined,
    /** The line's batch of messages (Effect 3: a `Chunk`, Effect 4: an array) made from a fresh array. */
    private readonly toBatch: (items: Array<O>) => B,
    private readonly emptyBatch: B
  ) {}

  get read(): Effect.Effect<Option.Option<O>, NotReady | Closed | E> {
    if (this.cachedRead !== undefined) return this.cachedRead
    const conn = this.conn
    const decode = this.decode
    const readMessage: Effect.Effect<Option.Option<Framing.Message>, NotReady | Closed> = Effect.suspend(() =>
      conn.opened ? pollInbox(conn) : Effect.fail(notReady(conn, "read"))
    )
    return (this.cachedRead =
      decode === undefined
        ? (readMessage as Effect.Effect<Option.Option<O>, NotReady | Closed>)
        : Effect.flatMap(readMessage, (message) =>
            Option.isNone(message) ? Effect.succeedNone : Effect.asSome(decode(message.value))
          ))
  }

  get take(): Effect.Effect<O, NotReady | Closed | E> {
    if (this.cachedTake !== undefined) return this.cachedTake
    const conn = this.conn
    const inbox = conn.inbound.queue
    // One step when a message is waiting (the common case under load); else one wait, woken into this same step.
    const takeMessage: Effect.Effect<Framing.Message, NotReady | Closed> = Effect.suspend(() => {
      if (!conn.opened) return Effect.fail(notReady(conn, "read"))
      const message = inbox.poll()
      if (message !== undefined) return Effect.succeed(message)
      return inbox.isEnded ? Effect.fail(inbox.endedWith!) : wait
    })
    const wait = inbox.makeWait(takeMessage)
    const decode = this.decode
    return (this.cachedTake =
      decode === undefined ? (takeMessage as Effect.Effect<O, NotReady | Closed>) : Effect.flatMap(takeMessage, decode))
  }

  /**
   * What is queued, as one Effect to run: `undefined` when nothing is. A
   * decode failure left over from the last batch comes first.
   */
  private drain(): Effect.Effect<B, E> | undefined {
    const failure = this.deferredFailure
    if (failure !== undefined) {
      this.deferredFailure = undefined
      return Effect.fail(failure.error)
    }
    const messages = this.conn.inbound.queue.takeAll()
    if (messages.length === 0) return undefined
    const decode = this.decode
    if (decode === undefined) return Effect.succeed(this.toBatch(messages as Array<unknown> as Array<O>))
    return decodeBatch(this.conn, messages, decode, this.toBatch, (error) => {
      this.deferredFailure = { error }
    })
  }

  /**
   * Everything queued, as one chunk. Once nothing is: `whenEmpty` while the
   * connection is open; at its end, the end (`clean` for a clean close).
   */
  private batch<A>(
    whenEmpty: (self: Effect.Effect<B | A, NotReady | Closed | E>) => Effect.Effect<B | A, NotReady | Closed | E>,
    atEnd: (closed: Closed) => Effect.Effect<A, Closed>
  ): Effect.Effect<B | A, NotReady | Closed | E> {
    const conn = this.conn
    const inbox = conn.inbound.queue
    const self: Effect.Effect<B | A, NotReady | Closed | E> = Effect.suspend(() => {
      if (!conn.opened) return Effect.fail(notReady(conn, "read"))
      const queued = this.drain()
      if (queued !== undefined) return queued
      return inbox.isEnded ? atEnd(inbox.endedWith!) : empty
    })
    const empty = whenEmpty(self)
    return self
  }

  get takeAll(): Effect.Effect<B, NotReady | Closed | E> {
    return (this.cachedTakeAll ??= this.batch(() => Effect.succeed(this.emptyBatch), Effect.fail))
  }

  get takeBatch(): Effect.Effect<B, NotReady | Closed | E> {
    return (this.cachedTakeBatch ??= this.batch<never>(
      (self) => this.conn.inbound.queue.makeWait(self),
      Effect.fail
    ) as Effect.Effect<B, NotReady | Closed | E>)
  }

  /** Everything queued, as one chunk, once there is something; `END` at a clean end of stream. */
  pull(): Effect.Effect<B | typeof END, NotReady | Closed | E> {
    return (this.cachedPull ??= this.batch<typeof END>(
      (self) => this.conn.inbound.queue.makeWait(self),
      (closed) => (closed.isClean ? Effect.succeed(END) : Effect.fail(closed))
    ))
  }

  readonly forEachChunk = <X, R>(
    f: (chunk: B) => Effect.Effect<void, X, R>
  ): Effect.Effect<void, NotReady | Closed | E | X, R> => untilEnd(this.pull(), f)

  readonly forEach = <X, R>(
    f: (message: O) => Effect.Effect<void, X, R>
  ): Effect.Effect<void, NotReady | Closed | E | X, R> => untilEnd(this.takeOrEnd(), f)

  /** As `take`, but `END` at a clean end of stream (for `forEach`). */
  private takeOrEnd(): Effect.Effect<O | typeof END, NotReady | Closed | E> {
    if (this.cachedTakeOrEnd !== undefined) return this.cachedTakeOrEnd
    const conn = this.conn
    const inbox = conn.inbound.queue
    const takeMessage: Effect.Effect<Framing.Message | typeof END, NotReady | Closed> = Effect.suspend(() => {
      if (!conn.opened) return Effect.fail(notReady(conn, "read"))
      const message = inbox.poll()
      if (message !== undefined) return Effect.succeed(message)
      if (!inbox.isEnded) return wait
      const closed = inbox.endedWith!
      return closed.isClean ? Effect.succeed(END) : Effect.fail(closed)
    })
    const wait = inbox.makeWait(takeMessage)
    const decode = this.decode
    return (this.cachedTakeOrEnd =
      decode === undefined
        ? (takeMessage as Effect.Effect<O | typeof END, NotReady | Closed>)
        : Effect.flatMap(takeMessage, (message): Effect.Effect<O | typeof END, E> =>
            message === END ? Effect.succeed(END) : decode(message)
          ))
  }
}

/**
 * Decodes a batch in order. When message `k` fails, the values decoded
 * before it are still returned, the failure is handed to `onFailure` for the
 * next pull, and the messages after it go back to the front of the inbound
 * queue: nothing that arrived is lost or decoded twice.
 */
const decodeBatch = <O, E, B>(
  conn: Connection,
  messages: Array<Framing.Message>,
  decode: (message: Framing.Message) => Effect.Effect<O, E>,
  toBatch: (items: Array<O>) => B,
  onFailure: (error: E) => void
): Effect.Effect<B, E> =>
  Effect.suspend(() => {
    const out: Array<O> = []
    let index = 0
    return Effect.whileLoop({
      while: () => index < messages.length,
      body: () => decode(messages[index]!),
      step: (value) => {
        out.push(value)
        index++
      }
    }).pipe(
      fx.catchAll((error: E) => {
        conn.inbound.queue.unshiftAll(messages.slice(index + 1), sizeOf)
        if (out.length === 0) return Effect.fail(error)
        onFailure(error)
        return Effect.void
      }),
      Effect.map(() => toBatch(out))
    )
  })

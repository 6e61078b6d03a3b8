/**
 * The outbound side of a connection: the bounded queue writers offer to, the
 * frames handed to the socket, and the socket's drain. It is the `Link` a
 * backend drives; when to flush is the backend's business
 * (`internal/poll.ts`, `internal/select.ts`), never decided here.
 *
 * A write's path, top to bottom: `unsafeOffer` queues the message (or waits
 * for room, `queue.ts`) and tells the backend's strategy (`onQueued`); the
 * strategy flushes at once, schedules a flush, or runs its send loop
 * (`run`, in the connection's send fiber); `flush` takes everything queued
 * and hands it to the socket in one write (`batch.ts`).
 *
 * Order is kept by one rule: only `flush` moves messages from the queue to
 * the socket, and it writes everything it takes before it returns. Writers
 * that were waiting for room may be admitted while a flush takes from the
 * queue, but they queue their messages themselves, from their own fibers,
 * after the flush has returned (`queue.ts`): nothing enters the queue, and
 * nothing is flushed, from inside a flush.
 *
 * At a graceful close (the machine's Closing), the strategy is told once
 * more if messages are still queued; the first flush that leaves the queue
 * empty then reports `Flushed` to the machine, which ends our side of the
 * socket.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as fx from "./fx.js"
import type * as Backend from "./backend.js"
import type * as Framing from "./wire.js"
import type { Meter } from "./meter.js"
import type { Closed } from "./stockingError.js"
import { writeFrames } from "./batch.js"
import { type Budget, Holder } from "./budget.js"
import type { SocketLike } from "./connect.js"
import type { Loop } from "./loops.js"
import { isClosing, type Life } from "./machine.js"
import { MessageQueue } from "./queue.js"

/** @internal */
export const sizeOf = (message: Framing.Message): number => message.length

const EMPTY = new Uint8Array(0)

/** A caller of `flushed` waiting for the messages up to `until` to be handed to the socket. */
interface FlushWaiter {
  readonly until: number
  readonly resume: (effect: Effect.Effect<void, Closed>) => void
}

/** @internal */
export class Outbound implements Backend.Link {
  readonly queue: MessageQueue<Framing.Message, Closed>
  /** How many messages have been handed to the socket. */
  private written = 0
  private flushWaiters: Array<FlushWaiter> | undefined = undefined
  private reportedDepth = 0
  private readonly holder: Holder | undefined
  /** The backend's strategy for this connection: told each time messages are queued. */
  private readonly onQueued: () => void

  constructor(
    private readonly socket: SocketLike,
    maxMessages: number,
    maxBytes: number,
    private readonly meter: Meter,
    budget: Budget | undefined,
    /** The connection's state: closing once it has left service. */
    private readonly life: Life,
    /** Where the backend's send loop runs. */
    private readonly loop: Loop,
    backend: Backend.Backend,
    /** Reports to the machine that everything queued was handed to the socket (`Flushed`). */
    private readonly onFlushed: () => void
  ) {
    this.holder = budget === undefined ? undefined : new Holder(budget.outbound, () => this.queue.retry())
    this.queue = new MessageQueue(maxMessages, maxBytes, this.holder, () => this.onQueued())
    socket.on("drain", this.onDrain)
    this.onQueued = backend.start(this)
  }

  // The socket has written out what it held: it no longer counts against the queue's bound (nor the budget).
  private readonly onDrain = (): void => {
    this.queue.setReserved(0)
  }

  /** Lets the socket go: nothing is charged to the budget any more. */
  detach(): void {
    this.socket.off("drain", this.onDrain)
    this.queue.clear()
    this.holder?.release()
  }

  // -- writers ----------------------------------------------------------------

  /**
   * Queues `message`, suspending while the queue is full; fails with the
   * reason once the connection is closing. `unsafe`: the message is queued
   * when this is called, so call it only inside a suspended Effect.
   */
  unsafeOffer(message: Framing.Message): Effect.Effect<void, Closed> {
    const before = this.queue.pushed
    const offered = this.queue.unsafeOffer(message, sizeOf(message))
    if (this.queue.pushed !== before) this.onQueued()
    return offered
  }

  /** Queues all of `messages` or none: at once when they fit, else once there is room for all. `unsafe` as `unsafeOffer`. */
  unsafeOfferAll(messages: ReadonlyArray<Framing.Message>): Effect.Effect<void, Closed> {
    const before = this.queue.pushed
    const offered = this.queue.unsafeOfferAll(messages, sizeOf)
    if (this.queue.pushed !== before) this.onQueued()
    return offered
  }

  // -- the close (called by the machine's apply step) -------------------------

  /** The connection has left service: no more writes, and waiting writers fail with `reason`. */
  stop(reason: Closed): void {
    // This connection's depth leaves the gauge.
    this.reportDepth(0)
    this.queue.end(reason)
  }

  /** A graceful close has begun: what is queued goes out (the strategy is told), and `Flushed` is reported once it has. */
  close(): void {
    if (this.queue.size === 0) this.onFlushed()
    else this.onQueued()
  }

  /** Drops what is queued (the connection is Closed) and fails everyone waiting for it to be flushed. */
  abort(reason: Closed): void {
    this.queue.clear()
    this.failFlushWaiters(reason)
  }

  get writeDataQueued(): boolean {
    return this.queue.size > 0 || (!this.socket.destroyed && this.socket.writableLength > 0)
  }

  // -- the Link a backend drives ----------------------------------------------

  get queued(): number {
    return this.queue.size
  }

  get closing(): boolean {
    return isClosing(this.life.state)
  }

  get idle(): boolean {
    return this.socket.writableLength === 0
  }

  // No loop starts once the connection is closing: the strategy, told of the close, flushes at once.
  run(loop: Effect.Effect<void>): void {
    if (!this.closing) this.loop.start(loop, this.again)
  }

  /** The send loop has returned: messages queued while its fiber was finishing go to the strategy. */
  private readonly again = (): void => {
    if (this.queue.size > 0) this.onQueued()
  }

  flush(): boolean {
    const depth = this.queue.size
    if (depth !== this.reportedDepth) this.reportDepth(depth)
    const socket = this.socket
    let full = false
    if (depth > 0) {
      const messages = this.queue.takeAll()
      if (socket.destroyed || !socket.writable) {
        // Nowhere to send them: the connection is closing abortively.
        const reason = this.queue.endedWith
        if (reason !== undefined) this.failFlushWaiters(reason)
      } else {
        const bytes = writeFrames(socket, messages)
        this.written += messages.length
        this.meter.sent(messages.length, bytes)
        if (this.flushWaiters !== undefined) this.resumeFlushWaiters()
        // What the socket holds counts against the queue's bound (and the budget) until it drains: a peer
        // that stops reading holds at most `maxQueuedBytes` (or one larger message) here. Below the
        // high-water mark no 'drain' would come to release it, and the socket's own bound is small.
        full = socket.writableNeedDrain
        if (full) this.queue.setReserved(socket.writableLength)
      }
    } else {
      full = socket.writableNeedDrain && !socket.destroyed
    }
    // Closing, and nothing left: everything queued has been handed to the socket.
    if (this.queue.size === 0 && this.closing) this.onFlushed()
    return !full
  }

  readonly drained: Effect.Effect<void> = fx.async<void>((resume) => {
    const socket = this.socket
    if (!socket.writableNeedDrain || socket.destroyed) return resume(Effect.void)
    const done = () => {
      socket.off("drain", done)
      socket.off("close", done)
      resume(Effect.void)
    }
    socket.on("drain", done)
    socket.on("close", done)
    return Effect.sync(() => {
      socket.off("drain", done)
      socket.off("close", done)
    })
  })

  // -- flushed ----------------------------------------------------------------

  /** Completes once every message queued so far has been handed to the socket. */
  readonly flushed: Effect.Effect<void, Closed> = fx.async<void, Closed>((resume) => {
    const until = this.queue.pushed
    if (this.written >= until) return resume(Effect.void)
    const failure = this.queue.isEnded && this.queue.size === 0 ? this.queue.endedWith : undefined
    if (failure !== undefined) return resume(Effect.fail(failure))
    const waiter: FlushWaiter = { until, resume }
    const waiters = (this.flushWaiters ??= [])
    waiters.push(waiter)
    return Effect.sync(() => {
      const index = waiters.indexOf(waiter)
      if (index >= 0) waiters.splice(index, 1)
    })
  })

  /**
   * Completes once every message queued so far has left the socket's own
   * buffer for the operating system: a zero-length write after them calls
   * back when everything before it has been written out.
   */
  readonly sent: Effect.Effect<void, Closed> = Effect.flatMap(this.flushed, () =>
    fx.async<void, Closed>((resume) => {
      const socket = this.socket
      if (socket.writableLength === 0) return resume(Effect.void)
      const failure = this.queue.endedWith
      if (socket.destroyed || !socket.writable) {
        return resume(failure === undefined ? Effect.void : Effect.fail(failure))
      }
      socket.write(EMPTY, (error) => {
        const reason = this.queue.endedWith
        resume(error === undefined || error === null || reason === undefined ? Effect.void : Effect.fail(reason))
      })
    })
  )

  private resumeFlushWaiters(): void {
    const waiters = this.flushWaiters!
    let kept = 0
    for (let i = 0; i < waiters.length; i++) {
      const waiter = waiters[i]!
      if (this.written >= waiter.until) waiter.resume(Effect.void)
      else waiters[kept++] = waiter
    }
    waiters.length = kept
  }

  private failFlushWaiters(reason: Closed): void {
    const waiters = this.flushWaiters
    this.flushWaiters = undefined
    if (waiters !== undefined) for (const waiter of waiters) waiter.resume(Effect.fail(reason))
  }

  private reportDepth(depth: number): void {
    this.meter.outboundQueued(depth - this.reportedDepth)
    this.reportedDepth = depth
  }
}

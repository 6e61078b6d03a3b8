/**
 * The outbound side of a connection: the bounded queue writers offer to, the
 * frames handed to the socket, and the socket's drain. It is the `Link` a
 * backend drives; when to flush is the backend's business (`Backend/Poll.ts`,
 * `Backend/Select.ts`), never decided here.
 *
 * Order is kept by one rule: only `flush` moves messages from the queue to
 * the socket, and it writes everything it takes before it returns. Writers
 * that were waiting for room may be admitted while a flush takes from the
 * queue, but they queue their messages themselves, from their own fibers,
 * after the flush has returned (`queue.ts`): nothing enters the queue, and
 * nothing is flushed, from inside a flush.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import { constVoid } from "effect/Function"
import type * as MetricLabel from "effect/MetricLabel"
import type * as Backend from "../Backend/Backend.js"
import type * as Framing from "../Framing.js"
import * as Metrics from "./metrics.js"
import type { Closed } from "../Stocking.js"
import { writeFrames } from "./batch.js"
import { type Budget, Holder } from "./budget.js"
import type { SocketLike } from "./connect.js"
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
  private listener: (() => void) | undefined = undefined
  private closingWaiters: Set<(effect: Effect.Effect<void>) => void> | undefined = undefined
  private reportedDepth = 0
  private readonly holder: Holder | undefined
  /** Runs the backend's send loop (set by the connection; see `Backend.Link`). */
  startLoop: () => void = constVoid

  constructor(
    private readonly socket: SocketLike,
    maxMessages: number,
    maxBytes: number,
    private readonly labels: ReadonlyArray<MetricLabel.MetricLabel>,
    budget?: Budget | undefined
  ) {
    this.holder = budget === undefined ? undefined : new Holder(budget.outbound, () => this.queue.retry())
    this.queue = new MessageQueue(maxMessages, maxBytes, this.holder, () => this.notify())
    socket.on("drain", this.onDrain)
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

  // -- writers --------------------------------------------------------------

  /**
   * Queues `message`, suspending while the queue is full; fails with the
   * reason once the connection is closing. `unsafe`: the message is queued
   * when this is called, so call it only inside a suspended Effect.
   */
  unsafeOffer(message: Framing.Message): Effect.Effect<void, Closed> {
    const before = this.queue.pushed
    const offered = this.queue.unsafeOffer(message, sizeOf(message))
    if (this.queue.pushed !== before) this.notify()
    return offered
  }

  /** Queues all of `messages` or none: at once when they fit, else once there is room for all. `unsafe` as `unsafeOffer`. */
  unsafeOfferAll(messages: ReadonlyArray<Framing.Message>): Effect.Effect<void, Closed> {
    const before = this.queue.pushed
    const offered = this.queue.unsafeOfferAll(messages, sizeOf)
    if (this.queue.pushed !== before) this.notify()
    return offered
  }

  /** Tells the backend's listener, if one is set, that something was queued or the queue ended. */
  private notify(): void {
    const listener = this.listener
    if (listener !== undefined) listener()
  }

  /** No more writes: what is queued still goes out; waiting writers fail with `reason`. */
  end(reason: Closed): boolean {
    if (!this.queue.end(reason)) return false
    this.notify()
    const waiters = this.closingWaiters
    this.closingWaiters = undefined
    if (waiters !== undefined) for (const resume of waiters) resume(Effect.void)
    return true
  }

  /** Drops what is queued (an abortive close) and fails everyone waiting for it to be flushed. */
  abort(reason: Closed): void {
    this.queue.clear()
    this.failFlushWaiters(reason)
    // Tell the backend either way: a queue that was already ended has just lost what it held.
    if (!this.end(reason)) this.notify()
  }

  get writeDataQueued(): boolean {
    return this.queue.size > 0 || (!this.socket.destroyed && this.socket.writableLength > 0)
  }

  // -- the Link a backend drives ----------------------------------------------

  get queued(): number {
    return this.queue.size
  }

  readonly onQueued = (listener: (() => void) | undefined): void => {
    this.listener = listener
  }

  isClosing(): boolean {
    return this.queue.isEnded
  }

  isDone(): boolean {
    return this.queue.isEnded && this.queue.size === 0
  }

  needsDrain(): boolean {
    return this.socket.writableNeedDrain && !this.socket.destroyed
  }

  isIdle(): boolean {
    return this.socket.writableLength === 0
  }

  flush(): boolean {
    const depth = this.queue.size
    if (depth !== this.reportedDepth) this.reportDepth(depth)
    if (depth === 0) return !this.needsDrain()
    const messages = this.queue.takeAll()
    const socket = this.socket
    if (socket.destroyed || !socket.writable) {
      // Nowhere to send them: the connection is closing abortively.
      const reason = this.queue.endedWith
      if (reason !== undefined) this.failFlushWaiters(reason)
      return true
    }
    const bytes = writeFrames(socket, messages)
    this.written += messages.length
    Metrics.messagesSent.unsafeUpdate(messages.length, this.labels)
    Metrics.bytesSent.unsafeUpdate(bytes, this.labels)
    if (this.flushWaiters !== undefined) this.resumeFlushWaiters()
    if (!socket.writableNeedDrain) return true
    // What the socket holds counts against the queue's bound (and the budget) until it drains: a peer
    // that stops reading holds at most `maxQueuedBytes` (or one larger message) here. Below the
    // high-water mark no 'drain' would come to release it, and the socket's own bound is small.
    this.queue.setReserved(socket.writableLength)
    return false
  }

  readonly closing: Effect.Effect<void> = Effect.async<void>((resume) => {
    if (this.queue.isEnded) return resume(Effect.void)
    const waiters = (this.closingWaiters ??= new Set())
    waiters.add(resume)
    return Effect.sync(() => waiters.delete(resume))
  })

  readonly drained: Effect.Effect<void> = Effect.async<void>((resume) => {
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
  readonly flushed: Effect.Effect<void, Closed> = Effect.async<void, Closed>((resume) => {
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
    Effect.async<void, Closed>((resume) => {
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
    Metrics.outboundQueued.unsafeModify(depth - this.reportedDepth, this.labels)
    this.reportedDepth = depth
  }

  /** Takes this connection's depth back out of the gauge. */
  unreport(): void {
    this.reportDepth(0)
  }
}

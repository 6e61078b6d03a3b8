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
import * as Metrics from "./metrics.js"
import { writeFrames } from "./batch.js"
import { Holder } from "./budget.js"
import { isClosing } from "./machine.js"
import { MessageQueue } from "./queue.js"
/** @internal */
export const sizeOf = (message) => message.length
const EMPTY = new Uint8Array(0)
/** @internal */
export class Outbound {
  socket
  labels
  life
  loop
  onFlushed
  queue
  /** How many messages have been handed to the socket. */
  written = 0
  flushWaiters = undefined
  reportedDepth = 0
  holder
  /** The backend's strategy for this connection: told each time messages are queued. */
  onQueued
  constructor(
    socket,
    maxMessages,
    maxBytes,
    labels,
    budget,
    /** The connection's state: closing once it has left service. */
    life,
    /** Where the backend's send loop runs. */
    loop,
    backend,
    /** Reports to the machine that everything queued was handed to the socket (`Flushed`). */
    onFlushed
  ) {
    this.socket = socket
    this.labels = labels
    this.life = life
    this.loop = loop
    this.onFlushed = onFlushed
    this.holder = budget === undefined ? undefined : new Holder(budget.outbound, () => this.queue.retry())
    this.queue = new MessageQueue(maxMessages, maxBytes, this.holder, () => this.onQueued())
    socket.on("drain", this.onDrain)
    this.onQueued = backend.start(this)
  }
  // The socket has written out what it held: it no longer counts against the queue's bound (nor the budget).
  onDrain = () => {
    this.queue.setReserved(0)
  }
  /** Lets the socket go: nothing is charged to the budget any more. */
  detach() {
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
  unsafeOffer(message) {
    const before = this.queue.pushed
    const offered = this.queue.unsafeOffer(message, sizeOf(message))
    if (this.queue.pushed !== before) this.onQueued()
    return offered
  }
  /** Queues all of `messages` or none: at once when they fit, else once there is room for all. `unsafe` as `unsafeOffer`. */
  unsafeOfferAll(messages) {
    const before = this.queue.pushed
    const offered = this.queue.unsafeOfferAll(messages, sizeOf)
    if (this.queue.pushed !== before) this.onQueued()
    return offered
  }
  // -- the close (called by the machine's apply step) -------------------------
  /** The connection has left service: no more writes, and waiting writers fail with `reason`. */
  stop(reason) {
    // This connection's depth leaves the gauge.
    this.reportDepth(0)
    this.queue.end(reason)
  }
  /** A graceful close has begun: what is queued goes out (the strategy is told), and `Flushed` is reported once it has. */
  close() {
    if (this.queue.size === 0) this.onFlushed()
    else this.onQueued()
  }
  /** Drops what is queued (the connection is Closed) and fails everyone waiting for it to be flushed. */
  abort(reason) {
    this.queue.clear()
    this.failFlushWaiters(reason)
  }
  get writeDataQueued() {
    return this.queue.size > 0 || (!this.socket.destroyed && this.socket.writableLength > 0)
  }
  // -- the Link a backend drives ----------------------------------------------
  get queued() {
    return this.queue.size
  }
  get closing() {
    return isClosing(this.life.state)
  }
  get idle() {
    return this.socket.writableLength === 0
  }
  // No loop starts once the connection is closing: the strategy, told of the close, flushes at once.
  run(loop) {
    if (!this.closing) this.loop.start(loop, this.again)
  }
  /** The send loop has returned: messages queued while its fiber was finishing go to the strategy. */
  again = () => {
    if (this.queue.size > 0) this.onQueued()
  }
  flush() {
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
        Metrics.messagesSent.unsafeUpdate(messages.length, this.labels)
        Metrics.bytesSent.unsafeUpdate(bytes, this.labels)
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
  drained = Effect.async((resume) => {
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
  flushed = Effect.async((resume) => {
    const until = this.queue.pushed
    if (this.written >= until) return resume(Effect.void)
    const failure = this.queue.isEnded && this.queue.size === 0 ? this.queue.endedWith : undefined
    if (failure !== undefined) return resume(Effect.fail(failure))
    const waiter = { until, resume }
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
  sent = Effect.flatMap(this.flushed, () =>
    Effect.async((resume) => {
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
  resumeFlushWaiters() {
    const waiters = this.flushWaiters
    let kept = 0
    for (let i = 0; i < waiters.length; i++) {
      const waiter = waiters[i]
      if (this.written >= waiter.until) waiter.resume(Effect.void)
      else waiters[kept++] = waiter
    }
    waiters.length = kept
  }
  failFlushWaiters(reason) {
    const waiters = this.flushWaiters
    this.flushWaiters = undefined
    if (waiters !== undefined) for (const waiter of waiters) waiter.resume(Effect.fail(reason))
  }
  reportDepth(depth) {
    Metrics.outboundQueued.unsafeModify(depth - this.reportedDepth, this.labels)
    this.reportedDepth = depth
  }
}

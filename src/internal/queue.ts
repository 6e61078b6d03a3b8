/**
 * A message queue bounded by both message count and bytes, with the ending a
 * connection needs: once ended, it still hands out every message it holds,
 * then fails each taker with the reason it ended. A connection's queues are
 * ended only by the connection's machine, as it leaves service
 * (`lifecycle.ts`); the queue keeps its end so that it can fail offers and
 * takes without knowing the connection.
 *
 * What it holds, in order of the file:
 *
 * - **Storage**: the messages and their sizes, in arrays read from `head`.
 * - **Bounds and budget**: what counts against `maxItems` and `maxBytes`
 *   (the messages, writers admitted but not yet queued, and bytes
 *   `reserved` elsewhere on its behalf: a socket's unsent bytes), and, with
 *   a `Holder` (a server's budget, `budget.ts`), what is charged to it (all
 *   of that, plus `extra`: a message being received). A writer is admitted
 *   only when both the queue's own bounds and the holder allow.
 * - **Offers**: a writer finding room queues at once; one that does not
 *   waits in line (`Writers`, `waiters.ts`), admitted in order as room is
 *   made. A batch (`unsafeOfferAll`) is queued whole or not at all.
 * - **Takes**, and the end.
 *
 * Plain mutable state driven from one JS thread: producers and consumers are
 * fibers that suspend through `Effect.async`, and are woken synchronously
 * (the fibers waiting for items, for room, and to queue are kept as
 * `waiters.ts` says).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as fx from "./fx.js"
import type { Holder } from "./budget.js"
import { type Resume, type Room, Takers, wakeAll, type Waker, Writers } from "./waiters.js"

/** @internal */
export class MessageQueue<A, E> implements Room<A, E> {
  private items: Array<A> = []
  private sizes: Array<number> = []
  private head = 0
  /** Bytes of the queued messages. */
  bytes = 0
  // Set once, by `end`: a connection's queues only from its machine's apply step (see the top of this file).
  private failure: E | undefined = undefined
  private ended = false
  // Waiters, made on first use: an idle connection holds two queues.
  // Fibers waiting for items: each resumed with the Effect it gave (`next`),
  // which looks again.
  private takers: Takers | undefined = undefined
  private cachedTake: Effect.Effect<A, E> | undefined = undefined
  private writers: Writers<A, E> | undefined = undefined
  private spaceWaiters: Set<Waker> | undefined = undefined

  /** Bytes held elsewhere on this queue's behalf (a socket's unsent bytes), counted against `maxBytes`. */
  private reserved = 0
  /** Bytes held elsewhere on this queue's behalf that count for the holder but not against `maxBytes` (a partial message). */
  private extra = 0

  constructor(
    readonly maxItems: number,
    readonly maxBytes: number,
    /** This queue's share of a byte budget shared with other queues, if any (see `budget.ts`). */
    private readonly holder?: Holder | undefined,
    /**
     * Called after an admitted writer queued its messages, from that
     * writer's fiber (never from inside `poll`, `takeAll` or an offer).
     */
    private readonly onLatePush?: (() => void) | undefined,
    /** Called when a take leaves the queue ended and empty. */
    private readonly onDrained?: (() => void) | undefined
  ) {}

  get size(): number {
    return this.items.length - this.head
  }

  get isEnded(): boolean {
    return this.ended
  }

  /** Everything this queue holds or has set aside, in bytes. */
  get held(): number {
    const writers = this.writers
    return this.bytes + this.reserved + (writers === undefined ? 0 : writers.admittedBytes)
  }

  /** Messages queued, and set aside for admitted writers. */
  private get count(): number {
    const writers = this.writers
    return this.size + (writers === undefined ? 0 : writers.admittedCount)
  }

  /** Whether the queue is at its own bounds (the shared budget aside). */
  get isFull(): boolean {
    return this.count >= this.maxItems || this.held >= this.maxBytes
  }

  /** The reason the queue ended, once it has. */
  get endedWith(): E | undefined {
    return this.failure
  }

  /** Whether `count` messages of `bytes` fit the queue's own bounds. */
  fits(count: number, bytes: number): boolean {
    // An empty queue always takes one offer, however large, so a message
    // bigger than `maxBytes` cannot wedge it.
    const held = this.held
    const size = this.count
    return (size === 0 && held === 0) || (size + count <= this.maxItems && held + bytes <= this.maxBytes)
  }

  /** Whether `count` messages of `bytes` may be queued now, nobody waiting before them; with a holder, charges them if so. */
  private admits(count: number, bytes: number): boolean {
    if (this.writers !== undefined && this.writers.waiting) return false
    return this.fits(count, bytes) && this.tryCharge(bytes)
  }

  /** Asks the holder, if any, for `bytes` more than the queue holds: see `tryGrow`. */
  tryCharge(bytes: number): boolean {
    return this.holder === undefined || this.holder.tryHold(this.held + this.extra + bytes)
  }

  /** Leaves the holder's line, if waiting in it. */
  leaveBudgetLine(): void {
    this.holder?.cancel()
  }

  /**
   * Asks the holder for `extra` bytes more than the queue holds: `true`
   * (and charged) when granted; refused, the holder waits in its pool's
   * line. Always `true` without a holder.
   */
  tryGrow(extra: number): boolean {
    return this.holder === undefined || this.holder.tryHold(this.held + this.extra + extra)
  }

  /** Brings the holder's charge up to date with what the queue holds. */
  settle(): void {
    if (this.holder !== undefined) this.holder.hold(this.held + this.extra)
  }

  /** Sets the bytes charged to the holder on this queue's behalf beyond what it holds (see `extra`). */
  setExtra(bytes: number): void {
    if (bytes === this.extra) return
    this.extra = bytes
    this.settle()
  }

  /**
   * Sets the bytes held elsewhere on this queue's behalf; lowering them
   * makes room, as taking a message does.
   */
  setReserved(bytes: number): void {
    bytes = Math.max(0, bytes)
    if (bytes === this.reserved) return
    const lower = bytes < this.reserved
    this.reserved = bytes
    this.settle()
    if (lower) this.roomMade()
  }

  /** How many messages have ever been added (a position in the stream of messages, for waiting on progress). */
  pushed = 0

  private wakeTakers(): void {
    if (this.takers !== undefined) this.takers.wakeAll()
  }

  /**
   * An Effect that waits until an item is queued or the queue ends, then
   * continues with `next` (which must look again: another fiber may have
   * taken the item first). Build it once and reuse it: one wait costs one
   * `Effect.async` and no closure or entry of ours.
   *
   * There is no canceler, which saves the interruption machinery on every
   * wait; `Takers` (`waiters.ts`) says how the callbacks interrupted waits
   * leave behind are swept out.
   */
  makeWait<B, E2>(next: Effect.Effect<B, E2>): Effect.Effect<B, E2> {
    return fx.async<B, E2>((resume) => {
      ;(this.takers ??= new Takers()).add(resume as unknown as Resume, next)
    })
  }

  /**
   * Adds every message of `items`, even past the bounds (the caller applies
   * backpressure), taking the array over: into an empty queue it becomes the
   * queue's own, with no copy.
   */
  unsafePushAll(items: Array<A>, sizeOf: (item: A) => number): void {
    const n = items.length
    if (this.ended || n === 0) return
    if (this.head === this.items.length) {
      const sizes = new Array<number>(n)
      let total = 0
      for (let i = 0; i < n; i++) total += sizes[i] = sizeOf(items[i]!)
      this.items = items
      this.sizes = sizes
      this.head = 0
      this.bytes = total
    } else {
      for (let i = 0; i < n; i++) {
        const bytes = sizeOf(items[i]!)
        this.items.push(items[i]!)
        this.sizes.push(bytes)
        this.bytes += bytes
      }
    }
    this.pushed += n
    this.settle()
    this.wakeTakers()
  }

  private pushSized(items: ReadonlyArray<A>, sizes: ReadonlyArray<number>, bytes: number): void {
    if (items.length === 1) {
      this.items.push(items[0]!)
      this.sizes.push(sizes[0]!)
    } else {
      for (let i = 0; i < items.length; i++) {
        this.items.push(items[i]!)
        this.sizes.push(sizes[i]!)
      }
    }
    this.bytes += bytes
    this.pushed += items.length
  }

  /**
   * Adds a message, suspending while there is no room. Fails with the end
   * reason if the queue has ended (before or while waiting). Waiting
   * writers are served in order; one interrupted while waiting leaves no
   * trace, and one that succeeds has its message queued whole.
   *
   * `unsafe`: when there is room, the message is queued when this is
   * *called*, not when the returned Effect runs (that saves an Effect per
   * write); call it only from inside a suspended Effect.
   */
  unsafeOffer(item: A, bytes: number): Effect.Effect<void, E> {
    if (this.ended) return Effect.fail(this.failure as E)
    if (this.admits(1, bytes)) {
      this.items.push(item)
      this.sizes.push(bytes)
      this.bytes += bytes
      this.pushed++
      this.wakeTakers()
      return Effect.void
    }
    return (this.writers ??= new Writers(this)).wait([item], [bytes], bytes)
  }

  /**
   * Adds every message of `items`, all or none: at once when they fit,
   * else once room is made for all of them (an empty queue takes any
   * batch). `unsafe` as `unsafeOffer` is.
   */
  unsafeOfferAll(items: ReadonlyArray<A>, sizeOf: (item: A) => number): Effect.Effect<void, E> {
    if (this.ended) return Effect.fail(this.failure as E)
    const n = items.length
    if (n === 0) return Effect.void
    const sizes = new Array<number>(n)
    let bytes = 0
    for (let i = 0; i < n; i++) bytes += sizes[i] = sizeOf(items[i]!)
    if (this.admits(n, bytes)) {
      if (this.head === this.items.length) {
        // Empty: the batch becomes the queue, in one copy.
        this.items = items.slice()
        this.sizes = sizes
        this.head = 0
        this.bytes = bytes
        this.pushed += n
      } else {
        this.pushSized(items, sizes, bytes)
      }
      this.wakeTakers()
      return Effect.void
    }
    return (this.writers ??= new Writers(this)).wait(items.slice(), sizes, bytes)
  }

  /** Queues an admitted writer's messages, from its own fiber (`Writers`). */
  pushAdmitted(items: ReadonlyArray<A>, sizes: ReadonlyArray<number>, bytes: number): void {
    this.pushSized(items, sizes, bytes)
    this.wakeTakers()
    if (this.onLatePush !== undefined) this.onLatePush()
  }

  /** Room was made: admit waiting writers, and wake the fibers waiting for room. */
  roomMade(): void {
    if (this.writers !== undefined) this.writers.admit()
    if (this.spaceWaiters !== undefined && this.spaceWaiters.size > 0 && !this.isFull) wakeAll(this.spaceWaiters)
  }

  /** The holder's turn in its pool's line has come (see `budget.ts`). */
  retry(): void {
    if (this.writers === undefined) this.holder?.cancel()
    else this.writers.retry()
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = []
      this.sizes = []
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.sizes = this.sizes.slice(this.head)
      this.head = 0
    }
  }

  /** Removes and returns the oldest message, or `undefined` when empty. */
  poll(): A | undefined {
    if (this.head === this.items.length) return undefined
    const item = this.items[this.head]!
    this.bytes -= this.sizes[this.head]!
    this.items[this.head] = undefined as A
    this.head++
    this.compact()
    this.settle()
    this.roomMade()
    if (this.onDrained !== undefined && this.ended && this.head === this.items.length) this.onDrained()
    return item
  }

  /** Removes and returns every queued message. */
  takeAll(): Array<A> {
    const out = this.head === 0 ? this.items : this.items.slice(this.head)
    this.items = []
    this.sizes = []
    this.head = 0
    this.bytes = 0
    if (out.length > 0) {
      this.settle()
      this.roomMade()
      if (this.onDrained !== undefined && this.ended) this.onDrained()
    }
    return out
  }

  /** Takes the next message, waiting for one; fails with the end reason once empty and ended. */
  take(): Effect.Effect<A, E> {
    if (this.cachedTake !== undefined) return this.cachedTake
    const take: Effect.Effect<A, E> = Effect.suspend(() => {
      const item = this.poll()
      if (item !== undefined) return Effect.succeed(item)
      return this.ended ? Effect.fail(this.failure as E) : wait
    })
    const wait = this.makeWait(take)
    return (this.cachedTake = take)
  }

  /** Waits until the queue is below its bounds (or has ended). */
  awaitSpace(): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (!this.isFull || this.ended) return Effect.void
      return fx.async<void>((resume) => {
        const waiters = (this.spaceWaiters ??= new Set())
        waiters.add(resume)
        return Effect.sync(() => waiters.delete(resume))
      })
    })
  }

  /**
   * Ends the queue: no more offers; takers get the messages still queued,
   * then `reason`. Waiting writers fail with `reason`; admitted ones fail
   * too, when their fibers come to queue. Only the first call counts.
   */
  end(reason: E): boolean {
    if (this.ended) return false
    this.ended = true
    this.failure = reason
    this.holder?.cancel()
    if (this.writers !== undefined) this.writers.end(reason)
    this.wakeTakers()
    if (this.spaceWaiters !== undefined) wakeAll(this.spaceWaiters)
    return true
  }

  /** Puts messages back at the front, in order (a consumer that could not use them). */
  unshiftAll(items: ReadonlyArray<A>, sizeOf: (item: A) => number): void {
    if (items.length === 0) return
    const rest = this.items.slice(this.head)
    const restSizes = this.sizes.slice(this.head)
    this.items = [...items, ...rest]
    this.sizes = [...items.map(sizeOf), ...restSizes]
    this.head = 0
    for (const item of items) this.bytes += sizeOf(item)
    this.settle()
    this.wakeTakers()
  }

  /** Drops every queued message and what is reserved (an abortive close, or a queue let go). */
  clear(): void {
    this.items = []
    this.sizes = []
    this.head = 0
    this.bytes = 0
    this.reserved = 0
    this.extra = 0
    this.settle()
  }
}

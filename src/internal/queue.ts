/**
 * A message queue bounded by both message count and bytes, with the ending a
 * connection needs: once ended, it still hands out every message it holds,
 * then fails each taker with the reason it ended.
 *
 * Writers that find no room wait in line. One at the head is *admitted*
 * when room is made: its bytes are set aside, and its fiber is resumed to
 * queue its messages itself. So admission and the writer's completion are
 * one step of the writer's own fiber: a writer interrupted before that step
 * queued nothing (what was set aside is given back), and a writer that
 * queued its messages completes with success. A batch (`unsafeOfferAll`)
 * is queued whole or not at all.
 *
 * With a `Holder` (a server's budget, `budget.ts`), the bytes the queue
 * holds are charged to it, and a writer is admitted only when both the
 * queue's own bounds and the holder allow.
 *
 * Plain mutable state driven from one JS thread: producers and consumers are
 * fibers that suspend through `Effect.async`, and are woken synchronously
 * (the fibers waiting for items and for room are kept as `waiters.ts` says).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type { Holder } from "./budget.js"
import { type Resume, Takers, wakeAll, type Waker } from "./waiters.js"

const enum OfferState {
  Waiting,
  Admitted,
  Done
}

/** A writer waiting for room: one message, or a batch queued whole. */
interface Offer<A, E> {
  readonly items: ReadonlyArray<A>
  readonly sizes: ReadonlyArray<number>
  readonly bytes: number
  state: OfferState
  resume: ((effect: Effect.Effect<void, E>) => void) | undefined
}

/** @internal */
export class MessageQueue<A, E> {
  private items: Array<A> = []
  private sizes: Array<number> = []
  private head = 0
  /** Bytes of the queued messages. */
  bytes = 0
  private failure: E | undefined = undefined
  private ended = false
  // Waiters, made on first use: an idle connection holds two queues.
  // Fibers waiting for items: each resumed with the Effect it gave (`next`),
  // which looks again.
  private takers: Takers | undefined = undefined
  private cachedTake: Effect.Effect<A, E> | undefined = undefined
  private offers: Array<Offer<A, E>> | undefined = undefined
  private spaceWaiters: Set<Waker> | undefined = undefined
  /** Bytes and messages of writers admitted but not yet queued. */
  private admittedBytes = 0
  private admittedCount = 0

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
    return this.bytes + this.reserved + this.admittedBytes
  }

  /** Whether the queue is at its own bounds (the shared budget aside). */
  get isFull(): boolean {
    return this.size + this.admittedCount >= this.maxItems || this.held >= this.maxBytes
  }

  /** The reason the queue ended, once it has. */
  get endedWith(): E | undefined {
    return this.failure
  }

  /** Whether `count` messages of `bytes` fit the queue's own bounds. */
  private fits(count: number, bytes: number): boolean {
    // An empty queue always takes one offer, however large, so a message
    // bigger than `maxBytes` cannot wedge it.
    const held = this.held
    const size = this.size + this.admittedCount
    return (size === 0 && held === 0) || (size + count <= this.maxItems && held + bytes <= this.maxBytes)
  }

  /** Whether `count` messages of `bytes` may be queued now; with a holder, charges them if so. */
  private admits(count: number, bytes: number): boolean {
    if (!this.fits(count, bytes)) return false
    return this.holder === undefined || this.holder.tryHold(this.held + this.extra + bytes)
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
  private settle(): void {
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
    if (lower) this.onRemoved()
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
    return Effect.async<B, E2>((resume) => {
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
    if ((this.offers === undefined || this.offers.length === 0) && this.admits(1, bytes)) {
      this.items.push(item)
      this.sizes.push(bytes)
      this.bytes += bytes
      this.pushed++
      this.wakeTakers()
      return Effect.void
    }
    return this.wait({ items: [item], sizes: [bytes], bytes, state: OfferState.Waiting, resume: undefined })
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
    if ((this.offers === undefined || this.offers.length === 0) && this.admits(n, bytes)) {
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
    return this.wait({ items: items.slice(), sizes, bytes, state: OfferState.Waiting, resume: undefined })
  }

  /** Waits in line; withdrawn if interrupted before its messages are queued. */
  private wait(offer: Offer<A, E>): Effect.Effect<void, E> {
    return Effect.onInterrupt(
      Effect.async<void, E>((resume) => {
        offer.resume = resume
        ;(this.offers ??= []).push(offer)
        // Room may already be there (the line was empty but the budget said no: its turn will come).
        if (this.offers.length === 1) this.admitWaiting()
      }),
      () => Effect.sync(() => this.withdraw(offer))
    )
  }

  /** Admits writers from the head of the line while there is room: sets their bytes aside and resumes them. */
  private admitWaiting(): void {
    const offers = this.offers
    if (offers === undefined) return
    while (offers.length > 0 && !this.ended) {
      const next = offers[0]!
      if (!this.fits(next.items.length, next.bytes)) {
        // Not our turn on the budget while our own bounds say no: let others through.
        this.holder?.cancel()
        return
      }
      if (this.holder !== undefined && !this.holder.tryHold(this.held + this.extra + next.bytes)) return
      offers.shift()
      next.state = OfferState.Admitted
      this.admittedBytes += next.bytes
      this.admittedCount += next.items.length
      next.resume!(this.complete(next))
    }
  }

  /** The admitted writer's last step, in its own fiber: queue its messages (or fail, if the queue ended meanwhile). */
  private complete(offer: Offer<A, E>): Effect.Effect<void, E> {
    return Effect.suspend(() => {
      if (offer.state !== OfferState.Admitted) return Effect.void
      offer.state = OfferState.Done
      this.admittedBytes -= offer.bytes
      this.admittedCount -= offer.items.length
      if (this.ended) {
        this.settle()
        return Effect.fail(this.failure as E)
      }
      this.pushSized(offer.items, offer.sizes, offer.bytes)
      this.wakeTakers()
      if (this.onLatePush !== undefined) this.onLatePush()
      return Effect.void
    })
  }

  /** An interrupted writer: out of the line, or what was set aside for it given back. */
  private withdraw(offer: Offer<A, E>): void {
    if (offer.state === OfferState.Waiting) {
      offer.state = OfferState.Done
      const offers = this.offers
      const index = offers === undefined ? -1 : offers.indexOf(offer)
      if (index < 0) return
      offers!.splice(index, 1)
      if (index === 0) {
        if (offers!.length === 0) this.holder?.cancel()
        this.admitWaiting()
      }
    } else if (offer.state === OfferState.Admitted) {
      offer.state = OfferState.Done
      this.admittedBytes -= offer.bytes
      this.admittedCount -= offer.items.length
      this.settle()
      this.onRemoved()
    }
  }

  private onRemoved(): void {
    this.admitWaiting()
    if (this.spaceWaiters !== undefined && this.spaceWaiters.size > 0 && !this.isFull) wakeAll(this.spaceWaiters)
  }

  /** The holder's turn in its pool's line has come (see `budget.ts`). */
  retry(): void {
    if (this.offers === undefined || this.offers.length === 0) this.holder?.cancel()
    else this.admitWaiting()
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
    this.onRemoved()
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
      this.onRemoved()
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
      return Effect.async<void>((resume) => {
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
    const offers = this.offers
    this.offers = undefined
    this.holder?.cancel()
    if (offers !== undefined) {
      for (const offer of offers) {
        offer.state = OfferState.Done
        offer.resume!(Effect.fail(reason))
      }
    }
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

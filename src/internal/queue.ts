/**
 * A message queue bounded by both message count and bytes, with the ending a
 * connection needs: once ended, it still hands out every message it holds,
 * then fails each taker with the reason it ended.
 *
 * Plain mutable state driven from one JS thread: producers and consumers are
 * fibers that suspend through `Effect.async`, and are woken synchronously
 * (the fibers waiting for items and for room are kept as `waiters.ts` says).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type { Budget } from "./budget.js"
import { type Resume, Takers, wakeAll, type Waker } from "./waiters.js"

const TRUE = Effect.succeed(true)
const FALSE = Effect.succeed(false)

interface Offerer<A, E> {
  readonly item: A
  readonly bytes: number
  readonly resume: (effect: Effect.Effect<void, E>) => void
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
  // Waiters, made on first use: an idle connection holds four queues.
  // Fibers waiting for items: each resumed with the Effect it gave (`next`),
  // which looks again.
  private takers: Takers | undefined = undefined
  private cachedTake: Effect.Effect<A, E> | undefined = undefined
  private cachedAwaitItems: Effect.Effect<boolean> | undefined = undefined
  private offerers: Array<Offerer<A, E>> | undefined = undefined
  private spaceWaiters: Set<Waker> | undefined = undefined

  /** Bytes held elsewhere on this queue's behalf (a socket's unsent bytes), counted against `maxBytes`. */
  private reserved = 0
  /** What this queue charges to the shared budget. */
  private charged = 0

  constructor(
    readonly maxItems: number,
    readonly maxBytes: number,
    /** A byte budget shared with other queues, if any (see `budget.ts`). */
    private readonly budget?: Budget | undefined,
    /**
     * Called when waiting offerers were admitted outside `poll` and
     * `takeAll` (room made by `setReserved` or the shared budget). Never
     * called from inside `poll`, `takeAll` or an offer.
     */
    private readonly onAdmitted?: (() => void) | undefined
  ) {}

  get size(): number {
    return this.items.length - this.head
  }

  get isEnded(): boolean {
    return this.ended
  }

  get isFull(): boolean {
    return (
      this.size >= this.maxItems ||
      this.bytes + this.reserved >= this.maxBytes ||
      (this.charged > 0 && this.budget!.spent)
    )
  }

  /** The reason the queue ended, once it has. */
  get endedWith(): E | undefined {
    return this.failure
  }

  private hasRoomFor(bytes: number): boolean {
    // An empty queue always takes one message, however large, so a message
    // bigger than `maxBytes` cannot wedge it.
    const size = this.size
    const held = this.bytes + this.reserved
    const fits = (size === 0 && held === 0) || (size < this.maxItems && held + bytes <= this.maxBytes)
    return fits && (this.budget === undefined || this.budget.allows(this.charged, held + bytes))
  }

  /** Brings this queue's charge on the shared budget up to date with what it holds. */
  private settle(): void {
    const budget = this.budget
    if (budget !== undefined) this.charged = budget.settle(this.charged, this.bytes + this.reserved)
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
    if (lower) this.onRoomMade()
  }

  // Called by the budget when others release bytes: try again, and keep watching while still blocked.
  private readonly onBudgetRoom = (): void => {
    this.onRoomMade()
    this.watchBudget()
  }

  /** Asks the budget to call back when it has room, if anyone here waits for room. */
  private watchBudget(): void {
    if (this.budget === undefined) return
    const waiting =
      (this.offerers !== undefined && this.offerers.length > 0) ||
      (this.spaceWaiters !== undefined && this.spaceWaiters.size > 0)
    if (waiting) this.budget.onRoom(this.onBudgetRoom)
  }

  private push(item: A, bytes: number): void {
    this.items.push(item)
    this.sizes.push(bytes)
    this.bytes += bytes
    this.pushed++
    if (this.budget !== undefined) this.settle()
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

  /** Adds a message even past the bounds (the caller applies backpressure). */
  unsafePush(item: A, bytes: number): boolean {
    if (this.ended) return false
    this.push(item, bytes)
    this.wakeTakers()
    return true
  }

  /**
   * Adds messages from the start of `items` while there is room and no
   * producer is waiting; returns how many were added. Takers are woken once.
   */
  pushWhileRoom(items: ReadonlyArray<A>, sizeOf: (item: A) => number): number {
    if (this.ended || (this.offerers !== undefined && this.offerers.length > 0)) return 0
    const n = items.length
    let i = 0
    if (this.head === this.items.length && n > 1) {
      // Empty: size up what fits, then take it in one copy rather than a push each.
      const sizes = new Array<number>(n)
      let total = 0
      for (; i < n; i++) {
        const bytes = sizeOf(items[i]!)
        if (i > 0 && (i >= this.maxItems || total + bytes > this.maxBytes)) break
        sizes[i] = bytes
        total += bytes
      }
      sizes.length = i
      this.items = i === n ? items.slice() : items.slice(0, i)
      this.sizes = sizes
      this.head = 0
      this.bytes = total
      this.pushed += i
    } else {
      for (; i < n; i++) {
        const bytes = sizeOf(items[i]!)
        if (!this.hasRoomFor(bytes)) break
        this.push(items[i]!, bytes)
      }
    }
    if (i > 0) this.wakeTakers()
    return i
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
      this.pushed += n
    } else {
      for (let i = 0; i < n; i++) this.push(items[i]!, sizeOf(items[i]!))
    }
    this.wakeTakers()
  }

  /**
   * Adds a message, suspending while the queue is full. Fails with the end
   * reason if the queue has ended (before or while waiting). Waiting
   * producers are served in order; one interrupted while waiting leaves no
   * trace, and one admitted has its message queued whole.
   *
   * `unsafe`: when there is room, the message is queued when this is
   * *called*, not when the returned Effect runs (that saves an Effect per
   * write); call it only from inside a suspended Effect.
   */
  unsafeOffer(item: A, bytes: number): Effect.Effect<void, E> {
    if (this.ended) return Effect.fail(this.failure as E)
    if ((this.offerers === undefined || this.offerers.length === 0) && this.hasRoomFor(bytes)) {
      this.push(item, bytes)
      this.wakeTakers()
      return Effect.void
    }
    return Effect.async<void, E>((resume) => {
      const entry: Offerer<A, E> = { item, bytes, resume }
      const offerers = (this.offerers ??= [])
      offerers.push(entry)
      this.watchBudget()
      return Effect.sync(() => {
        const index = offerers.indexOf(entry)
        if (index >= 0) offerers.splice(index, 1)
      })
    })
  }

  private admitOfferers(): void {
    const offerers = this.offerers
    if (offerers === undefined) return
    while (offerers.length > 0 && !this.ended) {
      const next = offerers[0]!
      if (!this.hasRoomFor(next.bytes)) break
      offerers.shift()
      this.push(next.item, next.bytes)
      next.resume(Effect.void)
    }
  }

  private onRemoved(): void {
    this.admitOfferers()
    this.afterRoom()
  }

  private afterRoom(): void {
    if (this.spaceWaiters !== undefined && this.spaceWaiters.size > 0 && !this.isFull) wakeAll(this.spaceWaiters)
    if (this.size > 0) this.wakeTakers()
  }

  /**
   * Room made without taking anything (`setReserved` lowered, the budget
   * released): admits waiting offerers and tells `onAdmitted`, since no
   * consumer is taking at that moment to see them.
   */
  private onRoomMade(): void {
    const before = this.pushed
    this.admitOfferers()
    this.afterRoom()
    if (this.pushed !== before && this.onAdmitted !== undefined) this.onAdmitted()
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
    if (this.budget !== undefined) this.settle()
    this.items[this.head] = undefined as A
    this.head++
    this.compact()
    this.onRemoved()
    return item
  }

  /** Removes and returns every queued message. */
  takeAll(): Array<A> {
    const out = this.head === 0 ? this.items : this.items.slice(this.head)
    this.items = []
    this.sizes = []
    this.head = 0
    this.bytes = 0
    if (this.budget !== undefined) this.settle()
    if (out.length > 0) this.onRemoved()
    return out
  }

  /**
   * Waits until a message is queued. Succeeds with `true` when one is,
   * `false` when the queue has ended and is empty.
   */
  awaitItems(): Effect.Effect<boolean> {
    if (this.cachedAwaitItems !== undefined) return this.cachedAwaitItems
    const check: Effect.Effect<boolean> = Effect.suspend(() => (this.size > 0 ? TRUE : this.ended ? FALSE : wait))
    const wait = this.makeWait(check)
    return (this.cachedAwaitItems = check)
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
        this.watchBudget()
        return Effect.sync(() => waiters.delete(resume))
      })
    })
  }

  /**
   * Ends the queue: no more offers; takers get the messages still queued,
   * then `reason`. Waiting producers fail with `reason`. Only the first call
   * counts.
   */
  end(reason: E): boolean {
    if (this.ended) return false
    this.ended = true
    this.failure = reason
    const offerers = this.offerers
    this.offerers = undefined
    if (offerers !== undefined) for (const offerer of offerers) offerer.resume(Effect.fail(reason))
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
    if (this.budget !== undefined) this.settle()
    this.wakeTakers()
  }

  /** Drops every queued message and what is reserved (an abortive close, or a queue let go). */
  clear(): void {
    this.items = []
    this.sizes = []
    this.head = 0
    this.bytes = 0
    this.reserved = 0
    if (this.budget !== undefined) {
      this.settle()
      this.budget.offRoom(this.onBudgetRoom)
    }
  }
}

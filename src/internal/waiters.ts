/**
 * The three kinds of fiber a queue (`queue.ts`) wakes:
 *
 * - `Takers`, the fibers waiting for an item, woken all at once when one
 *   arrives or the queue ends, each to look again;
 * - `wakeAll` for a set of fibers waiting for room (the read loop, while
 *   its inbound queue is full);
 * - `Writers`, the writers waiting for room to queue their messages, in
 *   line, and admitted one by one as room is made.
 *
 * The queue's storage, bounds and budget are in `queue.ts`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as fx from "./fx.js"

/** The resume callback of a fiber waiting for room. @internal */
export type Waker = (effect: Effect.Effect<void>) => void

/** Wakes every fiber of `wakers` and empties the set. @internal */
export const wakeAll = (wakers: Set<Waker>): void => {
  const all = Array.from(wakers)
  wakers.clear()
  for (let i = 0; i < all.length; i++) all[i]!(Effect.void)
}

/** The runtime's resume callback of a fiber waiting for items, seen without its types. @internal */
export type Resume = (effect: Effect.Effect<unknown, unknown>) => void

/** Fewest registered item waiters at which stale ones (from interrupted waits) are swept out. */
const SWEEP_AT = 64

/**
 * Fibers waiting for items, each resumed with the Effect it gave (`next`),
 * which looks again. Parallel arrays, so a wait allocates no entry.
 *
 * A fiber interrupted while waiting leaves its resume callback behind (the
 * waits have no canceler), which the runtime has already marked as used, so
 * calling it does nothing. Such leftovers go at the next `wakeAll`, or, when
 * none comes, whenever the waiters have doubled since the last sweep: every
 * waiter is then woken (the live ones look again and wait anew).
 *
 * @internal
 */
export class Takers {
  private resumes: Array<Resume> = []
  private next: Array<Effect.Effect<unknown, unknown>> = []
  private sweepAt = SWEEP_AT

  /** Registers a waiting fiber, sweeping the stale ones first if there are many. */
  add(resume: Resume, next: Effect.Effect<unknown, unknown>): void {
    if (this.resumes.length >= this.sweepAt) {
      this.sweepAt = Math.max(SWEEP_AT, 2 * this.resumes.length)
      this.wakeAll()
    }
    this.resumes.push(resume)
    this.next.push(next)
  }

  /** Resumes every registered fiber with its `next`, and forgets them. */
  wakeAll(): void {
    const resumes = this.resumes
    if (resumes.length === 0) return
    const next = this.next
    this.resumes = []
    this.next = []
    for (let i = 0; i < resumes.length; i++) resumes[i]!(next[i]!)
  }
}

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

/** What the line of writers needs of its queue. @internal */
export interface Room<A, E> {
  /** The reason the queue ended, once it has. */
  readonly endedWith: E | undefined
  readonly isEnded: boolean
  /** Whether `count` more messages of `bytes` fit the queue's own bounds (the budget aside). */
  fits(count: number, bytes: number): boolean
  /** Asks the budget, if any, for `bytes` more: `true` (and charged) if granted; refused, the queue waits in its line. */
  tryCharge(bytes: number): boolean
  /** Leaves the budget's line, if waiting in it. */
  leaveBudgetLine(): void
  /** Brings the budget's charge up to date with what the queue holds and has set aside. */
  settle(): void
  /** Room was made (bytes set aside were given back): admit writers, wake the fibers waiting for room. */
  roomMade(): void
  /** Queues an admitted writer's messages, from its own fiber. */
  pushAdmitted(items: ReadonlyArray<A>, sizes: ReadonlyArray<number>, bytes: number): void
}

/**
 * Writers that found no room, waiting in line. The one at the head is
 * *admitted* when room is made: its bytes are set aside (`admittedBytes`,
 * counted by the queue against its bounds and budget), and its fiber is
 * resumed to queue its messages itself. So admission and the writer's
 * completion are one step of the writer's own fiber: a writer interrupted
 * before that step queued nothing (what was set aside is given back), and
 * a writer that queued its messages completes with success. A batch is
 * queued whole or not at all. A writer never overtakes one before it.
 *
 * @internal
 */
export class Writers<A, E> {
  private offers: Array<Offer<A, E>> = []
  /** Bytes and messages of writers admitted but not yet queued. */
  admittedBytes = 0
  admittedCount = 0

  constructor(private readonly room: Room<A, E>) {}

  /** Whether writers are waiting in line: a new writer must queue behind them. */
  get waiting(): boolean {
    return this.offers.length > 0
  }

  /** Waits in line for room for `items`; withdrawn if interrupted before they are queued. */
  wait(items: ReadonlyArray<A>, sizes: ReadonlyArray<number>, bytes: number): Effect.Effect<void, E> {
    const offer: Offer<A, E> = { items, sizes, bytes, state: OfferState.Waiting, resume: undefined }
    return Effect.onInterrupt(
      fx.async<void, E>((resume) => {
        // Ended between the offer and this wait: nobody would admit it.
        if (this.room.isEnded) return resume(Effect.fail(this.room.endedWith as E))
        offer.resume = resume
        this.offers.push(offer)
        // Room may already be there (the line was empty but the budget said no: its turn will come).
        if (this.offers.length === 1) this.admit()
      }),
      () => Effect.sync(() => this.withdraw(offer))
    )
  }

  /** Admits writers from the head of the line while there is room: sets their bytes aside and resumes them. */
  admit(): void {
    const offers = this.offers
    const room = this.room
    while (offers.length > 0 && !room.isEnded) {
      const next = offers[0]!
      if (!room.fits(next.items.length, next.bytes)) {
        // Not our turn on the budget while our own bounds say no: let others through.
        room.leaveBudgetLine()
        return
      }
      if (!room.tryCharge(next.bytes)) return
      offers.shift()
      next.state = OfferState.Admitted
      this.admittedBytes += next.bytes
      this.admittedCount += next.items.length
      next.resume!(this.complete(next))
    }
  }

  /** The budget's turn has come (see `budget.ts`): admit, or leave its line if nobody waits. */
  retry(): void {
    if (this.offers.length === 0) this.room.leaveBudgetLine()
    else this.admit()
  }

  /** The queue has ended: every waiting writer fails with `reason` (admitted ones fail when they come to queue). */
  end(reason: E): void {
    const offers = this.offers
    this.offers = []
    for (const offer of offers) {
      offer.state = OfferState.Done
      offer.resume!(Effect.fail(reason))
    }
  }

  /** The admitted writer's last step, in its own fiber: queue its messages (or fail, if the queue ended meanwhile). */
  private complete(offer: Offer<A, E>): Effect.Effect<void, E> {
    return Effect.suspend(() => {
      if (offer.state !== OfferState.Admitted) return Effect.void
      offer.state = OfferState.Done
      this.admittedBytes -= offer.bytes
      this.admittedCount -= offer.items.length
      const room = this.room
      if (room.isEnded) {
        room.settle()
        return Effect.fail(room.endedWith as E)
      }
      room.pushAdmitted(offer.items, offer.sizes, offer.bytes)
      return Effect.void
    })
  }

  /** An interrupted writer: out of the line, or what was set aside for it given back. */
  private withdraw(offer: Offer<A, E>): void {
    if (offer.state === OfferState.Waiting) {
      offer.state = OfferState.Done
      const offers = this.offers
      const index = offers.indexOf(offer)
      if (index < 0) return
      offers.splice(index, 1)
      if (index === 0) {
        if (offers.length === 0) this.room.leaveBudgetLine()
        this.admit()
      }
    } else if (offer.state === OfferState.Admitted) {
      offer.state = OfferState.Done
      this.admittedBytes -= offer.bytes
      this.admittedCount -= offer.items.length
      this.room.settle()
      this.room.roomMade()
    }
  }
}

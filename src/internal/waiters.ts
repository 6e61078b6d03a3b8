/**
 * The fibers a queue wakes: `Takers`, the fibers waiting for an item (woken
 * all at once when one arrives or the queue ends, each to look again), and
 * `wakeAll` for a set of fibers waiting for room. The queue's storage,
 * bounds and producers are in `queue.ts`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"

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

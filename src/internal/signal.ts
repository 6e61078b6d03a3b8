/**
 * A one-shot signal: completed once with an `Exit`, awaited by any number of
 * fibers. What `Deferred` does, for the connection's few internal events, at
 * a fraction of its memory: an idle connection holds several of these, and
 * one with no waiters is one small object (a `Deferred` costs about 750 bytes
 * of heap, its own hidden class included).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"

type Waiter<A, E> = (effect: Effect.Effect<A, E>) => void

/** @internal */
export class Signal<A, E = never> {
  private exit: Exit.Exit<A, E> | undefined = undefined
  private waiters: Array<Waiter<A, E>> | undefined = undefined

  /** Completes the signal; only the first call counts. */
  done(exit: Exit.Exit<A, E>): boolean {
    if (this.exit !== undefined) return false
    this.exit = exit
    const waiters = this.waiters
    this.waiters = undefined
    if (waiters !== undefined) for (let i = 0; i < waiters.length; i++) waiters[i]!(exit)
    return true
  }

  /** Waits for the signal and ends as it was completed. */
  await(): Effect.Effect<A, E> {
    return Effect.async<A, E>((resume) => {
      if (this.exit !== undefined) return resume(this.exit)
      const waiters = (this.waiters ??= [])
      waiters.push(resume)
      return Effect.sync(() => {
        const index = waiters.indexOf(resume)
        if (index >= 0) waiters.splice(index, 1)
      })
    })
  }
}

/**
 * A connection's loops (the read loop, the send loop) run in fibers only
 * while they have work: an idle connection holds no fiber at all. A parked
 * fiber costs about 4 KiB; the work that needs one is rare (the inbound
 * queue is full, the socket must drain, the peer ended its stream, a
 * backend's interval), so a loop is started when such work appears, from
 * the socket callback or the write that found it, and returns when it is
 * done, rather than waiting on every connection.
 *
 * A loop's fiber is forked with the runtime of the fiber that made the
 * Stocking (captured before its uninterruptible section, so the loops stay
 * interruptible), on the scheduler's next turn rather than inside the
 * callback that asked for it. At most one fiber runs each loop. The
 * Stocking's scope owns them: its finalizer, once the graceful close is
 * over, interrupts whichever is still running (`interrupt`), even one not
 * started yet. None starts once the connection is closing (the machine's
 * Closing): the close needs no loop, since both backends flush at once
 * when told of it.
 *
 * Not a `FiberHandle` per loop, nor a `FiberSet` per connection, which
 * would do the same with Effect's own structures: each is made with a
 * scope finalizer and a `Deferred` that stay for the connection's whole
 * life, about 2 KiB of heap each (`FiberHandle.make` 1.97 KiB,
 * `FiberSet.make` 2.1 KiB, measured alone), and two handles took an idle
 * connected pair from 16.4 to 21.9 KiB of heap (bench/ab/idle.ts, same
 * run). A scope's `runFork` option (`scope`) costs nothing until the fiber
 * runs, but registers the fiber only once it starts: a fiber forked just
 * before the scope closes would outlive it.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"

/** A loop's fiber, as the loops see it: both lines' fibers are this. @internal */
export interface LoopFiber {
  readonly addObserver: (observer: (exit: Exit.Exit<void>) => void) => unknown
}

/**
 * How a line forks a loop's fiber (on the scheduler's next turn, with the
 * runtime of the fiber that made the Stocking) and interrupts it: the seam
 * between the loops and a line's runtime API.
 *
 * @internal
 */
export interface Runner {
  readonly fork: (body: Effect.Effect<void>) => LoopFiber
  /** Interrupts `fiber` (one `fork` returned) and waits for it. */
  readonly interrupt: (fiber: LoopFiber) => Effect.Effect<void>
}

/** @internal */
export class Loop {
  /** The fiber running this loop, while one does. */
  private fiber: LoopFiber | undefined = undefined

  constructor(private readonly runner: Runner) {}

  /**
   * Runs `body` in a fiber of this loop, unless one is running. Once it
   * has returned, `after` is called (from the fiber's end, once this loop
   * has let it go): it may start the loop again, for work that came while
   * the fiber was finishing. Not after an interruption.
   */
  start(body: Effect.Effect<void>, after: () => void): void {
    if (this.fiber !== undefined) return
    const fiber = this.runner.fork(body)
    this.fiber = fiber
    fiber.addObserver((exit) => {
      this.fiber = undefined
      if (Exit.isSuccess(exit)) after()
    })
  }

  /** Interrupts the running fiber, if any, and waits for it (the Stocking's scope is closing). */
  interrupt(): Effect.Effect<void> {
    const fiber = this.fiber
    return fiber === undefined ? Effect.void : this.runner.interrupt(fiber)
  }
}

/** A connection's two loops. @internal */
export interface Loops {
  readonly read: Loop
  readonly send: Loop
}

/** A connection's two loops, forked by `runner`. @internal */
export const make = (runner: Runner): Loops => ({ read: new Loop(runner), send: new Loop(runner) })

/** Interrupts both loops' fibers, and waits for them. @internal */
export const interrupt = (loops: Loops): Effect.Effect<void> =>
  Effect.suspend(() => Effect.andThen(loops.read.interrupt(), loops.send.interrupt()))

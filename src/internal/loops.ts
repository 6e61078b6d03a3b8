/**
 * A connection's loops (the read loop, the send loop) run in fibers only
 * while they have work: an idle connection holds no fiber at all. A parked
 * fiber costs about 4 KiB; the work that needs one is rare (the inbound
 * queue is full, the socket must drain, the peer ended its stream, a
 * backend's interval), so a loop is started when such work appears, from
 * the socket callback or the write that found it, and returns when it is
 * done, rather than waiting on every connection.
 *
 * Each loop's fiber lives in a `FiberHandle` owned by the Stocking's scope:
 * at most one fiber at a time (a start while one runs does nothing), none
 * started once the scope has closed, and the running one interrupted when
 * it closes. The handles are made before the Stocking adds its close
 * finalizer, so they close after it: the graceful close can still use the
 * send loop. Fibers are forked with the runtime of the fiber that made the
 * Stocking (captured before its uninterruptible section, so the loops stay
 * interruptible), on the scheduler's next turn, not inside the callback
 * that asked for them.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberHandle from "effect/FiberHandle"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"

/** @internal */
export class Loop {
  constructor(
    private readonly handle: FiberHandle.FiberHandle<void, never>,
    private readonly runFork: (
      effect: Effect.Effect<void>,
      options?: Runtime.RunForkOptions
    ) => Fiber.RuntimeFiber<void>
  ) {}

  /**
   * Runs `body` in this loop's fiber unless one is running. Once it has
   * returned, and the handle has let its fiber go, `after` is called: it
   * may start the loop again, for work that came while the fiber was
   * finishing (a start then found it still running). Not after an
   * interruption: the scope is closing.
   */
  start(body: Effect.Effect<void>, after: () => void): void {
    if (Option.isSome(FiberHandle.unsafeGet(this.handle))) return
    const fiber = this.runFork(body, { immediate: false })
    // A closed handle (the scope has closed) interrupts the fiber at once.
    FiberHandle.unsafeSet(this.handle, fiber, { onlyIfMissing: true })
    fiber.addObserver((exit) => {
      if (Exit.isSuccess(exit)) after()
    })
  }
}

/**
 * A connection's two loops, in the scope of the Effect that runs this:
 * `runtime` is the one its fibers run with.
 *
 * @internal
 */
export const make = (
  runtime: Runtime.Runtime<never>
): Effect.Effect<{ readonly read: Loop; readonly send: Loop }, never, Scope.Scope> =>
  Effect.map(Effect.zip(FiberHandle.make<void, never>(), FiberHandle.make<void, never>()), ([read, send]) => {
    const runFork = Runtime.runFork(runtime)
    return { read: new Loop(read, runFork), send: new Loop(send, runFork) }
  })

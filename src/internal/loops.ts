/**
 * A connection's loops (the read loop, the send loop) run in fibers only
 * while they have work: an idle connection holds no fiber at all. A parked
 * fiber costs about 4 KiB; the work that needs one is rare (the inbound
 * queue is full, the socket must drain, the peer ended its stream, a close
 * waits for the queue to empty), so a loop is forked when such work appears
 * and returns when it is done, rather than waiting on every connection.
 *
 * The fibers are the connection's: `stop` (from the connection's scope
 * finalizer) interrupts whichever is running, and no loop starts after it.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { constVoid } from "effect/Function"
import * as Runtime from "effect/Runtime"
import type * as Backend from "../Backend/Backend.js"
import type { Inbound } from "./inbound.js"
import type { Outbound } from "./outbound.js"

/**
 * One loop: at most one fiber at a time, started on demand with the
 * connection's runtime. The fiber starts on the scheduler's next turn, not
 * inside the socket callback that asked for it. Its Effect is built on the
 * first start.
 *
 * @internal
 */
export class Loop {
  private fiber: Fiber.RuntimeFiber<void> | undefined = undefined
  private stopped = false
  private run: Effect.Effect<void> | undefined = undefined

  constructor(
    private readonly runtime: Runtime.Runtime<never>,
    private readonly body: () => Effect.Effect<void>,
    /** Called from the fiber once the body has returned (or was interrupted). */
    private readonly onEnd: () => void
  ) {}

  get running(): boolean {
    return this.fiber !== undefined
  }

  /** Starts the loop unless it is running (or stopped). */
  start(): void {
    if (this.fiber !== undefined || this.stopped) return
    const run = (this.run ??= Effect.ensuring(
      this.body(),
      Effect.sync(() => this.ended())
    ))
    this.fiber = Runtime.runFork(this.runtime)(run, { immediate: false })
  }

  private ended(): void {
    this.fiber = undefined
    this.onEnd()
  }

  /** No more starts; interrupts the running fiber, if any, and waits for it. */
  stop(): Effect.Effect<void> {
    this.stopped = true
    const fiber = this.fiber
    return fiber === undefined ? Effect.void : Fiber.interrupt(fiber)
  }
}

/**
 * A connection's two loops. The read loop is started by the inbound side
 * when it has work; the send side is handed to the backend: its `idle`
 * strategy if it has one, else its loop from the first queued message on.
 *
 * @internal
 */
export class Loops {
  private readonly read: Loop
  private readonly send: Loop

  constructor(
    runtime: Runtime.Runtime<never>,
    backend: Backend.Backend,
    inbound: Inbound,
    link: Outbound,
    readBody: () => Effect.Effect<void>,
    /** The send loop has returned with the link done: everything queued went out. */
    sendLoopEnded: () => void
  ) {
    const read = (this.read = new Loop(runtime, readBody, constVoid))
    inbound.startLoop = () => read.start()
    if (inbound.needsLoop) read.start()
    const idle = backend.idle
    const send = (this.send = new Loop(
      runtime,
      () => backend.sendLoop(link),
      () => (link.isDone() || idle === undefined ? sendLoopEnded() : idle(link))
    ))
    link.startLoop = () => (!send.running && link.isDone() ? sendLoopEnded() : send.start())
    if (idle !== undefined) idle(link)
    else link.onQueued(link.startLoop)
  }

  stop(): Effect.Effect<void> {
    return Effect.zipRight(this.read.stop(), this.send.stop())
  }
}

/**
 * A connection's life: the `Connection` holds the state of the machine in
 * `machine.ts`, moves it only through `transition`, and does what entering
 * each new state requires (end the queues, destroy the socket, wake whoever
 * waits on the state, run the graceful close).
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Runtime from "effect/Runtime"
import type * as Backend from "../Backend/Backend.js"
import * as Metrics from "./metrics.js"
import type * as Stocking from "../Stocking.js"
import { Closed } from "./stockingError.js"
import type { Budget } from "./budget.js"
import { resetSocket, type SocketLike } from "./connect.js"
import { IDLE, Inbound } from "./inbound.js"
import { Loops } from "./loops.js"
import { Outbound } from "./outbound.js"
import type { PooledReads } from "./reads.js"
import { type Event, HANDSHAKING, type State, transition } from "./machine.js"

/** @internal */
export type Limits = Pick<
  Stocking.Settings,
  "maxMessageSize" | "maxBufferedMessages" | "maxBufferedBytes" | "maxQueuedMessages" | "maxQueuedBytes" | "idleTimeout"
> & {
  /** A byte budget shared with other connections (a server's). */
  readonly budget?: Budget | undefined
}

const DEFAULTS = {
  maxBufferedMessages: 4096,
  maxBufferedBytes: 32 * 1024 * 1024,
  maxQueuedMessages: 4096,
  maxQueuedBytes: 8 * 1024 * 1024
}

type Watcher = (state: State) => boolean

const EMPTY = new Uint8Array(0)

const isReset = (error: unknown): boolean =>
  typeof error === "object" && error !== null && (error as { readonly code?: unknown }).code === "ECONNRESET"

/** @internal */
export class Connection {
  state: State = HANDSHAKING
  readonly inbound: Inbound
  readonly outbound: Outbound
  private readonly labels: ReturnType<typeof Metrics.roleLabel>
  // Fibers waiting for a state: each is asked after every transition, and dropped once it says it is done.
  private watchers: Array<Watcher> | undefined = undefined

  constructor(
    readonly id: number,
    readonly socket: SocketLike,
    reads: PooledReads | undefined,
    readonly closeTimeout: Duration.DurationInput,
    readonly peer: string,
    limits: Limits,
    role: Metrics.Role
  ) {
    this.labels = Metrics.roleLabel(role)
    Metrics.connectionsOpen.unsafeModify(1, this.labels)
    this.inbound = new Inbound(
      socket,
      reads,
      {
        maxMessageSize: limits.maxMessageSize,
        maxMessages: limits.maxBufferedMessages ?? DEFAULTS.maxBufferedMessages,
        maxBytes: limits.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes,
        budget: limits.budget
      },
      this.labels,
      (error) => {
        // Refused data: a reset, not an end of stream, so that the peer cannot take it for a clean close.
        resetSocket(socket)
        this.abort(this.closedError("ProtocolError", error))
      }
    )
    this.outbound = new Outbound(
      socket,
      limits.maxQueuedMessages ?? DEFAULTS.maxQueuedMessages,
      limits.maxQueuedBytes ?? DEFAULTS.maxQueuedBytes,
      this.labels,
      limits.budget
    )
    socket.on("error", this.onError)
    socket.on("close", this.onClose)
    if (limits.idleTimeout !== undefined && socket.setTimeout !== undefined) {
      const idle = Duration.decode(limits.idleTimeout)
      socket.setTimeout(Duration.toMillis(idle))
      socket.on("timeout", () =>
        this.abort(this.closedError("IdleTimeout", `nothing sent or received for ${Duration.format(idle)}`))
      )
    }
  }

  // -- the machine ------------------------------------------------------------

  /** Applies `event`; does what entering the new state requires. Returns whether the state changed. */
  private apply(event: Event): boolean {
    const from = this.state
    const to = transition(from, event)
    if (to === undefined) return false
    this.state = to
    if ((to._tag === "Closing" || to._tag === "Closed") && (from._tag === "Handshaking" || from._tag === "Open")) {
      // Leaving service: reads drain what arrived, then fail; writes fail at once.
      Metrics.connectionsOpen.unsafeModify(-1, this.labels)
      this.inbound.stop(to.reason)
      this.outbound.unreport()
      this.outbound.end(to.reason)
    }
    if (to._tag === "Closed") {
      // Over: whatever is still queued to send is dropped, and the socket goes if it has not.
      this.outbound.abort(to.reason)
      this.socket.destroy()
    }
    const watchers = this.watchers
    if (watchers !== undefined) {
      this.watchers = undefined
      const kept = watchers.filter((watch) => !watch(to))
      if (kept.length > 0) this.watchers = this.watchers === undefined ? kept : kept.concat(this.watchers)
    }
    if (to._tag === "Closed") this.checkReleasable()
    return true
  }

  /** Waits until `check` gives an Effect for the state (checked now, and after each transition). */
  awaitState<A, E>(check: (state: State) => Effect.Effect<A, E> | undefined): Effect.Effect<A, E> {
    return Effect.async<A, E>((resume) => {
      const now = check(this.state)
      if (now !== undefined) return resume(now)
      const watch: Watcher = (state) => {
        const result = check(state)
        if (result === undefined) return false
        resume(result)
        return true
      }
      ;(this.watchers ??= []).push(watch)
      return Effect.sync(() => {
        const watchers = this.watchers
        const index = watchers === undefined ? -1 : watchers.indexOf(watch)
        if (index >= 0) watchers!.splice(index, 1)
      })
    })
  }

  get isOpen(): boolean {
    return this.state._tag === "Open"
  }

  /** The reason it closed, once closing. */
  get closedWith(): Closed | undefined {
    const state = this.state
    return state._tag === "Closing" || state._tag === "Closed" ? state.reason : undefined
  }

  /** Whether the handshake completed (before any close). */
  get opened(): boolean {
    const state = this.state
    return state._tag === "Open" || ((state._tag === "Closing" || state._tag === "Closed") && state.opened)
  }

  ready(): boolean {
    return this.apply({ _tag: "Ready" })
  }

  /** The send loop has returned: everything queued was flushed (or dropped, on an abortive close). */
  sendLoopEnded(): void {
    this.apply({ _tag: "Flushed" })
  }

  /** Closes at once: drops what is queued and destroys the socket. */
  abort(reason: Closed): void {
    if (!this.apply({ _tag: "Close", reason, graceful: false })) {
      // Already closed: make sure the socket is gone all the same.
      this.socket.destroy()
    }
  }

  closedError(reason: Stocking.ClosedReason, cause?: unknown): Closed {
    return cause === undefined
      ? new Closed({ reason, stockingId: this.id })
      : new Closed({ reason, stockingId: this.id, cause })
  }

  // -- socket events ----------------------------------------------------------

  private readonly onError = (cause: Error): void => {
    // The probe's own failure after a clean end (EPIPE: a Unix peer that closed) is not the socket failing.
    if (cause === this.probeError) return
    this.abort(this.closedError("SocketError", cause))
  }

  private readonly onClose = (): void => {
    // A close with no end of stream before it and no error: the peer went away abruptly.
    const reason = this.inbound.endSeen
      ? this.closedError("ClosedByPeer")
      : this.closedError("ClosedByPeer", "connection closed without an end of stream")
    this.apply({ _tag: "SocketClosed", reason })
  }

  /** Lets the socket go: no more events from it reach this connection, and nothing is charged to a budget. */
  detach(): void {
    this.inbound.detach()
    this.outbound.detach()
    this.socket.off("close", this.onClose)
    // The error listener stays: a late error on a destroyed socket must not crash the process.
  }

  // -- the loops --------------------------------------------------------------

  private loops: Loops | undefined = undefined

  /** Sets up the read loop and the send loop, each forked only while it has work (`loops.ts`). */
  startLoops(runtime: Runtime.Runtime<never>, backend: Backend.Backend): void {
    this.loops = new Loops(
      runtime,
      backend,
      this.inbound,
      this.outbound,
      () => this.readBody(),
      () => this.sendLoopEnded()
    )
  }

  /** Interrupts whichever loop is still running (the connection's scope is closing). */
  stopLoops(): Effect.Effect<void> {
    return Effect.suspend(() => this.loops?.stop() ?? Effect.void)
  }

  /**
   * The read loop, then the close it leads to when the peer ends its
   * stream: graceful, unless the end was a reset (see `probeReset`).
   */
  private readBody(): Effect.Effect<void> {
    return Effect.flatMap(this.inbound.readLoop(), (ended) =>
      ended === undefined || ended === IDLE
        ? Effect.void
        : Effect.flatMap(this.probeReset, (reset) =>
            reset === undefined
              ? this.gracefulClose(this.closedError("ClosedByPeer", ended.truncated))
              : Effect.sync(() => this.abort(this.closedError("SocketError", reset)))
          )
    )
  }

  /**
   * Tells a peer's reset from its clean end. The OS reports a reset that
   * comes after data as an end of stream, like a FIN; but after a reset an
   * empty write fails with ECONNRESET, while after a FIN it succeeds (or,
   * on a Unix socket whose peer closed, fails with EPIPE: a clean close
   * there). So at the peer's end, an empty write, and its error if that is
   * ECONNRESET. Skipped (taken as clean) when our side has ended or still
   * has bytes to write, and over TLS, which writes no record for it (and
   * where Node reports a reset right after data as the peer's end, with no
   * error).
   */
  private readonly probeReset: Effect.Effect<Error | undefined> = Effect.async<Error | undefined>((resume) => {
    const socket = this.socket
    if (
      socket.destroyed ||
      !socket.writable ||
      socket.writableLength > 0 ||
      (socket as { readonly encrypted?: boolean }).encrypted === true
    ) {
      return resume(Effect.succeed(undefined))
    }
    socket.write(EMPTY, (error) => {
      if (isReset(error)) return resume(Effect.succeed(error as Error))
      // Any other failure means the peer has gone after a clean end: the socket reports it, and it is ignored.
      if (error !== undefined && error !== null) this.probeError = error
      resume(Effect.succeed(undefined))
    })
  })

  private probeError: unknown = undefined

  // -- releasing --------------------------------------------------------------

  private released = false
  private releaseHooks: Array<() => void> | undefined = undefined

  /**
   * Calls `f` once when nothing of this connection is still wanted: it is
   * Closed and its readers have taken everything it received, or its user
   * closed it. At once if that is already so. For the server, which then
   * releases the connection's scope without a fiber waiting on each.
   */
  onReleasable(f: () => void): void {
    if (this.released) return f()
    ;(this.releaseHooks ??= []).push(f)
    this.checkReleasable()
  }

  /** The user closed (or aborted) the connection: it may be let go once Closed, whatever is unread. */
  closedByUser(): void {
    this.userClosed = true
    this.checkReleasable()
  }

  private userClosed = false

  private checkReleasable(): void {
    if (this.released || this.state._tag !== "Closed") return
    const queue = this.inbound.queue
    if (!this.userClosed && queue.size > 0) {
      // Unread messages: wait until readers have taken them.
      queue.onDrained = () => this.checkReleasable()
      return
    }
    queue.onDrained = undefined
    this.released = true
    const hooks = this.releaseHooks
    this.releaseHooks = undefined
    if (hooks !== undefined) for (const f of hooks) f()
  }

  // -- closing ----------------------------------------------------------------

  /**
   * The graceful close: stop accepting writes, let the send loop flush what
   * is queued, end our side, and wait for the peer to end its side; all
   * within `closeTimeout`, after which the socket is destroyed regardless.
   * The first caller runs it; later callers wait for it.
   */
  gracefulClose(reason: Closed): Effect.Effect<void> {
    return Effect.uninterruptible(
      Effect.suspend(() => {
        if (!this.apply({ _tag: "Close", reason, graceful: true })) return this.whenClosed
        const closing = this.state as Extract<State, { _tag: "Closing" }>
        return this.closeSequence.pipe(
          Effect.withSpan("stocking.close", {
            attributes: { "stocking.id": this.id, "stocking.reason": closing.reason.reason, "net.peer": this.peer },
            captureStackTrace: false
          }),
          Effect.ensuring(
            Effect.sync(() => {
              this.socket.destroy()
              this.apply({ _tag: "SocketClosed", reason: closing.reason })
            })
          )
        )
      })
    )
  }

  /**
   * The close sequence as one wait on the state, with its own timer: once
   * the send loop has flushed, end our side; once the socket has closed (or
   * `closeTimeout` has passed), done. No fiber of its own, so interrupting
   * the caller, which `gracefulClose` makes uninterruptible, cannot cut it
   * short either (a timeout racing a child fiber would be interrupted with
   * its parent).
   */
  private readonly closeSequence: Effect.Effect<void> = Effect.async<void>((resume) => {
    const socket = this.socket
    let ended = false
    let finished = false
    const finish = () => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      resume(Effect.void)
    }
    const step = (state: State): boolean => {
      if (finished) return true
      if (state._tag === "Closed") {
        finish()
        return true
      }
      if (state._tag === "Closing" && state.flushed && !ended) {
        ended = true
        if (socket.destroyed) {
          finish()
          return true
        }
        socket.end()
      }
      return false
    }
    const timer = setTimeout(finish, Duration.toMillis(Duration.decode(this.closeTimeout)))
    if (!step(this.state)) (this.watchers ??= []).push(step)
  })

  /** Completes once the connection is Closed. */
  readonly whenClosed: Effect.Effect<void> = Effect.suspend(() =>
    this.awaitState((state) => (state._tag === "Closed" ? Effect.void : undefined))
  )
}

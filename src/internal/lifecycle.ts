/**
 * A connection's life: the `Connection` holds the state of the machine in
 * `machine.ts`, moves it only through `transition` (its `apply` step), and
 * does what entering each new state requires (stop the inbound side, end
 * the queues, end our side of the socket or destroy it, wake whoever waits
 * on the state, let the server release it). Every fact about the
 * connection's life is read from that state.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as fx from "./fx.js"
import type * as Backend from "./backend.js"
import type { Meter } from "./meter.js"
import type { ClosedReason } from "./model.js"
import { Closed } from "./stockingError.js"
import type { Budget } from "./budget.js"
import { resetSocket, type SocketLike } from "./connect.js"
import type { FramingError } from "./framingError.js"
import { Inbound } from "./inbound.js"
import type { Loops } from "./loops.js"
import { Outbound } from "./outbound.js"
import type { PooledReads } from "./reads.js"
import { type Event, HANDSHAKING, isClosing, type State, transition } from "./machine.js"

/** @internal */
export interface Limits {
  readonly maxMessageSize?: number | undefined
  readonly maxBufferedMessages?: number | undefined
  readonly maxBufferedBytes?: number | undefined
  readonly maxQueuedMessages?: number | undefined
  readonly maxQueuedBytes?: number | undefined
  readonly idleTimeout?: fx.DurationInput | undefined
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

const READY: Event = { _tag: "Ready" }
const PEER_ENDED: Event = { _tag: "PeerEnded" }
const FLUSHED: Event = { _tag: "Flushed" }

const EMPTY = new Uint8Array(0)

const isReset = (error: unknown): boolean =>
  typeof error === "object" && error !== null && (error as { readonly code?: unknown }).code === "ECONNRESET"

/** @internal */
export class Connection {
  state: State = HANDSHAKING
  readonly inbound: Inbound
  readonly outbound: Outbound
  // Fibers waiting for a state: each is asked after every transition, and dropped once it says it is done.
  private watchers: Array<Watcher> | undefined = undefined
  // Called once the connection is releasable (see `onReleasable`).
  private releaseHooks: Array<() => void> | undefined = undefined

  constructor(
    readonly id: number,
    readonly socket: SocketLike,
    reads: PooledReads | undefined,
    readonly closeTimeout: fx.DurationInput,
    readonly peer: string,
    limits: Limits,
    private readonly meter: Meter,
    backend: Backend.Backend,
    /** Where the read loop and the send loop run (`loops.ts`). */
    loops: Loops
  ) {
    meter.opened(1)
    this.inbound = new Inbound(
      socket,
      reads,
      {
        maxMessageSize: limits.maxMessageSize,
        maxMessages: limits.maxBufferedMessages ?? DEFAULTS.maxBufferedMessages,
        maxBytes: limits.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes,
        budget: limits.budget
      },
      meter,
      this,
      loops.read,
      (error) => {
        // Refused data: a reset, not an end of stream, so that the peer cannot take it for a clean close.
        resetSocket(socket)
        this.abort(this.closedError("ProtocolError", error))
      },
      (truncated) => this.atPeerEnd(truncated),
      () => this.checkReleasable()
    )
    this.outbound = new Outbound(
      socket,
      limits.maxQueuedMessages ?? DEFAULTS.maxQueuedMessages,
      limits.maxQueuedBytes ?? DEFAULTS.maxQueuedBytes,
      meter,
      limits.budget,
      this,
      loops.send,
      backend,
      () => this.apply(FLUSHED)
    )
    socket.on("end", this.onEnd)
    socket.on("error", this.onError)
    socket.on("close", this.onClose)
    if (limits.idleTimeout !== undefined && socket.setTimeout !== undefined) {
      const idle = fx.decodeDuration(limits.idleTimeout)
      socket.setTimeout(Duration.toMillis(idle))
      socket.on("timeout", () =>
        this.abort(this.closedError("IdleTimeout", `nothing sent or received for ${Duration.format(idle)}`))
      )
    }
  }

  // -- the machine ------------------------------------------------------------

  /**
   * Applies `event`; does what entering the new state requires. Returns
   * whether the state changed. What may apply another event (the backend
   * told to flush at a close, which reports `Flushed`; the release hooks)
   * comes last, once this step is done.
   */
  private apply(event: Event): boolean {
    const from = this.state
    const to = transition(from, event)
    if (to === undefined) return false
    this.state = to
    const leaving = !isClosing(from) && isClosing(to)
    if (leaving) {
      // Leaving service: reads drain what arrived, then fail; writes fail at once.
      this.meter.opened(-1)
      this.inbound.stop(to.reason)
      this.outbound.stop(to.reason)
    }
    if (to._tag === "Closed" && from._tag !== "Closed") {
      // Over: whatever is still queued to send is dropped, and the socket goes if it has not.
      this.outbound.abort(to.reason)
      this.socket.destroy()
    }
    if (to._tag === "Closing" && to.flushed && !(from._tag === "Closing" && from.flushed)) {
      // Everything queued went to the socket: end our side (after those bytes), and wait for the peer's.
      if (!this.socket.destroyed) this.socket.end()
    }
    if (event._tag === "PeerEnded") this.inbound.peerEnded()
    const watchers = this.watchers
    if (watchers !== undefined) {
      this.watchers = undefined
      const kept = watchers.filter((watch) => !watch(to))
      if (kept.length > 0) this.watchers = this.watchers === undefined ? kept : kept.concat(this.watchers)
    }
    if (leaving && to._tag === "Closing") this.outbound.close()
    if (to._tag === "Closed") this.checkReleasable()
    return true
  }

  /** Waits until `check` gives an Effect for the state (checked now, and after each transition). */
  awaitState<A, E>(check: (state: State) => Effect.Effect<A, E> | undefined): Effect.Effect<A, E> {
    return fx.async<A, E>((resume) => {
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
    return this.apply(READY)
  }

  /** Closes at once: drops what is queued and destroys the socket. `byUser`: its user aborted it. */
  abort(reason: Closed, byUser = false): void {
    this.apply({ _tag: "Close", reason, graceful: false, byUser })
    // Already closed: make sure the socket is gone all the same.
    this.socket.destroy()
  }

  closedError(reason: ClosedReason, cause?: unknown): Closed {
    return cause === undefined
      ? new Closed({ reason, stockingId: this.id })
      : new Closed({ reason, stockingId: this.id, cause })
  }

  // -- socket events ----------------------------------------------------------

  private readonly onEnd = (): void => {
    this.apply(PEER_ENDED)
  }

  private readonly onError = (cause: Error): void => {
    this.abort(this.closedError("SocketError", cause))
  }

  private readonly onClose = (): void => {
    // A close with no end of stream before it and no error: the peer went away abruptly.
    const state = this.state
    const reason =
      (state._tag === "Handshaking" || state._tag === "Open") && !state.peerEnded
        ? this.closedError("ClosedByPeer", "connection closed without an end of stream")
        : this.closedError("ClosedByPeer")
    this.apply({ _tag: "SocketClosed", reason })
  }

  /** Lets the socket go: no more events from it reach this connection, and nothing is charged to a budget. */
  detach(): void {
    this.inbound.detach()
    this.outbound.detach()
    this.socket.off("end", this.onEnd)
    this.socket.off("close", this.onClose)
    // The error listener stays: a late error on a destroyed socket must not crash the process.
  }

  // -- the peer's end ---------------------------------------------------------

  /**
   * The read loop has decoded everything before the peer's end: close,
   * gracefully, unless the end was a reset (see `probeReset`).
   */
  private atPeerEnd(truncated: FramingError | undefined): Effect.Effect<void> {
    const clean = this.closedError("ClosedByPeer", truncated)
    return Effect.flatMap(this.probeReset(clean), (reset) =>
      reset === undefined
        ? this.gracefulClose(clean)
        : Effect.sync(() => this.abort(this.closedError("SocketError", reset)))
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
   *
   * Any other failure means the peer has gone after a clean end: the
   * connection is closed at once, with `clean`, from the write's callback,
   * which Node calls before the socket reports the same error, so that the
   * error finds it closed and is not taken for the socket failing.
   */
  private probeReset(clean: Closed): Effect.Effect<Error | undefined> {
    return fx.async<Error | undefined>((resume) => {
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
        if (error !== undefined && error !== null) this.abort(clean)
        resume(Effect.succeed(undefined))
      })
    })
  }

  // -- releasing --------------------------------------------------------------

  /**
   * Whether nothing of this connection is still wanted: it is Closed, and
   * its user let it go or its readers have taken everything it received.
   */
  private get releasable(): boolean {
    const state = this.state
    return state._tag === "Closed" && (state.letGo || this.inbound.queue.size === 0)
  }

  /**
   * Calls `f` once when the connection is releasable (at once if it is).
   * For the server, which then releases the connection's scope without a
   * fiber waiting on each.
   */
  onReleasable(f: () => void): void {
    if (this.releasable) return f()
    ;(this.releaseHooks ??= []).push(f)
  }

  /** Calls the release hooks if the connection has become releasable (after a transition, or a take). */
  private checkReleasable(): void {
    const hooks = this.releaseHooks
    if (hooks === undefined || !this.releasable) return
    this.releaseHooks = undefined
    for (const f of hooks) f()
  }

  // -- closing ----------------------------------------------------------------

  /** The user closes the connection: gracefully, and it may be let go once Closed, whatever is unread. */
  close(): Effect.Effect<void> {
    return this.gracefulClose(this.closedError("ClosedLocally"), true)
  }

  /**
   * The graceful close: stop accepting writes, let the backend flush what
   * is queued, end our side (the machine's `Flushed`), and wait for the
   * peer to end its side; all within `closeTimeout`, after which the socket
   * is destroyed regardless. The first caller runs it; later callers wait
   * for it.
   */
  gracefulClose(reason: Closed, byUser = false): Effect.Effect<void> {
    return Effect.uninterruptible(
      Effect.suspend(() => {
        const live = !isClosing(this.state)
        this.apply({ _tag: "Close", reason, graceful: true, byUser })
        if (!live) return this.whenClosed
        const closing = this.state as Extract<State, { _tag: "Closing" | "Closed" }>
        return Effect.ensuring(
          Effect.withSpan(this.closeSequence, "stocking.close", {
            attributes: { "stocking.id": this.id, "stocking.reason": closing.reason.reason, "net.peer": this.peer },
            captureStackTrace: false
          }),
          Effect.sync(() => {
            this.socket.destroy()
            this.apply({ _tag: "SocketClosed", reason: closing.reason })
          })
        )
      })
    )
  }

  /**
   * The rest of the close sequence, as one wait on the state with its own
   * timer: done once the socket has closed (or `closeTimeout` has passed).
   * No fiber of its own, so interrupting the caller, which `gracefulClose`
   * makes uninterruptible, cannot cut it short either (a timeout racing a
   * child fiber would be interrupted with its parent).
   */
  private readonly closeSequence: Effect.Effect<void> = fx.async<void>((resume) => {
    const timer = setTimeout(() => resume(Effect.void), Duration.toMillis(fx.decodeDuration(this.closeTimeout)))
    const closed = (state: State): boolean => {
      if (state._tag !== "Closed") return false
      clearTimeout(timer)
      resume(Effect.void)
      return true
    }
    if (!closed(this.state)) (this.watchers ??= []).push(closed)
  })

  /** Completes once the connection is Closed. */
  readonly whenClosed: Effect.Effect<void> = Effect.suspend(() =>
    this.awaitState((state) => (state._tag === "Closed" ? Effect.void : undefined))
  )
}

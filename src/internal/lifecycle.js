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
import * as Metrics from "./metrics.js"
import { Closed } from "./stockingError.js"
import { resetSocket } from "./connect.js"
import { Inbound } from "./inbound.js"
import { Outbound } from "./outbound.js"
import { HANDSHAKING, isClosing, transition } from "./machine.js"
const DEFAULTS = {
  maxBufferedMessages: 4096,
  maxBufferedBytes: 32 * 1024 * 1024,
  maxQueuedMessages: 4096,
  maxQueuedBytes: 8 * 1024 * 1024
}
const READY = { _tag: "Ready" }
const PEER_ENDED = { _tag: "PeerEnded" }
const FLUSHED = { _tag: "Flushed" }
const EMPTY = new Uint8Array(0)
const isReset = (error) => typeof error === "object" && error !== null && error.code === "ECONNRESET"
/** @internal */
export class Connection {
  id
  socket
  closeTimeout
  peer
  state = HANDSHAKING
  inbound
  outbound
  labels
  // Fibers waiting for a state: each is asked after every transition, and dropped once it says it is done.
  watchers = undefined
  // Called once the connection is releasable (see `onReleasable`).
  releaseHooks = undefined
  constructor(
    id,
    socket,
    reads,
    closeTimeout,
    peer,
    limits,
    role,
    backend,
    /** Where the read loop and the send loop run (`loops.ts`). */
    loops
  ) {
    this.id = id
    this.socket = socket
    this.closeTimeout = closeTimeout
    this.peer = peer
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
      this.labels,
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
      const idle = Duration.decode(limits.idleTimeout)
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
  apply(event) {
    const from = this.state
    const to = transition(from, event)
    if (to === undefined) return false
    this.state = to
    const leaving = !isClosing(from) && isClosing(to)
    if (leaving) {
      // Leaving service: reads drain what arrived, then fail; writes fail at once.
      Metrics.connectionsOpen.unsafeModify(-1, this.labels)
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
  awaitState(check) {
    return Effect.async((resume) => {
      const now = check(this.state)
      if (now !== undefined) return resume(now)
      const watch = (state) => {
        const result = check(state)
        if (result === undefined) return false
        resume(result)
        return true
      }
      ;(this.watchers ??= []).push(watch)
      return Effect.sync(() => {
        const watchers = this.watchers
        const index = watchers === undefined ? -1 : watchers.indexOf(watch)
        if (index >= 0) watchers.splice(index, 1)
      })
    })
  }
  get isOpen() {
    return this.state._tag === "Open"
  }
  /** The reason it closed, once closing. */
  get closedWith() {
    const state = this.state
    return state._tag === "Closing" || state._tag === "Closed" ? state.reason : undefined
  }
  /** Whether the handshake completed (before any close). */
  get opened() {
    const state = this.state
    return state._tag === "Open" || ((state._tag === "Closing" || state._tag === "Closed") && state.opened)
  }
  ready() {
    return this.apply(READY)
  }
  /** Closes at once: drops what is queued and destroys the socket. `byUser`: its user aborted it. */
  abort(reason, byUser = false) {
    this.apply({ _tag: "Close", reason, graceful: false, byUser })
    // Already closed: make sure the socket is gone all the same.
    this.socket.destroy()
  }
  closedError(reason, cause) {
    return cause === undefined
      ? new Closed({ reason, stockingId: this.id })
      : new Closed({ reason, stockingId: this.id, cause })
  }
  // -- socket events ----------------------------------------------------------
  onEnd = () => {
    this.apply(PEER_ENDED)
  }
  onError = (cause) => {
    this.abort(this.closedError("SocketError", cause))
  }
  onClose = () => {
    // A close with no end of stream before it and no error: the peer went away abruptly.
    const state = this.state
    const reason =
      (state._tag === "Handshaking" || state._tag === "Open") && !state.peerEnded
        ? this.closedError("ClosedByPeer", "connection closed without an end of stream")
        : this.closedError("ClosedByPeer")
    this.apply({ _tag: "SocketClosed", reason })
  }
  /** Lets the socket go: no more events from it reach this connection, and nothing is charged to a budget. */
  detach() {
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
  atPeerEnd(truncated) {
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
  probeReset(clean) {
    return Effect.async((resume) => {
      const socket = this.socket
      if (socket.destroyed || !socket.writable || socket.writableLength > 0 || socket.encrypted === true) {
        return resume(Effect.succeed(undefined))
      }
      socket.write(EMPTY, (error) => {
        if (isReset(error)) return resume(Effect.succeed(error))
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
  get releasable() {
    const state = this.state
    return state._tag === "Closed" && (state.letGo || this.inbound.queue.size === 0)
  }
  /**
   * Calls `f` once when the connection is releasable (at once if it is).
   * For the server, which then releases the connection's scope without a
   * fiber waiting on each.
   */
  onReleasable(f) {
    if (this.releasable) return f()
    ;(this.releaseHooks ??= []).push(f)
  }
  /** Calls the release hooks if the connection has become releasable (after a transition, or a take). */
  checkReleasable() {
    const hooks = this.releaseHooks
    if (hooks === undefined || !this.releasable) return
    this.releaseHooks = undefined
    for (const f of hooks) f()
  }
  // -- closing ----------------------------------------------------------------
  /** The user closes the connection: gracefully, and it may be let go once Closed, whatever is unread. */
  close() {
    return this.gracefulClose(this.closedError("ClosedLocally"), true)
  }
  /**
   * The graceful close: stop accepting writes, let the backend flush what
   * is queued, end our side (the machine's `Flushed`), and wait for the
   * peer to end its side; all within `closeTimeout`, after which the socket
   * is destroyed regardless. The first caller runs it; later callers wait
   * for it.
   */
  gracefulClose(reason, byUser = false) {
    return Effect.uninterruptible(
      Effect.suspend(() => {
        const live = !isClosing(this.state)
        this.apply({ _tag: "Close", reason, graceful: true, byUser })
        if (!live) return this.whenClosed
        const closing = this.state
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
   * The rest of the close sequence, as one wait on the state with its own
   * timer: done once the socket has closed (or `closeTimeout` has passed).
   * No fiber of its own, so interrupting the caller, which `gracefulClose`
   * makes uninterruptible, cannot cut it short either (a timeout racing a
   * child fiber would be interrupted with its parent).
   */
  closeSequence = Effect.async((resume) => {
    const timer = setTimeout(() => resume(Effect.void), Duration.toMillis(Duration.decode(this.closeTimeout)))
    const closed = (state) => {
      if (state._tag !== "Closed") return false
      clearTimeout(timer)
      resume(Effect.void)
      return true
    }
    if (!closed(this.state)) (this.watchers ??= []).push(closed)
  })
  /** Completes once the connection is Closed. */
  whenClosed = Effect.suspend(() => this.awaitState((state) => (state._tag === "Closed" ? Effect.void : undefined)))
}

/**
 * The errors a Stocking fails with: `NotReady`, `Closed` (and why, its
 * `ClosedReason`), `ConnectError`, and their union `StockingError`. The
 * `Stocking` module re-exports each of them.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import type { FramingError } from "./Framing.js"

/**
 * `read`, `take` or `write` was called before the handshake completed (the
 * original's `Stockings.NotReady`). Wait on `ready` first.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotReady extends Data.TaggedError("NotReady")<{
  readonly stockingId: number
  readonly operation: "read" | "write"
}> {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `Stocking ${this.stockingId}: ${this.operation} before the handshake completed; wait on \`ready\` first`
  }
}

/**
 * Why a Stocking is closed.
 *
 * - `ClosedLocally`: `close`, `abort` or the end of its scope, on this side.
 * - `ClosedByPeer`: the peer ended the connection. If it ended in the middle
 *   of a message, `cause` is the `FramingError` (`Truncated`) saying how much
 *   had arrived.
 * - `SocketError`: the socket failed (reset, timeout, ...); `cause` is the
 *   error.
 * - `HandshakeFailed`: the handshake returned `false`, failed or timed out;
 *   `cause` says which.
 * - `ProtocolError`: the peer broke the wire format; `cause` is the
 *   `FramingError`.
 * - `IdleTimeout`: nothing moved for `idleTimeout`.
 *
 * @since 0.1.0
 * @category errors
 */
export type ClosedReason =
  "ClosedLocally" | "ClosedByPeer" | "SocketError" | "HandshakeFailed" | "ProtocolError" | "IdleTimeout"

/**
 * The Stocking is closed, or closed while the operation waited. Messages
 * that arrived whole before the close are still delivered by `read`,
 * `take` and `messages`; after them, reads fail with this.
 *
 * It carries no stack trace (`stack` is its first line only): every
 * connection makes one or more when it closes, and where that happens (a
 * socket event, a finalizer) says nothing the `reason` and `cause` do not,
 * while capturing a trace costs more than the rest of the error.
 *
 * @since 0.1.0
 * @category errors
 */
export class Closed extends Data.TaggedError("Closed")<{
  readonly reason: ClosedReason
  readonly stockingId: number
  readonly cause?: unknown
}> {
  constructor(args: { readonly reason: ClosedReason; readonly stockingId: number; readonly cause?: unknown }) {
    if (!canSetStackTraceLimit) {
      super(args)
      return
    }
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    try {
      super(args)
    } finally {
      Error.stackTraceLimit = limit
    }
  }

  /**
   * @since 0.1.0
   */
  override get message(): string {
    const cause = describeCause(this.cause)
    const suffix = cause === undefined ? "" : `: ${cause}`
    switch (this.reason) {
      case "ClosedLocally":
        return `Stocking ${this.stockingId} was closed on this side${suffix}`
      case "ClosedByPeer":
        return `Stocking ${this.stockingId} was closed by the peer${suffix}`
      case "SocketError":
        return `Stocking ${this.stockingId} closed on a socket error${suffix}`
      case "HandshakeFailed":
        return `Stocking ${this.stockingId} closed because the handshake failed${suffix}`
      case "ProtocolError":
        return `Stocking ${this.stockingId} closed on a protocol error${suffix}`
      case "IdleTimeout":
        return `Stocking ${this.stockingId} closed after being idle${suffix}`
    }
  }
}

/** Whether `Error.stackTraceLimit` may be changed (not where `Error` is frozen). */
const canSetStackTraceLimit: boolean = (() => {
  const descriptor = Object.getOwnPropertyDescriptor(Error, "stackTraceLimit")
  return descriptor === undefined
    ? Object.isExtensible(Error)
    : descriptor.writable === true || descriptor.set !== undefined
})()

const describeCause = (cause: unknown): string | undefined => {
  if (cause === undefined) return undefined
  if (cause instanceof Error) return cause.message
  if (typeof cause === "string") return cause
  try {
    return JSON.stringify(cause)
  } catch {
    return String(cause)
  }
}

/**
 * Connecting failed: the address refused or was unreachable (`Failed`), did
 * not answer within `connectTimeout` (`Timeout`), or the TLS handshake failed,
 * for instance an unknown CA, a certificate for another host, or a server
 * that closed the connection during the handshake (`Tls`); after every retry
 * the `retry` schedule allowed. `NotConnected`: the socket given to `make`
 * was already destroyed. `PathTooLong`: a Unix socket path longer than the
 * platform takes (107 bytes on Linux, 103 on macOS), refused before trying
 * (Node would cut it short and connect elsewhere); the message gives both
 * lengths. For a Unix socket path, a `Failed` message says what was there
 * instead of a listening server: no file, no directory, a stale socket file.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConnectError extends Data.TaggedError("ConnectError")<{
  readonly reason: "Failed" | "Timeout" | "Tls" | "NotConnected" | "PathTooLong"
  /** The address tried, as `host:port` or a socket path. */
  readonly address: string
  readonly cause?: unknown
}> {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    switch (this.reason) {
      case "Failed":
      case "PathTooLong":
        return `could not connect to ${this.address}: ${describeCause(this.cause) ?? "unknown error"}`
      case "Timeout":
        return `could not connect to ${this.address}: no answer within the connect timeout`
      case "Tls":
        return `TLS with ${this.address} failed: ${describeCause(this.cause) ?? "unknown error"}`
      case "NotConnected":
        return `the socket given to the Stocking is not connected (${describeCause(this.cause) ?? "destroyed"})`
    }
  }
}

/**
 * Every error a Stocking's operations can fail with, besides the codec's own.
 *
 * @since 0.1.0
 * @category errors
 */
export type StockingError = NotReady | Closed | ConnectError | FramingError

/**
 * The errors a Stocking fails with: `NotReady`, `Closed` (and why, its
 * `ClosedReason`), `ConnectError`, and their union `StockingError`. The
 * `Stocking` module re-exports each of them.
 *
 * @since 0.1.0
 */
import type { FramingError } from "./Framing.js"
import * as internal from "./internal/stockingError.js"

/**
 * `read`, `take` or `write` was called before the handshake completed (the
 * original's `Stockings.NotReady`). Wait on `ready` first.
 *
 * @since 0.1.0
 * @category errors
 */
export const NotReady: typeof internal.NotReady = internal.NotReady

/**
 * The type of a `NotReady` error.
 *
 * @since 0.1.0
 * @category errors
 */
export type NotReady = internal.NotReady

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
export const Closed: typeof internal.Closed = internal.Closed

/**
 * The type of a `Closed` error.
 *
 * @since 0.1.0
 * @category errors
 */
export type Closed = internal.Closed

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
export const ConnectError: typeof internal.ConnectError = internal.ConnectError

/**
 * The type of a `ConnectError` error.
 *
 * @since 0.1.0
 * @category errors
 */
export type ConnectError = internal.ConnectError

/**
 * Every error a Stocking's operations can fail with, besides the codec's own.
 *
 * @since 0.1.0
 * @category errors
 */
export type StockingError = NotReady | Closed | ConnectError | FramingError

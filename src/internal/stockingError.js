/**
 * The errors a Stocking fails with (`NotReady`, `Closed`, `ConnectError`),
 * declared here so that the modules that make them import no public module.
 * The `Stocking` module re-exports them, with their documentation.
 *
 * @internal
 */
import * as Data from "effect/Data"
/** `Stocking.NotReady`. @internal */
export class NotReady extends Data.TaggedError("NotReady") {
  /**
   * @since 0.1.0
   */
  get message() {
    return `Stocking ${this.stockingId}: ${this.operation} before the handshake completed; wait on \`ready\` first`
  }
}
/** `Stocking.Closed`. @internal */
export class Closed extends Data.TaggedError("Closed") {
  constructor(args) {
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
   * True for the ordinary end of a connection: closed on this side, or by
   * the peer ending its stream between messages. `messages`, `forEach` and
   * `forEachChunk` end quietly on such a close, and fail with any other.
   *
   * @since 0.1.0
   */
  get isClean() {
    return this.reason === "ClosedLocally" || (this.reason === "ClosedByPeer" && this.cause === undefined)
  }
  /**
   * @since 0.1.0
   */
  get message() {
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
const canSetStackTraceLimit = (() => {
  const descriptor = Object.getOwnPropertyDescriptor(Error, "stackTraceLimit")
  return descriptor === undefined
    ? Object.isExtensible(Error)
    : descriptor.writable === true || descriptor.set !== undefined
})()
const describeCause = (cause) => {
  if (cause === undefined) return undefined
  if (cause instanceof Error) return cause.message
  if (typeof cause === "string") return cause
  try {
    return JSON.stringify(cause)
  } catch {
    return String(cause)
  }
}
/** `Stocking.ConnectError`. @internal */
export class ConnectError extends Data.TaggedError("ConnectError") {
  /**
   * @since 0.1.0
   */
  get message() {
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

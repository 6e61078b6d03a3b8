/**
 * The errors a Stocking fails with (`NotReady`, `Closed`, `ConnectError`),
 * declared here so that the modules that make them import no public module.
 * The `Stocking` module re-exports them, with their documentation.
 *
 * @internal
 */
import * as Data from "effect/Data"
import type { ClosedReason } from "./model.js"

/** `Stocking.NotReady`. @internal */
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

/** `Stocking.Closed`. @internal */
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
   * True for the ordinary end of a connection: closed on this side, or by
   * the peer ending its stream between messages. `messages`, `forEach` and
   * `forEachChunk` end quietly on such a close, and fail with any other.
   *
   * @since 0.1.0
   */
  get isClean(): boolean {
    return this.reason === "ClosedLocally" || (this.reason === "ClosedByPeer" && this.cause === undefined)
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

/** `Stocking.ConnectError`. @internal */
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

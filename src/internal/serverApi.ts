/**
 * The `Server` module as internal code uses it: its error and the defaults
 * of its limits declared here, and its types re-exported, so that internal
 * modules import this one as `Server` and never the public module (which
 * imports them: an import cycle). The `Server` module re-exports these
 * values, with their documentation.
 *
 * @internal
 */
import * as Data from "effect/Data"
import type * as Public from "../Server.js"

/** `Server.ListenTarget`. @internal */
export type ListenTarget = Public.ListenTarget

/** `Server.Options`. @internal */
export type Options<I, O, E, EH, RH> = Public.Options<I, O, E, EH, RH>

/** `Server.Server`. @internal */
export type Server<I, O, E> = Public.Server<I, O, E>

/** `Server.ServerError`. @internal */
export class ServerError extends Data.TaggedError("ServerError")<{
  readonly reason: "Listen" | "AddressInUse" | "StaleSocket" | "NotASocket" | "NoDirectory" | "PathTooLong"
  /** The address asked for, as `host:port` or a socket path. */
  readonly address: string
  readonly cause: unknown
}> {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    const cause = this.cause instanceof Error ? this.cause.message : String(this.cause)
    return `could not listen on ${this.address}: ${cause}`
  }
}

/** `Server.DEFAULT_MAX_CONNECTIONS`. @internal */
export const DEFAULT_MAX_CONNECTIONS = 10_000

/** `Server.DEFAULT_MAX_TOTAL_BYTES`. @internal */
export const DEFAULT_MAX_TOTAL_BYTES = 512 * 1024 * 1024

/** `Server.CONNECTION_ALLOWANCE`. @internal */
export const CONNECTION_ALLOWANCE = 16 * 1024

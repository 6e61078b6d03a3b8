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
/** `Server.ServerError`. @internal */
export class ServerError extends Data.TaggedError("ServerError") {
  /**
   * @since 0.1.0
   */
  get message() {
    const cause = this.cause instanceof Error ? this.cause.message : String(this.cause)
    return `could not listen on ${this.address}: ${cause}`
  }
}
/** `Server.DEFAULT_MAX_CONNECTIONS`. @internal */
export const DEFAULT_MAX_CONNECTIONS = 10000
/** `Server.DEFAULT_MAX_TOTAL_BYTES`. @internal */
export const DEFAULT_MAX_TOTAL_BYTES = 512 * 1024 * 1024
/** `Server.CONNECTION_ALLOWANCE`. @internal */
export const CONNECTION_ALLOWANCE = 16 * 1024

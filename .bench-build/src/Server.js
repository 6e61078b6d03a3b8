/**
 * A Stocking server: listens on a TCP port or a Unix socket path and wraps
 * every accepted connection in a Stocking with the same settings (codec,
 * handshake, limits, backend). Closing the server's scope stops listening
 * and closes every connection.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data";
import * as internal from "./internal/server.js";
/**
 * Listening failed (port in use, no permission, bad path, ...).
 *
 * @since 0.1.0
 * @category errors
 */
export class ServerError extends Data.TaggedError("ServerError") {
    /**
     * @since 0.1.0
     */
    get message() {
        const cause = this.cause instanceof Error ? this.cause.message : String(this.cause);
        return `could not listen on ${this.address}: ${cause}`;
    }
}
/**
 * Starts a server in the current scope; it listens once this succeeds.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Server } from "effect-stockings/node"
 *
 * // An echo server on a free port.
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const server = yield* Server.make({ port: 0 })
 *     yield* server.serve((stocking) => stocking.messages.pipe(Stream.runForEach(stocking.write)))
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = internal.make;
//# sourceMappingURL=Server.js.map
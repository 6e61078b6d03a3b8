/**
 * A Stocking wraps a connected socket so that each side writes and reads
 * whole messages. It is a scoped resource: acquiring one takes over the
 * socket and forks its read loop, its send loop and the handshake into the
 * scope; closing the scope flushes what was written, ends the connection and
 * releases the socket and every fiber.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context";
import * as Data from "effect/Data";
import * as Layer from "effect/Layer";
import * as internal from "./internal/stocking.js";
/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId = internal.TypeId;
// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------
/**
 * `read`, `take` or `write` was called before the handshake completed (the
 * original's `Stockings.NotReady`). Wait on `ready` first.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotReady extends Data.TaggedError("NotReady") {
    /**
     * @since 0.1.0
     */
    get message() {
        return `Stocking ${this.stockingId}: ${this.operation} before the handshake completed; wait on \`ready\` first`;
    }
}
/**
 * The Stocking is closed, or closed while the operation waited. Messages
 * that arrived whole before the close are still delivered by `read`,
 * `take` and `messages`; after them, reads fail with this.
 *
 * @since 0.1.0
 * @category errors
 */
export class Closed extends Data.TaggedError("Closed") {
    /**
     * @since 0.1.0
     */
    get message() {
        const cause = describeCause(this.cause);
        const suffix = cause === undefined ? "" : `: ${cause}`;
        switch (this.reason) {
            case "ClosedLocally":
                return `Stocking ${this.stockingId} was closed on this side${suffix}`;
            case "ClosedByPeer":
                return `Stocking ${this.stockingId} was closed by the peer${suffix}`;
            case "SocketError":
                return `Stocking ${this.stockingId} closed on a socket error${suffix}`;
            case "HandshakeFailed":
                return `Stocking ${this.stockingId} closed because the handshake failed${suffix}`;
            case "ProtocolError":
                return `Stocking ${this.stockingId} closed on a protocol error${suffix}`;
            case "IdleTimeout":
                return `Stocking ${this.stockingId} closed after being idle${suffix}`;
        }
    }
}
const describeCause = (cause) => {
    if (cause === undefined)
        return undefined;
    if (cause instanceof Error)
        return cause.message;
    if (typeof cause === "string")
        return cause;
    try {
        return JSON.stringify(cause);
    }
    catch {
        return String(cause);
    }
};
/**
 * Connecting failed: the address refused or was unreachable (`Failed`), did
 * not answer within `connectTimeout` (`Timeout`), or the TLS handshake failed,
 * for instance an unknown CA or a certificate for another host (`Tls`); after
 * every retry the `retry` schedule allowed. `NotConnected`: the socket given
 * to `make` was already destroyed.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConnectError extends Data.TaggedError("ConnectError") {
    /**
     * @since 0.1.0
     */
    get message() {
        switch (this.reason) {
            case "Failed":
                return `could not connect to ${this.address}: ${describeCause(this.cause) ?? "unknown error"}`;
            case "Timeout":
                return `could not connect to ${this.address}: no answer within the connect timeout`;
            case "Tls":
                return `TLS with ${this.address} failed: ${describeCause(this.cause) ?? "unknown error"}`;
            case "NotConnected":
                return `the socket given to the Stocking is not connected (${describeCause(this.cause) ?? "destroyed"})`;
        }
    }
}
/**
 * The Stocking service, for programs that get their connection from a
 * Layer (see `layer`).
 *
 * @since 0.1.0
 * @category tags
 */
export const Stocking = Context.GenericTag("effect-stockings/Stocking");
/**
 * Tells whether a value is a `Stocking`.
 *
 * @since 0.1.0
 * @category refinements
 */
export const isStocking = (u) => typeof u === "object" && u !== null && TypeId in u;
// ---------------------------------------------------------------------------
// Constructors
// ---------------------------------------------------------------------------
/**
 * Makes a Stocking in the current scope: connects (or takes over the given
 * socket, turning no-delay on), then forks the read loop, the send loop and
 * the handshake. Does not wait for the handshake: use `ready`.
 *
 * The send loop is the `Backend` in context, or `Auto`'s choice.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Stocking } from "effect-stockings/node"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const stocking = yield* Stocking.make({ host: "127.0.0.1", port: 1234 })
 *     yield* stocking.write("Test Message")
 *     const reply = yield* stocking.take
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = internal.make;
/**
 * A Layer providing the `Stocking` service (identity codec): the connection
 * lives as long as the Layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options) => Layer.scoped(Stocking, make(options));
/**
 * A Layer providing a Stocking with a typed codec under your own tag.
 *
 * @example
 * ```ts
 * import { Context, Schema } from "effect"
 * import type { ParseResult } from "effect"
 * import { Codec } from "effect-stockings"
 * import { Stocking } from "effect-stockings/node"
 *
 * const Status = Schema.Struct({ user: Schema.String, status: Schema.String })
 * class StatusLink extends Context.Tag("StatusLink")<
 *   StatusLink,
 *   Stocking.Stocking<typeof Status.Type, typeof Status.Type, ParseResult.ParseError>
 * >() {}
 *
 * const StatusLinkLive = Stocking.layerAs(StatusLink, { port: 1234, codec: Codec.json(Status) })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerAs = (tag, options) => Layer.scoped(tag, make(options));
//# sourceMappingURL=Stocking.js.map
/**
 * A Stocking server: listens on a TCP port or a Unix socket path and wraps
 * every accepted connection in a Stocking with the same settings (codec,
 * handshake, limits, backend). Closing the server's scope stops listening
 * and closes every connection.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type { Message } from "./Framing.js"
import * as internal from "./internal/server.js"
import type * as Stocking from "./Stocking.js"

/**
 * Listening failed (port in use, no permission, bad path, ...).
 *
 * @since 0.1.0
 * @category errors
 */
export class ServerError extends Data.TaggedError("ServerError")<{
  readonly reason: "Listen"
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

/**
 * Where to listen: a TCP port (0 picks a free one; read it from `address`)
 * on `host` (default `127.0.0.1`), or a Unix socket path.
 *
 * `backlog` is how many connections the kernel may hold for the server
 * before it accepts them (`listen(2)`); default `DEFAULT_BACKLOG`, 4096.
 * Past it, the kernel drops new connection attempts, and clients wait for
 * their retransmissions (1 s, then 3 s, ...). The kernel caps it silently
 * (on Linux at `net.core.somaxconn`, 4096 by default since 5.4).
 *
 * @since 0.1.0
 * @category options
 */
export type ListenTarget =
  | { readonly port: number; readonly host?: string | undefined; readonly backlog?: number | undefined }
  | { readonly path: string; readonly backlog?: number | undefined }

/**
 * The listen backlog used when `backlog` is not given: 4096 (Node's own
 * default is 511, too few for a burst of connections).
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_BACKLOG: number = internal.DEFAULT_BACKLOG

/**
 * The TLS handshake limit used when `tlsHandshakeTimeout` is not given: 5
 * seconds.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_TLS_HANDSHAKE_TIMEOUT: Duration.Duration = internal.DEFAULT_TLS_HANDSHAKE_TIMEOUT

/**
 * The address a server is bound to.
 *
 * @since 0.1.0
 * @category models
 */
export type BoundAddress =
  | { readonly _tag: "Tcp"; readonly address: string; readonly port: number; readonly family: string }
  | { readonly _tag: "Unix"; readonly path: string }

/**
 * A listening server.
 *
 * @since 0.1.0
 * @category models
 */
export interface Server<I = Message, O = Message, E = never> {
  /** Where it listens; for port 0, the port the OS picked. */
  readonly address: BoundAddress
  /**
   * Accepted connections, each delivered once its handshake has succeeded
   * (a connection that fails the handshake is closed and never delivered).
   * Each lives in its own scope inside the server's: it is released when it
   * closes, or when the server's scope closes. One consumer: every
   * connection is delivered once.
   */
  readonly connections: Stream.Stream<Stocking.Stocking<I, O, E>>
  /**
   * Runs `handler` for every connection, each in its own fiber, and closes
   * the connection when its handler ends. A handler's failure closes its
   * connection and is logged at warning level; the server goes on. Runs
   * until interrupted.
   */
  readonly serve: <X, R>(
    handler: (stocking: Stocking.Stocking<I, O, E>) => Effect.Effect<void, X, R>
  ) => Effect.Effect<never, never, R>
}

/**
 * Options for `make`: where to listen, plus the settings every accepted
 * Stocking gets.
 *
 * @since 0.1.0
 * @category options
 */
export type Options<I = Message, O = Message, E = never, EH = never, RH = never> = ListenTarget &
  Omit<Stocking.Settings<I, O, E, EH, RH>, "connectTimeout" | "retry" | "tls"> & {
    /**
     * Serve over TLS (`node:tls`): at least `cert` and `key`; `ca` with
     * `requestCert: true` asks clients for certificates and verifies them.
     */
    readonly tls?: TlsOptions | undefined
    /**
     * With `tls`: a peer whose TLS handshake has not finished this long after
     * it connected is disconnected, whatever it sent (nothing, half a
     * ClientHello, ...); it never becomes a connection. Default
     * `DEFAULT_TLS_HANDSHAKE_TIMEOUT` (5 seconds), or `tls.handshakeTimeout`
     * (milliseconds) when that is given; a shorter `handshakeTimeout` bounds
     * the TLS handshake as well (it also bounds the Stocking handshake that
     * follows).
     */
    readonly tlsHandshakeTimeout?: Duration.DurationInput | undefined
    /**
     * The most connections open at once, counting those still in their TLS
     * or Stocking handshake. A connection beyond it is refused: closed as
     * soon as it is accepted, before any handshake or allocation, so the
     * peer sees its connection closed with nothing received. Existing
     * connections are not affected; once one closes, a new one is accepted
     * again. Default: no limit (see the README's Threat model for what each
     * connection may cost).
     */
    readonly maxConnections?: number | undefined
  }

/**
 * TLS server options, passed to `tls.createServer`.
 *
 * @since 0.1.0
 * @category options
 */
export type TlsOptions = import("node:tls").TlsOptions

/**
 * Starts a server in the current scope; it listens once this succeeds.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
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
export const make: <I = Message, O = Message, E = never, EH = never, RH = never>(
  options: Options<I, O, E, EH, RH>
) => Effect.Effect<Server<I, O, E>, ServerError, Scope.Scope | RH> = internal.make

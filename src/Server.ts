/**
 * A Stocking server: listens on a TCP port or a Unix socket path and wraps
 * every accepted connection in a Stocking with the same settings (codec,
 * handshake, limits, backend). Closing the server's scope stops listening
 * and closes every connection.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
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
 * @since 0.1.0
 * @category options
 */
export type ListenTarget =
  | { readonly port: number; readonly host?: string | undefined; readonly backlog?: number | undefined }
  | { readonly path: string; readonly backlog?: number | undefined }

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
     * The most connections served at once (default `DEFAULT_MAX_CONNECTIONS`).
     * Past it, new connections are closed as they are accepted (their peers
     * see the connection closed without a message); existing ones are not
     * affected.
     */
    readonly maxConnections?: number | undefined
    /**
     * The bytes all connections together may hold beyond a small allowance
     * each (`CONNECTION_ALLOWANCE`): partial inbound messages, inbound and
     * outbound queues, unsent socket bytes past the high-water mark (default
     * `DEFAULT_MAX_TOTAL_BYTES`). Once spent, a connection holding more than
     * its allowance waits: its reads pause and its writers suspend until
     * others release bytes. Connections exchanging small messages keep
     * working. Set `idleTimeout` too, so that peers parked this way are let
     * go.
     */
    readonly maxTotalBytes?: number | undefined
  }

/**
 * The default `maxConnections`.
 *
 * @since 0.2.0
 * @category constants
 */
export const DEFAULT_MAX_CONNECTIONS = 10_000

/**
 * The default `maxTotalBytes`: 512 MiB.
 *
 * @since 0.2.0
 * @category constants
 */
export const DEFAULT_MAX_TOTAL_BYTES = 512 * 1024 * 1024

/**
 * What each of a server's connections may hold, per queue and for its
 * partial inbound message, without drawing on `maxTotalBytes`: 16 KiB.
 *
 * @since 0.2.0
 * @category constants
 */
export const CONNECTION_ALLOWANCE = 16 * 1024

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

/**
 * A Stocking server: listens on a TCP port or a Unix socket path and wraps
 * every accepted connection in a Stocking with the same settings (codec,
 * handshake, limits, backend). Closing the server's scope stops listening
 * and closes every connection.
 *
 * This module holds the server, its error, its options and its layers.
 *
 * @since 0.1.0
 */
import "./internal/line3.js"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type * as Codec from "./Codec.js"
import type { Message } from "./Framing.js"
import * as configInternal from "./internal/config.js"
import * as internal from "./internal/server.js"
import * as serverApi from "./internal/serverApi.js"
import * as tagInternal from "./internal/tag.js"
import type * as Stocking from "./Stocking.js"

/**
 * Listening failed. `reason` says why, and the message says what was found
 * and what was expected:
 *
 * - `Listen`: the OS refused (a TCP port in use, no permission, ...); `cause`
 *   is its error.
 * - `AddressInUse`: a Unix socket path where another server is listening
 *   (it accepted a connection).
 * - `StaleSocket`: a Unix socket path holding a socket file that no server
 *   listens on, as a server that stopped without closing leaves behind.
 *   Remove it, or set `removeStale: true` on the target.
 * - `NotASocket`: a Unix socket path holding a file that is not a socket;
 *   it is never removed.
 * - `NoDirectory`: the directory of a Unix socket path does not exist (the
 *   OS says `EACCES`).
 * - `PathTooLong`: a Unix socket path longer than the platform takes (107
 *   bytes on Linux, 103 on macOS): the message gives both lengths. Nothing
 *   was created.
 *
 * @since 0.1.0
 * @category errors
 */
export const ServerError: typeof serverApi.ServerError = serverApi.ServerError

/**
 * The type of a `ServerError`.
 *
 * @since 0.1.0
 * @category errors
 */
export type ServerError = serverApi.ServerError

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
 * A Unix socket path is checked before anything is created: longer than
 * the platform takes (107 bytes on Linux, 103 on macOS), or in a directory
 * that does not exist, it fails with a `ServerError` that says so. A path
 * already taken fails too, saying whether a server is listening there or
 * the socket file is stale (see `removeStale`). The socket file is removed
 * when the server closes. Without `mode`, its mode follows the process's
 * umask, like any file it creates. (On Windows a path names a pipe, not a
 * file: none of this applies, and `removeStale` and `mode` are ignored.)
 *
 * @since 0.1.0
 * @category options
 */
export type ListenTarget =
  | { readonly port: number; readonly host?: string | undefined; readonly backlog?: number | undefined }
  | {
      readonly path: string
      readonly backlog?: number | undefined
      /**
       * Replace a stale socket file at `path`: one that no server listens on
       * (connecting to it is refused), as a server that crashed or was killed
       * leaves behind. A live server (it accepts a connection) is never
       * touched, nor a file that is not a socket. Default `false`: a stale
       * file fails with `ServerError` `StaleSocket`.
       *
       * @since 0.1.0
       * @example
       * ```ts
       * import { Server } from "effect-stockings/node"
       *
       * // Restarts after a crash, and still refuses to start next to a running server.
       * const server = Server.make({ path: "/run/app/app.sock", removeStale: true })
       * ```
       */
      readonly removeStale?: boolean | undefined
      /**
       * The socket file's mode, `0o600` for instance, exactly (not masked by
       * the umask). Connecting needs write permission on the socket file, so
       * this is who may connect. The socket has this mode from the first
       * moment it can be reached under `path`: it is bound and given its mode
       * in a fresh directory only its owner can enter, next to `path`, then
       * linked to `path`. Default: the umask decides, as for any file.
       *
       * @since 0.1.0
       * @example
       * ```ts
       * import { Server } from "effect-stockings/node"
       *
       * // Only this user (and root) can connect.
       * const server = Server.make({ path: "/run/app/app.sock", mode: 0o600 })
       * ```
       */
      readonly mode?: number | undefined
    }

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
 * A listening server.
 *
 * @since 0.1.0
 * @category models
 */
export interface Server<I = Message, O = Message, E = never> {
  /** Where it listens; for port 0, the port the OS picked. */
  readonly address: Stocking.Address
  /** The TCP port it listens on (for port 0, the one the OS picked); `0` for a Unix socket. */
  readonly port: number
  /**
   * Accepted connections, each delivered once its handshake has succeeded
   * (a connection that fails the handshake is closed and never delivered).
   * One consumer: every connection is delivered once. Prefer `serve`.
   *
   * Each connection lives in its own scope inside the server's, released
   * when the connection closes, or when the server's scope closes; nothing
   * else closes it. A consumer that drops a connection (a handler fiber
   * interrupted, or never started) leaves it open, and its peer waiting,
   * until the server stops. `Stream.mapEffect(Effect.fork)` is such a
   * consumer: each fork is a child of a fiber that ends at once, so the
   * handler is interrupted as soon as it starts. Close each connection
   * when its handler ends, and run handlers in a scope that outlives them:
   *
   * ```ts
   * import { Effect, Stream } from "effect"
   * import { Server, Stocking } from "effect-stockings/node"
   *
   * declare const server: Server.Server
   * declare const handle: (stocking: Stocking.Stocking) => Effect.Effect<void>
   *
   * const consume = server.connections.pipe(
   *   Stream.runForEach((stocking) => Effect.forkScoped(Effect.ensuring(handle(stocking), stocking.close)))
   * )
   * ```
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
     * or Stocking handshake (default `DEFAULT_MAX_CONNECTIONS`). A connection
     * beyond it is refused: closed as soon as it is accepted, before any
     * handshake or allocation, so the peer sees its connection closed with
     * nothing received. Existing connections are not affected; once one
     * closes, a new one is accepted again.
     */
    readonly maxConnections?: number | undefined
    /**
     * The bytes all connections together may hold beyond a small allowance
     * each (`CONNECTION_ALLOWANCE` per direction), default
     * `DEFAULT_MAX_TOTAL_BYTES`. Half is for what they receive (messages
     * queued for readers, and each message being received, charged its
     * declared length from its header on), half for what they send
     * (messages queued by writers and bytes in the socket's buffer). A
     * message that does not fit waits its turn, first come first served:
     * its connection's socket stays paused before its payload, or its writer
     * suspends, until others release bytes. No message overtakes an earlier
     * one of the same connection, and a message larger than a half is let in
     * once nothing else is charged on that side. Connections exchanging small
     * messages never wait on it.
     */
    readonly maxTotalBytes?: number | undefined
  }

/**
 * The default `maxConnections`.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_CONNECTIONS = serverApi.DEFAULT_MAX_CONNECTIONS

/**
 * The default `maxTotalBytes`: 512 MiB.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_TOTAL_BYTES = serverApi.DEFAULT_MAX_TOTAL_BYTES

/**
 * What each of a server's connections may hold in each direction without
 * drawing on `maxTotalBytes`: 16 KiB received (queued and in progress), 16
 * KiB to send (queued and in the socket's buffer).
 *
 * @since 0.1.0
 * @category constants
 */
export const CONNECTION_ALLOWANCE = serverApi.CONNECTION_ALLOWANCE

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

// ---------------------------------------------------------------------------
// The tag and options from Config
// ---------------------------------------------------------------------------

/**
 * The Server service (identity codec), provided by `layer` and
 * `layerConfig`. For a codec, declare your own with `Tag`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Server, Stocking } from "effect-stockings/node"
 *
 * // A client of whatever server the context holds.
 * const ping = Effect.gen(function* () {
 *   const server = yield* Server.Server
 *   const client = yield* Stocking.make({ host: "127.0.0.1", port: server.port })
 *   yield* client.write("ping")
 * })
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export const Server: Context.Tag<Server, Server> = Context.GenericTag<Server>("effect-stockings/Server")

/**
 * What `layerConfig` takes: the settings given in code (a codec, a
 * handshake, TLS options, and defaults for anything the environment may
 * set), and the prefix of the variables (default `STOCKING_SERVER`).
 *
 * @since 0.1.0
 * @category options
 */
export type ConfigSettings<I = Message, O = Message, E = never, EH = never, RH = never> = configInternal.ServerSettings<
  I,
  O,
  E,
  EH,
  RH
>

/**
 * Reads `make`'s options through Effect `Config`, under `prefix` (default
 * `STOCKING_SERVER`; with the environment provider, `STOCKING_SERVER_PORT`
 * and so on). A variable that is set wins over the same setting given in
 * code.
 *
 * - `STOCKING_SERVER_HOST` (default `127.0.0.1`) and `STOCKING_SERVER_PORT`
 *   (0 picks a free port), or `STOCKING_SERVER_PATH` for a Unix socket
 *   (required, here or in code); `STOCKING_SERVER_BACKLOG`.
 * - With `STOCKING_SERVER_PATH`: `STOCKING_SERVER_REMOVE_STALE` (`true`
 *   replaces a stale socket file) and `STOCKING_SERVER_MODE` (the socket
 *   file's mode, in octal: `600`, `0600` or `0o600`); either with a port is
 *   an error.
 * - `STOCKING_SERVER_TLS_CERT` and `STOCKING_SERVER_TLS_KEY`: PEM files;
 *   TLS when both are set. `STOCKING_SERVER_TLS_CA`: require client
 *   certificates issued by this CA.
 * - `STOCKING_SERVER_HANDSHAKE_TIMEOUT`, `STOCKING_SERVER_IDLE_TIMEOUT`,
 *   `STOCKING_SERVER_CLOSE_TIMEOUT`: durations (`5 seconds`).
 * - `STOCKING_SERVER_MAX_MESSAGE_SIZE`, `..._MAX_BUFFERED_MESSAGES`,
 *   `..._MAX_BUFFERED_BYTES`, `..._MAX_QUEUED_MESSAGES`,
 *   `..._MAX_QUEUED_BYTES`: whole numbers, 1 or more.
 *
 * A missing port, a bad number or duration, or a TLS file that cannot be
 * read fails with a `ConfigError` that names the variable.
 *
 * @example
 * ```ts
 * import { Effect, Layer, Stream } from "effect"
 * import { Server } from "effect-stockings/node"
 *
 * // STOCKING_SERVER_PORT=7000 STOCKING_SERVER_TLS_CERT=cert.pem STOCKING_SERVER_TLS_KEY=key.pem
 * const EchoLive = Layer.unwrapEffect(
 *   Effect.map(Server.optionsFromConfig({ idleTimeout: "5 minutes" }), (options) =>
 *     Server.layerServe(options, (stocking) => stocking.messages.pipe(Stream.runForEach(stocking.write)))
 *   )
 * )
 * ```
 *
 * @since 0.1.0
 * @category config
 */
export const optionsFromConfig: <I = Message, O = Message, E = never, EH = never, RH = never>(
  settings?: ConfigSettings<I, O, E, EH, RH>
) => Effect.Effect<Options<I, O, E, EH, RH>, ConfigError.ConfigError> = configInternal.serverOptions

// ---------------------------------------------------------------------------
// Layers
// ---------------------------------------------------------------------------

/**
 * A Layer providing the `Server` service (identity codec): it listens as
 * long as the Layer lives.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Server } from "effect-stockings/node"
 *
 * const program = Effect.gen(function* () {
 *   const server = yield* Server.Server
 *   yield* Effect.log(`listening on port ${server.port}`)
 *   yield* server.serve((stocking) => stocking.messages.pipe(Stream.runForEach(stocking.write)))
 * }).pipe(Effect.provide(Server.layer({ port: 0 })))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <EH = never, RH = never>(
  options: Options<Message, Message, never, EH, RH>
): Layer.Layer<Server, ServerError, RH> => Layer.scoped(Server, make(options))

/**
 * A Layer that listens and serves every connection with `handler` for as
 * long as it lives (`serve`, forked into the Layer's scope): the usual
 * shape of a service. Launch it with `Layer.launch` or merge it into your
 * application's layer.
 *
 * It provides the `Server` it serves with, so that a program listening on
 * port 0 learns the port (`port`, `address`). Its connections are the
 * handler's: do not `serve` or take `connections` from it again. With a
 * codec it provides nothing; declare the server with `Tag`, whose
 * `layerServe` provides the typed server.
 *
 * @example
 * ```ts
 * import { NodeRuntime } from "@effect/platform-node"
 * import { Effect, Layer, Stream } from "effect"
 * import { Server } from "effect-stockings/node"
 *
 * const EchoLive = Server.layerServe({ port: 7000 }, (stocking) =>
 *   stocking.messages.pipe(Stream.runForEach(stocking.write))
 * )
 *
 * NodeRuntime.runMain(Layer.launch(EchoLive))
 *
 * // On a free port: the program reads the one the OS picked.
 * const program = Effect.flatMap(Server.Server, (server) => Effect.log(`listening on ${server.port}`)).pipe(
 *   Effect.provide(Server.layerServe({ port: 0 }, (stocking) => stocking.messages.pipe(Stream.runForEach(stocking.write))))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerServe = <I = Message, O = Message, E = never, EH = never, RH = never, X = never, R = never>(
  options: Options<I, O, E, EH, RH>,
  handler: (stocking: Stocking.Stocking<I, O, E>) => Effect.Effect<void, X, R>
): Layer.Layer<ServedServer<I, O, E>, ServerError, RH | R> =>
  serveAs(
    Server as Context.Tag<unknown, unknown> as Context.Tag<ServedServer<I, O, E>, Server<I, O, E>>,
    options,
    handler
  )

/** What `layerServe` provides: the `Server` service when the server has the identity codec's types, else nothing. */
type ServedServer<I, O, E> = [I, O, E] extends [Message, Message, never]
  ? [Message, Message, never] extends [I, O, E]
    ? Server
    : never
  : never

/** Listens with `options`, serves with `handler` in the Layer's scope, and provides the server under `tag`. */
const serveAs = <Self, I, O, E, EH, RH, X, R>(
  tag: Context.Tag<Self, Server<I, O, E>>,
  options: Options<I, O, E, EH, RH>,
  handler: (stocking: Stocking.Stocking<I, O, E>) => Effect.Effect<void, X, R>
): Layer.Layer<Self, ServerError, RH | R> =>
  Layer.scoped(
    tag,
    Effect.tap(make(options), (server) => Effect.forkScoped(server.serve(handler)))
  )

/**
 * A Layer providing the `Server` service (identity codec), its options read
 * through `Config` as `optionsFromConfig` does.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Server } from "effect-stockings/node"
 *
 * // STOCKING_SERVER_PORT=7000
 * const program = Effect.flatMap(Server.Server, (server) => Effect.log(`listening on ${server.port}`)).pipe(
 *   Effect.provide(Server.layerConfig())
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = <EH = never, RH = never>(
  settings?: ConfigSettings<Message, Message, never, EH, RH>
): Layer.Layer<Server, ServerError | ConfigError.ConfigError, RH> =>
  Layer.scoped(Server, Effect.flatMap(configInternal.serverOptions(settings), make))

/** `Omit` for each member of a union (the listen targets stay apart). */
type OmitCodec<T> = T extends unknown ? Omit<T, "codec"> : never

/**
 * A Tag class for a server with a codec, made by `Tag`.
 *
 * @since 0.1.0
 * @category models
 */
export interface TagClass<Self, Id extends string, I, O, E> extends Context.TagClass<Self, Id, Server<I, O, E>> {
  /** The codec every accepted Stocking uses. */
  readonly codec: Codec.Codec<I, O, E>
  /** Listens with these options (and the tag's codec) as long as the Layer lives. */
  readonly layer: <EH = never, RH = never>(
    options: OmitCodec<Options<I, O, E, EH, RH>>
  ) => Layer.Layer<Self, ServerError, RH>
  /** As `layer`, with the options read through `Config` (see `optionsFromConfig`). */
  readonly layerConfig: <EH = never, RH = never>(
    settings?: Omit<ConfigSettings<I, O, E, EH, RH>, "codec">
  ) => Layer.Layer<Self, ServerError | ConfigError.ConfigError, RH>
  /**
   * Listens with these options (and the tag's codec) and serves every
   * connection with `handler` as long as the Layer lives, providing the
   * server it serves with (see `layerServe`).
   */
  readonly layerServe: <EH = never, RH = never, X = never, R = never>(
    options: OmitCodec<Options<I, O, E, EH, RH>>,
    handler: (stocking: Stocking.Stocking<I, O, E>) => Effect.Effect<void, X, R>
  ) => Layer.Layer<Self, ServerError, RH | R>
}

/**
 * Declares a service holding a server with a codec, in one class: the
 * service's type (`Server<I, O, E>`) is inferred from the codec, and the
 * class has `layer`, `layerConfig` and `layerServe`.
 *
 * @example
 * ```ts
 * import { Effect, Schema, Stream } from "effect"
 * import { Codec } from "effect-stockings"
 * import { Server } from "effect-stockings/node"
 *
 * const Ping = Schema.Struct({ n: Schema.Number })
 *
 * class PingServer extends Server.Tag<PingServer>()("PingServer", { codec: Codec.json(Ping) }) {}
 *
 * const program = Effect.gen(function* () {
 *   const server = yield* PingServer
 *   yield* server.serve((stocking) =>
 *     stocking.messages.pipe(Stream.runForEach(({ n }) => stocking.write({ n: n + 1 })))
 *   )
 * }).pipe(Effect.provide(PingServer.layer({ port: 7000 })))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export const Tag =
  <Self>() =>
  <const Id extends string, I = Message, O = Message, E = never>(
    id: Id,
    options: { readonly codec?: Codec.Codec<I, O, E> | undefined } = {}
  ): TagClass<Self, Id, I, O, E> => {
    const tag = tagInternal.makeTagClass<
      Self,
      Id,
      Server<I, O, E>,
      I,
      O,
      E,
      Options<I, O, E>,
      ConfigSettings<I, O, E>,
      ServerError
    >(id, options.codec, make, configInternal.serverOptions)
    const layerServe = <EH, RH, X, R>(
      settings: OmitCodec<Options<I, O, E, EH, RH>>,
      handler: (stocking: Stocking.Stocking<I, O, E>) => Effect.Effect<void, X, R>
    ): Layer.Layer<Self, ServerError, RH | R> =>
      serveAs(tag, { ...settings, codec: tag.codec } as Options<I, O, E, EH, RH>, handler)
    return Object.assign(tag, { layerServe })
  }

/**
 * A Stocking server on Effect 4: listens on a TCP port or a Unix socket path
 * and wraps every accepted connection in a Stocking with the same settings
 * (codec, handshake, limits, backend). Closing the server's scope stops
 * listening and closes every connection.
 *
 * This module holds the server, its error, its options, its service and its
 * layers.
 *
 * @since 0.2.0
 */
import "./internal/line.js"
import type * as Config from "effect/Config"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type * as Codec from "./Codec.js"
import type * as tls from "node:tls"
import * as codecInternal from "../internal/codec.js"
import * as listener from "../internal/listener.js"
import type { Message } from "../internal/wire.js"
import * as configInternal from "./internal/config.js"
import * as internal from "./internal/server.js"
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
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Server } from "effect-stockings/effect4/node"
 *
 * const program = Server.make({ path: "/run/app/app.sock" }).pipe(
 *   Effect.catchTag("ServerError", (error) => Effect.logError(`${error.reason}: ${error.message}`))
 * )
 * ```
 *
 * @since 0.2.0
 * @category errors
 */
export const ServerError: typeof listener.ServerError = listener.ServerError

/**
 * The type of a `ServerError`.
 *
 * @since 0.2.0
 * @category errors
 */
export type ServerError = listener.ServerError

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
 * the socket file is stale: `removeStale: true` replaces a stale one (never
 * a live server's, nor a file that is not a socket). The socket file is
 * removed when the server closes. `mode` (`0o600`, say) is the socket
 * file's mode from the first moment it can be reached under `path`;
 * without it, the process's umask decides. (On Windows a path names a pipe,
 * not a file: none of this applies, and `removeStale` and `mode` are
 * ignored.)
 *
 * @example
 * ```ts
 * import type { Server } from "effect-stockings/effect4/node"
 *
 * const tcp: Server.ListenTarget = { port: 7000, host: "0.0.0.0" }
 * const unix: Server.ListenTarget = { path: "/run/app/app.sock", mode: 0o600, removeStale: true }
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export type ListenTarget = listener.ListenTarget

/**
 * The listen backlog used when `backlog` is not given: 4096 (Node's own
 * default is 511, too few for a burst of connections).
 *
 * @example
 * ```ts
 * import { Server } from "effect-stockings/effect4/node"
 *
 * const server = Server.make({ port: 0, backlog: 2 * Server.DEFAULT_BACKLOG })
 * ```
 *
 * @since 0.2.0
 * @category constants
 */
export const DEFAULT_BACKLOG: number = listener.DEFAULT_BACKLOG

/**
 * The TLS handshake limit used when `tlsHandshakeTimeout` is not given: 5
 * seconds.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { Server } from "effect-stockings/effect4/node"
 *
 * console.log(Duration.toMillis(Server.DEFAULT_TLS_HANDSHAKE_TIMEOUT)) // 5000
 * ```
 *
 * @since 0.2.0
 * @category constants
 */
export const DEFAULT_TLS_HANDSHAKE_TIMEOUT: Duration.Duration = listener.DEFAULT_TLS_HANDSHAKE_TIMEOUT

/**
 * The default `maxConnections`: 10 000.
 *
 * @example
 * ```ts
 * import { Server } from "effect-stockings/effect4/node"
 *
 * const server = Server.make({ port: 0, maxConnections: Server.DEFAULT_MAX_CONNECTIONS / 10 })
 * ```
 *
 * @since 0.2.0
 * @category constants
 */
export const DEFAULT_MAX_CONNECTIONS: number = listener.DEFAULT_MAX_CONNECTIONS

/**
 * The default `maxTotalBytes`: 512 MiB.
 *
 * @example
 * ```ts
 * import { Server } from "effect-stockings/effect4/node"
 *
 * const server = Server.make({ port: 0, maxTotalBytes: Server.DEFAULT_MAX_TOTAL_BYTES / 4 })
 * ```
 *
 * @since 0.2.0
 * @category constants
 */
export const DEFAULT_MAX_TOTAL_BYTES: number = listener.DEFAULT_MAX_TOTAL_BYTES

/**
 * What each of a server's connections may hold in each direction without
 * drawing on `maxTotalBytes`: 16 KiB received (queued and in progress), 16
 * KiB to send (queued and in the socket's buffer).
 *
 * @example
 * ```ts
 * import { Server } from "effect-stockings/effect4/node"
 *
 * // 1000 idle connections' allowances fit, whatever the budget.
 * console.log(1000 * 2 * Server.CONNECTION_ALLOWANCE) // 32768000
 * ```
 *
 * @since 0.2.0
 * @category constants
 */
export const CONNECTION_ALLOWANCE: number = listener.CONNECTION_ALLOWANCE

/**
 * TLS server options, passed to `tls.createServer`.
 *
 * @example
 * ```ts
 * import * as fs from "node:fs"
 * import type { Server } from "effect-stockings/effect4/node"
 *
 * const tls: Server.TlsOptions = { cert: fs.readFileSync("cert.pem"), key: fs.readFileSync("key.pem") }
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export type TlsOptions = tls.TlsOptions

/**
 * A listening server.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import type { Server } from "effect-stockings/effect4/node"
 *
 * declare const server: Server.Server
 *
 * const echo = server.serve((stocking) => stocking.messages.pipe(Stream.runForEach(stocking.write)))
 * const where = Effect.log(`listening on port ${server.port}`)
 * ```
 *
 * @since 0.2.0
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
   * One consumer: every connection is delivered once. It ends when the
   * server closes. Prefer `serve`.
   *
   * Each connection lives in its own scope inside the server's, released
   * once nothing of it is wanted: when it is closed and everything it
   * received has been read, or when its user closes it; or when the
   * server's scope closes. A consumer that drops a connection unread
   * leaves it open, and its peer waiting, until the server stops. Close
   * each connection when its handler ends, and run handlers in a scope that
   * outlives them:
   *
   * ```ts
   * import { Effect, Stream } from "effect"
   * import type { Server, Stocking } from "effect-stockings/effect4/node"
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
   * until interrupted, which interrupts the handlers.
   */
  readonly serve: <X, R>(
    handler: (stocking: Stocking.Stocking<I, O, E>) => Effect.Effect<void, X, R>
  ) => Effect.Effect<never, never, R>
}

/**
 * Options for `make`: where to listen, plus the settings every accepted
 * Stocking gets.
 *
 * @example
 * ```ts
 * import type { Server } from "effect-stockings/effect4/node"
 *
 * const options: Server.Options = { port: 7000, maxConnections: 1000, idleTimeout: "5 minutes" }
 * ```
 *
 * @since 0.2.0
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
    readonly tlsHandshakeTimeout?: Duration.Input | undefined
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
 * Starts a server in the current scope; it listens once this succeeds. It
 * fails with `ServerError` when it cannot listen, and dies with a
 * `RangeError` for a `maxConnections` that is not a positive integer or a
 * `mode` that is not a file mode.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Server } from "effect-stockings/effect4/node"
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
 * @since 0.2.0
 * @category constructors
 */
export const make: <I = Message, O = Message, E = never, EH = never, RH = never>(
  options: Options<I, O, E, EH, RH>
) => Effect.Effect<Server<I, O, E>, ServerError, Scope.Scope | RH> = internal.make

// ---------------------------------------------------------------------------
// The service and its layers
// ---------------------------------------------------------------------------

/**
 * The Server service (identity codec), provided by `layer` and
 * `layerServe`. For a codec, declare your own with `Tag`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Server, Stocking } from "effect-stockings/effect4/node"
 *
 * // A client of whatever server the context holds.
 * const ping = Effect.gen(function* () {
 *   const server = yield* Server.Server
 *   const client = yield* Stocking.make({ host: "127.0.0.1", port: server.port })
 *   yield* client.write("ping")
 * })
 * ```
 *
 * @since 0.2.0
 * @category services
 */
export const Server: Context.Service<Server, Server> = Context.Service<Server>("effect-stockings/Server")

/**
 * A Layer providing the `Server` service (identity codec): it listens as
 * long as the Layer lives.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Server } from "effect-stockings/effect4/node"
 *
 * const program = Effect.gen(function* () {
 *   const server = yield* Server.Server
 *   yield* Effect.log(`listening on port ${server.port}`)
 *   yield* server.serve((stocking) => stocking.messages.pipe(Stream.runForEach(stocking.write)))
 * }).pipe(Effect.provide(Server.layer({ port: 0 })))
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = <EH = never, RH = never>(
  options: Options<Message, Message, never, EH, RH>
): Layer.Layer<Server, ServerError, RH> => Layer.effect(Server, make(options))

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
 * import { Effect, Layer, Stream } from "effect"
 * import { Server } from "effect-stockings/effect4/node"
 *
 * const EchoLive = Server.layerServe({ port: 7000 }, (stocking) =>
 *   stocking.messages.pipe(Stream.runForEach(stocking.write))
 * )
 *
 * const main = Layer.launch(EchoLive)
 *
 * // On a free port: the program reads the one the OS picked.
 * const program = Effect.flatMap(Server.Server, (server) => Effect.log(`listening on ${server.port}`)).pipe(
 *   Effect.provide(Server.layerServe({ port: 0 }, (stocking) => stocking.messages.pipe(Stream.runForEach(stocking.write))))
 * )
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerServe = <I = Message, O = Message, E = never, EH = never, RH = never, X = never, R = never>(
  options: Options<I, O, E, EH, RH>,
  handler: (stocking: Stocking.Stocking<I, O, E>) => Effect.Effect<void, X, R>
): Layer.Layer<ServedServer<I, O, E>, ServerError, RH | R> =>
  serveAs(
    Server as Context.Key<unknown, unknown> as Context.Key<ServedServer<I, O, E>, Server<I, O, E>>,
    options,
    handler
  )

/** What `layerServe` provides: the `Server` service when the server has the identity codec's types, else nothing. */
type ServedServer<I, O, E> = [I, O, E] extends [Message, Message, never]
  ? [Message, Message, never] extends [I, O, E]
    ? Server
    : never
  : never

/** Listens with `options`, serves with `handler` in the Layer's scope, and provides the server under `key`. */
const serveAs = <Self, I, O, E, EH, RH, X, R>(
  key: Context.Key<Self, Server<I, O, E>>,
  options: Options<I, O, E, EH, RH>,
  handler: (stocking: Stocking.Stocking<I, O, E>) => Effect.Effect<void, X, R>
): Layer.Layer<Self, ServerError, RH | R> =>
  Layer.effect(
    key,
    Effect.tap(make(options), (server) => Effect.forkScoped(server.serve(handler)))
  )

/** `Omit` for each member of a union (the listen targets stay apart). */
type OmitCodec<T> = T extends unknown ? Omit<T, "codec"> : never

/**
 * A service class for a server with a codec, made by `Tag`: an Effect 4
 * `Context.Service` class whose service is a `Server<I, O, E>`, with the
 * codec and its layers.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Codec } from "effect-stockings/effect4"
 * import { Server } from "effect-stockings/effect4/node"
 *
 * class PingServer extends Server.Tag<PingServer>()("PingServer", {
 *   codec: Codec.json(Schema.Struct({ n: Schema.Number }))
 * }) {}
 *
 * const tag: Server.TagClass<PingServer, "PingServer", { readonly n: number }, { readonly n: number }, Schema.SchemaError> =
 *   PingServer
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface TagClass<Self, Id extends string, I, O, E> extends Context.ServiceClass<Self, Id, Server<I, O, E>> {
  /** The codec every accepted Stocking uses (`Codec.identity` when none was given). */
  readonly codec: Codec.Codec<I, O, E>
  /** Listens with these options (and the class's codec) as long as the Layer lives. */
  readonly layer: <EH = never, RH = never>(
    options: OmitCodec<Options<I, O, E, EH, RH>>
  ) => Layer.Layer<Self, ServerError, RH>
  /** As `layer`, with the options read through `Config` (see `optionsFromConfig`). */
  readonly layerConfig: <EH = never, RH = never>(
    settings?: Omit<ConfigSettings<I, O, E, EH, RH>, "codec">
  ) => Layer.Layer<Self, ServerError | Config.ConfigError, RH>
  /**
   * Listens with these options (and the class's codec) and serves every
   * connection with `handler` as long as the Layer lives, providing the
   * server it serves with (see `layerServe`).
   */
  readonly layerServe: <EH = never, RH = never, X = never, R = never>(
    options: OmitCodec<Options<I, O, E, EH, RH>>,
    handler: (stocking: Stocking.Stocking<I, O, E>) => Effect.Effect<void, X, R>
  ) => Layer.Layer<Self, ServerError, RH | R>
}

/**
 * Declares a service holding a server with a codec, in one class (Effect
 * 4's `Context.Service` class, with the codec and layers): the service's
 * type (`Server<I, O, E>`) is inferred from the codec, and the class has
 * `layer`, `layerConfig` and `layerServe`.
 *
 * @example
 * ```ts
 * import { Effect, Schema, Stream } from "effect"
 * import { Codec } from "effect-stockings/effect4"
 * import { Server } from "effect-stockings/effect4/node"
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
 * @since 0.2.0
 * @category services
 */
export const Tag =
  <Self>() =>
  <const Id extends string, I = Message, O = Message, E = never>(
    id: Id,
    options: { readonly codec?: Codec.Codec<I, O, E> | undefined } = {}
  ): TagClass<Self, Id, I, O, E> => {
    const service = Context.Service<Self, Server<I, O, E>>()(id)
    const codec = (options.codec ?? codecInternal.identity) as Codec.Codec<I, O, E>
    const withCodec = <T extends object>(settings: T) => ({ ...settings, codec }) as unknown as Options<I, O, E>
    const layer = <EH, RH>(settings: OmitCodec<Options<I, O, E, EH, RH>>): Layer.Layer<Self, ServerError, RH> =>
      Layer.effect(service, make(withCodec(settings) as Options<I, O, E, EH, RH>))
    const layerServe = <EH, RH, X, R>(
      settings: OmitCodec<Options<I, O, E, EH, RH>>,
      handler: (stocking: Stocking.Stocking<I, O, E>) => Effect.Effect<void, X, R>
    ): Layer.Layer<Self, ServerError, RH | R> =>
      serveAs(service, withCodec(settings) as Options<I, O, E, EH, RH>, handler)
    const layerConfig = <EH, RH>(
      settings: Omit<ConfigSettings<I, O, E, EH, RH>, "codec"> = {}
    ): Layer.Layer<Self, ServerError | Config.ConfigError, RH> =>
      Layer.effect(
        service,
        Effect.flatMap(optionsFromConfig({ ...settings, codec } as ConfigSettings<I, O, E, EH, RH>), make)
      )
    return Object.assign(service, { codec, layer, layerConfig, layerServe })
  }

/**
 * What `optionsFromConfig` and `layerConfig` take: the settings given in
 * code, and the prefix of the variables (default `STOCKING_SERVER`:
 * `STOCKING_SERVER_HOST`, `STOCKING_SERVER_PORT`, `STOCKING_SERVER_PATH`,
 * the TLS files, the limits...). A variable that is set wins over the
 * code's value.
 *
 * @since 0.2.0
 * @category options
 */
export type ConfigSettings<I = Message, O = Message, E = never, EH = never, RH = never> = configInternal.ServerSettings<
  Omit<Options<I, O, E, EH, RH>, "host" | "port" | "path">
>

/**
 * A server's options read through `Config` (the variables and messages of
 * the Effect 3 line).
 *
 * @since 0.2.0
 * @category config
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Server } from "effect-stockings/effect4/node"
 *
 * // STOCKING_SERVER_PORT=7000 node app.js
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const server = yield* Server.make(yield* Server.optionsFromConfig())
 *     yield* server.serve((stocking) => stocking.forEach(stocking.write))
 *   })
 * )
 * ```
 */
export const optionsFromConfig = <I = Message, O = Message, E = never, EH = never, RH = never>(
  settings?: ConfigSettings<I, O, E, EH, RH>
): Effect.Effect<Options<I, O, E, EH, RH>, Config.ConfigError> =>
  configInternal.serverOptions<Omit<Options<I, O, E, EH, RH>, "host" | "port" | "path">>(settings) as Effect.Effect<
    Options<I, O, E, EH, RH>,
    Config.ConfigError
  >

/**
 * As `layer`, with the options read through `Config` (see `optionsFromConfig`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Server } from "effect-stockings/effect4/node"
 *
 * // STOCKING_SERVER_PORT=7000
 * const program = Effect.flatMap(Server.Server, (server) => Effect.log(`listening on ${server.port}`)).pipe(
 *   Effect.provide(Server.layerConfig())
 * )
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerConfig = <EH = never, RH = never>(
  settings?: ConfigSettings<Message, Message, never, EH, RH>
): Layer.Layer<Server, ServerError | Config.ConfigError, RH> =>
  Layer.effect(Server, Effect.flatMap(optionsFromConfig(settings), make))

import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as configInternal from "./internal/config.js"
import * as internal from "./internal/server.js"
import * as serverApi from "./internal/serverApi.js"
import * as tagInternal from "./internal/tag.js"
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
export const ServerError = serverApi.ServerError
/**
 * The listen backlog used when `backlog` is not given: 4096 (Node's own
 * default is 511, too few for a burst of connections).
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_BACKLOG = internal.DEFAULT_BACKLOG
/**
 * The TLS handshake limit used when `tlsHandshakeTimeout` is not given: 5
 * seconds.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_TLS_HANDSHAKE_TIMEOUT = internal.DEFAULT_TLS_HANDSHAKE_TIMEOUT
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
export const make = internal.make
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
export const Server = Context.GenericTag("effect-stockings/Server")
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
export const optionsFromConfig = configInternal.serverOptions
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
export const layer = (options) => Layer.scoped(Server, make(options))
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
export const layerServe = (options, handler) => serveAs(Server, options, handler)
/** Listens with `options`, serves with `handler` in the Layer's scope, and provides the server under `tag`. */
const serveAs = (tag, options, handler) =>
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
export const layerConfig = (settings) =>
  Layer.scoped(Server, Effect.flatMap(configInternal.serverOptions(settings), make))
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
  () =>
  (id, options = {}) => {
    const tag = tagInternal.makeTagClass(id, options.codec, make, configInternal.serverOptions)
    const layerServe = (settings, handler) => serveAs(tag, { ...settings, codec: tag.codec }, handler)
    return Object.assign(tag, { layerServe })
  }

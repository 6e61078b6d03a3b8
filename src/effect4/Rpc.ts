/**
 * `effect/rpc` over plain TCP (or Unix sockets), framed by Stockings: the
 * Effect 4 line's `Rpc`.
 *
 * The extension point is `RpcSerialization`: `serialization` is one whose
 * parser does its own framing (`includesFraming: true`). Each RPC message
 * goes on the wire as one Stockings TEXT frame holding its JSON, so a Python
 * Stockings peer reads it with `read()` and `json.loads`, and the Effect 3
 * line's `Rpc` speaks the same bytes. Incoming bytes go through an
 * incremental `Framing` decoder (one per connection) and every whole message
 * is parsed as JSON. `effect/rpc`'s own socket protocols
 * (`RpcClient.layerProtocolSocket`, `RpcServer.layerProtocolSocketServer`)
 * carry it over any `effect/socket` `Socket` / `SocketServer`.
 *
 * For Node.js, this module also has the sockets: `layerSocket` and
 * `layerSocketServer` are `effect/socket`'s `Socket` and `SocketServer` over
 * `node:net`, so that nothing here needs `@effect/platform-node` (whose 4.x
 * asks for Node.js 22.19 or later). `layerClientProtocol` and
 * `layerServerProtocol` put the pieces together.
 *
 * Errors in the byte stream surface the way `effect/rpc` surfaces any
 * decode error: on a client, every call in flight fails with an
 * `RpcClientError` whose reason's `cause` holds the error; on a server, a
 * message over `maxMessageSize` closes the connection, any other framing
 * fault is answered with a `Defect` response.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { RpcClient, RpcServer } from "effect/rpc"
 * import * as RpcStockings from "effect-stockings/effect4/Rpc"
 *
 * // By hand: any effect/socket Socket / SocketServer works.
 * const ServerProtocol = RpcServer.layerProtocolSocketServer.pipe(
 *   Layer.provide([RpcStockings.layerSerialization(), RpcStockings.layerSocketServer({ port: 4000 })])
 * )
 * const ClientProtocol = RpcClient.layerProtocolSocket().pipe(
 *   Layer.provide([RpcStockings.layerSerialization(), RpcStockings.layerSocket({ port: 4000 })])
 * )
 *
 * // Or the same in one call each:
 * const ServerProtocol2 = RpcStockings.layerServerProtocol({ port: 4000 })
 * const ClientProtocol2 = RpcStockings.layerClientProtocol({ port: 4000 })
 * ```
 *
 * @since 0.2.0
 */
import "./internal/line.js"
import type * as Duration from "effect/Duration"
import type * as Layer from "effect/Layer"
import type * as RpcClient from "effect/rpc/RpcClient"
import type * as RpcSerialization from "effect/rpc/RpcSerialization"
import type * as RpcServer from "effect/rpc/RpcServer"
import type * as Schedule from "effect/Schedule"
import type * as Socket from "effect/socket/Socket"
import type * as SocketServer from "effect/socket/SocketServer"
import * as internal from "./internal/rpc.js"

/**
 * @since 0.2.0
 * @category options
 */
export interface SerializationOptions {
  /**
   * Largest message, in payload bytes, either way. A peer's frame declaring
   * more fails the decoder as soon as its header is complete; a message of
   * ours that would be larger is refused when encoded, rather than sent to a
   * peer that would reject it. Both throw `effect/rpc`'s
   * `MaxBufferSizeExceeded` (with `bufferSize`, the size seen). Default
   * 16 MiB, as `effect/rpc`'s own `maxBufferSize`.
   */
  readonly maxMessageSize?: number | undefined
}

/**
 * Where a client connects: `host` (default `localhost`) and `port`, or a Unix
 * socket `path`.
 *
 * @since 0.2.0
 * @category options
 */
export type ConnectTarget = { readonly host?: string | undefined; readonly port: number } | { readonly path: string }

/**
 * A client socket's target, and how long a connection attempt may take.
 *
 * @since 0.2.0
 * @category options
 */
export type SocketOptions = ConnectTarget & {
  /** Bounds each connection attempt (a `SocketOpenError` of kind `Timeout`). Default: no bound. */
  readonly openTimeout?: Duration.Input | undefined
}

/**
 * @since 0.2.0
 * @category options
 */
export type ClientOptions = SocketOptions &
  SerializationOptions & {
    /** Retry connection failures without failing the calls in flight (`RpcClient.layerProtocolSocket`'s option). */
    readonly retryTransientErrors?: boolean | undefined
    /** How to reconnect after the connection fails or closes. Default: `effect/rpc`'s exponential backoff. */
    readonly retryPolicy?: Schedule.Schedule<unknown, Socket.SocketError> | undefined
    /** How often the client pings the server. Default: `effect/rpc`'s (5 seconds). */
    readonly pingInterval?: Duration.Input | undefined
    /** How long without a frame from the server before the connection is dropped. Default: `pingInterval`. */
    readonly pingTimeout?: Duration.Input | undefined
  }

/**
 * Where a server listens: a `port` on `host` (default `127.0.0.1`; port 0
 * for a free one), or a Unix socket `path`, with an optional listen
 * `backlog`. A file already at `path` fails the listen (`EADDRINUSE`).
 *
 * @since 0.2.0
 * @category options
 */
export type ListenTarget =
  | { readonly port: number; readonly host?: string | undefined; readonly backlog?: number | undefined }
  | { readonly path: string; readonly backlog?: number | undefined }

/**
 * Where a server listens, and its message size limit.
 *
 * @since 0.2.0
 * @category options
 */
export type ServerOptions = ListenTarget & SerializationOptions

/**
 * The content type the serialization reports (`RpcSerialization`'s
 * `contentType`, used by HTTP-based protocols).
 *
 * @example
 * ```ts
 * import * as RpcStockings from "effect-stockings/effect4/Rpc"
 *
 * RpcStockings.contentType // "application/x-stockings+json"
 * ```
 *
 * @since 0.2.0
 * @category constants
 */
export const contentType: string = internal.contentType

/**
 * An `RpcSerialization` that frames every RPC message as one Stockings TEXT
 * frame holding its JSON (`includesFraming: true`, so it works over a plain
 * byte stream). Each connection gets its own parser, and with it its own
 * `Framing` decoder: chunks may split frames anywhere or carry many. Values
 * are encoded with `Schema.toCodecJson`, as by `RpcSerialization.json`.
 *
 * Decoding accepts TEXT frames and BYTES frames holding UTF-8 JSON (what a
 * Python peer sends for `json.dumps(...)` or `json.dumps(...).encode()`); each
 * message must be a JSON object. What the parser throws:
 *
 * - a frame over `maxMessageSize`: `RpcSerialization.MaxBufferSizeExceeded`
 *   (its `maxBufferSize`, and `bufferSize`: the size declared), with the
 *   `Framing.FramingError` as its `cause`. `effect/rpc`'s socket server
 *   closes the connection for this one, as it does for its own NDJSON limit;
 *   a client can then reconnect with fresh decoders.
 * - any other framing fault (`HeaderTooLong`, `LengthOverflow`,
 *   `InvalidUtf8`): the `Framing.FramingError`. A decoder that failed stays
 *   failed, and every later chunk throws the same error again.
 * - a well-framed message that is not JSON, or not an object: the
 *   `SyntaxError` / `TypeError`. The framing is intact; the next message is
 *   read normally.
 *
 * The stream's end is not seen by the parser (`effect/rpc` does not tell
 * it), so a connection closed in the middle of a frame surfaces as the
 * socket closing, not as `Truncated`.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { RpcSerialization } from "effect/rpc"
 * import * as RpcStockings from "effect-stockings/effect4/Rpc"
 *
 * // A 64 KiB limit either way, as the RpcSerialization service.
 * const Serialization = Layer.succeed(
 *   RpcSerialization.RpcSerialization,
 *   RpcStockings.makeSerialization({ maxMessageSize: 64 * 1024 })
 * )
 *
 * // Framing by hand: one parser per connection.
 * const parser = RpcStockings.serialization.makeUnsafe()
 * const frame = parser.encode({ _tag: "Ping" }) // Uint8Array [0x8f, ...]: a text frame of {"_tag":"Ping"}
 * parser.decode(frame as Uint8Array) // [{ _tag: "Ping" }]
 * ```
 *
 * @since 0.2.0
 * @category serialization
 */
export const makeSerialization: (options?: SerializationOptions) => RpcSerialization.RpcSerialization["Service"] =
  internal.makeSerialization

/**
 * `makeSerialization()` with the default 16 MiB limit.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { RpcSerialization } from "effect/rpc"
 * import * as RpcStockings from "effect-stockings/effect4/Rpc"
 *
 * const Serialization = Layer.succeed(RpcSerialization.RpcSerialization, RpcStockings.serialization)
 * ```
 *
 * @since 0.2.0
 * @category serialization
 */
export const serialization: RpcSerialization.RpcSerialization["Service"] = internal.serialization

/**
 * Provides `makeSerialization(options)` as the `RpcSerialization` service,
 * for `RpcClient.layerProtocolSocket` / `RpcServer.layerProtocolSocketServer`
 * over any `effect/socket` `Socket` / `SocketServer`.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { RpcServer } from "effect/rpc"
 * import * as RpcStockings from "effect-stockings/effect4/Rpc"
 *
 * // effect/rpc's socket server protocol on a Unix socket, speaking Stockings frames.
 * const Protocol = RpcServer.layerProtocolSocketServer.pipe(
 *   Layer.provide([
 *     RpcStockings.layerSerialization({ maxMessageSize: 1 << 20 }),
 *     RpcStockings.layerSocketServer({ path: "/tmp/rpc.sock" })
 *   ])
 * )
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerSerialization: (options?: SerializationOptions) => Layer.Layer<RpcSerialization.RpcSerialization> =
  internal.layerSerialization

/**
 * An `effect/socket` `Socket` over `node:net` (no-delay on), without
 * `@effect/platform-node`. It connects when its reader is acquired, and
 * again at each new acquisition (which is how `effect/rpc` reconnects): a
 * connection that cannot be made fails the reader with a `SocketError`
 * whose reason is a `SocketOpenError` (kind `Timeout` past `openTimeout`).
 * Closing the reader's scope ends the connection after what was written is
 * flushed.
 *
 * The reader's `pull` gives the bytes received since the last pull as one
 * batch; it pauses the connection while 64 KiB wait unpulled, and fails with
 * a `SocketCloseError` (code 1000, or 1006 after an error) once the peer has
 * closed. The writer writes to the current connection (waiting for one),
 * and waits for Node's buffer to drain when it is full. Writing a
 * `CloseEvent` ends the connection: code 1000 after what was written, any
 * other at once. TLS upgrade is not supported.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as RpcStockings from "effect-stockings/effect4/Rpc"
 *
 * const program = Effect.gen(function* () {
 *   const socket = RpcStockings.makeSocket({ host: "127.0.0.1", port: 4000, openTimeout: "5 seconds" })
 *   const writer = yield* socket.writer
 *   const reader = yield* socket.reader // connects
 *   yield* writer.write(new TextEncoder().encode("hello"))
 *   return yield* reader.pull // the first bytes back
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.2.0
 * @category sockets
 */
export const makeSocket: (options: SocketOptions) => Socket.Socket = internal.makeSocket

/**
 * `makeSocket(options)` as the `Socket` service, for
 * `RpcClient.layerProtocolSocket` (or anything else that reads a `Socket`).
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { RpcClient } from "effect/rpc"
 * import * as RpcStockings from "effect-stockings/effect4/Rpc"
 *
 * const ClientProtocol = RpcClient.layerProtocolSocket().pipe(
 *   Layer.provide([RpcStockings.layerSerialization(), RpcStockings.layerSocket({ path: "/tmp/rpc.sock" })])
 * )
 * ```
 *
 * @since 0.2.0
 * @category sockets
 */
export const layerSocket: (options: SocketOptions) => Layer.Layer<Socket.Socket> = internal.layerSocket

/**
 * An `effect/socket` `SocketServer` listening with `node:net` (no-delay on
 * every connection), without `@effect/platform-node`, while the layer is
 * alive. Its `address` tells the port picked for `port: 0`. It fails with a
 * `SocketServerError` (reason `SocketServerOpenError`, the address and
 * Node's error in its cause) when it cannot listen. `run` hands each
 * connection to the handler as a `Socket` (see `makeSocket` for how it
 * reads and writes) and ends the connection when the handler is done;
 * closing the layer stops listening and destroys the connections left.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { RpcServer } from "effect/rpc"
 * import * as RpcStockings from "effect-stockings/effect4/Rpc"
 *
 * const ServerProtocol = RpcServer.layerProtocolSocketServer.pipe(
 *   Layer.provide([RpcStockings.layerSerialization(), RpcStockings.layerSocketServer({ port: 0 })])
 * )
 * ```
 *
 * @since 0.2.0
 * @category sockets
 */
export const layerSocketServer: (
  options: ListenTarget
) => Layer.Layer<SocketServer.SocketServer, SocketServer.SocketServerError> = internal.layerSocketServer

/**
 * An RPC client protocol over one TCP (or Unix socket) connection, framed by
 * Stockings: `RpcClient.layerProtocolSocket` over `layerSocket(options)` and
 * `makeSerialization(options)`. Provide it to `RpcClient.make(group)`.
 *
 * Connecting is lazy and never fails the layer: a call made while the server
 * is unreachable fails with an `RpcClientError` (unless
 * `retryTransientErrors`), and the protocol reconnects on `retryPolicy`. It
 * pings the server every `pingInterval`, as `effect/rpc`'s socket protocol
 * does.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Rpc, RpcClient, RpcGroup } from "effect/rpc"
 * import * as RpcStockings from "effect-stockings/effect4/Rpc"
 *
 * class Greeter extends RpcGroup.make(Rpc.make("Greet", { payload: { name: Schema.String }, success: Schema.String })) {}
 *
 * const program = Effect.gen(function* () {
 *   const client = yield* RpcClient.make(Greeter)
 *   return yield* client.Greet({ name: "Ada" }) // "hello, Ada"
 * }).pipe(Effect.scoped, Effect.provide(RpcStockings.layerClientProtocol({ host: "127.0.0.1", port: 4000 })))
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerClientProtocol: (options: ClientOptions) => Layer.Layer<RpcClient.Protocol> =
  internal.layerClientProtocol

/**
 * An RPC server protocol that listens on a TCP port (or Unix socket path)
 * and speaks Stockings-framed JSON on every connection:
 * `RpcServer.layerProtocolSocketServer` over `layerSocketServer(options)`
 * and `makeSerialization(options)`. Provide it to `RpcServer.layer(group)`.
 *
 * The layer also outputs the `SocketServer`, so that with `port: 0` its
 * `address` tells the port picked. It fails with `SocketServerError` when it
 * cannot listen. `host` defaults to `127.0.0.1`.
 *
 * @example
 * ```ts
 * import { Effect, Layer, Schema } from "effect"
 * import { Rpc, RpcGroup, RpcServer } from "effect/rpc"
 * import * as RpcStockings from "effect-stockings/effect4/Rpc"
 *
 * class Greeter extends RpcGroup.make(Rpc.make("Greet", { payload: { name: Schema.String }, success: Schema.String })) {}
 * const GreeterHandlers = Greeter.toLayer({ Greet: ({ name }) => Effect.succeed(`hello, ${name}`) })
 *
 * const Main = RpcServer.layer(Greeter).pipe(
 *   Layer.provide(GreeterHandlers),
 *   Layer.provide(RpcStockings.layerServerProtocol({ port: 4000 }))
 * )
 * const main = Layer.launch(Main) // runs until interrupted
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerServerProtocol: (
  options: ServerOptions
) => Layer.Layer<RpcServer.Protocol | SocketServer.SocketServer, SocketServer.SocketServerError> =
  internal.layerServerProtocol

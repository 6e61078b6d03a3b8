/**
 * `@effect/rpc` over plain TCP (or Unix sockets), framed by Stockings.
 *
 * The extension point is `RpcSerialization`: `serialization` is one whose
 * parser does its own framing (`includesFraming: true`). Each RPC message
 * goes on the wire as one Stockings TEXT frame holding its JSON, so a Python
 * Stockings peer reads it with `read()` and `json.loads`; incoming bytes go
 * through an incremental `Framing` decoder (one per connection) and every
 * whole message is parsed as JSON. `@effect/rpc`'s own socket protocols
 * (`RpcClient.layerProtocolSocket`, `RpcServer.layerProtocolSocketServer`)
 * carry it over `@effect/platform` sockets; `layerClientProtocol` and
 * `layerServerProtocol` put the three pieces together for Node.js.
 *
 * Errors in the byte stream (see `makeSerialization`) surface the way
 * `@effect/rpc` surfaces any decode error: on a client, every call in flight
 * fails with an `RpcClientError` (`reason: "Protocol"`) whose `cause` holds
 * the error; on a server, a message over `maxMessageSize` closes the
 * connection, any other framing fault is answered with a `Defect` response.
 *
 * @example
 * ```ts
 * import { NodeSocket, NodeSocketServer } from "@effect/platform-node"
 * import { RpcClient, RpcServer } from "@effect/rpc"
 * import { Layer } from "effect"
 * import * as RpcStockings from "effect-stockings/Rpc"
 *
 * // By hand: every @effect/platform Socket / SocketServer works.
 * const ServerProtocol = RpcServer.layerProtocolSocketServer.pipe(
 *   Layer.provide([RpcStockings.layerSerialization(), NodeSocketServer.layer({ port: 4000 })])
 * )
 * const ClientProtocol = RpcClient.layerProtocolSocket().pipe(
 *   Layer.provide([RpcStockings.layerSerialization(), NodeSocket.layerNet({ host: "localhost", port: 4000 })])
 * )
 *
 * // Or the same in one call each:
 * const ServerProtocol2 = RpcStockings.layerServerProtocol({ port: 4000 })
 * const ClientProtocol2 = RpcStockings.layerClientProtocol({ port: 4000 })
 * ```
 *
 * @since 0.1.0
 */
import "./internal/line3.js"
import type * as RpcClient from "@effect/rpc/RpcClient"
import type * as RpcSerialization from "@effect/rpc/RpcSerialization"
import type * as RpcServer from "@effect/rpc/RpcServer"
import type * as Socket from "@effect/platform/Socket"
import type * as SocketServer from "@effect/platform/SocketServer"
import type * as Duration from "effect/Duration"
import type * as Layer from "effect/Layer"
import type * as Schedule from "effect/Schedule"
import * as internal from "./internal/rpc.js"
import type { ListenTarget } from "./Server.js"

/**
 * @since 0.1.0
 * @category options
 */
export interface SerializationOptions {
  /**
   * Largest message, in payload bytes, either way. A peer's frame declaring
   * more fails the decoder as soon as its header is complete; a message of
   * ours that would be larger is refused when encoded (an
   * `RpcSerializationError`), rather than sent to a peer that would reject
   * it. Default 16 MiB, as `@effect/rpc`'s own `maxBufferSize`.
   */
  readonly maxMessageSize?: number | undefined
}

/**
 * Where a client connects: `host` (default `localhost`) and `port`, or a Unix
 * socket `path`.
 *
 * @since 0.1.0
 * @category options
 */
export type ConnectTarget = { readonly host?: string | undefined; readonly port: number } | { readonly path: string }

/**
 * @since 0.1.0
 * @category options
 */
export type ClientOptions = ConnectTarget &
  SerializationOptions & {
    /** Bounds each connection attempt. Default: no bound. */
    readonly openTimeout?: Duration.DurationInput | undefined
    /** Retry connection failures without failing the calls in flight (`RpcClient.layerProtocolSocket`'s option). */
    readonly retryTransientErrors?: boolean | undefined
    /** How to reconnect after the connection fails or closes. Default: `@effect/rpc`'s exponential backoff. */
    readonly retrySchedule?: Schedule.Schedule<unknown, Socket.SocketError> | undefined
  }

/**
 * Where a server listens (`Server.ListenTarget`: a `port` on `host`, default
 * `127.0.0.1`, port 0 for a free one; or a Unix socket `path`), and its
 * message size limit.
 *
 * @since 0.1.0
 * @category options
 */
export type ServerOptions = ListenTarget & SerializationOptions

/**
 * The content type the serialization reports (`RpcSerialization`'s
 * `contentType`, used by HTTP-based protocols).
 *
 * @since 0.1.0
 * @category constants
 */
export const contentType: string = internal.contentType

/**
 * An `RpcSerialization` that frames every RPC message as one Stockings TEXT
 * frame holding its JSON (`includesFraming: true`, so it works over a plain
 * byte stream). Each connection gets its own parser, and with it its own
 * `Framing` decoder: chunks may split frames anywhere or carry many.
 *
 * Decoding accepts TEXT frames and BYTES frames holding UTF-8 JSON (what a
 * Python peer sends for `json.dumps(...)` or `json.dumps(...).encode()`); each
 * message must be a JSON object. What the parser throws:
 *
 * - a frame over `maxMessageSize`: `RpcSerializationError`
 *   (`reason: "BufferSizeExceeded"`, the limit and the declared size), with
 *   the `Framing.FramingError` as its `cause`. `@effect/rpc`'s socket server
 *   closes the connection for this one, as it does for its own NDJSON and
 *   MessagePack limits; a client can then reconnect with fresh decoders.
 * - any other framing fault (`HeaderTooLong`, `LengthOverflow`,
 *   `InvalidUtf8`): the `Framing.FramingError`. A decoder that failed stays
 *   failed, and every later chunk throws the same error again.
 * - a well-framed message that is not JSON, or not an object: the
 *   `SyntaxError` / `TypeError`. The framing is intact; the next message is
 *   read normally.
 *
 * The stream's end is not seen by the parser (`@effect/rpc` does not tell
 * it), so a connection closed in the middle of a frame surfaces as the
 * socket closing, not as `Truncated`.
 *
 * @example
 * ```ts
 * import { RpcSerialization } from "@effect/rpc"
 * import { Layer } from "effect"
 * import * as RpcStockings from "effect-stockings/Rpc"
 *
 * // A 64 KiB limit either way, as the RpcSerialization service.
 * const Serialization = Layer.succeed(
 *   RpcSerialization.RpcSerialization,
 *   RpcStockings.makeSerialization({ maxMessageSize: 64 * 1024 })
 * )
 *
 * // Framing by hand: one parser per connection.
 * const parser = RpcStockings.serialization.unsafeMake()
 * const frame = parser.encode({ _tag: "Ping" }) // Uint8Array [0x8f, ...]: a text frame of {"_tag":"Ping"}
 * parser.decode(frame as Uint8Array) // [{ _tag: "Ping" }]
 * ```
 *
 * @since 0.1.0
 * @category serialization
 */
export const makeSerialization: (options?: SerializationOptions) => RpcSerialization.RpcSerialization["Type"] =
  internal.makeSerialization

/**
 * `makeSerialization()` with the default 16 MiB limit.
 *
 * @example
 * ```ts
 * import { RpcSerialization } from "@effect/rpc"
 * import { Layer } from "effect"
 * import * as RpcStockings from "effect-stockings/Rpc"
 *
 * const Serialization = Layer.succeed(RpcSerialization.RpcSerialization, RpcStockings.serialization)
 * ```
 *
 * @since 0.1.0
 * @category serialization
 */
export const serialization: RpcSerialization.RpcSerialization["Type"] = internal.serialization

/**
 * Provides `makeSerialization(options)` as the `RpcSerialization` service,
 * for `RpcClient.layerProtocolSocket` / `RpcServer.layerProtocolSocketServer`
 * over any `@effect/platform` `Socket` / `SocketServer`.
 *
 * @example
 * ```ts
 * import { NodeSocketServer } from "@effect/platform-node"
 * import { RpcServer } from "@effect/rpc"
 * import { Layer } from "effect"
 * import * as RpcStockings from "effect-stockings/Rpc"
 *
 * // @effect/rpc's socket server protocol on a Unix socket, speaking Stockings frames.
 * const Protocol = RpcServer.layerProtocolSocketServer.pipe(
 *   Layer.provide([
 *     RpcStockings.layerSerialization({ maxMessageSize: 1 << 20 }),
 *     NodeSocketServer.layer({ path: "/tmp/rpc.sock" })
 *   ])
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSerialization: (options?: SerializationOptions) => Layer.Layer<RpcSerialization.RpcSerialization> =
  internal.layerSerialization

/**
 * An RPC client protocol over one TCP (or Unix socket) connection, framed by
 * Stockings: `RpcClient.layerProtocolSocket` over `NodeSocket.makeNet` (with
 * no-delay on) and `makeSerialization(options)`. Provide it to
 * `RpcClient.make(group)`.
 *
 * Connecting is lazy and never fails the layer: a call made while the server
 * is unreachable fails with an `RpcClientError` (unless
 * `retryTransientErrors`), and the protocol reconnects on `retrySchedule`.
 * It pings the server every 10 seconds, as `@effect/rpc`'s socket protocol
 * does.
 *
 * @example
 * ```ts
 * import { Rpc, RpcClient, RpcGroup } from "@effect/rpc"
 * import { Effect, Schema } from "effect"
 * import * as RpcStockings from "effect-stockings/Rpc"
 *
 * class Greeter extends RpcGroup.make(Rpc.make("Greet", { payload: { name: Schema.String }, success: Schema.String })) {}
 *
 *
 * const program = Effect.gen(function* () {
 *   const client = yield* RpcClient.make(Greeter)
 *   return yield* client.Greet({ name: "Ada" }) // "hello, Ada"
 * }).pipe(Effect.scoped, Effect.provide(RpcStockings.layerClientProtocol({ host: "127.0.0.1", port: 4000 })))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClientProtocol: (options: ClientOptions) => Layer.Layer<RpcClient.Protocol> =
  internal.layerClientProtocol

/**
 * An RPC server protocol that listens on a TCP port (or Unix socket path)
 * and speaks Stockings-framed JSON on every connection:
 * `RpcServer.layerProtocolSocketServer` over `NodeSocketServer.layer` (with
 * no-delay on) and `makeSerialization(options)`. Provide it to
 * `RpcServer.layer(group)`.
 *
 * The layer also outputs the `SocketServer`, so that with `port: 0` its
 * `address` tells the port picked. It fails with `SocketServerError` when it
 * cannot listen. `host` defaults to `127.0.0.1`, as `Server.make`'s does.
 *
 * @example
 * ```ts
 * import { NodeRuntime } from "@effect/platform-node"
 * import { Rpc, RpcGroup, RpcServer } from "@effect/rpc"
 * import { Effect, Layer, Schema } from "effect"
 * import * as RpcStockings from "effect-stockings/Rpc"
 *
 * class Greeter extends RpcGroup.make(Rpc.make("Greet", { payload: { name: Schema.String }, success: Schema.String })) {}
 * const GreeterHandlers = Greeter.toLayer({ Greet: ({ name }) => Effect.succeed(`hello, ${name}`) })
 *
 *
 * const Main = RpcServer.layer(Greeter).pipe(
 *   Layer.provide(GreeterHandlers),
 *   Layer.provide(RpcStockings.layerServerProtocol({ port: 4000 }))
 * )
 * NodeRuntime.runMain(Layer.launch(Main))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerServerProtocol: (
  options: ServerOptions
) => Layer.Layer<RpcServer.Protocol | SocketServer.SocketServer, SocketServer.SocketServerError> =
  internal.layerServerProtocol

/**
 * The machinery behind the Effect 4 line's `Rpc`: a Stockings-framed JSON
 * serialization for `effect/rpc` over the shared parser (`rpcParser.ts`), and
 * the protocol layers over `effect/socket` sockets on `node:net`
 * (`netSocket.ts`).
 *
 * @internal
 */
import * as Layer from "effect/Layer"
import * as RpcClient from "effect/rpc/RpcClient"
import * as RpcSerialization from "effect/rpc/RpcSerialization"
import * as RpcServer from "effect/rpc/RpcServer"
import * as Schema from "effect/Schema"
import * as Socket from "effect/socket/Socket"
import * as SocketServer from "effect/socket/SocketServer"
import * as Framing from "../../internal/framingApi.js"
import * as Parser from "../../internal/rpcParser.js"
import type * as Rpc from "../Rpc.js"
import * as NetSocket from "./netSocket.js"

/** @internal */
export const contentType = "application/x-stockings+json"

/** @internal */
export const DEFAULT_CLIENT_HOST = "localhost"

/** @internal */
export const DEFAULT_SERVER_HOST = "127.0.0.1"

/**
 * What a parser throws for a message over the size limit, either way:
 * `effect/rpc`'s own `MaxBufferSizeExceeded` (its socket server closes the
 * connection for that one, as for its NDJSON limit), carrying the size seen
 * and, when decoding, the `FramingError` as its `cause`.
 */
const tooLarge: Parser.TooLarge = (maxBufferSize, bufferSize, cause) => {
  // `bufferSize` and `cause` are not among MaxBufferSizeExceeded's declared fields; Data errors keep them.
  const fields = cause === undefined ? { maxBufferSize, bufferSize } : { maxBufferSize, bufferSize, cause }
  return new RpcSerialization.MaxBufferSizeExceeded(fields)
}

/** @internal */
export const makeParser = (maxMessageSize: number): RpcSerialization.Parser =>
  Parser.makeParser(maxMessageSize, tooLarge)

/** @internal */
export const makeSerialization = (options?: Rpc.SerializationOptions): RpcSerialization.RpcSerialization["Service"] => {
  const maxMessageSize = options?.maxMessageSize ?? Framing.DEFAULT_MAX_MESSAGE_SIZE
  return RpcSerialization.RpcSerialization.of({
    contentType,
    includesFraming: true,
    codecFor: Schema.toCodecJson,
    makeUnsafe: () => makeParser(maxMessageSize)
  })
}

/** @internal */
export const serialization: RpcSerialization.RpcSerialization["Service"] = makeSerialization()

/** @internal */
export const layerSerialization = (
  options?: Rpc.SerializationOptions
): Layer.Layer<RpcSerialization.RpcSerialization> =>
  Layer.succeed(RpcSerialization.RpcSerialization, options === undefined ? serialization : makeSerialization(options))

/** @internal */
export const makeSocket = (options: Rpc.SocketOptions): Socket.Socket =>
  NetSocket.makeNet(
    "path" in options
      ? { path: options.path, openTimeout: options.openTimeout }
      : { host: options.host ?? DEFAULT_CLIENT_HOST, port: options.port, openTimeout: options.openTimeout }
  )

/** @internal */
export const layerSocket = (options: Rpc.SocketOptions): Layer.Layer<Socket.Socket> =>
  Layer.sync(Socket.Socket, () => makeSocket(options))

/** @internal */
export const layerSocketServer = (
  options: Rpc.ListenTarget
): Layer.Layer<SocketServer.SocketServer, SocketServer.SocketServerError> =>
  Layer.effect(
    SocketServer.SocketServer,
    NetSocket.makeNetServer(
      "path" in options
        ? { path: options.path, backlog: options.backlog }
        : { port: options.port, host: options.host ?? DEFAULT_SERVER_HOST, backlog: options.backlog }
    )
  )

/** @internal */
export const layerClientProtocol = (options: Rpc.ClientOptions): Layer.Layer<RpcClient.Protocol> =>
  RpcClient.layerProtocolSocket({
    retryTransientErrors: options.retryTransientErrors,
    retryPolicy: options.retryPolicy,
    pingInterval: options.pingInterval,
    pingTimeout: options.pingTimeout
  }).pipe(Layer.provide([layerSocket(options), layerSerialization(options)]))

/** @internal */
export const layerServerProtocol = (
  options: Rpc.ServerOptions
): Layer.Layer<RpcServer.Protocol | SocketServer.SocketServer, SocketServer.SocketServerError> =>
  RpcServer.layerProtocolSocketServer.pipe(
    Layer.provide(layerSerialization(options)),
    Layer.provideMerge(layerSocketServer(options))
  )

/**
 * The machinery behind `Rpc`: a Stockings-framed JSON parser for
 * `@effect/rpc`, and the Node.js socket layers built on it.
 *
 * @internal
 */
import * as RpcClient from "@effect/rpc/RpcClient"
import * as RpcSerialization from "@effect/rpc/RpcSerialization"
import { RpcSerializationError } from "@effect/rpc/RpcSerialization"
import * as RpcServer from "@effect/rpc/RpcServer"
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import * as NodeSocketServer from "@effect/platform-node/NodeSocketServer"
import * as Socket from "@effect/platform/Socket"
import type * as SocketServer from "@effect/platform/SocketServer"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Framing from "./framingApi.js"
import * as Parser from "./rpcParser.js"
import type * as Rpc from "../Rpc.js"

/** @internal */
export const contentType = "application/x-stockings+json"

/** @internal */
export const DEFAULT_CLIENT_HOST = "localhost"

/** @internal */
export const DEFAULT_SERVER_HOST = "127.0.0.1"

const tooLarge: Parser.TooLarge = (maxBufferSize, bufferSize, cause) => {
  // `cause` is not in RpcSerializationError's declared fields; Data errors keep it as the standard `Error.cause`.
  const fields = {
    reason: "BufferSizeExceeded" as const,
    maxBufferSize,
    bufferSize,
    ...(cause === undefined ? {} : { cause })
  }
  return new RpcSerializationError(fields)
}

/** @internal */
export const makeSerialization = (options?: Rpc.SerializationOptions): RpcSerialization.RpcSerialization["Type"] => {
  const maxMessageSize = options?.maxMessageSize ?? Framing.DEFAULT_MAX_MESSAGE_SIZE
  return RpcSerialization.RpcSerialization.of({
    contentType,
    includesFraming: true,
    unsafeMake: () => Parser.makeParser(maxMessageSize, tooLarge)
  })
}

/** @internal */
export const serialization: RpcSerialization.RpcSerialization["Type"] = makeSerialization()

/** @internal */
export const layerSerialization = (
  options?: Rpc.SerializationOptions
): Layer.Layer<RpcSerialization.RpcSerialization> =>
  Layer.succeed(RpcSerialization.RpcSerialization, options === undefined ? serialization : makeSerialization(options))

/** @internal */
export const layerClientProtocol = (options: Rpc.ClientOptions): Layer.Layer<RpcClient.Protocol> => {
  const target =
    "path" in options ? { path: options.path } : { host: options.host ?? DEFAULT_CLIENT_HOST, port: options.port }
  // `makeNet` connects lazily, inside the protocol's `run`: building the socket cannot fail (its type says
  // SocketError, its code never does). A failed connection fails the calls in flight with an `RpcClientError`
  // (unless `retryTransientErrors`) and is retried on `retrySchedule`.
  const socket = Layer.effect(
    Socket.Socket,
    Effect.orDie(NodeSocket.makeNet({ ...target, noDelay: true, openTimeout: options.openTimeout }))
  )
  return RpcClient.layerProtocolSocket({
    retryTransientErrors: options.retryTransientErrors,
    retrySchedule: options.retrySchedule
  }).pipe(Layer.provide([socket, layerSerialization(options)]))
}

/** @internal */
export const layerServerProtocol = (
  options: Rpc.ServerOptions
): Layer.Layer<RpcServer.Protocol | SocketServer.SocketServer, SocketServer.SocketServerError> => {
  const listen =
    "path" in options
      ? { path: options.path, backlog: options.backlog }
      : { port: options.port, host: options.host ?? DEFAULT_SERVER_HOST, backlog: options.backlog }
  return RpcServer.layerProtocolSocketServer.pipe(
    Layer.provide(layerSerialization(options)),
    Layer.provideMerge(NodeSocketServer.layer({ ...listen, noDelay: true }))
  )
}

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
import type * as Rpc from "../Rpc.js"

/** @internal */
export const contentType = "application/x-stockings+json"

/** @internal */
export const DEFAULT_CLIENT_HOST = "localhost"

/** @internal */
export const DEFAULT_SERVER_HOST = "127.0.0.1"

/**
 * The error a parser throws for a stream that broke the framing. A message
 * over the size limit becomes the rpc layer's own `RpcSerializationError`
 * (its socket server closes the connection for that one, as it does when its
 * NDJSON or MessagePack buffers overflow), with the `FramingError` as its
 * `cause`; any other fault is thrown as the `FramingError` itself.
 *
 * @internal
 */
export const decodeFailure = (failure: Framing.FramingError): unknown => {
  if (failure.reason !== "MessageTooLarge") return failure
  // `cause` is not in RpcSerializationError's declared fields; Data errors keep it as the standard `Error.cause`.
  const fields = {
    reason: "BufferSizeExceeded" as const,
    maxBufferSize: failure.limit ?? 0,
    bufferSize: failure.declaredLength ?? 0,
    cause: failure
  }
  return new RpcSerializationError(fields)
}

const encodeOne = (message: unknown, maxMessageSize: number): Uint8Array => {
  const frame = Framing.encode(JSON.stringify(message))
  if (frame.length > maxMessageSize) {
    const header = Framing.decodeHeader(frame)
    const size = header !== undefined && !Framing.isFramingError(header) ? header.length : frame.length
    if (size > maxMessageSize) {
      throw new RpcSerializationError({ reason: "BufferSizeExceeded", maxBufferSize: maxMessageSize, bufferSize: size })
    }
  }
  return frame
}

// Stateless (no `stream` option), so one of each serves every parser.
const utf8Decoder = new TextDecoder("utf-8", { fatal: true })
const utf8Encoder = new TextEncoder()

const parseMessage = (message: Framing.Message): unknown => {
  const value: unknown = JSON.parse(typeof message === "string" ? message : utf8Decoder.decode(message))
  if (typeof value !== "object" || value === null) {
    throw new TypeError(`expected a JSON object for an RPC message, got ${value === null ? "null" : typeof value}`)
  }
  return value
}

/** @internal */
export const makeSerialization = (options?: Rpc.SerializationOptions): RpcSerialization.RpcSerialization["Type"] => {
  const maxMessageSize = options?.maxMessageSize ?? Framing.DEFAULT_MAX_MESSAGE_SIZE
  return RpcSerialization.RpcSerialization.of({
    contentType,
    includesFraming: true,
    unsafeMake: () => {
      const decoder = Framing.unsafeMakeDecoder({ maxMessageSize })
      return {
        decode: (data) => {
          const messages = decoder.push(typeof data === "string" ? utf8Encoder.encode(data) : data)
          // A failed decoder stays failed: every later chunk throws again, so nothing after a fault is dropped
          // silently. Messages completed earlier in the same chunk are dropped with it.
          if (decoder.failure !== undefined) throw decodeFailure(decoder.failure)
          if (messages.length === 0) return messages
          const out: Array<unknown> = new Array(messages.length)
          for (let i = 0; i < messages.length; i++) out[i] = parseMessage(messages[i]!)
          return out
        },
        encode: (message) => {
          if (!Array.isArray(message)) return encodeOne(message, maxMessageSize)
          if (message.length === 0) return undefined
          if (message.length === 1) return encodeOne(message[0], maxMessageSize)
          const frames = message.map((m) => encodeOne(m, maxMessageSize))
          let size = 0
          for (const frame of frames) size += frame.length
          const out = new Uint8Array(size)
          let offset = 0
          for (const frame of frames) {
            out.set(frame, offset)
            offset += frame.length
          }
          return out
        }
      }
    }
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

/**
 * The machinery behind the Effect 4 line's `Rpc`: a Stockings-framed JSON
 * serialization for `effect/rpc` over the shared decoder and encoder, and
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
 * and, when decoding, the `FramingError`.
 */
const tooLarge = (maxBufferSize: number, bufferSize: number, cause?: Framing.FramingError): unknown => {
  // `bufferSize` and `cause` are not among MaxBufferSizeExceeded's declared fields; Data errors keep them.
  const fields = cause === undefined ? { maxBufferSize, bufferSize } : { maxBufferSize, bufferSize, cause }
  return new RpcSerialization.MaxBufferSizeExceeded(fields)
}

/**
 * The error a parser throws for a stream that broke the framing: a message
 * over the limit as `MaxBufferSizeExceeded`, with the `FramingError` as its
 * `cause`; any other fault as the `FramingError` itself.
 *
 * @internal
 */
export const decodeFailure = (failure: Framing.FramingError): unknown =>
  failure.reason === "MessageTooLarge" ? tooLarge(failure.limit ?? 0, failure.declaredLength ?? 0, failure) : failure

const encodeOne = (message: unknown, maxMessageSize: number): Uint8Array => {
  const frame = Framing.encode(JSON.stringify(message))
  if (frame.length > maxMessageSize) {
    const header = Framing.decodeHeader(frame)
    const size = header !== undefined && !Framing.isFramingError(header) ? header.length : frame.length
    if (size > maxMessageSize) throw tooLarge(maxMessageSize, size)
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

const concat = (frames: ReadonlyArray<Uint8Array>): Uint8Array => {
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

/** @internal */
export const makeParser = (maxMessageSize: number): RpcSerialization.Parser => {
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
      return concat(message.map((m) => encodeOne(m, maxMessageSize)))
    }
  }
}

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

import { NodeSocket, NodeSocketServer } from "@effect/platform-node"
import { SocketServer } from "@effect/platform"
import { Rpc, RpcClient, RpcClientError, RpcGroup, RpcSerialization, RpcServer } from "@effect/rpc"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Chunk, Context, Effect, Exit, Layer, Schedule, Schema, Stream } from "effect"
import type * as net from "node:net"
import { Framing } from "../src/index.js"
import * as StockingsRpc from "../src/Rpc.js"
import { rawClient, rawServer } from "./utils/net.js"

class User extends Schema.Class<User>("User")({ id: Schema.Number, name: Schema.String }) {}

class Rpcs extends RpcGroup.make(
  Rpc.make("GetUser", { success: User, error: Schema.String, payload: { id: Schema.Number } }),
  Rpc.make("Count", { success: Schema.Number, stream: true, payload: { upTo: Schema.Number } }),
  Rpc.make("Repeat", { success: Schema.String, payload: { text: Schema.String, times: Schema.Number } })
) {}

const Handlers = Rpcs.toLayer({
  GetUser: ({ id }) => (id === 1 ? Effect.succeed(new User({ id, name: "Ada" })) : Effect.fail(`no user ${id}`)),
  Count: ({ upTo }) => Stream.range(1, upTo),
  Repeat: ({ text, times }) => Effect.succeed(text.repeat(times))
})

const fastRetry = Schedule.spaced("10 millis")

/** The RPC server on 127.0.0.1, port 0, through `layerServerProtocol`; returns the port. */
const startServer = (options: StockingsRpc.SerializationOptions = {}) =>
  Effect.gen(function* () {
    const context = yield* Layer.build(
      RpcServer.layer(Rpcs).pipe(
        Layer.provide(Handlers),
        Layer.provideMerge(StockingsRpc.layerServerProtocol({ port: 0, ...options }))
      )
    )
    const address = Context.get(context, SocketServer.SocketServer).address
    assert.strictEqual(address._tag, "TcpAddress")
    return address._tag === "TcpAddress" ? address.port : 0
  })

/** An RPC client through `layerClientProtocol`. */
const makeClient = (port: number, options: StockingsRpc.SerializationOptions = {}) =>
  Effect.gen(function* () {
    const protocol = yield* Layer.build(
      StockingsRpc.layerClientProtocol({ host: "127.0.0.1", port, retrySchedule: fastRetry, ...options })
    )
    return yield* RpcClient.make(Rpcs).pipe(Effect.provide(protocol))
  })

/** Reads frames from a raw socket until `count` messages have arrived; fails with the FramingError if any. */
const readFrames = (socket: net.Socket, count: number) =>
  Effect.async<Array<Framing.Message>, Framing.FramingError>((resume) => {
    const decoder = Framing.unsafeMakeDecoder()
    const messages: Array<Framing.Message> = []
    const onData = (chunk: Buffer) => {
      messages.push(...decoder.push(chunk))
      if (decoder.failure !== undefined) resume(Effect.fail(decoder.failure))
      else if (messages.length >= count) resume(Effect.succeed(messages))
    }
    socket.on("data", onData)
    return Effect.sync(() => socket.off("data", onData))
  })

const waitForClose = (socket: net.Socket) =>
  Effect.async<void>((resume) => {
    if (socket.closed) return resume(Effect.void)
    socket.once("close", () => resume(Effect.void))
  })

const request = (id: string, tag: string, payload: unknown) => ({ _tag: "Request", id, tag, payload, headers: [] })

const parse = (message: Framing.Message | undefined): unknown => {
  assert.isString(message, "an RPC message travels as a TEXT frame")
  return JSON.parse(message as string)
}

const parser = () => StockingsRpc.serialization.unsafeMake()

const thrown = (f: () => unknown): unknown => {
  try {
    f()
  } catch (error) {
    return error
  }
  assert.fail("expected a throw")
}

describe("Rpc", () => {
  describe("over loopback", () => {
    it.scopedLive("by hand: layerSerialization with NodeSocketServer and NodeSocket", () =>
      Effect.gen(function* () {
        const server = yield* Layer.build(
          RpcServer.layer(Rpcs).pipe(
            Layer.provide(Handlers),
            Layer.provide(RpcServer.layerProtocolSocketServer),
            Layer.provide(StockingsRpc.layerSerialization()),
            Layer.provideMerge(NodeSocketServer.layer({ port: 0, host: "127.0.0.1" }))
          )
        )
        const address = Context.get(server, SocketServer.SocketServer).address
        const port = address._tag === "TcpAddress" ? address.port : 0
        const protocol = yield* Layer.build(
          RpcClient.layerProtocolSocket().pipe(
            Layer.provide([StockingsRpc.layerSerialization(), NodeSocket.layerNet({ host: "127.0.0.1", port })])
          )
        )
        const client = yield* RpcClient.make(Rpcs).pipe(Effect.provide(protocol))
        assert.deepStrictEqual(yield* client.GetUser({ id: 1 }), new User({ id: 1, name: "Ada" }))
        assert.deepStrictEqual(Chunk.toReadonlyArray(yield* Stream.runCollect(client.Count({ upTo: 3 }))), [1, 2, 3])
      })
    )

    it.scopedLive("request/response: success and typed failure (layerServerProtocol + layerClientProtocol)", () =>
      Effect.gen(function* () {
        const client = yield* makeClient(yield* startServer())
        assert.deepStrictEqual(yield* client.GetUser({ id: 1 }), new User({ id: 1, name: "Ada" }))
        const failed = yield* Effect.exit(client.GetUser({ id: 2 }))
        assert.deepStrictEqual(failed, Exit.fail("no user 2"))
        // Many calls at once share the connection.
        const users = yield* Effect.forEach([1, 1, 1, 1, 1], (id) => client.GetUser({ id }), { concurrency: 5 })
        assert.strictEqual(users.length, 5)
      })
    )

    it.scopedLive("streaming: 2,000 elements arrive in order", () =>
      Effect.gen(function* () {
        const client = yield* makeClient(yield* startServer())
        const values = Chunk.toReadonlyArray(yield* Stream.runCollect(client.Count({ upTo: 2000 })))
        assert.strictEqual(values.length, 2000)
        assert.deepStrictEqual(values.slice(0, 3), [1, 2, 3])
        assert.strictEqual(values[1999], 2000)
      })
    )
  })

  describe("the wire", () => {
    it.scopedLive("a raw Stockings peer with JSON TEXT frames gets answers from the RPC server", () =>
      Effect.gen(function* () {
        const socket = yield* rawClient(yield* startServer())
        const frames = Framing.encodeAll([
          JSON.stringify(request("1", "GetUser", { id: 1 })),
          JSON.stringify(request("2", "GetUser", { id: 2 }))
        ])
        // Split the two frames awkwardly: mid-header of nothing, mid-payload of the first, across the boundary.
        const replies = yield* Effect.fork(readFrames(socket, 2))
        for (const [from, to] of [
          [0, 1],
          [1, 10],
          [10, frames.length - 5],
          [frames.length - 5, frames.length]
        ] as const) {
          socket.write(frames.subarray(from, to))
          yield* Effect.sleep("5 millis")
        }
        const [first, second] = (yield* replies.await.pipe(Effect.flatten)).map(parse)
        const byId = new Map([first, second].map((m) => [(m as { requestId: string }).requestId, m]))
        assert.deepStrictEqual(byId.get("1"), {
          _tag: "Exit",
          requestId: "1",
          exit: { _tag: "Success", value: { id: 1, name: "Ada" } }
        })
        assert.deepStrictEqual(byId.get("2"), {
          _tag: "Exit",
          requestId: "2",
          exit: { _tag: "Failure", cause: { _tag: "Fail", error: "no user 2" } }
        })
      })
    )

    it.scopedLive("a BYTES frame holding UTF-8 JSON is accepted too", () =>
      Effect.gen(function* () {
        const socket = yield* rawClient(yield* startServer())
        socket.write(Framing.encode(new TextEncoder().encode(JSON.stringify(request("7", "GetUser", { id: 1 })))))
        const [reply] = yield* readFrames(socket, 1)
        assert.deepInclude(parse(reply), { _tag: "Exit", requestId: "7" })
      })
    )

    it.scopedLive("the client's bytes decode as Stockings TEXT frames of JSON", () =>
      Effect.gen(function* () {
        const { port, accepted } = yield* rawServer
        const client = yield* makeClient(port)
        yield* Effect.forkScoped(client.GetUser({ id: 42 }))
        const socket = yield* accepted
        const [sent] = yield* readFrames(socket, 1)
        assert.deepInclude(parse(sent), { _tag: "Request", tag: "GetUser", payload: { id: 42 } })
      })
    )
  })

  describe("the parser", () => {
    const messages = [request("1", "GetUser", { id: 1 }), { _tag: "Ack", requestId: "1" }, { text: "żółw 🐢" }]

    it("encodes each message as one TEXT frame of its JSON, an array as consecutive frames", () => {
      const p = parser()
      const one = p.encode(messages[0])
      assert.instanceOf(one, Uint8Array)
      assert.deepStrictEqual(Framing.unsafeMakeDecoder().push(one as Uint8Array), [JSON.stringify(messages[0])])
      const many = p.encode(messages) as Uint8Array
      assert.deepStrictEqual(
        Framing.unsafeMakeDecoder().push(many),
        messages.map((m) => JSON.stringify(m))
      )
      assert.isUndefined(p.encode([]))
      assert.isTrue(StockingsRpc.serialization.includesFraming)
    })

    it("decodes a frame split across chunks (down to single bytes) and several frames in one chunk", () => {
      const bytes = Framing.encodeAll(messages.map((m) => JSON.stringify(m)))
      // All in one chunk.
      assert.deepStrictEqual(parser().decode(bytes), messages)
      // One byte at a time.
      const p = parser()
      const out: Array<unknown> = []
      for (let i = 0; i < bytes.length; i++) out.push(...p.decode(bytes.subarray(i, i + 1)))
      assert.deepStrictEqual(out, messages)
      // A chunk ending mid-frame, then one holding the rest and a whole frame.
      const q = parser()
      const cut = Framing.encodedSize(JSON.stringify(messages[0])) + 3
      assert.deepStrictEqual(q.decode(bytes.subarray(0, cut)), [messages[0]])
      assert.deepStrictEqual(q.decode(bytes.subarray(cut)), messages.slice(1))
    })

    it("each parser has its own decoder", () => {
      const bytes = Framing.encode(JSON.stringify(messages[0]))
      const a = parser()
      const b = parser()
      assert.deepStrictEqual(a.decode(bytes.subarray(0, 5)), [])
      assert.deepStrictEqual(b.decode(bytes), [messages[0]])
      assert.deepStrictEqual(a.decode(bytes.subarray(5)), [messages[0]])
    })

    it("malformed framing throws the FramingError, and keeps throwing it", () => {
      const p = parser()
      const error = thrown(() => p.decode(new Uint8Array(8)))
      assert.isTrue(Framing.isFramingError(error))
      assert.strictEqual((error as Framing.FramingError).reason, "HeaderTooLong")
      assert.strictEqual(
        thrown(() => p.decode(Framing.encode("{}"))),
        error
      )
    })

    it("a frame over maxMessageSize throws RpcSerializationError with the FramingError as cause", () => {
      const p = StockingsRpc.makeSerialization({ maxMessageSize: 100 }).unsafeMake()
      const error = thrown(() => p.decode(Framing.encodeHeader("text", 101)))
      assert.instanceOf(error, RpcSerialization.RpcSerializationError)
      const e = error as RpcSerialization.RpcSerializationError
      assert.strictEqual(e.maxBufferSize, 100)
      assert.strictEqual(e.bufferSize, 101)
      assert.isTrue(Framing.isFramingError(e.cause))
      assert.strictEqual((e.cause as Framing.FramingError).reason, "MessageTooLarge")
      // Encoding refuses what the peer (with the same limit) would refuse.
      assert.instanceOf(
        thrown(() => p.encode({ text: "x".repeat(100) })),
        RpcSerialization.RpcSerializationError
      )
    })

    it("a well-framed message that is not a JSON object throws, and the next one decodes", () => {
      const p = parser()
      assert.instanceOf(
        thrown(() => p.decode(Framing.encode("not json"))),
        SyntaxError
      )
      assert.instanceOf(
        thrown(() => p.decode(Framing.encode("null"))),
        TypeError
      )
      assert.deepStrictEqual(p.decode(Framing.encode("{}")), [{}])
    })
  })

  describe("errors", () => {
    it.scopedLive("server: malformed framing is answered with a Defect naming the FramingError", () =>
      Effect.gen(function* () {
        const socket = yield* rawClient(yield* startServer())
        socket.write(new Uint8Array(8)) // eight header bytes with no last-byte flag
        const [reply] = yield* readFrames(socket, 1)
        const defect = parse(reply) as { _tag: string; defect: { message: string } }
        assert.strictEqual(defect._tag, "Defect")
        assert.include(defect.defect.message, "unfinished after 8 bytes")
      })
    )

    it.scopedLive("server: a frame over maxMessageSize closes the connection", () =>
      Effect.gen(function* () {
        const socket = yield* rawClient(yield* startServer({ maxMessageSize: 1024 }))
        socket.on("error", () => {}) // the server may reset it
        socket.write(Framing.encodeHeader("text", 1025))
        yield* waitForClose(socket)
      })
    )

    it.scopedLive("client: a peer that breaks the framing fails the call with RpcClientError, cause FramingError", () =>
      Effect.gen(function* () {
        const { port, accepted } = yield* rawServer
        const client = yield* makeClient(port)
        const call = yield* Effect.fork(client.GetUser({ id: 1 }))
        const socket = yield* accepted
        yield* readFrames(socket, 1)
        socket.write(new Uint8Array(8))
        const exit = yield* call.await
        assert.isTrue(Exit.isFailure(exit))
        const error = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
        assert.instanceOf(error, RpcClientError.RpcClientError)
        const rpcError = error as RpcClientError.RpcClientError
        assert.strictEqual(rpcError.reason, "Protocol")
        const framing = Cause.squash(rpcError.cause as Cause.Cause<unknown>)
        assert.isTrue(Framing.isFramingError(framing))
        assert.strictEqual((framing as Framing.FramingError).reason, "HeaderTooLong")
      })
    )

    it.scopedLive("too large either way: the call fails, and the client goes on working", () =>
      Effect.gen(function* () {
        const client = yield* makeClient(yield* startServer({ maxMessageSize: 1024 }))
        // A response over the server's limit: the server refuses to encode it and answers with a Defect.
        const tooBig = yield* Effect.exit(client.Repeat({ text: "x", times: 2000 }))
        assert.isTrue(Exit.isFailure(tooBig) && Cause.isDie(tooBig.cause))
        assert.include(Exit.isFailure(tooBig) ? Cause.pretty(tooBig.cause) : "", "maximum size of 1024")
        assert.strictEqual(yield* client.Repeat({ text: "y", times: 3 }), "yyy")
        // A request over the server's limit: the server closes the connection; the client reconnects.
        const refused = yield* Effect.exit(client.Repeat({ text: "z".repeat(2000), times: 1 }))
        const closed = Exit.isFailure(refused) ? Cause.squash(refused.cause) : undefined
        assert.instanceOf(closed, RpcClientError.RpcClientError)
        assert.strictEqual((closed as RpcClientError.RpcClientError).message, "Error in socket")
        // Until it has reconnected, calls fail fast with the socket's RpcClientError.
        const again = yield* client
          .Repeat({ text: "w", times: 2 })
          .pipe(Effect.retry({ schedule: fastRetry, times: 100 }))
        assert.strictEqual(again, "ww")
      })
    )

    it.scopedLive("client: a request over its own limit dies before it is sent; the connection is unharmed", () =>
      Effect.gen(function* () {
        const client = yield* makeClient(yield* startServer(), { maxMessageSize: 1024 })
        const refused = yield* Effect.exit(client.Repeat({ text: "z".repeat(2000), times: 1 }))
        assert.isTrue(Exit.isFailure(refused) && Cause.isDie(refused.cause))
        const defect = Exit.isFailure(refused) ? Cause.squash(refused.cause) : undefined
        assert.instanceOf(defect, RpcSerialization.RpcSerializationError)
        assert.strictEqual(yield* client.Repeat({ text: "v", times: 2 }), "vv")
      })
    )
  })
})

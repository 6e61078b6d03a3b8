/**
 * The Effect 4 line's Rpc: `effect/rpc` over Stockings framing, on
 * `effect/socket` sockets over `node:net` (no `@effect/platform-node`), over
 * real loopback sockets and a Unix socket in a temp dir; the wire checked by
 * a raw Stockings peer (plain `node:net` and the Framing decoder).
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Rpc from "effect/rpc/Rpc"
import * as RpcClient from "effect/rpc/RpcClient"
import * as RpcClientError from "effect/rpc/RpcClientError"
import * as RpcGroup from "effect/rpc/RpcGroup"
import * as RpcSerialization from "effect/rpc/RpcSerialization"
import * as RpcServer from "effect/rpc/RpcServer"
import * as Socket from "effect/socket/Socket"
import * as SocketServer from "effect/socket/SocketServer"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import * as Framing from "../../src/effect4/Framing.js"
import * as StockingsRpc from "../../src/effect4/Rpc.js"

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

const run = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>): Promise<A> => Effect.runPromise(Effect.scoped(effect))

/** The RPC server through `layerServerProtocol` (127.0.0.1, port 0 unless a path is given); returns its address. */
const startServer = (options: StockingsRpc.SerializationOptions & { readonly path?: string } = {}) =>
  Effect.gen(function* () {
    const target = options.path === undefined ? { port: 0 } : { path: options.path }
    const context = yield* Layer.build(
      RpcServer.layer(Rpcs).pipe(
        Layer.provide(Handlers),
        Layer.provideMerge(StockingsRpc.layerServerProtocol({ ...target, maxMessageSize: options.maxMessageSize }))
      )
    )
    return Context.get(context, SocketServer.SocketServer).address
  })

const startTcpServer = (options: StockingsRpc.SerializationOptions = {}) =>
  Effect.map(startServer(options), (address) => {
    if (address._tag === "UnixPathAddress") throw new Error("expected a TCP address")
    return address.port
  })

/** An RPC client through `layerClientProtocol`. */
const makeClient = (target: StockingsRpc.ConnectTarget, options: StockingsRpc.SerializationOptions = {}) =>
  Effect.gen(function* () {
    const protocol = yield* Layer.build(
      StockingsRpc.layerClientProtocol({ ...target, retryPolicy: fastRetry, ...options })
    )
    return yield* RpcClient.make(Rpcs).pipe(Effect.provideContext(protocol))
  })

const tcp = (port: number): StockingsRpc.ConnectTarget => ({ host: "127.0.0.1", port })

/** A raw `node:net` client, destroyed with the scope. */
const rawClient = (port: number) =>
  Effect.acquireRelease(
    Effect.callback<net.Socket>((resume) => {
      const socket = net.connect(port, "127.0.0.1", () => resume(Effect.succeed(socket)))
    }),
    (socket) => Effect.sync(() => socket.destroy())
  )

/** A raw `node:net` server on port 0: its port, and the first connection it accepts. */
const rawServer = Effect.gen(function* () {
  let onAccept: ((socket: net.Socket) => void) | undefined
  const accepted = new Promise<net.Socket>((resolve) => (onAccept = resolve))
  const server = yield* Effect.acquireRelease(
    Effect.callback<net.Server>((resume) => {
      const server = net.createServer((socket) => onAccept?.(socket))
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.callback<void>((resume) => {
        void accepted.then((socket) => socket.destroy())
        server.close(() => resume(Effect.void))
      })
  )
  return { port: (server.address() as net.AddressInfo).port, accepted: Effect.promise(() => accepted) }
})

/** Reads frames from a raw socket until `count` messages have arrived; fails with the FramingError if any. */
const readFrames = (socket: net.Socket, count: number) =>
  Effect.callback<Array<Framing.Message>, Framing.FramingError>((resume) => {
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
  Effect.callback<void>((resume) => {
    if (socket.closed) return resume(Effect.void)
    socket.once("close", () => resume(Effect.void))
  })

const request = (id: string, tag: string, payload: unknown) => ({ _tag: "Request", id, tag, payload, headers: [] })

const parse = (message: Framing.Message | undefined): unknown => {
  expect(typeof message, "an RPC message travels as a TEXT frame").toBe("string")
  return JSON.parse(message as string)
}

const parser = () => StockingsRpc.serialization.makeUnsafe()

const thrown = (f: () => unknown): unknown => {
  try {
    f()
  } catch (error) {
    return error
  }
  throw new Error("expected a throw")
}

const squashed = <A, E>(exit: Exit.Exit<A, E>): unknown =>
  Exit.isFailure(exit) ? Cause.squash(exit.cause) : new Error("expected a failure")

describe("effect4 Rpc", () => {
  describe("over loopback", () => {
    it("request/response: success and typed failure (layerServerProtocol + layerClientProtocol)", async () => {
      const [user, failed] = await run(
        Effect.gen(function* () {
          const client = yield* makeClient(tcp(yield* startTcpServer()))
          return [yield* client.GetUser({ id: 1 }), yield* Effect.exit(client.GetUser({ id: 2 }))] as const
        })
      )
      expect(user).toEqual(new User({ id: 1, name: "Ada" }))
      expect(user).toBeInstanceOf(User)
      expect(failed).toEqual(Exit.fail("no user 2"))
    })

    it("a stream response: 2,000 elements arrive in order", async () => {
      const values = await run(
        Effect.gen(function* () {
          const client = yield* makeClient(tcp(yield* startTcpServer()))
          return yield* Stream.runCollect(client.Count({ upTo: 2000 }))
        })
      )
      expect(values.length).toBe(2000)
      expect(values).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1))
    })

    it("500 concurrent calls on one connection each get their own answer", async () => {
      const answers = await run(
        Effect.gen(function* () {
          const client = yield* makeClient(tcp(yield* startTcpServer()))
          return yield* Effect.forEach(
            Array.from({ length: 500 }, (_, i) => i),
            (i) => client.Repeat({ text: `${i},`, times: 1 + (i % 7) }),
            { concurrency: "unbounded" }
          )
        })
      )
      expect(answers).toEqual(Array.from({ length: 500 }, (_, i) => `${i},`.repeat(1 + (i % 7))))
    })

    it("over a Unix socket in a temp dir", async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stockings-rpc4-"))
      try {
        const socketPath = path.join(dir, "rpc.sock")
        const [address, user, counted] = await run(
          Effect.gen(function* () {
            const address = yield* startServer({ path: socketPath })
            const client = yield* makeClient({ path: socketPath })
            return [
              address,
              yield* client.GetUser({ id: 1 }),
              yield* Stream.runCollect(client.Count({ upTo: 5 }))
            ] as const
          })
        )
        expect(address).toMatchObject({ _tag: "UnixPathAddress", path: socketPath })
        expect(user).toEqual(new User({ id: 1, name: "Ada" }))
        expect(counted).toEqual([1, 2, 3, 4, 5])
        // The server's scope closed: Node removed the socket file.
        expect(fs.existsSync(socketPath)).toBe(false)
      } finally {
        fs.rmSync(dir, { recursive: true, force: true })
      }
    })

    it("by hand: layerSerialization with effect/rpc's socket protocols over layerSocket / layerSocketServer", async () => {
      const [user, counted] = await run(
        Effect.gen(function* () {
          const server = yield* Layer.build(
            RpcServer.layer(Rpcs).pipe(
              Layer.provide(Handlers),
              Layer.provide(RpcServer.layerProtocolSocketServer),
              Layer.provide(StockingsRpc.layerSerialization()),
              Layer.provideMerge(StockingsRpc.layerSocketServer({ port: 0 }))
            )
          )
          const address = Context.get(server, SocketServer.SocketServer).address
          const port = address._tag === "UnixPathAddress" ? 0 : address.port
          const protocol = yield* Layer.build(
            RpcClient.layerProtocolSocket({ retryPolicy: fastRetry }).pipe(
              Layer.provide([StockingsRpc.layerSerialization(), StockingsRpc.layerSocket({ host: "127.0.0.1", port })])
            )
          )
          const client = yield* RpcClient.make(Rpcs).pipe(Effect.provideContext(protocol))
          return [yield* client.GetUser({ id: 1 }), yield* Stream.runCollect(client.Count({ upTo: 3 }))] as const
        })
      )
      expect(user).toEqual(new User({ id: 1, name: "Ada" }))
      expect(counted).toEqual([1, 2, 3])
    })

    it("a client started before its server connects once the server is up (it retries)", async () => {
      const user = await run(
        Effect.gen(function* () {
          // A free port: listen on 0, note it, close.
          const port = yield* Effect.promise(
            () =>
              new Promise<number>((resolve) => {
                const probe = net.createServer().listen(0, "127.0.0.1", () => {
                  const { port } = probe.address() as net.AddressInfo
                  probe.close(() => resolve(port))
                })
              })
          )
          const client = yield* makeClient(tcp(port))
          const call = yield* client
            .GetUser({ id: 1 })
            .pipe(Effect.retry({ schedule: fastRetry, times: 200 }), Effect.forkScoped)
          yield* Effect.sleep("50 millis")
          const context = yield* Layer.build(
            RpcServer.layer(Rpcs).pipe(
              Layer.provide(Handlers),
              Layer.provideMerge(StockingsRpc.layerServerProtocol({ port }))
            )
          )
          expect(Context.get(context, SocketServer.SocketServer).address).toMatchObject({ port })
          return yield* Fiber.join(call)
        })
      )
      expect(user).toEqual(new User({ id: 1, name: "Ada" }))
    })
  })

  describe("the wire", () => {
    it("a raw Stockings peer with JSON TEXT frames gets answers from the RPC server", async () => {
      const [first, second] = await run(
        Effect.gen(function* () {
          const socket = yield* rawClient(yield* startTcpServer())
          const frames = Framing.encodeAll([
            JSON.stringify(request("1", "GetUser", { id: 1 })),
            JSON.stringify(request("2", "GetUser", { id: 2 }))
          ])
          // Split the two frames awkwardly: mid-header of nothing, mid-payload of the first, across the boundary.
          const replies = yield* Effect.forkScoped(readFrames(socket, 2))
          for (const [from, to] of [
            [0, 1],
            [1, 10],
            [10, frames.length - 5],
            [frames.length - 5, frames.length]
          ] as const) {
            socket.write(frames.subarray(from, to))
            yield* Effect.sleep("5 millis")
          }
          return (yield* Fiber.join(replies)).map(parse)
        })
      )
      const byId = new Map([first, second].map((m) => [(m as { requestId: string }).requestId, m]))
      expect(byId.get("1")).toEqual({
        _tag: "Exit",
        requestId: "1",
        exit: { _tag: "Success", value: { id: 1, name: "Ada" } }
      })
      expect(byId.get("2")).toMatchObject({
        _tag: "Exit",
        requestId: "2",
        exit: { _tag: "Failure", cause: [{ _tag: "Fail", error: "no user 2" }] }
      })
    })

    it("a BYTES frame holding UTF-8 JSON is accepted too", async () => {
      const reply = await run(
        Effect.gen(function* () {
          const socket = yield* rawClient(yield* startTcpServer())
          socket.write(Framing.encode(new TextEncoder().encode(JSON.stringify(request("7", "GetUser", { id: 1 })))))
          return (yield* readFrames(socket, 1))[0]
        })
      )
      expect(parse(reply)).toMatchObject({ _tag: "Exit", requestId: "7" })
    })

    it("the client's bytes decode as Stockings TEXT frames of JSON", async () => {
      const sent = await run(
        Effect.gen(function* () {
          const { port, accepted } = yield* rawServer
          const client = yield* makeClient(tcp(port))
          yield* Effect.forkScoped(client.GetUser({ id: 42 }))
          const socket = yield* accepted
          return (yield* readFrames(socket, 1))[0]
        })
      )
      expect(parse(sent)).toMatchObject({ _tag: "Request", tag: "GetUser", payload: { id: 42 } })
    })
  })

  describe("the parser", () => {
    const messages = [request("1", "GetUser", { id: 1 }), { _tag: "Ack", requestId: "1" }, { text: "żółw 🐢" }]

    it("encodes each message as one TEXT frame of its JSON, an array as consecutive frames", () => {
      const p = parser()
      const one = p.encode(messages[0])
      expect(one).toBeInstanceOf(Uint8Array)
      expect(Framing.unsafeMakeDecoder().push(one as Uint8Array)).toEqual([JSON.stringify(messages[0])])
      const many = p.encode(messages) as Uint8Array
      expect(Framing.unsafeMakeDecoder().push(many)).toEqual(messages.map((m) => JSON.stringify(m)))
      expect(p.encode([])).toBeUndefined()
      expect(StockingsRpc.serialization.includesFraming).toBe(true)
      expect(StockingsRpc.serialization.contentType).toBe(StockingsRpc.contentType)
    })

    it("decodes a frame split across chunks (down to single bytes) and several frames in one chunk", () => {
      const bytes = Framing.encodeAll(messages.map((m) => JSON.stringify(m)))
      expect(parser().decode(bytes)).toEqual(messages)
      const p = parser()
      const out: Array<unknown> = []
      for (let i = 0; i < bytes.length; i++) out.push(...p.decode(bytes.subarray(i, i + 1)))
      expect(out).toEqual(messages)
      const q = parser()
      const cut = Framing.encodedSize(JSON.stringify(messages[0])) + 3
      expect(q.decode(bytes.subarray(0, cut))).toEqual([messages[0]])
      expect(q.decode(bytes.subarray(cut))).toEqual(messages.slice(1))
    })

    it("each parser has its own decoder", () => {
      const bytes = Framing.encode(JSON.stringify(messages[0]))
      const a = parser()
      const b = parser()
      expect(a.decode(bytes.subarray(0, 5))).toEqual([])
      expect(b.decode(bytes)).toEqual([messages[0]])
      expect(a.decode(bytes.subarray(5))).toEqual([messages[0]])
    })

    it("malformed framing throws the FramingError, and keeps throwing it", () => {
      const p = parser()
      const error = thrown(() => p.decode(new Uint8Array(8)))
      expect(Framing.isFramingError(error)).toBe(true)
      expect((error as Framing.FramingError).reason).toBe("HeaderTooLong")
      expect(thrown(() => p.decode(Framing.encode("{}")))).toBe(error)
    })

    it("a frame over maxMessageSize throws MaxBufferSizeExceeded with the sizes and the FramingError as cause", () => {
      const p = StockingsRpc.makeSerialization({ maxMessageSize: 100 }).makeUnsafe()
      const error = thrown(() => p.decode(Framing.encodeHeader("text", 101)))
      expect(error).toBeInstanceOf(RpcSerialization.MaxBufferSizeExceeded)
      expect(error).toMatchObject({ _tag: "MaxBufferSizeExceeded", maxBufferSize: 100, bufferSize: 101 })
      const cause = (error as Error).cause
      expect(Framing.isFramingError(cause)).toBe(true)
      expect((cause as Framing.FramingError).reason).toBe("MessageTooLarge")
      // Encoding refuses what the peer (with the same limit) would refuse.
      const refused = thrown(() => p.encode({ text: "x".repeat(100) }))
      expect(refused).toBeInstanceOf(RpcSerialization.MaxBufferSizeExceeded)
      expect(refused).toMatchObject({ maxBufferSize: 100, bufferSize: 111 })
    })

    it("a well-framed message that is not a JSON object throws, and the next one decodes", () => {
      const p = parser()
      expect(thrown(() => p.decode(Framing.encode("not json")))).toBeInstanceOf(SyntaxError)
      expect(thrown(() => p.decode(Framing.encode("null")))).toBeInstanceOf(TypeError)
      expect(p.decode(Framing.encode("{}"))).toEqual([{}])
    })
  })

  describe("errors", () => {
    it("server: malformed framing is answered with a Defect naming the FramingError", async () => {
      const reply = await run(
        Effect.gen(function* () {
          const socket = yield* rawClient(yield* startTcpServer())
          socket.write(new Uint8Array(8)) // eight header bytes with no last-byte flag
          return (yield* readFrames(socket, 1))[0]
        })
      )
      const defect = parse(reply) as { _tag: string; defect: unknown }
      expect(defect._tag).toBe("Defect")
      expect(JSON.stringify(defect.defect)).toContain("unfinished after 8 bytes")
    })

    it("server: a frame over maxMessageSize closes the connection", async () => {
      await run(
        Effect.gen(function* () {
          const socket = yield* rawClient(yield* startTcpServer({ maxMessageSize: 1024 }))
          socket.on("error", () => {}) // the server may reset it
          socket.write(Framing.encodeHeader("text", 1025))
          yield* waitForClose(socket)
        })
      )
    })

    it("client: a peer that breaks the framing fails the call with RpcClientError, cause FramingError", async () => {
      const error = await run(
        Effect.gen(function* () {
          const { port, accepted } = yield* rawServer
          const client = yield* makeClient(tcp(port))
          const call = yield* Effect.forkScoped(client.GetUser({ id: 1 }))
          const socket = yield* accepted
          yield* readFrames(socket, 1)
          socket.write(new Uint8Array(8))
          return squashed(yield* Fiber.await(call))
        })
      )
      expect(error).toBeInstanceOf(RpcClientError.RpcClientError)
      const reason = (error as RpcClientError.RpcClientError).reason
      expect(reason._tag).toBe("RpcClientDefect")
      const framing = (reason as RpcClientError.RpcClientDefect).cause
      expect(Framing.isFramingError(framing)).toBe(true)
      expect((framing as Framing.FramingError).reason).toBe("HeaderTooLong")
    })

    it("too large either way: the call fails, and the client goes on working", async () => {
      const [tooBig, fine, refused, again] = await run(
        Effect.gen(function* () {
          const client = yield* makeClient(tcp(yield* startTcpServer({ maxMessageSize: 1024 })))
          // A response over the server's limit: the server refuses to encode it and answers with a Defect.
          const tooBig = yield* Effect.exit(client.Repeat({ text: "x", times: 2000 }))
          const fine = yield* client.Repeat({ text: "y", times: 3 })
          // A request over the server's limit: the server closes the connection; the client reconnects.
          const refused = yield* Effect.exit(client.Repeat({ text: "z".repeat(2000), times: 1 }))
          const again = yield* client
            .Repeat({ text: "w", times: 2 })
            .pipe(Effect.retry({ schedule: fastRetry, times: 100 }))
          return [tooBig, fine, refused, again] as const
        })
      )
      expect(Exit.isFailure(tooBig) && Cause.hasDies(tooBig.cause)).toBe(true)
      expect(Exit.isFailure(tooBig) ? Cause.pretty(tooBig.cause) : "").toContain("maximum size of 1024")
      expect(fine).toBe("yyy")
      expect(squashed(refused)).toBeInstanceOf(RpcClientError.RpcClientError)
      expect(again).toBe("ww")
    })

    it("client: a request over its own limit dies before it is sent; the connection is unharmed", async () => {
      const [refused, after] = await run(
        Effect.gen(function* () {
          const client = yield* makeClient(tcp(yield* startTcpServer()), { maxMessageSize: 1024 })
          const refused = yield* Effect.exit(client.Repeat({ text: "z".repeat(2000), times: 1 }))
          return [refused, yield* client.Repeat({ text: "v", times: 2 })] as const
        })
      )
      expect(Exit.isFailure(refused) && Cause.hasDies(refused.cause)).toBe(true)
      expect(squashed(refused)).toBeInstanceOf(RpcSerialization.MaxBufferSizeExceeded)
      expect(after).toBe("vv")
    })

    it("a server that cannot listen fails with SocketServerError", async () => {
      const error = await run(
        Effect.gen(function* () {
          const port = yield* startTcpServer()
          return yield* Effect.flip(Layer.build(StockingsRpc.layerSocketServer({ port })))
        })
      )
      expect(error).toBeInstanceOf(SocketServer.SocketServerError)
      expect(error.reason._tag).toBe("SocketServerOpenError")
      const cause = String(error.reason.cause)
      expect(cause).toContain("could not listen on 127.0.0.1:")
      expect(cause).toContain("EADDRINUSE")
    })
  })

  describe("the Socket over node:net", () => {
    it("makeSocket: pull gives what arrived, the peer's end fails it with SocketCloseError 1000", async () => {
      const [received, closed] = await run(
        Effect.gen(function* () {
          const { port, accepted } = yield* rawServer
          const socket = StockingsRpc.makeSocket({ host: "127.0.0.1", port })
          const writer = yield* socket.writer
          const pull = yield* Socket.readerBytes(socket) // connects
          yield* writer.writeAll([new Uint8Array([1, 2]), "ok"])
          const peer = yield* accepted
          // The peer echoes the four bytes and ends the connection.
          yield* Effect.callback<void>((resume) => {
            const got: Array<number> = []
            peer.on("data", (chunk: Buffer) => {
              got.push(...chunk)
              if (got.length === 4) peer.end(Uint8Array.from(got), () => resume(Effect.void))
            })
          })
          const received: Array<number> = []
          while (received.length < 4) for (const chunk of yield* pull) received.push(...chunk)
          return [received, yield* Effect.flip(pull)] as const
        })
      )
      expect(received).toEqual([1, 2, 0x6f, 0x6b])
      expect(closed).toBeInstanceOf(Socket.SocketError)
      expect(closed.reason).toMatchObject({ _tag: "SocketCloseError", code: 1000 })
    })

    it("makeSocket: reading pauses the connection while bytes wait unpulled (the peer's writes back up)", async () => {
      const MiB = 1024 * 1024
      const [backedUp, total] = await run(
        Effect.gen(function* () {
          const { port, accepted } = yield* rawServer
          const pull = yield* Socket.readerBytes(StockingsRpc.makeSocket({ host: "127.0.0.1", port }))
          const peer = yield* accepted
          const chunk = new Uint8Array(MiB)
          for (let i = 0; i < 32; i++) peer.write(chunk)
          yield* Effect.sleep("300 millis")
          // Nothing pulled: the socket is paused, the kernel's buffers fill, the rest waits in the peer.
          const backedUp = peer.writableLength
          let total = 0
          while (total < 32 * MiB) for (const bytes of yield* pull) total += bytes.length
          return [backedUp, total] as const
        })
      )
      expect(backedUp).toBeGreaterThan(8 * MiB)
      expect(total).toBe(32 * MiB)
    })

    it("makeSocket: a write waits while the peer does not read, and completes once it does", async () => {
      const MiB = 1024 * 1024
      const [doneEarly, received] = await run(
        Effect.gen(function* () {
          const { port, accepted } = yield* rawServer
          const socket = StockingsRpc.makeSocket({ host: "127.0.0.1", port })
          const writer = yield* socket.writer
          yield* socket.reader
          const peer = yield* accepted
          peer.pause()
          const chunk = new Uint8Array(MiB)
          const writing = yield* Effect.forkChild(
            Effect.gen(function* () {
              for (let i = 0; i < 32; i++) yield* writer.write(chunk)
            })
          )
          yield* Effect.sleep("300 millis")
          const doneEarly = writing.pollUnsafe() !== undefined
          let received = 0
          peer.on("data", (bytes: Buffer) => (received += bytes.length))
          peer.resume()
          yield* Fiber.join(writing)
          while (received < 32 * MiB) yield* Effect.sleep("5 millis")
          return [doneEarly, received] as const
        })
      )
      expect(doneEarly).toBe(false)
      expect(received).toBe(32 * MiB)
    })

    it("makeSocket: nobody listening fails the reader with SocketOpenError", async () => {
      const error = await run(
        Effect.gen(function* () {
          const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stockings-rpc4-"))
          yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })))
          return yield* Effect.flip(StockingsRpc.makeSocket({ path: path.join(dir, "nobody.sock") }).reader)
        })
      )
      expect(error.reason._tag).toBe("SocketOpenError")
    })
  })
})

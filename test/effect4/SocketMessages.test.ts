/**
 * Whole Stockings messages over an `effect/socket` `Socket`
 * (src/effect4/internal/socketMessages.ts): over the `node:net` Socket on
 * loopback, and over a `TransformStream` Socket (`Socket.fromTransformStream`),
 * the transport-neutral case. The peer is a raw `node:net` socket with the
 * Framing encoder and decoder, so the bytes are checked too.
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Scope from "effect/Scope"
import * as Socket from "effect/socket/Socket"
import * as net from "node:net"
import { describe, expect, it } from "vitest"
import * as Framing from "../../src/effect4/Framing.js"
import * as NetSocket from "../../src/effect4/internal/netSocket.js"
import * as SocketMessages from "../../src/effect4/internal/socketMessages.js"
import { expectMessages, splitAt } from "./utils.js"

const run = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>): Promise<A> => Effect.runPromise(Effect.scoped(effect))

/** A loopback server on port 0: its port and the first connection it accepts. */
const listen = Effect.acquireRelease(
  Effect.callback<{ server: net.Server; accepted: Promise<net.Socket> }>((resume) => {
    let accept: (socket: net.Socket) => void = () => {}
    const accepted = new Promise<net.Socket>((resolve) => (accept = resolve))
    const server = net.createServer((socket) => accept(socket))
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ server, accepted })))
  }),
  ({ accepted, server }) =>
    Effect.callback<void>((resume) => {
      void accepted.then((socket) => socket.destroy())
      server.close(() => resume(Effect.void))
    })
)

const messages: ReadonlyArray<Framing.Message> = ["hello", new Uint8Array([1, 2, 3]), "", "żółw 🐢", new Uint8Array(0)]

describe("effect4 messages over an effect/socket Socket", () => {
  it("over node:net: writes whole frames, reads messages cut anywhere, ends with SocketCloseError", async () => {
    const [received, batch, sent, end] = await run(
      Effect.gen(function* () {
        const { accepted, server } = yield* listen
        const port = (server.address() as net.AddressInfo).port
        const channel = yield* SocketMessages.make(NetSocket.makeNet({ host: "127.0.0.1", port }))
        const peer = yield* Effect.promise(() => accepted)
        // The peer sends the messages cut at awkward places, one piece per write.
        for (const piece of splitAt(Framing.encodeAll(messages), [1, 2, 9, 10, 30])) {
          peer.write(piece)
          yield* Effect.sleep("2 millis")
        }
        const received: Array<Framing.Message> = []
        for (let i = 0; i < messages.length; i++) received.push(yield* channel.take)
        peer.write(Framing.encodeAll(["a", "b", "c"]))
        const batch: Array<Framing.Message> = []
        while (batch.length < 3) batch.push(...(yield* channel.takeBatch))
        // And the other way: what the channel writes, the peer decodes.
        const decoder = Framing.unsafeMakeDecoder()
        const sent: Array<Framing.Message> = []
        const reading = yield* Effect.forkChild(
          Effect.callback<void>((resume) => {
            peer.on("data", (chunk: Buffer) => {
              sent.push(...decoder.push(chunk))
              if (sent.length === messages.length + 1) resume(Effect.void)
            })
          })
        )
        yield* channel.writeAll(messages)
        yield* channel.write("last")
        yield* Fiber.join(reading)
        peer.end()
        return [received, batch, sent, yield* Effect.flip(channel.take)] as const
      })
    )
    expectMessages(received, messages)
    expect(batch).toEqual(["a", "b", "c"])
    expectMessages(sent, [...messages, "last"])
    expect(end).toBeInstanceOf(Socket.SocketError)
    expect((end as Socket.SocketError).reason).toMatchObject({ _tag: "SocketCloseError", code: 1000 })
  })

  it("a peer that breaks the framing fails the read with the FramingError, and again after", async () => {
    const [first, second] = await run(
      Effect.gen(function* () {
        const { accepted, server } = yield* listen
        const port = (server.address() as net.AddressInfo).port
        const channel = yield* SocketMessages.make(NetSocket.makeNet({ host: "127.0.0.1", port }), {
          maxMessageSize: 10
        })
        const peer = yield* Effect.promise(() => accepted)
        peer.write(Framing.encodeHeader("text", 11))
        return [yield* Effect.flip(channel.take), yield* Effect.flip(channel.takeBatch)] as const
      })
    )
    expect(Framing.isFramingError(first)).toBe(true)
    expect(first).toMatchObject({ reason: "MessageTooLarge", declaredLength: 11, limit: 10 })
    expect(second).toBe(first)
  })

  it("over a TransformStream Socket (any transport): what is written is read back whole", async () => {
    const received = await run(
      Effect.gen(function* () {
        // A loop: the socket's writes come back out of its readable side.
        const socket = yield* Socket.fromTransformStream(Effect.sync(() => new TransformStream<Uint8Array>()))
        const channel = yield* SocketMessages.make(socket)
        // The stream applies backpressure: a write completes once it is read, so the writes run beside the reads.
        const writing = yield* Effect.forkChild(Effect.andThen(channel.writeAll(messages), channel.write("again")))
        const received: Array<Framing.Message> = []
        while (received.length < messages.length + 1) received.push(...(yield* channel.takeBatch))
        yield* Fiber.join(writing)
        return received
      })
    )
    expectMessages(received, [...messages, "again"])
  })
})

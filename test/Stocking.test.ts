import { assert, describe, it } from "@effect/vitest"
import {
  Chunk,
  Deferred,
  Effect,
  Exit,
  Fiber,
  Option,
  ParseResult,
  Schedule,
  Schema,
  Scope,
  Stream,
  Supervisor
} from "effect"
import { Codec, Framing } from "../src/index.js"
import { Stocking } from "../src/node.js"
import { captureOnWire, captureStream } from "./fixtures/wire.js"
import { backends, collect, pair, rawClient, rawPeer, rawServer, stockingWith } from "./utils/net.js"

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex")

/** Every combination of backends on the two ends: same on both, and each mixed pair. */
const combinations = backends.flatMap(([clientName, clientBackend]) =>
  backends.map(([serverName, serverBackend]) => ({
    name: `${clientName} client / ${serverName} server`,
    client: clientBackend,
    server: serverBackend
  }))
)

/** Waits until `check` holds, polling; fails the test after `ms`. */
const eventually = (check: () => boolean, what: string, ms = 5000) =>
  Effect.gen(function* () {
    const deadline = Date.now() + ms
    while (!check()) {
      if (Date.now() > deadline) return assert.fail(`timed out waiting for: ${what}`)
      yield* Effect.sleep("5 millis")
    }
  })

for (const combo of combinations) {
  describe(`Stocking (${combo.name})`, () => {
    const makePair = <I = Framing.Message, O = Framing.Message, E = never>(
      options?: Parameters<typeof pair<I, O, E>>[2]
    ) => pair<I, O, E>(combo.client, combo.server, options)

    it.scopedLive("a written message is read whole, with its kind", () =>
      Effect.gen(function* () {
        const { client, server } = yield* makePair()
        yield* client.write("Test Message")
        yield* client.write(Uint8Array.of(0, 1, 255))
        yield* client.write("")
        yield* client.write(new Uint8Array(0))
        const text = yield* server.take
        assert.strictEqual(text, "Test Message")
        const bytes = yield* server.take
        assert.instanceOf(bytes, Uint8Array)
        assert.strictEqual(hex(bytes as Uint8Array), "0001ff")
        assert.strictEqual(yield* server.take, "")
        const empty = yield* server.take
        assert.instanceOf(empty, Uint8Array)
        assert.strictEqual((empty as Uint8Array).length, 0)
      })
    )

    it.scopedLive("read gives None until the whole message has arrived", () =>
      Effect.gen(function* () {
        const { peer, stocking } = yield* rawPeer(combo.server)
        const frame = Framing.encode("x".repeat(1000))
        peer.write(frame.subarray(0, 500))
        yield* Effect.sleep("50 millis")
        assert.deepStrictEqual(yield* stocking.read, Option.none())
        peer.write(frame.subarray(500))
        const message = yield* stocking.take
        assert.strictEqual(message, "x".repeat(1000))
        assert.deepStrictEqual(yield* stocking.read, Option.none())
      })
    )

    it.scopedLive("order is preserved for 500 messages each way at once", () =>
      Effect.gen(function* () {
        const { client, server } = yield* makePair()
        const n = 500
        const messages = (side: string) =>
          Array.from({ length: n }, (_, i) => (i % 3 === 0 ? Uint8Array.of(i & 0xff, i >> 8) : `${side}-${i}`))
        const send = (s: Stocking.Stocking, side: string) =>
          Effect.forEach(messages(side), (m) => s.write(m), { discard: true })
        const receive = (s: Stocking.Stocking) => s.messages.pipe(Stream.take(n), Stream.runCollect)
        const [, , atServer, atClient] = yield* Effect.all(
          [send(client, "c"), send(server, "s"), receive(server), receive(client)],
          { concurrency: "unbounded" }
        )
        const check = (got: Chunk.Chunk<Framing.Message>, side: string) => {
          const expected = messages(side)
          const actual = Chunk.toArray(got)
          assert.strictEqual(actual.length, n)
          for (let i = 0; i < n; i++) {
            const e = expected[i]!
            const a = actual[i]!
            if (typeof e === "string") assert.strictEqual(a, e)
            else assert.strictEqual(hex(a as Uint8Array), hex(e))
          }
        }
        check(atServer, "c")
        check(atClient, "s")
      })
    )

    it.scopedLive("a 16 MiB message arrives whole", () =>
      Effect.gen(function* () {
        const { client, server } = yield* makePair()
        const big = new Uint8Array(16 * 1024 * 1024)
        for (let i = 0; i < big.length; i += 997) big[i] = i & 0xff
        yield* client.write(big)
        yield* client.write("after")
        const got = (yield* server.take) as Uint8Array
        assert.strictEqual(got.length, big.length)
        assert.isTrue(Buffer.from(got.buffer, got.byteOffset, got.length).equals(Buffer.from(big)))
        assert.strictEqual(yield* server.take, "after")
      })
    )

    it.scopedLive("writeDataQueued is true while a large message is in flight, false after", () =>
      Effect.gen(function* () {
        const { client, server } = yield* makePair()
        assert.isFalse(yield* client.writeDataQueued)
        yield* client.write(new Uint8Array(16 * 1024 * 1024))
        assert.isTrue(yield* client.writeDataQueued)
        yield* server.take
        yield* eventually(() => !Effect.runSync(client.writeDataQueued), "writeDataQueued to become false")
      })
    )

    it.scopedLive("close on one side: the other drains what arrived, then fails with Closed", () =>
      Effect.gen(function* () {
        const { client, server } = yield* makePair()
        yield* client.write("one")
        yield* client.write("two")
        yield* client.close
        assert.isFalse(yield* client.isActive)
        const closedAtServer = yield* server.closed
        assert.strictEqual(closedAtServer.reason, "ClosedByPeer")
        assert.isTrue(closedAtServer.isClean, "the peer's end of stream between messages is a clean close")
        assert.isTrue((yield* client.closed).isClean, "a close on this side is a clean close")
        assert.isFalse(yield* server.isActive)
        assert.strictEqual(yield* server.take, "one")
        assert.deepStrictEqual(yield* server.read, Option.some("two"))
        const error = yield* Effect.flip(server.take)
        assert.strictEqual(error._tag, "Closed")
        assert.strictEqual((error as Stocking.Closed).reason, "ClosedByPeer")
        const readError = yield* Effect.flip(server.read)
        assert.strictEqual(readError._tag, "Closed")
        // Writes on either side now fail with Closed, never throw.
        const late = yield* Effect.flip(client.write("late"))
        assert.strictEqual(late._tag, "Closed")
        assert.strictEqual((late as Stocking.Closed).reason, "ClosedLocally")
        const lateServer = yield* Effect.flip(server.write("late"))
        assert.strictEqual((lateServer as Stocking.Closed).reason, "ClosedByPeer")
      })
    )

    it.scopedLive("messages ends cleanly when the peer closes", () =>
      Effect.gen(function* () {
        const { client, server } = yield* makePair()
        yield* client.writeAll(["a", "b", "c"])
        yield* client.close
        const all = yield* server.messages.pipe(Stream.runCollect)
        assert.deepStrictEqual(Chunk.toArray(all), ["a", "b", "c"])
      })
    )

    it.scopedLive("10,000 messages written just before close all arrive", () =>
      Effect.gen(function* () {
        const { client, server } = yield* makePair()
        const n = 10_000
        yield* Effect.forEach(
          Array.from({ length: n }, (_, i) => `m${i}`),
          (m) => client.write(m),
          {
            discard: true
          }
        )
        const [, received] = yield* Effect.all([client.close, server.messages.pipe(Stream.runCollect)], {
          concurrency: 2
        })
        const all = Chunk.toArray(received)
        assert.strictEqual(all.length, n)
        assert.strictEqual(all[0], "m0")
        assert.strictEqual(all[n - 1], `m${n - 1}`)
      })
    )

    it.scopedLive("a slow handshake: NotReady until it completes, then ready", () =>
      Effect.gen(function* () {
        const gate = yield* Deferred.make<void>()
        const { client, server } = yield* makePair({
          client: { handshake: () => Effect.as(Deferred.await(gate), true) }
        })
        assert.isFalse(yield* client.handshakeComplete)
        const notReady = yield* Effect.flip(client.write("early"))
        assert.strictEqual(notReady._tag, "NotReady")
        assert.match(notReady.message, /before the handshake completed/)
        const notReadyRead = yield* Effect.flip(client.read)
        assert.strictEqual(notReadyRead._tag, "NotReady")
        assert.strictEqual((notReadyRead as Stocking.NotReady).operation, "read")
        yield* Deferred.succeed(gate, undefined)
        yield* client.ready
        assert.isTrue(yield* client.handshakeComplete)
        yield* client.write("now")
        assert.strictEqual(yield* server.take, "now")
      })
    )

    it.scopedLive("the original README's handshake: exchange ids through raw frames", () =>
      Effect.gen(function* () {
        const remoteIds: Record<string, string> = {}
        const handshake = (side: string) => (raw: Stocking.Raw) =>
          Effect.gen(function* () {
            yield* raw.write(`id-of-${side}`)
            const got = yield* raw.take
            remoteIds[side] = got as string
            return true
          })
        const { client, server } = yield* makePair({
          client: { handshake: handshake("client") },
          server: { handshake: handshake("server") }
        })
        yield* client.ready
        yield* server.ready
        assert.deepStrictEqual(remoteIds, { client: "id-of-server", server: "id-of-client" })
        yield* client.write("after handshake")
        assert.strictEqual(yield* server.take, "after handshake")
      })
    )

    it.scopedLive("a handshake returning false closes both sides, with the reason", () =>
      Effect.gen(function* () {
        const { client, server } = yield* makePair({ server: { handshake: () => Effect.succeed(false) } })
        const why = yield* Effect.flip(server.ready)
        assert.strictEqual(why.reason, "HandshakeFailed")
        assert.match(why.message, /handshake returned false/)
        assert.isFalse(yield* server.isActive)
        const atClient = yield* client.closed
        assert.strictEqual(atClient.reason, "ClosedByPeer")
        assert.isFalse(yield* client.isActive)
        const write = yield* Effect.flip(server.write("x"))
        assert.strictEqual((write as Stocking.Closed).reason, "HandshakeFailed")
      })
    )

    it.scopedLive("a failing handshake closes both sides, with its error as the cause", () =>
      Effect.gen(function* () {
        const { client, server } = yield* makePair({
          client: { handshake: () => Effect.fail(new Error("bad credentials")) }
        })
        const why = yield* Effect.flip(client.ready)
        assert.strictEqual(why.reason, "HandshakeFailed")
        assert.match(why.message, /bad credentials/)
        assert.strictEqual((yield* server.closed).reason, "ClosedByPeer")
        assert.isFalse(yield* server.isActive)
      })
    )

    it.scopedLive("a handshake timeout closes the Stocking", () =>
      Effect.gen(function* () {
        const { server } = yield* makePair({
          server: { handshake: (raw) => Effect.as(raw.take, true), handshakeTimeout: "100 millis" }
        })
        const why = yield* Effect.flip(server.ready)
        assert.strictEqual(why.reason, "HandshakeFailed")
        assert.match(why.message, /within 100ms/)
      })
    )

    it.scopedLive("a peer that vanishes mid-message: earlier messages delivered, no partial one", () =>
      Effect.gen(function* () {
        const { peer, stocking } = yield* rawPeer(combo.server)
        const frame = Framing.encode(new Uint8Array(1000))
        peer.write(Buffer.concat([Framing.encode("whole"), frame.subarray(0, 400)]))
        yield* Effect.sleep("30 millis")
        peer.end()
        assert.strictEqual(yield* stocking.take, "whole")
        const error = (yield* Effect.flip(stocking.take)) as Stocking.Closed
        assert.strictEqual(error.reason, "ClosedByPeer")
        assert.isFalse(error.isClean, "a peer that left mid-message did not close cleanly")
        const cause = error.cause as Framing.FramingError
        assert.strictEqual(cause.reason, "Truncated")
        assert.strictEqual(cause.declaredLength, 1000)
        assert.strictEqual(cause.buffered, 398)
        // messages fails (not a clean end) when the peer left mid-message
        const exit = yield* Effect.exit(stocking.messages.pipe(Stream.runCollect))
        assert.isTrue(Exit.isFailure(exit))
      })
    )

    it.scopedLive("an oversized header closes with ProtocolError carrying the numbers", () =>
      Effect.gen(function* () {
        const { peer, stocking } = yield* rawPeer(combo.server, { maxMessageSize: 1024 })
        peer.write(Buffer.concat([Framing.encode("ok"), Framing.encodeHeader("bytes", 2 ** 50)]))
        assert.strictEqual(yield* stocking.take, "ok")
        const error = (yield* Effect.flip(stocking.take)) as Stocking.Closed
        assert.strictEqual(error.reason, "ProtocolError")
        assert.isFalse(error.isClean)
        const cause = error.cause as Framing.FramingError
        assert.strictEqual(cause.reason, "MessageTooLarge")
        assert.strictEqual(cause.declaredLength, 2 ** 50)
        assert.strictEqual(cause.limit, 1024)
        assert.strictEqual(cause.offset, 3)
        assert.isTrue(stocking.socket.destroyed)
      })
    )
  })
}

describe("Stocking: wire", () => {
  for (const [name, backend] of backends) {
    it.scopedLive(`${name}: two messages in one TCP write, and a header one byte at a time`, () =>
      Effect.gen(function* () {
        const { peer, stocking } = yield* rawPeer(backend)
        peer.write(Framing.encodeAll(["first", "second"]))
        assert.strictEqual(yield* stocking.take, "first")
        assert.strictEqual(yield* stocking.take, "second")
        // A 3-byte header for a 70,000 byte payload, dripped one byte per write.
        const frame = Framing.encode(new Uint8Array(70_000).fill(7))
        for (let i = 0; i < 3; i++) {
          peer.write(frame.subarray(i, i + 1))
          yield* Effect.sleep("10 millis")
          assert.deepStrictEqual(yield* stocking.read, Option.none())
        }
        peer.write(frame.subarray(3))
        const got = (yield* stocking.take) as Uint8Array
        assert.strictEqual(got.length, 70_000)
        assert.strictEqual(got[69_999], 7)
      })
    )

    it.scopedLive(`${name}: reads the original library's captured bytes, split into small writes`, () =>
      Effect.gen(function* () {
        const { peer, stocking } = yield* rawPeer(backend)
        for (let i = 0; i < captureStream.length; i += 777) peer.write(captureStream.subarray(i, i + 777))
        for (const expected of captureOnWire) {
          const got = yield* stocking.take
          assert.strictEqual(typeof got, typeof expected)
          if (typeof expected === "string") assert.strictEqual(got, expected)
          else assert.strictEqual(hex(got as Uint8Array), hex(expected))
        }
      })
    )

    it.scopedLive(`${name}: writes exactly the original library's bytes`, () =>
      Effect.gen(function* () {
        const { port, accepted } = yield* rawServer
        const peer = yield* rawClient(port)
        const received = collect(peer)
        const stocking = yield* stockingWith(backend, { socket: yield* accepted })
        yield* stocking.writeAll(captureOnWire)
        yield* eventually(() => received.bytes().length >= captureStream.length, "the whole capture")
        assert.strictEqual(hex(received.bytes()), hex(captureStream))
      })
    )
  }

  it.scopedLive("select: messages written within one interval go out in one write", () =>
    Effect.gen(function* () {
      const { Select } = yield* Effect.promise(() => import("../src/node.js"))
      const { port, accepted } = yield* rawServer
      const peer = yield* rawClient(port)
      const received = collect(peer)
      const stocking = yield* stockingWith(Select.make("150 millis"), { socket: yield* accepted })
      assert.strictEqual(stocking.backend, "select")
      yield* stocking.write("one")
      yield* stocking.write("two")
      yield* Effect.sleep("50 millis")
      assert.strictEqual(received.chunks.length, 0, "nothing sent before the interval")
      yield* eventually(() => received.chunks.length > 0, "the batch")
      yield* Effect.sleep("20 millis")
      assert.strictEqual(received.chunks.length, 1)
      assert.strictEqual(hex(received.bytes()), hex(Framing.encodeAll(["one", "two"])))
    })
  )
})

describe("Stocking: codecs", () => {
  const Status = Schema.Struct({ user: Schema.String, status: Schema.Literal("OK", "ERROR") })

  for (const [name, backend] of backends) {
    it.scopedLive(`${name}: Schema JSON codec round trip, and a decode failure as a typed ParseError`, () =>
      Effect.gen(function* () {
        const codec = Codec.json(Status)
        const { client, server } = yield* pair(backend, backend, { client: { codec }, server: { codec } })
        yield* client.write({ user: "warren", status: "ERROR" })
        assert.deepStrictEqual(yield* server.take, { user: "warren", status: "ERROR" })
        // The peer sends something the schema rejects, then a good one.
        yield* Effect.sync(() => client.socket.write(Framing.encode(JSON.stringify({ user: "x", status: "MAYBE" }))))
        yield* client.write({ user: "next", status: "OK" })
        const error = yield* Effect.flip(server.take)
        assert.isTrue(ParseResult.isParseError(error))
        assert.match(error.message, /MAYBE/)
        // The failed message was consumed; the next one is intact.
        assert.deepStrictEqual(yield* server.take, { user: "next", status: "OK" })
        // Encoding failures are typed too, and nothing is sent.
        const bad = yield* Effect.flip(client.write({ user: "y", status: "NOPE" } as never))
        assert.isTrue(ParseResult.isParseError(bad))
      })
    )
  }

  for (const [name, poll] of backends) {
    it.scopedLive(`${name}: the original README's user:status preWrite/postRead example`, () =>
      Effect.gen(function* () {
        const UserStatus = Schema.transform(
          Schema.String,
          Schema.Struct({ user: Schema.String, status: Schema.String }),
          {
            strict: true,
            decode: (s) => ({ user: s.slice(0, s.indexOf(":")), status: s.slice(s.indexOf(":") + 1) }),
            encode: ({ status, user }) => `${user}:${status}`
          }
        )
        const codec = Codec.schema(UserStatus)
        const { client, server } = yield* pair(poll, poll, { client: { codec } })
        yield* client.write({ user: "Username", status: "ERROR" })
        // The server reads the raw text the original would have put on the wire.
        assert.strictEqual(yield* (server as unknown as Stocking.Stocking).take, "Username:ERROR")
      })
    )
  }

  for (const [name, poll] of backends) {
    it.scopedLive(
      `${name}: messages with a codec: a decode failure fails the stream, later messages stay readable`,
      () =>
        Effect.gen(function* () {
          const codec = Codec.json(Schema.Number)
          const { client, server } = yield* pair(poll, poll, { server: { codec } })
          const raw = client as unknown as Stocking.Stocking
          yield* raw.writeAll(["1", "2", "oops", "4", "5"])
          yield* Effect.sleep("50 millis")
          const seen: Array<number> = []
          const exit = yield* server.messages.pipe(
            Stream.runForEach((n) => Effect.sync(() => seen.push(n))),
            Effect.exit
          )
          assert.deepStrictEqual(seen, [1, 2], String(exit))
          assert.isTrue(Exit.isFailure(exit))
          assert.strictEqual(yield* server.take, 4)
          assert.strictEqual(yield* server.take, 5)
        })
    )
  }
})

describe("Stocking: backpressure", () => {
  for (const [name, backend] of backends) {
    it.scopedLive(`${name}: writeAll queues what fits at once, suspends for the rest, keeps the order`, () =>
      Effect.gen(function* () {
        const { client, server } = yield* pair(backend, backend, { client: { maxQueuedMessages: 100 } })
        const n = 20_000
        const all = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? `w${i}` : Uint8Array.of(i & 0xff)))
        const [, received] = yield* Effect.all(
          [client.writeAll(all), server.messages.pipe(Stream.take(n), Stream.runCollect)],
          { concurrency: 2 }
        )
        const got = Chunk.toArray(received)
        for (let i = 0; i < n; i += 997) {
          const e = all[i]!
          if (typeof e === "string") assert.strictEqual(got[i], e)
          else assert.strictEqual((got[i] as Uint8Array)[0], e[0])
        }
        assert.strictEqual(got.length, n)
        yield* client.close
        const after = yield* Effect.flip(client.writeAll(["late"]))
        assert.strictEqual(after._tag, "Closed")
      })
    )
  }

  for (const [name, poll] of backends) {
    it.scopedLive(`${name}: a slow reader: the socket is paused once the inbound queue is full`, () =>
      Effect.gen(function* () {
        const n = 5_000
        const body = "x".repeat(4096)
        const { client, server } = yield* pair(poll, poll, {
          client: { maxQueuedBytes: 1024 * 1024 },
          server: { maxBufferedMessages: 10, maxBufferedBytes: 1024 * 1024 }
        })
        const writer = yield* Effect.fork(
          Effect.forEach(
            Array.from({ length: n }, (_, i) => `${i}:${body}`),
            (m) => client.write(m),
            {
              discard: true
            }
          )
        )
        yield* eventually(() => server.socket.isPaused(), "the socket to be paused")
        yield* Effect.sleep("200 millis")
        // The writer is held back too: the kernel buffers fill, then its queue, then write suspends.
        assert.isNull(writer.unsafePoll(), "20 MB cannot all be buffered: the writer must be suspended")
        let count = 0
        yield* server.messages.pipe(
          Stream.take(n),
          Stream.runForEach((m) =>
            Effect.sync(() => {
              assert.strictEqual(m, `${count}:${body}`)
              count++
            })
          )
        )
        assert.strictEqual(count, n)
        yield* Fiber.join(writer)
      })
    )
  }

  for (const [name, poll] of backends) {
    it.scopedLive(`${name}: a peer that does not read: write suspends once the outbound queue is full`, () =>
      Effect.gen(function* () {
        const { port, accepted } = yield* rawServer
        const client = yield* stockingWith(poll, {
          host: "127.0.0.1",
          port,
          maxQueuedBytes: 1024 * 1024,
          maxQueuedMessages: 100
        })
        const peer = yield* accepted
        peer.pause()
        const chunk = new Uint8Array(64 * 1024)
        let written = 0
        const writer = yield* Effect.fork(
          Effect.forever(Effect.tap(client.write(chunk), () => Effect.sync(() => written++)))
        )
        yield* Effect.sleep("300 millis")
        const stalledAt = written
        yield* Effect.sleep("200 millis")
        assert.strictEqual(written, stalledAt, "write is suspended")
        // Bounded: kernel buffers plus at most maxQueuedBytes (plus one batch in Node's buffer).
        assert.isBelow(stalledAt * chunk.length, 64 * 1024 * 1024)
        assert.isTrue(yield* client.writeDataQueued)
        // Interrupting a suspended write queues nothing.
        yield* Fiber.interrupt(writer)
        peer.resume()
        yield* eventually(() => !Effect.runSync(client.writeDataQueued), "the queue to drain")
      })
    )
  }
})

describe("Stocking: resources", () => {
  for (const [name, backend] of backends) {
    it.live(`${name}: closing the scope ends every fiber and destroys the socket`, () =>
      Effect.gen(function* () {
        const supervisor = yield* Supervisor.track
        const scope = yield* Scope.make()
        const { client, server } = yield* pair(backend, backend, {
          client: { handshake: (raw) => Effect.as(raw.write("hi"), true) },
          server: { handshake: (raw) => Effect.as(raw.take, true) }
        }).pipe(Scope.extend(scope), Effect.supervised(supervisor))
        yield* client.ready
        yield* server.ready
        yield* client.write("in flight")
        // The loops run only while they have work (test/Loops.test.ts): these are whatever runs now.
        const live = yield* supervisor.value
        yield* Scope.close(scope, Exit.void)
        assert.isTrue(client.socket.destroyed)
        assert.isTrue(server.socket.destroyed)
        assert.isFalse(yield* client.isActive)
        assert.isFalse(yield* server.isActive)
        const remaining = yield* supervisor.value
        assert.deepStrictEqual(
          remaining.map((f) => f.id()),
          [],
          "no fiber of the Stockings is left"
        )
        for (const fiber of live) assert.isNotNull(fiber.unsafePoll(), `fiber ${fiber.id().id} has ended`)
        // And the OS handles are released.
        yield* eventually(
          () => !process.getActiveResourcesInfo().some((r) => r === "TCPSocketWrap"),
          "TCP handles to be released"
        )
      })
    )
  }

  it.scopedLive("ids are unique, remoteAddress is the peer's", () =>
    Effect.gen(function* () {
      const [, poll] = backends[0]!
      const a = yield* pair(poll, poll)
      const b = yield* pair(poll, poll)
      const ids = new Set([a.client.id, a.server.id, b.client.id, b.server.id])
      assert.strictEqual(ids.size, 4)
      const address = Option.getOrThrow(a.client.remoteAddress)
      assert.deepStrictEqual(address, { _tag: "Tcp", address: "127.0.0.1", port: a.port, family: "IPv4" })
      assert.strictEqual(Option.getOrThrow(a.server.remoteAddress)._tag, "Tcp")
      assert.isTrue(Stocking.isStocking(a.client))
      assert.isFalse(Stocking.isStocking({}))
    })
  )

  it.live("connecting to a closed port fails with ConnectError; a retry schedule waits for the server", () =>
    Effect.gen(function* () {
      const { port } = yield* Effect.scoped(rawServer)
      const error = yield* Effect.flip(Effect.scoped(Stocking.make({ host: "127.0.0.1", port })))
      assert.strictEqual(error._tag, "ConnectError")
      assert.match(error.message, new RegExp(`could not connect to 127.0.0.1:${port}: .*ECONNREFUSED`))
      // A server that starts late: the retry schedule keeps trying until it is up.
      const late = yield* Effect.fork(
        Effect.scoped(
          Effect.gen(function* () {
            yield* Effect.sleep("200 millis")
            const net = yield* Effect.promise(() => import("node:net"))
            const server = net.createServer((socket) => socket.end(Framing.encode("welcome")))
            yield* Effect.acquireRelease(
              Effect.async<void>((resume) => void server.listen(port, "127.0.0.1", () => resume(Effect.void))),
              () => Effect.sync(() => server.close())
            )
            yield* Effect.never
          })
        )
      )
      const greeting = yield* Effect.scoped(
        Effect.flatMap(
          Stocking.make({ host: "127.0.0.1", port, retry: Schedule.spaced("50 millis") }),
          (stocking) => stocking.take
        )
      )
      assert.strictEqual(greeting, "welcome")
      yield* Fiber.interrupt(late)
    })
  )
})

describe("Stocking: reads on connections it opens", () => {
  // A deterministic byte pattern per message, so any byte overwritten or misplaced shows.
  const pattern = (seed: number, length: number): Uint8Array => {
    const out = new Uint8Array(length)
    let x = (seed * 2654435761) >>> 0 || 1
    for (let i = 0; i < length; i++) {
      x ^= x << 13
      x ^= x >>> 17
      x ^= x << 5
      out[i] = x & 0xff
    }
    return out
  }
  const nextTurn = Effect.async<void>((resume) => void setImmediate(() => resume(Effect.void)))

  it.scopedLive("messages from many small reads stay intact while other connections read meanwhile", () =>
    Effect.gen(function* () {
      // Small reads go through one scratch buffer shared by every connection:
      // each must be copied out before the next read lands there.
      const { port, accepted } = yield* rawServer
      const clients = [
        yield* Stocking.make({ host: "127.0.0.1", port }),
        yield* Stocking.make({ host: "127.0.0.1", port })
      ]
      const peers = [yield* accepted, yield* accepted]
      const n = 300
      for (let i = 0; i < n; i++) {
        for (let p = 0; p < peers.length; p++) peers[p]!.write(Framing.encode(pattern(p * n + i, 1 + (i % 200))))
        // One write per event-loop turn: the client reads them one small read at a time.
        yield* nextTurn
      }
      for (let p = 0; p < clients.length; p++) {
        // Read only now, after every read has landed: kept messages must not have changed.
        const received = yield* clients[p]!.messages.pipe(Stream.take(n), Stream.runCollect)
        Chunk.toReadonlyArray(received).forEach((message, i) =>
          assert.deepStrictEqual(message, pattern(p * n + i, 1 + (i % 200)), `client ${p}, message ${i}`)
        )
      }
    })
  )

  it.scopedLive("bulk: 48 MiB of assorted sizes up to 2 MiB arrive intact, with the socket paused and resumed", () =>
    Effect.gen(function* () {
      const { port, accepted } = yield* rawServer
      const client = yield* Stocking.make({
        host: "127.0.0.1",
        port,
        maxBufferedMessages: 8,
        maxBufferedBytes: 1024 * 1024
      })
      const peer = yield* accepted
      const sizes: Array<number> = []
      for (let total = 0, i = 0; total < 48 * 1024 * 1024; i++) {
        const size = [0, 1, 63, 64, 8191, 8192, 65535, 65536, 300_000, 1024 * 1024, 2 * 1024 * 1024][i % 11]!
        sizes.push(size)
        total += size
      }
      let paused = false
      const writer = Effect.promise(async () => {
        for (let i = 0; i < sizes.length; i++) {
          if (!peer.write(Framing.encode(pattern(i, sizes[i]!)))) {
            await new Promise((resolve) => peer.once("drain", resolve))
          }
        }
      })
      yield* Effect.fork(writer)
      yield* eventually(() => client.socket.isPaused(), "the client's socket to be paused by the full inbound queue")
      paused = true
      let i = 0
      yield* client.messages.pipe(
        Stream.take(sizes.length),
        Stream.runForEach((message) =>
          Effect.sync(() => {
            assert.instanceOf(message, Uint8Array)
            assert.isTrue(Buffer.from(message as Uint8Array).equals(pattern(i, sizes[i]!)), `message ${i}`)
            i++
          })
        )
      )
      assert.isTrue(paused)
      assert.strictEqual(i, sizes.length)
    })
  )
})

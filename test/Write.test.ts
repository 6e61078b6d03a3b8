/**
 * The write side's public surface: `sink`, `flushed`, `sent`, who owns a
 * written buffer, the one type received bytes come as, and a close that
 * does not wait out the select interval.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Fiber, Schema, Stream } from "effect"
import { Codec, Framing } from "../src/index.js"
import { Select } from "../src/node.js"
import { backends, pair, rawPeer } from "./utils/net.js"

const MiB = 1024 * 1024

for (const [name, backend] of backends) {
  describe(`write side (${name})`, () => {
    it.scopedLive("sink writes every element of a stream, in order, with backpressure", () =>
      Effect.gen(function* () {
        const { client, server } = yield* pair(backend, backend, {
          client: { maxQueuedMessages: 40 },
          server: { maxBufferedMessages: 5 }
        })
        const count = 4000
        const reader = yield* Effect.fork(server.messages.pipe(Stream.take(count), Stream.runCollect))
        // Chunks of every size, one-element ones included.
        const source = Stream.range(0, count - 1).pipe(
          Stream.rechunk(7),
          Stream.map((i) => `m${i}`)
        )
        yield* Stream.run(source, client.sink)
        const got = Chunk.toReadonlyArray(yield* Fiber.join(reader))
        assert.strictEqual(got.length, count)
        got.forEach((m, i) => assert.strictEqual(m, `m${i}`))
        // The Stocking stays open after the stream ends.
        assert.isTrue(yield* client.isActive)
      })
    )

    it.scopedLive("sink with a codec encodes every element, in order, chunks of one and of many", () =>
      Effect.gen(function* () {
        const codec = Codec.json(Schema.Number)
        const { client, server } = yield* pair(backend, backend, { client: { codec }, server: { codec } })
        const count = 500
        const reader = yield* Effect.fork(server.messages.pipe(Stream.take(count), Stream.runCollect))
        yield* Stream.run(Stream.range(0, count / 2 - 1).pipe(Stream.rechunk(1)), client.sink)
        yield* Stream.run(Stream.range(count / 2, count - 1).pipe(Stream.rechunk(50)), client.sink)
        assert.deepStrictEqual(
          Chunk.toReadonlyArray(yield* Fiber.join(reader)),
          Array.from({ length: count }, (_, i) => i)
        )
      })
    )

    it.scopedLive("sink fails with Closed once the Stocking is closed", () =>
      Effect.gen(function* () {
        const { client } = yield* pair(backend, backend)
        yield* client.close
        const exit = yield* Effect.exit(Stream.run(Stream.make("a", "b"), client.sink))
        assert.isTrue(Exit.isFailure(exit))
        assert.strictEqual(Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error._tag : "", "Closed")
      })
    )

    it.scopedLive("flushed waits until everything written has been handed to the socket", () =>
      Effect.gen(function* () {
        const { peer, stocking } = yield* rawPeer(backend, { maxQueuedBytes: 64 * MiB })
        // The peer does not read: the first (larger than what loopback's kernel buffers take, which autotuning
        // grows to several MiB) keeps the socket past its high-water mark, so the rest stays queued behind it.
        peer.pause()
        const big = new Uint8Array(4 * MiB)
        yield* stocking.write(new Uint8Array(32 * MiB))
        yield* Effect.sleep("20 millis")
        yield* stocking.writeAll([big, big, big])
        const flushed = yield* Effect.fork(stocking.flushed)
        yield* Effect.sleep("100 millis")
        assert.isNull(flushed.unsafePoll(), "flushed must wait while messages are still queued")
        peer.resume()
        peer.on("data", () => {})
        yield* Fiber.join(flushed)
        yield* stocking.sent
        assert.isFalse(yield* stocking.writeDataQueued)
      })
    )

    it.scopedLive("flushed and sent complete at once when nothing is queued", () =>
      Effect.gen(function* () {
        const { client } = yield* pair(backend, backend)
        yield* client.flushed
        yield* client.sent
        yield* client.write("x")
        yield* client.sent
        assert.isFalse(yield* client.writeDataQueued)
      })
    )

    it.scopedLive("flushed fails with Closed when an abort drops what was queued", () =>
      Effect.gen(function* () {
        const { peer, stocking } = yield* rawPeer(backend, { maxQueuedBytes: 64 * MiB })
        peer.pause()
        const big = new Uint8Array(8 * MiB)
        // The first fills the socket's buffer; the next two stay queued behind it.
        yield* stocking.write(big)
        yield* Effect.sleep("20 millis")
        yield* stocking.writeAll([big, big])
        const flushed = yield* Effect.fork(stocking.flushed)
        yield* Effect.sleep("50 millis")
        assert.isNull(flushed.unsafePoll())
        yield* stocking.abort
        const exit = yield* Fiber.await(flushed)
        assert.isTrue(Exit.isFailure(exit))
      })
    )

    it.scopedLive("a written buffer is not copied: it belongs to the Stocking until sent", () =>
      Effect.gen(function* () {
        const { client, server } = yield* pair(backend, backend)
        // Changed after `sent`: the peer got the original.
        const buffer = Uint8Array.of(1, 2, 3)
        yield* client.write(buffer)
        yield* client.sent
        buffer.fill(9)
        assert.deepStrictEqual(Array.from((yield* server.take) as Uint8Array), [1, 2, 3])
        // Changed before it was flushed: what is sent is the buffer as it is then (no copy was taken).
        // (The first write goes out at once or waits for the interval; the second waits for the batch.)
        const shared = new Uint8Array(64 * 1024 * 4).fill(1)
        yield* client.write("first")
        yield* client.write(shared)
        shared.fill(7)
        assert.strictEqual(yield* server.take, "first")
        const received = (yield* server.take) as Uint8Array
        assert.strictEqual(received[0], 7)
      })
    )

    it.scopedLive("received bytes are plain Uint8Arrays, whether they came in one read or many", () =>
      Effect.gen(function* () {
        const { peer, stocking } = yield* rawPeer(backend)
        peer.write(Framing.encode(Uint8Array.of(1, 2, 3)))
        const small = yield* stocking.take
        const frame = Framing.encode(new Uint8Array(100_000).fill(5))
        peer.write(frame.subarray(0, 10))
        yield* Effect.sleep("20 millis")
        peer.write(frame.subarray(10))
        const assembled = yield* stocking.take
        for (const bytes of [small, assembled]) {
          assert.instanceOf(bytes, Uint8Array)
          assert.isFalse(Buffer.isBuffer(bytes), "received bytes must not be Node Buffers")
        }
        assert.strictEqual((assembled as Uint8Array).length, 100_000)
      })
    )
  })
}

describe("select backend", () => {
  it.scopedLive("a close issued while the loop waits out a long interval does not wait for it", () =>
    Effect.gen(function* () {
      const slow = Select.make("5 seconds")
      const { client, server } = yield* pair(slow, slow)
      yield* client.write("last words")
      // Let the send loop start waiting out the interval.
      yield* Effect.sleep("100 millis")
      const started = Date.now()
      yield* client.close
      const took = Date.now() - started
      assert.isBelow(took, 2000, `close took ${took} ms with a 5 s interval`)
      assert.strictEqual(yield* server.take, "last words")
    })
  )
})

for (const [name, backend] of backends) {
  it.scopedLive(`${name}: interrupting the fiber that closes does not cut the graceful close short`, () =>
    Effect.gen(function* () {
      const { peer, stocking } = yield* rawPeer(backend, { closeTimeout: "10 seconds" })
      // The peer does not read yet: the message waits in the socket while the close runs.
      peer.pause()
      const size = 4 * MiB
      yield* stocking.write(new Uint8Array(size).fill(3))
      const closing = yield* Effect.fork(stocking.close)
      yield* Effect.sleep("50 millis")
      // What a server's scope does to a handler still inside `close`.
      yield* Fiber.interruptFork(closing)
      const received = yield* Effect.async<{ bytes: number; ended: boolean; error?: string }>((resume) => {
        let bytes = 0
        peer.on("data", (chunk: Buffer) => (bytes += chunk.length))
        peer.on("end", () => {
          peer.end()
          resume(Effect.succeed({ bytes, ended: true }))
        })
        peer.on("error", (error) => resume(Effect.succeed({ bytes, ended: false, error: error.message })))
        peer.resume()
      })
      assert.deepStrictEqual(received, { bytes: Framing.encodeHeader("bytes", size).length + size, ended: true })
    })
  )
}

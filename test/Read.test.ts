/**
 * The batch reads and the consumers: `takeAll`, `takeBatch`, `forEach`,
 * `forEachChunk`, over real loopback sockets on both backends; and waits
 * that are interrupted losing nothing.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Deferred, Effect, Exit, Fiber, Schema } from "effect"
import { Codec, type Framing } from "../src/index.js"
import type { Stocking } from "../src/node.js"
import { backends, pair, rawPeer } from "./utils/net.js"

/** Waits until the Stocking has `n` messages queued (polling; fails the test after 5 s). */
const queued = (stocking: Stocking.Stocking, n: number) =>
  Effect.gen(function* () {
    const deadline = Date.now() + 5000
    const got: Array<Framing.Message> = []
    while (got.length < n) {
      got.push(...(yield* stocking.takeAll))
      if (Date.now() > deadline) return assert.fail(`only ${got.length} of ${n} messages arrived`)
      if (got.length < n) yield* Effect.sleep("2 millis")
    }
    return got
  })

for (const [name, backend] of backends) {
  describe(`Stocking reads (${name})`, () => {
    it.scopedLive("takeAll: empty when nothing has arrived, then every message in order, then Closed", () =>
      Effect.gen(function* () {
        const { client, server } = yield* pair(backend, backend)
        assert.isTrue(Chunk.isEmpty(yield* server.takeAll))
        yield* client.writeAll(["a", "b", "c"])
        assert.deepStrictEqual(yield* queued(server, 3), ["a", "b", "c"])
        yield* client.write("d")
        yield* client.close
        yield* server.closed
        assert.deepStrictEqual(Chunk.toReadonlyArray(yield* server.takeAll), ["d"])
        const end = yield* Effect.flip(server.takeAll)
        assert.strictEqual(end._tag, "Closed")
      })
    )

    it.scopedLive("takeBatch: waits for the first message, then takes everything that has arrived", () =>
      Effect.gen(function* () {
        const { client, server } = yield* pair(backend, backend)
        const waiting = yield* Effect.fork(server.takeBatch)
        yield* Effect.sleep("20 millis")
        assert.isNull(waiting.unsafePoll())
        yield* client.write("first")
        assert.deepStrictEqual(Chunk.toReadonlyArray(yield* Fiber.join(waiting)), ["first"])
        yield* client.writeAll(Array.from({ length: 100 }, (_, i) => `m${i}`))
        const got: Array<Framing.Message> = []
        while (got.length < 100) got.push(...(yield* server.takeBatch))
        assert.deepStrictEqual(
          got,
          Array.from({ length: 100 }, (_, i) => `m${i}`)
        )
        yield* client.close
        const end = yield* Effect.flip(server.takeBatch)
        assert.strictEqual(end._tag, "Closed")
      })
    )

    it.scopedLive("forEach: every message in order, ends quietly when the peer closes", () =>
      Effect.gen(function* () {
        const { client, server } = yield* pair(backend, backend)
        const got: Array<Framing.Message> = []
        const consumer = yield* Effect.fork(server.forEach((m) => Effect.sync(() => got.push(m))))
        for (let i = 0; i < 50; i++) yield* client.write(`m${i}`)
        yield* client.close
        assert.deepStrictEqual(Exit.isSuccess(yield* Fiber.await(consumer)), true)
        assert.deepStrictEqual(
          got,
          Array.from({ length: 50 }, (_, i) => `m${i}`)
        )
      })
    )

    it.scopedLive("forEach: fails with Closed when the connection breaks, and with the handler's error", () =>
      Effect.gen(function* () {
        const { peer, stocking } = yield* rawPeer(backend)
        const broken = yield* Effect.fork(stocking.forEach(() => Effect.void))
        // Nine header bytes without the last-byte bit: the framing is broken, the connection closes.
        peer.write(new Uint8Array(9))
        const error = yield* Effect.flip(Fiber.join(broken))
        assert.strictEqual(error._tag, "Closed")
        assert.strictEqual((error as Stocking.Closed).reason, "ProtocolError")
        const second = yield* pair(backend, backend)
        yield* second.client.write("boom")
        const failed = yield* Effect.flip(second.server.forEach((m) => Effect.fail(`handler: ${m}`)))
        assert.strictEqual(failed, "handler: boom")
      })
    )

    it.scopedLive("forEachChunk: one call per wake with everything queued, every message once, in order", () =>
      Effect.gen(function* () {
        const { client, server } = yield* pair(backend, backend)
        const got: Array<Framing.Message> = []
        let calls = 0
        const consumer = yield* Effect.fork(
          server.forEachChunk((chunk) =>
            Effect.sync(() => {
              assert.isFalse(Chunk.isEmpty(chunk))
              calls++
              for (const m of chunk) got.push(m)
            })
          )
        )
        const sent = Array.from({ length: 2000 }, (_, i) => `m${i}`)
        yield* client.writeAll(sent)
        yield* client.close
        yield* Fiber.join(consumer)
        assert.deepStrictEqual(got, sent)
        assert.isAtMost(calls, sent.length)
      })
    )
  })
}

describe("Stocking reads: codecs and interruption", () => {
  const poll = backends[0]![1]

  it.scopedLive("takeBatch with a codec: values before a bad message, then its error, then the rest", () =>
    Effect.gen(function* () {
      const codec = Codec.json(Schema.Number)
      const { client, server } = yield* pair(poll, poll, { server: { codec } })
      // The client has no codec here: it sends raw JSON text, one of it bad.
      yield* (client as unknown as Stocking.Stocking).writeAll(["1", "2", "oops", "4"])
      yield* Effect.sleep("50 millis")
      const first = yield* server.takeBatch
      assert.deepStrictEqual(Chunk.toReadonlyArray(first), [1, 2])
      const error = yield* Effect.flip(server.takeBatch)
      assert.strictEqual(error._tag, "ParseError")
      assert.deepStrictEqual(Chunk.toReadonlyArray(yield* server.takeBatch), [4])
    })
  )

  it.scopedLive("an interrupted take loses no message: each arrives exactly once, after many timed-out takes", () =>
    Effect.gen(function* () {
      const { client, server } = yield* pair(poll, poll)
      // Far more timed-out waits than the sweep threshold, on a queue that stays empty.
      for (let i = 0; i < 300; i++) {
        const got = yield* Effect.timeout(server.take, "0 millis").pipe(Effect.option)
        assert.isTrue(got._tag === "None")
      }
      const taken = yield* Deferred.make<Framing.Message>()
      yield* Effect.fork(Effect.flatMap(server.take, (m) => Deferred.succeed(taken, m)))
      yield* client.writeAll(["one", "two"])
      assert.strictEqual(yield* Deferred.await(taken), "one")
      assert.strictEqual(yield* server.take, "two")
      assert.isTrue(Chunk.isEmpty(yield* server.takeAll))
    })
  )
})

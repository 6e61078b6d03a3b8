import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Layer, type Scope } from "effect"
import type * as net from "node:net"
import { Duplex, PassThrough } from "node:stream"
import { Auto, Backend, Poll, Select, Stocking } from "../src/node.js"
import { pair, rawClient, rawServer } from "./utils/net.js"

const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

/**
 * A real Duplex over a real socket that does not signal readiness: it has
 * no `writableNeedDrain`, as streams from stream libraries older than
 * Node.js 15 have none. Bytes written to it go to the socket; bytes the
 * socket reads come out of it.
 */
class Unsignalled extends Duplex {
  constructor(private readonly inner: net.Socket) {
    super()
    Object.defineProperty(this, "writableNeedDrain", { value: undefined })
    inner.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) inner.pause()
    })
    inner.on("end", () => this.push(null))
    inner.on("close", () => this.destroy())
    inner.on("error", (error) => this.destroy(error))
  }
  override _read(): void {
    this.inner.resume()
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.inner.write(chunk, callback)
  }
  override _final(callback: (error?: Error | null) => void): void {
    this.inner.end(callback)
  }
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.inner.destroy()
    callback(error)
  }
}

/**
 * A Stocking made by `make` over a socket that lacks the readiness signal,
 * and one connected to it made by `Stocking.make({ host, port })`, then a
 * round trip of messages (small ones and one of 1 MiB) each way.
 */
const overUnsignalled = <E>(make: (socket: Duplex) => Effect.Effect<Stocking.Stocking, E, Scope.Scope>) =>
  Effect.gen(function* () {
    const { port, accepted } = yield* rawServer
    const plain = yield* Stocking.make({ host: "127.0.0.1", port }).pipe(
      Effect.provideService(Backend.Backend, Poll.backend)
    )
    const socket = new Unsignalled(yield* accepted)
    const wrapped = yield* make(socket)
    const big = new Uint8Array(1024 * 1024).fill(7)
    yield* wrapped.writeAll(["one", "two", big])
    assert.strictEqual(yield* plain.take, "one")
    assert.strictEqual(yield* plain.take, "two")
    assert.deepStrictEqual(yield* plain.take, big)
    yield* plain.writeAll(["three", big])
    assert.strictEqual(yield* wrapped.take, "three")
    assert.deepStrictEqual(yield* wrapped.take, big)
    return { wrapped, socket }
  })

describe("Backend", () => {
  it.effect("Poll.layer provides the readiness-driven backend", () =>
    Effect.gen(function* () {
      const backend = yield* Effect.provide(Backend.Backend, Poll.layer)
      assert.strictEqual(backend.name, "poll")
      assert.isTrue(Backend.isBackend(backend))
    })
  )

  it.effect("Select.layer reads STOCKING_SELECT_SEND_INTERVAL, default 0.5 s", () =>
    Effect.gen(function* () {
      const interval = yield* Select.intervalConfig.pipe(withEnv({}))
      assert.strictEqual(Duration.toMillis(interval), 500)
      const configured = yield* Select.intervalConfig.pipe(withEnv({ STOCKING_SELECT_SEND_INTERVAL: "0.05" }))
      assert.strictEqual(Duration.toMillis(configured), 50)
      const backend = yield* Effect.provide(Backend.Backend, Select.layer()).pipe(withEnv({}))
      assert.strictEqual(backend.name, "select")
    })
  )

  it.effect("an invalid STOCKING_SELECT_SEND_INTERVAL fails with a ConfigError naming the variable", () =>
    Effect.gen(function* () {
      for (const value of ["fast", "-1"]) {
        const error = yield* Effect.flip(
          Effect.provide(Backend.Backend, Select.layer()).pipe(withEnv({ STOCKING_SELECT_SEND_INTERVAL: value }))
        )
        assert.strictEqual(error._op, "InvalidData")
        assert.include(String(error), "STOCKING_SELECT_SEND_INTERVAL")
      }
    })
  )

  it.effect("a Layer option overrides the variable, even an invalid one", () =>
    Effect.gen(function* () {
      const backend = yield* Effect.provide(Backend.Backend, Select.layer({ interval: "10 millis" })).pipe(
        withEnv({ STOCKING_SELECT_SEND_INTERVAL: "nonsense" })
      )
      assert.strictEqual(backend.name, "select")
    })
  )

  it.effect("Auto picks poll where sockets signal readiness (node:net does)", () =>
    Effect.gen(function* () {
      assert.isTrue(Auto.supportsReadiness())
      assert.strictEqual(Auto.preferred(), "poll")
      assert.strictEqual((yield* Auto.make).name, "poll")
      const backend = yield* Effect.provide(Backend.Backend, Auto.layer)
      assert.strictEqual(backend.name, "poll")
    })
  )

  it.scopedLive(
    "Auto's test is the socket's: a node:net socket signals readiness, a Duplex without the signal does not",
    () =>
      Effect.gen(function* () {
        const { port, accepted } = yield* rawServer
        const client = yield* rawClient(port)
        const socket = yield* accepted
        assert.isTrue(Auto.supportsReadiness(client))
        assert.strictEqual(Auto.preferred(client), "poll")
        const unsignalled = new Unsignalled(socket)
        assert.isFalse(Auto.supportsReadiness(unsignalled))
        assert.strictEqual(Auto.preferred(unsignalled), "select")
        // Any Node.js stream has the signal.
        assert.isTrue(Auto.supportsReadiness(new PassThrough()))
      })
  )

  it.scopedLive(
    "without a backend in context: poll for a node:net socket, select for a Duplex without the signal",
    () =>
      Effect.gen(function* () {
        const { wrapped } = yield* overUnsignalled((socket) => Stocking.make({ socket })).pipe(
          withEnv({ STOCKING_SELECT_SEND_INTERVAL: "0.01" })
        )
        assert.strictEqual(wrapped.backend, "select")
        const { port, accepted } = yield* rawServer
        const client = yield* Stocking.make({ host: "127.0.0.1", port })
        assert.strictEqual(client.backend, "poll")
        const server = yield* Stocking.make({ socket: yield* accepted })
        assert.strictEqual(server.backend, "poll")
      })
  )

  it.scopedLive("Auto.layer decides per connection, from its socket; it reads the select interval when made", () =>
    Effect.gen(function* () {
      const auto = Layer.provide(
        Auto.layer,
        Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["STOCKING_SELECT_SEND_INTERVAL", "0.01"]])))
      )
      const { wrapped } = yield* overUnsignalled((socket) => Stocking.make({ socket }).pipe(Effect.provide(auto)))
      assert.strictEqual(wrapped.backend, "select")
      const { port } = yield* rawServer
      const client = yield* Stocking.make({ host: "127.0.0.1", port }).pipe(Effect.provide(auto))
      assert.strictEqual(client.backend, "poll")
      const invalid = yield* Effect.flip(Auto.make.pipe(withEnv({ STOCKING_SELECT_SEND_INTERVAL: "fast" })))
      assert.include(String(invalid), "STOCKING_SELECT_SEND_INTERVAL")
    })
  )

  it.scopedLive("an explicit Poll or Select layer overrides the choice, whatever the socket", () =>
    Effect.gen(function* () {
      const { wrapped } = yield* overUnsignalled((socket) => Stocking.make({ socket }).pipe(Effect.provide(Poll.layer)))
      assert.strictEqual(wrapped.backend, "poll")
      const { port } = yield* rawServer
      const client = yield* Stocking.make({ host: "127.0.0.1", port }).pipe(
        Effect.provide(Select.layer({ interval: "10 millis" }))
      )
      assert.strictEqual(client.backend, "select")
    })
  )

  it.effect("Auto.layerConfig: STOCKING_BACKEND forces a choice, and rejects unknown names", () =>
    Effect.gen(function* () {
      const forced = yield* Effect.provide(Backend.Backend, Auto.layerConfig).pipe(
        withEnv({ STOCKING_BACKEND: "select", STOCKING_SELECT_SEND_INTERVAL: "0.01" })
      )
      assert.strictEqual(forced.name, "select")
      const auto = yield* Effect.provide(Backend.Backend, Auto.layerConfig).pipe(withEnv({}))
      assert.strictEqual(auto.name, "poll")
      const error = yield* Effect.flip(
        Effect.provide(Backend.Backend, Auto.layerConfig).pipe(withEnv({ STOCKING_BACKEND: "epoll" }))
      )
      assert.include(String(error), "STOCKING_BACKEND")
    })
  )

  it.scopedLive("a Stocking uses the backend in context, and Auto's choice without one", () =>
    Effect.gen(function* () {
      const { client, server } = yield* pair(Select.make(0), Poll.backend)
      assert.strictEqual(client.backend, "select")
      assert.strictEqual(server.backend, "poll")
      const { port } = yield* rawServer
      const plain = yield* Stocking.make({ port, host: "127.0.0.1" })
      assert.strictEqual(plain.backend, Auto.preferred())
    })
  )

  it.scopedLive("the select backend honours its interval end to end", () =>
    Effect.gen(function* () {
      const { client, server } = yield* pair(Select.make("200 millis"), Poll.backend)
      const started = Date.now()
      yield* client.write("tick")
      assert.strictEqual(yield* server.take, "tick")
      assert.isAtLeast(Date.now() - started, 150)
      // Interval 0 sends as soon as the loop runs.
      const fast = yield* pair(Select.make(0), Poll.backend)
      const t0 = Date.now()
      yield* fast.client.write("now")
      assert.strictEqual(yield* fast.server.take, "now")
      assert.isBelow(Date.now() - t0, 150)
    })
  )
})

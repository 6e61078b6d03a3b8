import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect } from "effect"
import { Auto, Backend, Poll, Select, Stocking } from "../src/node.js"
import { pair, rawServer } from "./utils/net.js"

const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

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

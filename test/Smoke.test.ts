import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { backends, pair } from "./utils/net.js"

describe("smoke", () => {
  for (const [name, backend] of backends) {
    it.scopedLive(`${name}: write and take`, () =>
      Effect.gen(function* () {
        const { client, server } = yield* pair(backend, backend)
        assert.deepStrictEqual(yield* server.read, Option.none())
        yield* client.write("hello")
        yield* client.write(Uint8Array.of(1, 2, 3))
        assert.strictEqual(yield* server.take, "hello")
        assert.deepStrictEqual(yield* server.take, Uint8Array.of(1, 2, 3))
        yield* server.write("back")
        assert.strictEqual(yield* client.take, "back")
      })
    )
  }
})

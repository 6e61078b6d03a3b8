/**
 * The read and send loops run in fibers only while they have work: an idle
 * connection holds none, a full inbound queue or a socket that must drain
 * starts one, and it ends once the work is done. Closing the scope leaves
 * no fiber behind.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Scope, Supervisor } from "effect"
import { backends, pair } from "./utils/net.js"

/** Waits until `check` holds, polling; fails the test after `ms`. */
const eventually = <E, R>(check: Effect.Effect<boolean, E, R>, what: string, ms = 5000) =>
  Effect.gen(function* () {
    const deadline = Date.now() + ms
    while (!(yield* check)) {
      if (Date.now() > deadline) return assert.fail(`timed out waiting for: ${what}`)
      yield* Effect.sleep("5 millis")
    }
  })

for (const [name, backend] of backends) {
  describe(`Stocking loops (${name})`, () => {
    it.live("an idle connection holds no fiber; a loop runs while it has work, then ends", () =>
      Effect.gen(function* () {
        const supervisor = yield* Supervisor.track
        const scope = yield* Scope.make()
        const live = Effect.map(supervisor.value, (fibers) => fibers.length)
        const { client, server } = yield* pair(backend, backend, {
          server: { maxBufferedMessages: 4 },
          client: { maxQueuedMessages: 4 }
        }).pipe(Scope.extend(scope), Effect.supervised(supervisor))
        // Idle: no read loop, no send loop, on either side.
        yield* Effect.sleep("20 millis")
        assert.strictEqual(yield* live, 0, "no fiber for an idle pair")
        // Nobody reads the server: its inbound queue fills, the socket pauses, and a read loop waits for room.
        const big = new Uint8Array(256 * 1024)
        const writer = yield* Effect.fork(Effect.forEach(Array.from({ length: 64 }), () => client.write(big)))
        yield* eventually(
          Effect.map(live, (n) => n > 0),
          "a loop fiber while the queues are full"
        )
        // Read everything: the loops finish their work and end.
        for (let i = 0; i < 64; i++) yield* server.take
        yield* writer.await
        yield* client.flushed
        yield* eventually(
          Effect.map(live, (n) => n === 0),
          "no fiber once the work is done"
        )
        yield* Scope.close(scope, Exit.void)
        assert.strictEqual(yield* live, 0, "no fiber left after the scope closed")
        assert.isTrue(client.socket.destroyed)
      })
    )
  })
}

/**
 * Pipes a Stream of 100,000 messages into a Stocking, one queue step per
 * chunk, with backpressure: the write side of a Stocking as a Sink.
 *
 *   npx vite-node examples/stream-to-stocking.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Stream } from "effect"
import { Server, Stocking } from "../src/node.js"

const COUNT = 100_000

const program = Effect.gen(function* () {
  // A server that counts what arrives and says how many once it has them all.
  const server = yield* Server.make({ port: 0 })
  yield* Effect.forkScoped(
    server.serve((stocking) =>
      stocking.messages.pipe(
        Stream.take(COUNT),
        Stream.runCount,
        Effect.flatMap((count) => stocking.write(`received ${count} messages`))
      )
    )
  )

  const stocking = yield* Stocking.make({ host: "127.0.0.1", port: server.port })
  const started = Date.now()
  yield* Stream.range(1, COUNT).pipe(
    Stream.map((n) => `message ${n}`),
    // One queue step per chunk, with backpressure; the Stocking stays open afterwards.
    Stream.run(stocking.sink)
  )
  yield* Console.log(`queued ${COUNT} messages in ${Date.now() - started} ms`)
  yield* Console.log(`server: ${yield* stocking.take}`)
})

NodeRuntime.runMain(Effect.scoped(program))

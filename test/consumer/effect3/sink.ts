import { Console, Deferred, Effect, Stream } from "effect"
import { Server, Stocking } from "effect-stockings/node"

const program = Effect.gen(function* () {
  const server = yield* Server.make({ host: "127.0.0.1", port: 0 })
  const done = yield* Deferred.make<number>()
  yield* Effect.forkScoped(
    server.serve((stocking) =>
      Effect.gen(function* () {
        let next = 0
        yield* stocking.forEach((message) =>
          message === `m${next}` ? Effect.sync(() => void next++) : Effect.die(`out of order: ${String(message)}`)
        )
        yield* Deferred.succeed(done, next)
      })
    )
  )
  const client = yield* Stocking.make({ host: "127.0.0.1", port: server.port })
  yield* Stream.run(Stream.fromIterable(Array.from({ length: 10_000 }, (_, i) => `m${i}`)), client.sink)
  yield* client.close
  yield* Console.log(`${yield* Deferred.await(done)} messages, in order`)
})

Effect.runFork(Effect.scoped(program))

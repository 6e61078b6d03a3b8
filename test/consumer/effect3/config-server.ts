import { Console, Effect, Layer } from "effect"
import { Server, Stocking } from "effect-stockings/node"

// STOCKING_SERVER_HOST / STOCKING_SERVER_PORT for the server, STOCKING_HOST / STOCKING_PORT for the client.
const ServerLive = Layer.scopedDiscard(
  Effect.gen(function* () {
    const server = yield* Server.Server
    yield* Effect.forkScoped(server.serve((stocking) => stocking.forEach(stocking.write)))
  })
).pipe(Layer.provideMerge(Server.layerConfig()))

const program = Effect.gen(function* () {
  const stocking = yield* Stocking.Stocking
  yield* stocking.write("configured")
  yield* Console.log(yield* stocking.take)
})

Effect.runFork(program.pipe(Effect.provide(Stocking.layerConfig().pipe(Layer.provide(ServerLive)))))

import { Console, Effect, Layer, Schema, Stream } from "effect"
import { Codec } from "effect-stockings/effect4"
import { Server, Stocking } from "effect-stockings/effect4/node"

const Request = Schema.Struct({ id: Schema.Number })
const Todo = Schema.Struct({ id: Schema.Number, title: Schema.String })

class TodoClient extends Stocking.Tag<TodoClient>()("TodoClient", { codec: Codec.jsonPair(Request, Todo) }) {}
class TodoServer extends Server.Tag<TodoServer>()("TodoServer", { codec: Codec.jsonPair(Todo, Request) }) {}

const titles = ["darn the socks", "fold the laundry"]

const ClientLive = Layer.unwrap(
  Effect.gen(function* () {
    const server = yield* TodoServer
    yield* Effect.forkScoped(
      server.serve((stocking) =>
        stocking.messages.pipe(Stream.runForEach(({ id }) => stocking.write({ id, title: titles[id] ?? "?" })))
      )
    )
    return TodoClient.layer({ host: "127.0.0.1", port: server.port })
  })
).pipe(Layer.provide(TodoServer.layer({ host: "127.0.0.1", port: 0 })))

const program = Effect.gen(function* () {
  const client = yield* TodoClient
  for (const id of [0, 1]) {
    yield* client.write({ id })
    yield* Console.log((yield* client.take).title)
  }
})

Effect.runFork(program.pipe(Effect.provide(ClientLive)))

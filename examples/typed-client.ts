/**
 * A typed client in one declaration: `Stocking.Tag` takes the codec, and the
 * service's type (what `write` takes, what `take` gives, the codec's error)
 * follows from it. The server side is declared the same way with
 * `Server.Tag`.
 *
 *   npx vite-node examples/typed-client.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Schema, Stream } from "effect"
import { Codec } from "../src/index.js"
import { Server, Stocking } from "../src/node.js"

const Request = Schema.Struct({ id: Schema.Number })
const Todo = Schema.Struct({ id: Schema.Number, title: Schema.String, done: Schema.Boolean })

// The client writes requests and reads todos; the server, the other way round.
class TodoClient extends Stocking.Tag<TodoClient>()("TodoClient", { codec: Codec.jsonPair(Request, Todo) }) {}
class TodoServer extends Server.Tag<TodoServer>()("TodoServer", { codec: Codec.jsonPair(Todo, Request) }) {}

const titles = ["darn the socks", "fold the laundry", "buy more yarn"]

const program = Effect.gen(function* () {
  const client = yield* TodoClient
  for (const id of [0, 1, 2]) {
    yield* client.write({ id })
    const todo = yield* client.take
    yield* Console.log(`#${todo.id} ${todo.title}${todo.done ? " (done)" : ""}`)
  }
})

// The server listens on a free port; the client's layer reads that port from it.
const ServerLive = TodoServer.layer({ port: 0 })
const ClientLive = Layer.unwrapScoped(
  Effect.gen(function* () {
    const server = yield* TodoServer
    yield* Effect.forkScoped(
      server.serve((stocking) =>
        stocking.messages.pipe(
          Stream.runForEach(({ id }) => stocking.write({ id, title: titles[id] ?? "unknown", done: id === 0 }))
        )
      )
    )
    return TodoClient.layer({ host: "127.0.0.1", port: server.port })
  })
)

NodeRuntime.runMain(program.pipe(Effect.provide(ClientLive.pipe(Layer.provide(ServerLive)))))

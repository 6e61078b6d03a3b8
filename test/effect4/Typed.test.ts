/**
 * A typed client and server on the Effect 4 line, one service class each
 * (`Stocking.Tag`, `Server.Tag`), with Schema codecs: values go both ways,
 * and a message that does not decode fails with a `SchemaError` saying what
 * was received, without losing what comes after it.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { describe, expect, it } from "vitest"
import * as Codec from "../../src/effect4/Codec.js"
import * as Server from "../../src/effect4/Server.js"
import * as Stocking from "../../src/effect4/Stocking.js"

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

describe("effect4 typed client and server", () => {
  it("values both ways through Stocking.Tag and Server.Tag", async () => {
    const got = await Effect.runPromise(
      Effect.gen(function* () {
        const client = yield* TodoClient
        const out: Array<string> = []
        for (const id of [0, 1]) {
          yield* client.write({ id })
          out.push((yield* client.take).title)
        }
        return out
      }).pipe(Effect.provide(ClientLive))
    )
    expect(got).toEqual(titles)
  })

  it("a message that does not decode is a SchemaError naming what came; the next one still arrives", async () => {
    const [error, next] = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const server = yield* Server.make({ host: "127.0.0.1", port: 0 })
          yield* Effect.forkScoped(
            server.serve((stocking) => stocking.writeAll(['{"id":"one","title":1}', '{"id":2,"title":"two"}']))
          )
          const client = yield* Stocking.make({
            host: "127.0.0.1",
            port: server.port,
            codec: Codec.jsonPair(Request, Todo)
          })
          const error = yield* Effect.flip(client.take)
          return [error, yield* client.take] as const
        })
      )
    )
    expect(String(error)).toContain('"one"')
    expect(next).toEqual({ id: 2, title: "two" })
  })
})

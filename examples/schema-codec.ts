/**
 * Typed messages with an Effect Schema codec (the original's preWrite /
 * postRead): values go out as JSON text frames and come back decoded and
 * checked; a message that does not match is a typed ParseError.
 *
 *   npx vite-node examples/schema-codec.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Schema } from "effect"
import { Codec } from "../src/index.js"
import { Server, Stocking } from "../src/node.js"

const UserStatus = Schema.Struct({
  user: Schema.String,
  status: Schema.Literal("OK", "ERROR")
})

const program = Effect.gen(function* () {
  const codec = Codec.json(UserStatus)
  const server = yield* Server.make({ port: 0, codec })
  const port = server.address._tag === "Tcp" ? server.address.port : 0
  yield* Effect.forkScoped(
    server.serve((stocking) =>
      Effect.forever(
        stocking.take.pipe(
          Effect.flatMap((value) => Console.log(`server read: ${value.user} is ${value.status}`)),
          Effect.catchTag("ParseError", (error) =>
            Console.log(`server rejected a message: ${error.message.split("\n")[0]}`)
          )
        )
      )
    )
  )

  const client = yield* Stocking.make({ host: "127.0.0.1", port, codec })
  yield* client.write({ user: "Username", status: "ERROR" })
  // A peer without the codec can still send anything; the server's read fails with a ParseError.
  const untyped = yield* Stocking.make({ host: "127.0.0.1", port })
  yield* untyped.write(JSON.stringify({ user: "Username", status: "MAYBE" }))
  yield* client.write({ user: "Other", status: "OK" })
  yield* Effect.sleep("200 millis")
})

NodeRuntime.runMain(Effect.scoped(program))

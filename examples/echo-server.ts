/**
 * An echo server: every message a client sends comes back to it, kind intact.
 *
 *   npx vite-node examples/echo-server.ts -- 7000
 *
 * Runs until interrupted (Ctrl-C), then closes every connection.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Stream } from "effect"
import { Server } from "../src/node.js"

const port = Number(process.argv.at(-1)) || 7000

const program = Effect.gen(function* () {
  const server = yield* Server.make({ port, host: "127.0.0.1" })
  const address = server.address
  yield* Console.log(`listening on ${address._tag === "Tcp" ? `${address.address}:${address.port}` : address.path}`)
  yield* server.serve((stocking) =>
    stocking.messages.pipe(
      Stream.tap((message) =>
        Console.log(`stocking ${stocking.id}: ${typeof message === "string" ? message : `${message.length} bytes`}`)
      ),
      Stream.runForEach((message) => stocking.write(message))
    )
  )
})

NodeRuntime.runMain(Effect.scoped(program))

/**
 * An echo client: sends each argument as a text message and prints what
 * comes back.
 *
 *   npx vite-node examples/echo-client.ts -- 7000 hello world
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect } from "effect"
import { Stocking } from "../src/node.js"

const [portArg, ...words] = process.argv.slice(2).filter((arg) => arg !== "--")
const port = Number(portArg) || 7000

const program = Effect.gen(function* () {
  const stocking = yield* Stocking.make({ host: "127.0.0.1", port })
  yield* stocking.writeAll(words.length > 0 ? words : ["Test Message"])
  for (let i = 0; i < Math.max(words.length, 1); i++) {
    yield* Console.log(`echoed: ${yield* stocking.take}`)
  }
})

NodeRuntime.runMain(Effect.scoped(program))

/**
 * A service that serves forever, as a Layer: `Server.layerServe` listens and
 * runs the handler for every connection for as long as the Layer lives. The
 * client here gets its connection from a Layer too, built once the server
 * listens.
 *
 *   npx vite-node examples/server-layer.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Stream } from "effect"
import * as os from "node:os"
import * as path from "node:path"
import { Server, Stocking } from "../src/node.js"

const socketPath = path.join(os.tmpdir(), `stockings-example-${process.pid}.sock`)

// Upper-cases every text message and sends it back.
const ShoutLive = Server.layerServe({ path: socketPath }, (stocking) =>
  stocking.messages.pipe(
    Stream.runForEach((message) => stocking.write(typeof message === "string" ? message.toUpperCase() : message))
  )
)

const program = Effect.gen(function* () {
  const stocking = yield* Stocking.Stocking
  yield* stocking.writeAll(["hello", "from a layer"])
  yield* Console.log(yield* stocking.take)
  yield* Console.log(yield* stocking.take)
})

// Providing the server to the client's layer builds it first: it listens before the client connects.
const MainLive = Stocking.layer({ path: socketPath }).pipe(Layer.provide(ShoutLive))

NodeRuntime.runMain(program.pipe(Effect.provide(MainLive)))

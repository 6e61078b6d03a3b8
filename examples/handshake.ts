/**
 * The original README's handshake: each side sends its unique id and reads
 * the other's, through `raw` frames, before the Stocking is ready.
 *
 *   npx vite-node examples/handshake.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect } from "effect"
import { Server, Stocking } from "../src/node.js"

/** Sends our id, waits for theirs; the Stocking is ready once this returns true. */
const exchangeIds = (ourId: string, remember: (id: string) => void) => (raw: Stocking.Raw) =>
  Effect.gen(function* () {
    yield* raw.write(ourId)
    const theirs = yield* raw.take
    if (typeof theirs !== "string") return false
    remember(theirs)
    return true
  })

const program = Effect.gen(function* () {
  let serverSawId = ""
  let clientSawId = ""
  const server = yield* Server.make({
    port: 0,
    handshake: exchangeIds("server-1", (id) => (serverSawId = id)),
    handshakeTimeout: "5 seconds"
  })
  const port = server.address._tag === "Tcp" ? server.address.port : 0
  yield* Effect.forkScoped(
    server.serve((stocking) => Effect.zipRight(stocking.ready, Effect.flatMap(stocking.take, stocking.write)))
  )

  const client = yield* Stocking.make({
    host: "127.0.0.1",
    port,
    handshake: exchangeIds("client-7", (id) => (clientSawId = id))
  })
  // Before the handshake completes, reads and writes fail with NotReady.
  const early = yield* Effect.either(client.write("too early"))
  yield* Console.log(`before ready: ${early._tag === "Left" ? early.left._tag : "sent"}`)
  yield* client.ready
  yield* client.write("hello after handshake")
  yield* Console.log(`client learned remote id: ${clientSawId}`)
  yield* Console.log(`reply: ${yield* client.take}`)
  yield* Console.log(`server learned remote id: ${serverSawId}`)
})

NodeRuntime.runMain(Effect.scoped(program))

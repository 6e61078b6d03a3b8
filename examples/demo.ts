/**
 * `npm start`: a self-contained tour. Starts a server on a free port,
 * connects a client that must pass a handshake, exchanges typed messages
 * through a Schema codec, then measures a quick one-way throughput.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Schema, Stream } from "effect"
import { Codec } from "../src/index.js"
import { Server, Stocking } from "../src/node.js"

const Chat = Schema.Struct({ from: Schema.String, text: Schema.String })
const codec = Codec.json(Chat)
const password = "open sesame"

const program = Effect.gen(function* () {
  // 1. A server on a free port; every connection must send the password first.
  const server = yield* Server.make({
    port: 0,
    codec,
    handshake: (raw) => Effect.map(raw.take, (hello) => hello === password),
    handshakeTimeout: "2 seconds"
  })
  const port = server.address._tag === "Tcp" ? server.address.port : 0
  yield* Console.log(`server listening on 127.0.0.1:${port}`)
  yield* Effect.forkScoped(
    server.serve((stocking) =>
      stocking.messages.pipe(
        Stream.runForEach((message) =>
          Console.log(`server got ${JSON.stringify(message)} from stocking ${stocking.id}`).pipe(
            Effect.zipRight(stocking.write({ from: "server", text: message.text.toUpperCase() }))
          )
        )
      )
    )
  )

  // 2. A client with the same codec and a handshake that sends the password.
  const client = yield* Stocking.make({
    host: "127.0.0.1",
    port,
    codec,
    handshake: (raw) => Effect.as(raw.write(password), true)
  })
  yield* client.ready
  yield* Console.log(`client ${client.id} ready (backend: ${client.backend})`)
  for (const text of ["hello", "whole messages, not byte chunks"]) {
    yield* client.write({ from: "client", text })
    const reply = yield* client.take
    yield* Console.log(`client got ${JSON.stringify(reply)}`)
  }

  // 3. A quick throughput figure: 200,000 messages of 64 bytes, one write each.
  const sink = yield* Server.make({ port: 0 })
  const sinkPort = sink.address._tag === "Tcp" ? sink.address.port : 0
  const count = 200_000
  const payload = new Uint8Array(64)
  const received = yield* Effect.forkScoped(
    Effect.flatMap(Stream.runHead(sink.connections), (connection) =>
      connection._tag === "Some"
        ? connection.value.messages.pipe(Stream.take(count), Stream.runCount)
        : Effect.succeed(0)
    )
  )
  const sender = yield* Stocking.make({ host: "127.0.0.1", port: sinkPort })
  const started = performance.now()
  for (let i = 0; i < count; i++) yield* sender.write(payload)
  const got = yield* received.await.pipe(Effect.flatten)
  const seconds = (performance.now() - started) / 1000
  yield* Console.log(
    `throughput: ${got} messages of 64 B in ${seconds.toFixed(2)} s = ${Math.round(got / seconds).toLocaleString("en-US")} msgs/s`
  )
  yield* Console.log("done: closing every connection")
})

NodeRuntime.runMain(Effect.scoped(program))

/**
 * @effect/rpc over a plain TCP connection framed by Stockings: a server on a
 * free port, a client calling a request/response RPC and a streaming RPC.
 * Every RPC message is one Stockings TEXT frame of JSON, so a Python
 * Stockings peer could take part.
 *
 *   npx vite-node examples/rpc.ts
 */
import { SocketServer } from "@effect/platform"
import { NodeRuntime } from "@effect/platform-node"
import { Rpc, RpcClient, RpcGroup, RpcServer } from "@effect/rpc"
import { Chunk, Console, Effect, Layer, Schema, Stream } from "effect"
import { Framing } from "../src/index.js"
import * as RpcStockings from "../src/Rpc.js"

class Todo extends Schema.Class<Todo>("Todo")({ id: Schema.Number, title: Schema.String }) {}

class TodoRpcs extends RpcGroup.make(
  Rpc.make("GetTodo", { payload: { id: Schema.Number }, success: Todo, error: Schema.String }),
  Rpc.make("Countdown", { payload: { from: Schema.Number }, success: Schema.Number, stream: true })
) {}

const todos = [new Todo({ id: 1, title: "darn the socks" }), new Todo({ id: 2, title: "answer the Python peer" })]

const Handlers = TodoRpcs.toLayer({
  GetTodo: ({ id }) => {
    const todo = todos.find((t) => t.id === id)
    return todo === undefined ? Effect.fail(`no todo ${id}`) : Effect.succeed(todo)
  },
  Countdown: ({ from }) => Stream.iterate(from, (n) => n - 1).pipe(Stream.take(from + 1))
})

// The server: RPC handlers over Stockings-framed TCP on 127.0.0.1, port 0 (a free port).
const ServerLive = RpcServer.layer(TodoRpcs).pipe(
  Layer.provide(Handlers),
  Layer.provideMerge(RpcStockings.layerServerProtocol({ port: 0 }))
)

const useClient = (port: number) =>
  Effect.gen(function* () {
    const client = yield* RpcClient.make(TodoRpcs)

    const todo = yield* client.GetTodo({ id: 1 })
    yield* Console.log(`GetTodo(1): #${todo.id} ${todo.title}`)

    const missing = yield* Effect.either(client.GetTodo({ id: 9 }))
    yield* Console.log(`GetTodo(9): ${missing._tag === "Left" ? `failed with "${missing.left}"` : "found?"}`)

    const countdown = yield* Stream.runCollect(client.Countdown({ from: 5 }))
    yield* Console.log(`Countdown(5): ${Chunk.toReadonlyArray(countdown).join(" ")}`)
  }).pipe(Effect.scoped, Effect.provide(RpcStockings.layerClientProtocol({ host: "127.0.0.1", port })))

const program = Effect.gen(function* () {
  const { address } = yield* SocketServer.SocketServer
  const port = address._tag === "TcpAddress" ? address.port : 0
  yield* Console.log(`RPC server listening on 127.0.0.1:${port}`)

  yield* useClient(port)

  // What one request looks like on the wire: a Stockings TEXT frame (header, then the JSON).
  const frame = RpcStockings.serialization
    .unsafeMake()
    .encode({ _tag: "Request", id: "1", tag: "GetTodo", payload: { id: 1 }, headers: [] }) as Uint8Array
  const header = Framing.decodeHeader(frame)
  if (header !== undefined && !Framing.isFramingError(header)) {
    const hex = Array.from(frame.subarray(0, header.size), (b) => b.toString(16).padStart(2, "0")).join(" ")
    yield* Console.log(`on the wire: header ${hex} (${header.kind}, ${header.length} bytes), then the JSON`)
  }
})

NodeRuntime.runMain(program.pipe(Effect.provide(ServerLive)))

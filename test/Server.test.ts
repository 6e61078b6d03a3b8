import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Fiber, Option, Schema, Scope, Stream } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Codec } from "../src/index.js"
import { Backend, Select, Server, Stocking } from "../src/node.js"

const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "stockings-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

const echo = (stocking: Stocking.Stocking) => stocking.messages.pipe(Stream.runForEach((m) => stocking.write(m)))

describe("Server", () => {
  it.scopedLive("listens on port 0, tells the port, and serves each connection", () =>
    Effect.gen(function* () {
      const server = yield* Server.make({ port: 0 })
      assert.strictEqual(server.address._tag, "Tcp")
      const port = server.address._tag === "Tcp" ? server.address.port : 0
      assert.isAbove(port, 0)
      yield* Effect.forkScoped(server.serve(echo))
      const clients = yield* Effect.forEach([1, 2, 3], () => Stocking.make({ host: "127.0.0.1", port }))
      yield* Effect.forEach(clients, (c, i) => c.write(`hello ${i}`))
      const replies = yield* Effect.forEach(clients, (c) => c.take)
      assert.deepStrictEqual(replies, ["hello 0", "hello 1", "hello 2"])
    })
  )

  it.scopedLive("listens on a Unix socket path", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const socketPath = path.join(dir, "s.sock")
      const server = yield* Server.make({ path: socketPath })
      assert.deepStrictEqual(server.address, { _tag: "Unix", path: socketPath })
      yield* Effect.forkScoped(server.serve(echo))
      const client = yield* Stocking.make({ path: socketPath })
      assert.deepStrictEqual(client.remoteAddress, Option.some({ _tag: "Unix" as const, path: socketPath }))
      yield* client.write(Uint8Array.of(1, 2, 3))
      assert.deepStrictEqual(yield* client.take, Buffer.from([1, 2, 3]))
    })
  )

  it.scopedLive("accepted Stockings share the server's codec, handshake and backend", () =>
    Effect.gen(function* () {
      const Ping = Schema.Struct({ n: Schema.Number })
      const codec = Codec.json(Ping)
      const server = yield* Server.make({
        port: 0,
        codec,
        handshake: (raw) => Effect.map(raw.take, (hello) => hello === "let me in")
      }).pipe(Effect.provideService(Backend.Backend, Select.make(0)))
      const port = server.address._tag === "Tcp" ? server.address.port : 0
      const delivered: Array<Stocking.Stocking<typeof Ping.Type, typeof Ping.Type, unknown>> = []
      yield* Effect.forkScoped(server.connections.pipe(Stream.runForEach((s) => Effect.sync(() => delivered.push(s)))))
      const bad = yield* Stocking.make({
        host: "127.0.0.1",
        port,
        handshake: (raw) => Effect.as(raw.write("no password"), true)
      })
      const good = yield* Stocking.make({
        host: "127.0.0.1",
        port,
        codec,
        handshake: (raw) => Effect.as(raw.write("let me in"), true)
      })
      // The one that failed the handshake is closed by the server and never delivered.
      assert.strictEqual((yield* bad.closed).reason, "ClosedByPeer")
      yield* good.write({ n: 41 })
      while (delivered.length === 0) yield* Effect.sleep("5 millis")
      const serverGood = delivered[0]!
      assert.isTrue(yield* serverGood.handshakeComplete)
      assert.strictEqual(serverGood.backend, "select")
      const got = yield* serverGood.take
      assert.deepStrictEqual(got, { n: 41 })
      yield* serverGood.write({ n: got.n + 1 })
      assert.deepStrictEqual(yield* good.take, { n: 42 })
      yield* Effect.sleep("50 millis")
      assert.strictEqual(delivered.length, 1)
    })
  )

  it.live("closing the server's scope closes it and every connection", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const server = yield* Server.make({ port: 0 }).pipe(Scope.extend(scope))
      const port = server.address._tag === "Tcp" ? server.address.port : 0
      const accepted = yield* server.connections.pipe(Stream.take(2), Stream.runCollect, Effect.fork)
      const clientScope = yield* Scope.make()
      const clients = yield* Effect.forEach([1, 2], () => Stocking.make({ host: "127.0.0.1", port })).pipe(
        Scope.extend(clientScope)
      )
      const serverSide = Chunk.toArray(yield* Fiber.join(accepted))
      yield* Scope.close(scope, Exit.void)
      for (const s of serverSide) {
        assert.isFalse(yield* s.isActive)
        assert.isTrue(s.socket.destroyed)
      }
      for (const c of clients) {
        const why = yield* c.closed
        assert.strictEqual(why.reason, "ClosedByPeer")
      }
      const refused = yield* Effect.flip(Effect.scoped(Stocking.make({ host: "127.0.0.1", port })))
      assert.strictEqual(refused._tag, "ConnectError")
      yield* Scope.close(clientScope, Exit.void)
    })
  )

  it.scopedLive("a connection that closes releases its scope; the server keeps serving", () =>
    Effect.gen(function* () {
      const server = yield* Server.make({ port: 0 })
      const port = server.address._tag === "Tcp" ? server.address.port : 0
      yield* Effect.forkScoped(server.serve(echo))
      for (let i = 0; i < 20; i++) {
        yield* Effect.scoped(
          Effect.gen(function* () {
            const c = yield* Stocking.make({ host: "127.0.0.1", port })
            yield* c.write(`round ${i}`)
            assert.strictEqual(yield* c.take, `round ${i}`)
          })
        )
      }
      // Both ends of every finished connection are released, not just the client's.
      const deadline = Date.now() + 5000
      while (process.getActiveResourcesInfo().includes("TCPSocketWrap")) {
        if (Date.now() > deadline) assert.fail("server-side sockets were not released")
        yield* Effect.sleep("10 millis")
      }
    })
  )

  it.scopedLive("listening on a port in use fails with ServerError", () =>
    Effect.gen(function* () {
      const first = yield* Server.make({ port: 0 })
      const port = first.address._tag === "Tcp" ? first.address.port : 0
      const error = yield* Effect.flip(Server.make({ port }))
      assert.strictEqual(error._tag, "ServerError")
      assert.match(error.message, new RegExp(`could not listen on 127.0.0.1:${port}: .*EADDRINUSE`))
    })
  )
})

import { assert, describe, it } from "@effect/vitest"
import { Cause, Chunk, Context, Effect, Exit, Fiber, Logger, Option, Schema, Scope, Stream } from "effect"
import * as fs from "node:fs"
import * as net from "node:net"
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

  it.live("closing the server's scope while serve runs closes every connection; handlers end", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const server = yield* Server.make({ port: 0 }).pipe(Scope.extend(scope))
      const port = server.address._tag === "Tcp" ? server.address.port : 0
      let started = 0
      let ended = 0
      // `serve` outlives the server's scope: its handlers end because their connections close.
      const serving = yield* Effect.fork(
        server.serve((s) =>
          Effect.sync(() => started++).pipe(
            Effect.zipRight(Effect.forever(s.take)),
            Effect.ensuring(Effect.sync(() => ended++))
          )
        )
      )
      const clientScope = yield* Scope.make()
      const clients = yield* Effect.forEach([1, 2, 3], () => Stocking.make({ host: "127.0.0.1", port })).pipe(
        Scope.extend(clientScope)
      )
      while (started < 3) yield* Effect.sleep("5 millis")
      yield* Scope.close(scope, Exit.void)
      for (const c of clients) assert.strictEqual((yield* c.closed).reason, "ClosedByPeer")
      while (ended < 3) yield* Effect.sleep("5 millis")
      const refused = yield* Effect.flip(Effect.scoped(Stocking.make({ host: "127.0.0.1", port })))
      assert.strictEqual(refused._tag, "ConnectError")
      yield* Fiber.interrupt(serving)
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

  it.scopedLive("serve: connections accepted before it started are served too; handlers see serve's context", () =>
    Effect.gen(function* () {
      class Prefix extends Context.Tag("test/Prefix")<Prefix, string>() {}
      const server = yield* Server.make({ port: 0 })
      const port = server.address._tag === "Tcp" ? server.address.port : 0
      // Accepted while nothing consumes the server: it waits for a consumer.
      const early = yield* Stocking.make({ host: "127.0.0.1", port })
      yield* early.write("early")
      yield* Effect.sleep("50 millis")
      const handler = (s: Stocking.Stocking) =>
        Effect.flatMap(Prefix, (prefix) => s.messages.pipe(Stream.runForEach((m) => s.write(`${prefix} ${String(m)}`))))
      // The handler's requirement is provided to `serve` only, not to `Server.make`.
      yield* Effect.forkScoped(server.serve(handler).pipe(Effect.provideService(Prefix, "echo")))
      assert.strictEqual(yield* early.take, "echo early")
      const late = yield* Stocking.make({ host: "127.0.0.1", port })
      yield* late.write("late")
      assert.strictEqual(yield* late.take, "echo late")
      yield* early.write("again")
      assert.strictEqual(yield* early.take, "echo again")
    })
  )

  it.scopedLive("serve: interrupting it interrupts its handlers and closes their connections; the server goes on", () =>
    Effect.gen(function* () {
      const server = yield* Server.make({ port: 0 })
      const port = server.address._tag === "Tcp" ? server.address.port : 0
      let started = 0
      let interrupted = 0
      const serving = yield* Effect.forkScoped(
        server.serve(() =>
          Effect.sync(() => started++).pipe(
            Effect.zipRight(Effect.never),
            Effect.onInterrupt(() => Effect.sync(() => interrupted++))
          )
        )
      )
      const clients = yield* Effect.forEach([1, 2, 3], () => Stocking.make({ host: "127.0.0.1", port }))
      while (started < 3) yield* Effect.sleep("5 millis")
      yield* Fiber.interrupt(serving)
      assert.strictEqual(interrupted, 3)
      for (const c of clients) assert.strictEqual((yield* c.closed).reason, "ClosedByPeer")
      // A new `serve` takes the connections that come next.
      yield* Effect.forkScoped(server.serve(echo))
      const next = yield* Stocking.make({ host: "127.0.0.1", port })
      yield* next.write("still here")
      assert.strictEqual(yield* next.take, "still here")
    })
  )

  it.scopedLive("serve: a failing handler is logged and its connection closed; the others go on", () =>
    Effect.gen(function* () {
      const server = yield* Server.make({ port: 0 })
      const port = server.address._tag === "Tcp" ? server.address.port : 0
      const logged: Array<string> = []
      const logger = Logger.make(({ message }) => logged.push(String(message)))
      yield* Effect.forkScoped(
        server
          .serve((s) =>
            Effect.flatMap(s.take, (m): Effect.Effect<void, unknown> =>
              m === "fail" ? Effect.fail("handler failed") : Effect.zipRight(s.write(m), echo(s))
            )
          )
          .pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      )
      const failing = yield* Stocking.make({ host: "127.0.0.1", port })
      const fine = yield* Stocking.make({ host: "127.0.0.1", port })
      yield* failing.write("fail")
      assert.strictEqual((yield* failing.closed).reason, "ClosedByPeer")
      yield* fine.write("ok")
      assert.strictEqual(yield* fine.take, "ok")
      assert.isTrue(logged.some((m) => m.includes("Stocking handler failed")))
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

/** A socket file that no server listens on, as a server killed without closing leaves behind. */
const staleSocket = (socketPath: string) =>
  Effect.async<void>((resume) => {
    const server = net.createServer()
    const bound = `${socketPath}.live`
    server.listen(bound, () => {
      // A second name for the socket file, which stays when the server closes (and removes the first).
      fs.linkSync(bound, socketPath)
      server.close(() => {
        fs.rmSync(bound, { force: true })
        resume(Effect.void)
      })
    })
  })

/** The error `effect` fails with; a test failure if it succeeds. */
const failure = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.exit(effect), (exit) =>
    Exit.isFailure(exit)
      ? Effect.succeed(Cause.squash(exit.cause) as E)
      : Effect.dieMessage(`expected a failure, got ${String(exit.value)}`)
  )

/** The platform's limit on a socket path, in bytes. */
const PATH_LIMIT = process.platform === "linux" ? 107 : 103

describe("Server: Unix socket paths", () => {
  it.scopedLive("a stale socket file: a ServerError that says so and what to do; removeStale: true replaces it", () =>
    Effect.gen(function* () {
      const socketPath = path.join(yield* tempDir, "stale.sock")
      yield* staleSocket(socketPath)
      const error = yield* failure(Server.make({ path: socketPath }))
      assert.strictEqual(error._tag, "ServerError")
      assert.strictEqual(error.reason, "StaleSocket", error.message)
      assert.match(error.message, new RegExp(`could not listen on ${socketPath}: .*no server`))
      assert.match(error.message, /removeStale/)
      assert.isTrue(fs.lstatSync(socketPath).isSocket(), "left in place")

      const options = { path: socketPath, removeStale: true }
      const server = yield* Server.make(options)
      yield* Effect.forkScoped(server.serve(echo))
      const client = yield* Stocking.make({ path: socketPath })
      yield* client.write("after a crash")
      assert.strictEqual(yield* client.take, "after a crash")
    })
  )

  it.scopedLive("a live server on the path: a ServerError that says so, with or without removeStale", () =>
    Effect.gen(function* () {
      const socketPath = path.join(yield* tempDir, "live.sock")
      const live = yield* Server.make({ path: socketPath })
      yield* Effect.forkScoped(live.serve(echo))
      for (const options of [{ path: socketPath }, { path: socketPath, removeStale: true }]) {
        const error = yield* failure(Server.make(options))
        assert.strictEqual(error.reason, "AddressInUse", error.message)
        assert.match(error.message, new RegExp(`could not listen on ${socketPath}: another server is listening there`))
      }
      // The live server was left alone.
      const client = yield* Stocking.make({ path: socketPath })
      yield* client.write("still here")
      assert.strictEqual(yield* client.take, "still here")
    })
  )

  it.scopedLive("a file that is not a socket is never removed, even with removeStale", () =>
    Effect.gen(function* () {
      const filePath = path.join(yield* tempDir, "data.txt")
      fs.writeFileSync(filePath, "keep me")
      const options = { path: filePath, removeStale: true }
      const error = yield* failure(Server.make(options))
      assert.strictEqual(error.reason, "NotASocket", error.message)
      assert.match(error.message, /is not a socket/)
      assert.strictEqual(fs.readFileSync(filePath, "utf8"), "keep me")
    })
  )

  it.scopedLive("a missing directory: a ServerError saying the directory does not exist (not EACCES)", () =>
    Effect.gen(function* () {
      const dir = path.join(yield* tempDir, "missing", "dir")
      const error = yield* failure(Server.make({ path: path.join(dir, "s.sock") }))
      assert.strictEqual(error.reason, "NoDirectory", error.message)
      assert.match(error.message, new RegExp(`the directory ${dir} does not exist`))
    })
  )

  it.scopedLive(
    "a path longer than the platform allows: ServerError and ConnectError with its length and the limit, nothing created",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const longPath = path.join(dir, "x".repeat(PATH_LIMIT + 1 - dir.length - 1))
        const length = Buffer.byteLength(longPath)
        assert.strictEqual(length, PATH_LIMIT + 1)
        const error = yield* failure(Server.make({ path: longPath }))
        assert.strictEqual(error._tag, "ServerError")
        assert.strictEqual(error.reason, "PathTooLong", error.message)
        assert.include(error.message, `${length} bytes`)
        assert.include(error.message, `${PATH_LIMIT}`)
        assert.deepStrictEqual(fs.readdirSync(dir), [], "nothing left behind")
        const connectError = yield* failure(Stocking.make({ path: longPath }))
        assert.strictEqual(connectError._tag, "ConnectError")
        assert.strictEqual(connectError.reason, "PathTooLong", connectError.message)
        assert.include(connectError.message, `${length} bytes`)
        assert.include(connectError.message, `${PATH_LIMIT}`)
        // The longest path allowed works.
        const longest = longPath.slice(0, -1)
        const server = yield* Server.make({ path: longest })
        yield* Effect.forkScoped(server.serve(echo))
        const client = yield* Stocking.make({ path: longest })
        yield* client.write("at the limit")
        assert.strictEqual(yield* client.take, "at the limit")
      })
  )

  it.live("mode: the socket file has it from the start, nothing else is created, and it is removed on close", () =>
    Effect.gen(function* () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stockings-mode-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })))
      const socketPath = path.join(dir, "private.sock")
      const scope = yield* Scope.make()
      const options = { path: socketPath, mode: 0o600 }
      const server = yield* Server.make(options).pipe(Scope.extend(scope))
      assert.strictEqual((fs.statSync(socketPath).mode & 0o777).toString(8), "600")
      assert.deepStrictEqual(fs.readdirSync(dir), ["private.sock"])
      assert.deepStrictEqual(server.address, { _tag: "Unix", path: socketPath })
      yield* server.serve(echo).pipe(Effect.forkIn(scope))
      const client = yield* Stocking.make({ path: socketPath }).pipe(Scope.extend(scope))
      yield* client.write("private")
      assert.strictEqual(yield* client.take, "private")
      yield* Scope.close(scope, Exit.void)
      assert.deepStrictEqual(fs.readdirSync(dir), [], "removed on close")

      // Without `mode`, the socket file's mode follows the umask, as a directory's does.
      fs.mkdirSync(path.join(dir, "probe"))
      const umasked = fs.statSync(path.join(dir, "probe")).mode & 0o777
      const plain = yield* Effect.scoped(
        Effect.map(Server.make({ path: socketPath }), () => fs.statSync(socketPath).mode & 0o777)
      )
      assert.strictEqual(plain.toString(8), umasked.toString(8))
    }).pipe(Effect.scoped)
  )
})

describe("Stocking: Unix socket paths", () => {
  it.scopedLive("connecting where no server listens: ConnectError says what is there and what was expected", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const missing = path.join(dir, "nothing.sock")
      const noFile = yield* failure(Stocking.make({ path: missing }))
      assert.match(noFile.message, new RegExp(`could not connect to ${missing}: no socket file there`))
      const noDirectory = path.join(dir, "missing", "s.sock")
      const noDir = yield* failure(Stocking.make({ path: noDirectory }))
      assert.match(noDir.message, new RegExp(`the directory ${path.dirname(noDirectory)} does not exist`))
      const stale = path.join(dir, "stale.sock")
      yield* staleSocket(stale)
      const noServer = yield* failure(Stocking.make({ path: stale }))
      assert.match(noServer.message, new RegExp(`could not connect to ${stale}: .*no server is listening on it`))
    })
  )
})

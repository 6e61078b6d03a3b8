/**
 * Typed tags and layers (`Stocking.Tag`, `Server.Tag`, `Server.layer`,
 * `Server.layerServe`) and options read through `Config`, over real sockets.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, Layer, Schedule, Schema, Scope, Stream } from "effect"
import type { ParseResult } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Codec } from "../src/index.js"
import { Server, Stocking } from "../src/node.js"
import { makeCerts } from "./utils/certs.js"

const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "stockings-layers-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

const echo = <A>(stocking: Stocking.Stocking<A, A, unknown>) =>
  stocking.messages.pipe(Stream.runForEach(stocking.write))

/** The environment provider's view of `vars`: `STOCKING_PORT` is the path `STOCKING.PORT`. */
const withEnv = (vars: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(vars)), { pathDelim: "_" }))

const Request = Schema.Struct({ id: Schema.Number })
const Response = Schema.Struct({ id: Schema.Number, name: Schema.String })

class TodoClient extends Stocking.Tag<TodoClient>()("test/TodoClient", { codec: Codec.jsonPair(Request, Response) }) {}
class TodoServer extends Server.Tag<TodoServer>()("test/TodoServer", { codec: Codec.jsonPair(Response, Request) }) {}
class PlainClient extends Stocking.Tag<PlainClient>()("test/PlainClient") {}

describe("typed tags and layers", () => {
  it.scopedLive("Stocking.Tag: the service's type comes from the codec; one declaration, one layer", () =>
    Effect.gen(function* () {
      const socketPath = path.join(yield* tempDir, "todo.sock")
      yield* Layer.launch(
        Server.layerServe({ path: socketPath, codec: Codec.jsonPair(Response, Request) }, (stocking) =>
          stocking.messages.pipe(Stream.runForEach(({ id }) => stocking.write({ id, name: `todo ${id}` })))
        )
      ).pipe(Effect.forkScoped)
      const name = yield* Effect.gen(function* () {
        // The type is checked here: a Stocking writing requests and reading responses.
        const client: Stocking.Stocking<typeof Request.Type, typeof Response.Type, ParseResult.ParseError> =
          yield* TodoClient
        yield* client.write({ id: 7 })
        return (yield* client.take).name
      }).pipe(
        Effect.provide(
          TodoClient.layer({ path: socketPath, retry: Schedule.spaced("20 millis").pipe(Schedule.upTo("10 seconds")) })
        ),
        Effect.scoped
      )
      assert.strictEqual(name, "todo 7")
      assert.strictEqual(TodoClient.key, "test/TodoClient")
    })
  )

  it.scopedLive("Server.Tag and Server.layer: port for TCP, the tag's codec on every connection", () =>
    Effect.gen(function* () {
      const server = yield* Effect.provide(TodoServer, yield* Layer.build(TodoServer.layer({ port: 0 })))
      assert.isAbove(server.port, 0)
      assert.deepStrictEqual(server.address._tag === "Tcp" && server.address.port, server.port)
      yield* Effect.forkScoped(
        server.serve((stocking) =>
          stocking.messages.pipe(Stream.runForEach(({ id }) => stocking.write({ id, name: "x".repeat(id) })))
        )
      )
      const client = yield* Effect.provide(
        TodoClient,
        yield* Layer.build(TodoClient.layer({ host: "127.0.0.1", port: server.port }))
      )
      yield* client.write({ id: 3 })
      assert.deepStrictEqual(yield* client.take, { id: 3, name: "xxx" })

      const plain = yield* Effect.provide(Server.Server, yield* Layer.build(Server.layer({ port: 0 })))
      yield* Effect.forkScoped(plain.serve(echo))
      const other = yield* Effect.provide(
        PlainClient,
        yield* Layer.build(PlainClient.layer({ host: "127.0.0.1", port: plain.port }))
      )
      yield* other.write(Uint8Array.of(9))
      assert.deepStrictEqual([...((yield* other.take) as Uint8Array)], [9])
    })
  )

  it.scopedLive("Server.layerServe serves until the layer's scope closes, then stops listening", () =>
    Effect.gen(function* () {
      const socketPath = path.join(yield* tempDir, "s.sock")
      const scope = yield* Scope.make()
      yield* Layer.buildWithScope(Server.layerServe({ path: socketPath }, echo), scope)
      const reply = yield* Effect.scoped(
        Effect.gen(function* () {
          const client = yield* Stocking.make({ path: socketPath })
          yield* client.write("still there?")
          return yield* client.take
        })
      )
      assert.strictEqual(reply, "still there?")
      yield* Scope.close(scope, Exit.void)
      const refused = yield* Effect.flip(Effect.scoped(Stocking.make({ path: socketPath })))
      assert.strictEqual(refused._tag, "ConnectError")
    })
  )

  it.scopedLive("Server.layerServe provides the Server it serves with: a program on port 0 learns the port", () =>
    Effect.gen(function* () {
      const EchoLive = Server.layerServe({ port: 0 }, echo)
      const reply = yield* Effect.gen(function* () {
        const server = yield* Server.Server
        assert.isAbove(server.port, 0)
        assert.deepStrictEqual(server.address._tag === "Tcp" && server.address.port, server.port)
        const client = yield* Stocking.make({ host: "127.0.0.1", port: server.port })
        yield* client.write("which port?")
        return yield* client.take
      }).pipe(Effect.provide(EchoLive), Effect.scoped)
      assert.strictEqual(reply, "which port?")
    })
  )

  it.scopedLive("a Tag's layerServe provides the typed server it serves with, its codec on every connection", () =>
    Effect.gen(function* () {
      const TodoLive = TodoServer.layerServe({ port: 0 }, (stocking) =>
        stocking.messages.pipe(Stream.runForEach(({ id }) => stocking.write({ id, name: `todo ${id}` })))
      )
      const name = yield* Effect.gen(function* () {
        const server = yield* TodoServer
        const client = yield* Effect.provide(
          TodoClient,
          yield* Layer.build(TodoClient.layer({ host: "127.0.0.1", port: server.port }))
        )
        yield* client.write({ id: 5 })
        return (yield* client.take).name
      }).pipe(Effect.provide(TodoLive), Effect.scoped)
      assert.strictEqual(name, "todo 5")
    })
  )

  it.scopedLive("connections: a dropped handler leaves its connection open; forkScoped + close is the pattern", () =>
    Effect.gen(function* () {
      const server = yield* Server.make({ port: 0 })
      // The wrong pattern: `Effect.fork` inside `Stream.mapEffect` forks a child of a fiber that ends at
      // once, so the handler is interrupted before it answers, and nothing closes the connection.
      const accepted: Array<Stocking.Stocking> = []
      yield* server.connections.pipe(
        Stream.take(1),
        Stream.tap((stocking) => Effect.sync(() => accepted.push(stocking))),
        Stream.mapEffect((stocking) => Effect.fork(echo(stocking)), { concurrency: "unbounded" }),
        Stream.runDrain,
        Effect.forkScoped
      )
      const first = yield* Stocking.make({ host: "127.0.0.1", port: server.port })
      yield* first.write("anyone?")
      const unanswered = yield* Effect.timeoutOption(first.take, "300 millis")
      assert.isTrue(unanswered._tag === "None")
      assert.isTrue(yield* first.isActive)
      while (accepted.length === 0) yield* Effect.sleep("5 millis")
      assert.isTrue(yield* accepted[0]!.isActive, "the dropped connection stays open until the server closes")

      // The right pattern: handlers forked into a scope that outlives them, each closing its connection.
      const second = yield* Server.make({ port: 0 })
      yield* second.connections.pipe(
        Stream.runForEach((stocking) =>
          Effect.forkScoped(
            Effect.ensuring(Effect.ignore(Effect.zipRight(stocking.take, stocking.write("bye"))), stocking.close)
          )
        ),
        Effect.forkScoped
      )
      const client = yield* Stocking.make({ host: "127.0.0.1", port: second.port })
      yield* client.write("hello")
      assert.strictEqual(yield* client.take, "bye")
      // The handler ended, so its connection was closed: the client sees a clean close by the peer.
      assert.strictEqual((yield* client.closed).reason, "ClosedByPeer")
    })
  )
})

describe("options from Config", () => {
  it.scopedLive("Stocking.layerConfig and Server.layerConfig read host, port and limits from the variables", () =>
    Effect.gen(function* () {
      const server = yield* Effect.provide(
        Server.Server,
        yield* Layer.build(Server.layerConfig()).pipe(
          withEnv({ STOCKING_SERVER_PORT: "0", STOCKING_SERVER_MAX_MESSAGE_SIZE: "16" })
        )
      )
      assert.isAbove(server.port, 0)
      yield* Effect.forkScoped(server.serve(echo))
      const client = yield* Effect.provide(
        Stocking.Stocking,
        yield* Layer.build(Stocking.layerConfig()).pipe(
          withEnv({
            STOCKING_HOST: "127.0.0.1",
            STOCKING_PORT: String(server.port),
            STOCKING_CLOSE_TIMEOUT: "1 second"
          })
        )
      )
      yield* client.write("short")
      assert.strictEqual(yield* client.take, "short")
      // STOCKING_SERVER_MAX_MESSAGE_SIZE=16 is in force: a longer message makes the server reset the connection.
      yield* client.write("x".repeat(17))
      const closed = yield* client.closed
      assert.strictEqual(closed.reason, "SocketError")
      assert.strictEqual((closed.cause as NodeJS.ErrnoException).code, "ECONNRESET")
    })
  )

  it.scopedLive("a set variable wins over the code's setting; an unset one leaves it; the prefix is the caller's", () =>
    Effect.gen(function* () {
      const fromCode = yield* Stocking.optionsFromConfig({ host: "example.org", port: 1, maxQueuedBytes: 1000 }).pipe(
        withEnv({})
      )
      assert.deepInclude(fromCode, { host: "example.org", port: 1, maxQueuedBytes: 1000 })
      const overridden = yield* Stocking.optionsFromConfig({
        prefix: "APP_UPSTREAM",
        host: "example.org",
        port: 1,
        maxQueuedBytes: 1000
      }).pipe(withEnv({ APP_UPSTREAM_PORT: "7000", APP_UPSTREAM_MAX_QUEUED_BYTES: "2048", STOCKING_PORT: "9" }))
      assert.deepInclude(overridden, { host: "example.org", port: 7000, maxQueuedBytes: 2048 })
      const unix = yield* Server.optionsFromConfig({ port: 0 }).pipe(withEnv({ STOCKING_SERVER_PATH: "/tmp/x.sock" }))
      assert.deepInclude(unix, { path: "/tmp/x.sock" })
      assert.notProperty(unix, "port")
    })
  )

  it.scopedLive("Tag classes read their options through Config too, under the prefix they are given", () =>
    Effect.gen(function* () {
      const server = yield* Effect.provide(
        TodoServer,
        yield* Layer.build(TodoServer.layerConfig({ prefix: "TODO_SERVER" })).pipe(withEnv({ TODO_SERVER_PORT: "0" }))
      )
      yield* Effect.forkScoped(
        server.serve((stocking) =>
          stocking.messages.pipe(Stream.runForEach(({ id }) => stocking.write({ id, name: "cfg" })))
        )
      )
      const client = yield* Effect.provide(
        TodoClient,
        yield* Layer.build(TodoClient.layerConfig({ prefix: "TODO" })).pipe(
          withEnv({ TODO_HOST: "127.0.0.1", TODO_PORT: String(server.port) })
        )
      )
      yield* client.write({ id: 5 })
      assert.deepStrictEqual(yield* client.take, { id: 5, name: "cfg" })
    })
  )

  it.effect("errors name the variable: missing target, bad number, bad duration, unreadable TLS file", () =>
    Effect.gen(function* () {
      const message = (vars: Record<string, string>, server = false) =>
        server
          ? Effect.map(Effect.flip(Server.optionsFromConfig().pipe(withEnv(vars))), String)
          : Effect.map(Effect.flip(Stocking.optionsFromConfig().pipe(withEnv(vars))), String)
      assert.include(yield* message({}), "STOCKING_PORT")
      assert.include(yield* message({}), "STOCKING_PATH")
      assert.include(yield* message({}, true), "STOCKING_SERVER_PORT")
      assert.match(
        yield* message({ STOCKING_PORT: "7000", STOCKING_MAX_MESSAGE_SIZE: "lots" }),
        /STOCKING\.MAX_MESSAGE_SIZE.*"lots"/
      )
      assert.match(yield* message({ STOCKING_PORT: "70000" }), /STOCKING\.PORT.*from 1 to 65535/)
      // What the README promises, whether the value is out of range or not a number at all.
      assert.include(
        yield* message({ STOCKING_PORT: "abc" }),
        'Invalid data at STOCKING.PORT: "Expected a whole number from 1 to 65535, not "abc""'
      )
      assert.include(
        yield* message({ STOCKING_SERVER_PORT: "abc" }, true),
        'Invalid data at STOCKING_SERVER.PORT: "Expected a whole number from 0 to 65535, not "abc""'
      )
      assert.include(
        yield* message({ STOCKING_PORT: "7000", STOCKING_MAX_QUEUED_BYTES: "0" }),
        'Invalid data at STOCKING.MAX_QUEUED_BYTES: "Expected a whole number, 1 or more, not "0""'
      )
      assert.match(
        yield* message({ STOCKING_PORT: "7000", STOCKING_CONNECT_TIMEOUT: "soon" }),
        /STOCKING\.CONNECT_TIMEOUT.*"soon"/
      )
      assert.match(
        yield* message({ STOCKING_PORT: "7000", STOCKING_PATH: "/tmp/s" }),
        /STOCKING_PORT or STOCKING_PATH, not both/
      )
      assert.match(
        yield* message({ STOCKING_PORT: "7000", STOCKING_TLS_CA: "/nonexistent/ca.pem" }),
        /STOCKING\.TLS_CA.*"\/nonexistent\/ca\.pem" named by STOCKING_TLS_CA: .*ENOENT/
      )
      assert.match(
        yield* message({ STOCKING_SERVER_PORT: "0", STOCKING_SERVER_TLS_CERT: "c.pem" }, true),
        /STOCKING_SERVER_TLS_KEY/
      )
    })
  )

  it.effect("a Unix socket path: STOCKING_SERVER_REMOVE_STALE and STOCKING_SERVER_MODE (octal), or from code", () =>
    Effect.gen(function* () {
      const unix = (options: object) => {
        const { mode, path, removeStale } = options as { mode?: number; path?: string; removeStale?: boolean }
        return { mode, path, removeStale }
      }
      const fromEnv = yield* Server.optionsFromConfig().pipe(
        withEnv({
          STOCKING_SERVER_PATH: "/run/app.sock",
          STOCKING_SERVER_REMOVE_STALE: "true",
          STOCKING_SERVER_MODE: "0660"
        })
      )
      assert.deepStrictEqual(unix(fromEnv), { path: "/run/app.sock", removeStale: true, mode: 0o660 })
      const code = { path: "/run/code.sock", removeStale: true, mode: 0o600 }
      const fromCode = yield* Server.optionsFromConfig(code).pipe(withEnv({}))
      assert.deepStrictEqual(unix(fromCode), { path: "/run/code.sock", removeStale: true, mode: 0o600 })
      const overridden = yield* Server.optionsFromConfig(code).pipe(withEnv({ STOCKING_SERVER_MODE: "0o640" }))
      assert.strictEqual(unix(overridden).mode, 0o640)

      const message = (vars: Record<string, string>) =>
        Effect.map(Effect.flip(Server.optionsFromConfig().pipe(withEnv(vars))), String)
      assert.match(
        yield* message({ STOCKING_SERVER_PATH: "/run/app.sock", STOCKING_SERVER_MODE: "rw-------" }),
        /STOCKING_SERVER\.MODE.*octal.*"rw-------"/
      )
      assert.match(
        yield* message({ STOCKING_SERVER_PATH: "/run/app.sock", STOCKING_SERVER_MODE: "1777" }),
        /STOCKING_SERVER\.MODE.*octal/
      )
      assert.match(
        yield* message({ STOCKING_SERVER_PORT: "7000", STOCKING_SERVER_MODE: "600" }),
        /STOCKING_SERVER_MODE goes with a Unix socket path \(STOCKING_SERVER_PATH\)/
      )
      assert.match(
        yield* message({ STOCKING_SERVER_PORT: "7000", STOCKING_SERVER_REMOVE_STALE: "true" }),
        /STOCKING_SERVER_REMOVE_STALE goes with a Unix socket path/
      )
    })
  )

  it.scopedLive("TLS from files: the server's certificate and key, the client's CA", () =>
    Effect.gen(function* () {
      const { caPath, certPath, keyPath } = yield* makeCerts
      const server = yield* Effect.provide(
        Server.Server,
        yield* Layer.build(Server.layerConfig()).pipe(
          withEnv({ STOCKING_SERVER_PORT: "0", STOCKING_SERVER_TLS_CERT: certPath, STOCKING_SERVER_TLS_KEY: keyPath })
        )
      )
      yield* Effect.forkScoped(server.serve(echo))
      const client = yield* Effect.provide(
        Stocking.Stocking,
        yield* Layer.build(Stocking.layerConfig()).pipe(
          withEnv({ STOCKING_PORT: String(server.port), STOCKING_TLS_CA: caPath })
        )
      )
      yield* client.write("over tls")
      assert.strictEqual(yield* client.take, "over tls")
      assert.strictEqual((client.socket as import("node:tls").TLSSocket).encrypted, true)
      // Without the CA, the system's CAs do not know this certificate.
      const refused = yield* Effect.flip(Layer.build(Stocking.layerConfig())).pipe(
        withEnv({ STOCKING_PORT: String(server.port), STOCKING_TLS: "true" })
      )
      assert.strictEqual(refused._tag, "ConnectError")
    })
  )
})

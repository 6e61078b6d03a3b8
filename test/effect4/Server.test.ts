/**
 * The Effect 4 line's `Server` over real sockets (loopback TCP, a Unix
 * socket in a temp dir): `serve` and `connections`, the limits
 * (`maxConnections`, the shared byte budget), the release of each
 * connection, close delivery, listen errors, the service and its layers.
 * The peers are raw `node:net` sockets speaking the wire format
 * (`WireClient`), so that the server is the only Stocking under test.
 */
import * as Cause from "effect/Cause"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import * as fc from "fast-check"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import type { Message } from "../../src/internal/wire.js"
import * as Schema from "effect/Schema"
import * as Backend from "../../src/effect4/Backend/Backend.js"
import * as Poll from "../../src/effect4/Backend/Poll.js"
import * as Select from "../../src/effect4/Backend/Select.js"
import * as Codec from "../../src/effect4/Codec.js"
import * as Server from "../../src/effect4/Server.js"
import * as Stocking from "../../src/effect4/Stocking.js"
import { makeCerts } from "../utils/certs.js"
import { labelled, labelOf, wireClient, type WireClient } from "./utils.js"

const KiB = 1024

/** Runs a test body in a scope of its own. */
const run = <A, E>(body: Effect.Effect<A, E, Scope.Scope>): Promise<A> => Effect.runPromise(Effect.scoped(body))

const connect = (target: Parameters<typeof wireClient>[0]) =>
  Effect.acquireRelease(
    Effect.promise(() => wireClient(target)),
    (client) => Effect.sync(() => client.destroy())
  )

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

/** Echoes every message back, on the connection it came from. */
const echo = (stocking: Stocking.Stocking) => stocking.messages.pipe(Stream.runForEach(stocking.write))

const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "stocking4-"))),
  (directory) => Effect.sync(() => fs.rmSync(directory, { recursive: true, force: true }))
)

/** Polls `check` every few milliseconds until it holds, failing after `ms`. */
const eventually = (check: () => boolean, what: string, ms = 5_000) =>
  Effect.gen(function* () {
    const deadline = Date.now() + ms
    while (!check()) {
      if (Date.now() > deadline) return yield* Effect.die(new Error(`${what}: not within ${ms} ms`))
      yield* Effect.sleep("5 millis")
    }
  })

const text = (message: Message): string => (typeof message === "string" ? message : new TextDecoder().decode(message))

describe("Server (effect 4)", () => {
  it("serve: the server writes first, then echoes; both kinds and a large message survive", () =>
    run(
      Effect.gen(function* () {
        const server = yield* Server.make({ port: 0 })
        expect(server.address._tag).toBe("Tcp")
        expect(server.port).toBeGreaterThan(0)
        yield* Effect.forkScoped(server.serve((stocking) => Effect.andThen(stocking.write("hello"), echo(stocking))))
        const client = yield* connect({ port: server.port })
        expect(yield* promise(() => client.next())).toBe("hello")
        const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251)
        client.send("a", new Uint8Array([1, 2, 3]), "", big)
        const [a, bytes, empty, large] = yield* promise(() => client.take(4))
        expect(a).toBe("a")
        expect(bytes).toEqual(new Uint8Array([1, 2, 3]))
        expect(empty).toBe("")
        expect(large).toBeInstanceOf(Uint8Array)
        expect(Buffer.compare(large as Uint8Array, big)).toBe(0)
      })
    ))

  it("serve: many clients at once, each gets its own echo", () =>
    run(
      Effect.gen(function* () {
        const server = yield* Server.make({ port: 0 })
        yield* Effect.forkScoped(server.serve(echo))
        const clients = yield* Effect.all(
          Array.from({ length: 20 }, () => connect({ port: server.port })),
          { concurrency: "unbounded" }
        )
        clients.forEach((client, i) =>
          client.send(...Array.from({ length: 50 }, (_, seq) => labelled(i, seq, 10, i % 2 === 0)))
        )
        yield* Effect.forEach(
          clients,
          (client, i) =>
            Effect.map(
              promise(() => client.take(50)),
              (messages) =>
                expect(messages.map((m) => labelOf(m))).toEqual(
                  Array.from({ length: 50 }, (_, seq) => ({ sender: i, seq, size: 10 }))
                )
            ),
          { concurrency: "unbounded", discard: true }
        )
      })
    ))

  it("a handler's failure closes its connection; the server goes on", () =>
    run(
      Effect.gen(function* () {
        const server = yield* Server.make({ port: 0 })
        yield* Effect.forkScoped(
          server.serve((stocking) =>
            Effect.flatMap(stocking.take, (message) =>
              text(message) === "fail" ? Effect.fail(new Error("boom")) : stocking.write(message)
            )
          )
        )
        const failing = yield* connect({ port: server.port })
        failing.send("fail")
        expect(yield* promise(() => failing.ended)).toBe(true)
        expect(failing.received).toEqual([])
        const next = yield* connect({ port: server.port })
        next.send("ok")
        expect(yield* promise(() => next.next())).toBe("ok")
      })
    ))

  it("connections: each connection once, in accept order, and the stream ends when the server closes", () =>
    Effect.runPromise(
      Effect.gen(function* () {
        const outer = yield* Effect.scope
        const { connections, ended } = yield* Effect.scoped(
          Effect.gen(function* () {
            const server = yield* Server.make({ port: 0 })
            const a = yield* connect({ port: server.port })
            const first = yield* server.connections.pipe(Stream.take(1), Stream.runCollect)
            const b = yield* connect({ port: server.port })
            const second = yield* server.connections.pipe(Stream.take(1), Stream.runCollect)
            yield* first[0]!.write("to a")
            yield* second[0]!.write("to b")
            expect(yield* promise(() => a.next())).toBe("to a")
            expect(yield* promise(() => b.next())).toBe("to b")
            b.send("from b")
            expect(yield* second[0]!.take).toBe("from b")
            // Consumes the rest until the server closes: it ends then.
            const rest = yield* Effect.forkIn(Stream.runCollect(server.connections), outer)
            return { connections: [...first, ...second], ended: rest }
          })
        )
        expect(connections.length).toBe(2)
        const rest = yield* Fiber.join(ended)
        expect(rest).toEqual([])
      }).pipe(Effect.scoped)
    ))

  it("connections: a connection read to its end is released (its socket closed) without being closed by its user", () =>
    run(
      Effect.gen(function* () {
        const server = yield* Server.make({ port: 0, maxConnections: 1 })
        const client = yield* connect({ port: server.port })
        const [connection] = yield* server.connections.pipe(Stream.take(1), Stream.runCollect)
        client.send("one", "two")
        client.end()
        const got = yield* connection!.messages.pipe(Stream.runCollect)
        expect(got).toEqual(["one", "two"])
        yield* eventually(() => connection!.socket.destroyed, "the connection's socket is destroyed")
        // Its slot is free again: another client is accepted under maxConnections 1.
        const next = yield* connect({ port: server.port })
        const [again] = yield* server.connections.pipe(Stream.take(1), Stream.runCollect)
        yield* again!.write("welcome")
        expect(yield* promise(() => next.next())).toBe("welcome")
      })
    ))

  it("maxConnections: one beyond the limit is closed with nothing received; once one closes, a new one is accepted", () =>
    run(
      Effect.gen(function* () {
        const server = yield* Server.make({ port: 0, maxConnections: 2 })
        yield* Effect.forkScoped(server.serve((stocking) => Effect.andThen(stocking.write("hi"), echo(stocking))))
        const a = yield* connect({ port: server.port })
        const b = yield* connect({ port: server.port })
        expect(yield* promise(() => a.next())).toBe("hi")
        expect(yield* promise(() => b.next())).toBe("hi")
        const refused = yield* connect({ port: server.port })
        yield* promise(() => refused.ended)
        expect(refused.received).toEqual([])
        a.end()
        yield* promise(() => a.ended)
        yield* promise(() => a.closed)
        // The server may see the end of `a` a moment after `a` does.
        const accepted = yield* Effect.gen(function* () {
          for (let attempt = 0; attempt < 100; attempt++) {
            const c = yield* connect({ port: server.port })
            const first = yield* Effect.promise(() => c.next().then(text, () => undefined))
            if (first === "hi") return c
            yield* Effect.sleep("10 millis")
          }
          return yield* Effect.die(new Error("no connection accepted after one closed"))
        })
        accepted.send("still there")
        expect(yield* promise(() => accepted.next())).toBe("still there")
      })
    ))

  it("maxConnections and mode are checked: a defect that says what was given", async () => {
    const exit = await Effect.runPromiseExit(Effect.scoped(Server.make({ port: 0, maxConnections: 0 })))
    expect(Exit.isFailure(exit) && String(Cause.squash(exit.cause))).toContain(
      "maxConnections must be a positive integer, got 0"
    )
    const mode = await Effect.runPromiseExit(Effect.scoped(Server.make({ path: "/tmp/x.sock", mode: 0o1777 })))
    expect(Exit.isFailure(mode) && String(Cause.squash(mode.cause))).toContain("mode must be a file mode")
  })

  it("budget: many clients echo through a small shared budget, every message once and in order per client", () =>
    run(
      Effect.gen(function* () {
        const server = yield* Server.make({ port: 0, maxTotalBytes: 64 * KiB })
        yield* Effect.forkScoped(server.serve(echo))
        const count = 24
        const sizes = (i: number) =>
          Array.from({ length: 30 }, (_, seq) => [10, 900, 9 * KiB, 20 * KiB, 70 * KiB][(i + seq) % 5]!)
        const clients = yield* Effect.all(
          Array.from({ length: count }, () => connect({ port: server.port })),
          { concurrency: "unbounded" }
        )
        clients.forEach((client, i) =>
          client.send(...sizes(i).map((size, seq) => labelled(i, seq, size, seq % 3 === 0)))
        )
        yield* Effect.forEach(
          clients,
          (client, i) =>
            Effect.map(
              promise(() => client.take(30)),
              (messages) => {
                expect(messages.map(labelOf)).toEqual(sizes(i).map((size, seq) => ({ sender: i, seq, size })))
                expect(messages.map((m) => typeof m)).toEqual(
                  sizes(i).map((_, seq) => (seq % 3 === 0 ? "string" : "object"))
                )
              }
            ),
          { concurrency: "unbounded", discard: true }
        ).pipe(Effect.timeout("30 seconds"))
        // Nothing more than each client's own messages.
        yield* Effect.sleep("50 millis")
        for (const client of clients) expect(client.received.length).toBe(30)
      })
    ))

  it("close: what the client wrote before ending is all read, however late, then a clean end", () =>
    run(
      Effect.gen(function* () {
        const server = yield* Server.make({ port: 0 })
        const client = yield* connect({ port: server.port })
        const messages = Array.from({ length: 500 }, (_, seq) => labelled(0, seq, (seq * 97) % 5000, seq % 2 === 0))
        client.send(...messages)
        client.end()
        yield* promise(() => client.ended.then(() => undefined).catch(() => undefined)).pipe(
          Effect.timeout("50 millis"),
          Effect.ignore
        )
        const [connection] = yield* server.connections.pipe(Stream.take(1), Stream.runCollect)
        // Starts reading well after the peer has ended.
        yield* Effect.sleep("200 millis")
        const got = yield* connection!.messages.pipe(Stream.runCollect)
        expect(got.map(labelOf)).toEqual(messages.map(labelOf))
      })
    ))

  it("close: what a handler wrote before ending reaches the client, then a clean end", () =>
    run(
      Effect.gen(function* () {
        const server = yield* Server.make({ port: 0 })
        const messages = Array.from({ length: 300 }, (_, seq) => labelled(1, seq, (seq * 131) % 40_000, seq % 2 === 1))
        yield* Effect.forkScoped(server.serve((stocking) => stocking.writeAll(messages)))
        const client = yield* connect({ port: server.port })
        expect(yield* promise(() => client.ended)).toBe(true)
        expect(client.received.map(labelOf)).toEqual(messages.map(labelOf))
      })
    ))

  it("closing the server closes every connection gracefully: queued writes arrive, then a clean end", () =>
    Effect.runPromise(
      Effect.gen(function* () {
        const client = yield* Effect.scoped(
          Effect.gen(function* () {
            const server = yield* Server.make({ port: 0 })
            const client = yield* Effect.promise(() => wireClient({ port: server.port }))
            const [connection] = yield* server.connections.pipe(Stream.take(1), Stream.runCollect)
            yield* connection!.writeAll(["last", "words"])
            // The client ends when the server's side ends: the graceful close does not wait for its close timeout.
            client.ended.then(() => client.end())
            return client
          })
        )
        expect(client.received).toEqual(["last", "words"])
        expect(yield* Effect.promise(() => client.ended)).toBe(true)
        client.destroy()
      })
    ))

  it("TLS: a client that trusts the CA gets the echo; one that does not fails, and the server goes on", () =>
    run(
      Effect.gen(function* () {
        const certs = yield* makeCerts
        const server = yield* Server.make({ port: 0, tls: { cert: certs.cert, key: certs.key } })
        yield* Effect.forkScoped(server.serve(echo))
        const client = yield* connect({ port: server.port, tls: { ca: certs.ca, servername: "localhost" } })
        client.send("over tls", new Uint8Array(100_000).fill(7))
        const [first, second] = yield* promise(() => client.take(2))
        expect(first).toBe("over tls")
        expect((second as Uint8Array).length).toBe(100_000)
        const untrusting = yield* Effect.promise(() =>
          wireClient({ port: server.port, tls: { ca: certs.otherCa, servername: "localhost" } }).then(
            () => "connected",
            (error: Error) => error.message
          )
        )
        expect(untrusting).not.toBe("connected")
        // The server goes on.
        const again = yield* connect({ port: server.port, tls: { ca: certs.ca, servername: "localhost" } })
        again.send("again")
        expect(yield* promise(() => again.next())).toBe("again")
      })
    ))

  it("TLS: a peer that does not finish its TLS handshake is disconnected after tlsHandshakeTimeout", () =>
    run(
      Effect.gen(function* () {
        const certs = yield* makeCerts
        const server = yield* Server.make({
          port: 0,
          tls: { cert: certs.cert, key: certs.key },
          tlsHandshakeTimeout: "200 millis"
        })
        const connections = yield* Effect.forkScoped(Stream.runCollect(server.connections))
        // A plain TCP client that says nothing.
        const started = Date.now()
        const silent = yield* connect({ port: server.port })
        yield* promise(() => silent.ended)
        const waited = Date.now() - started
        expect(waited).toBeGreaterThanOrEqual(150)
        expect(waited).toBeLessThan(3_000)
        expect(silent.received).toEqual([])
        expect(connections.pollUnsafe()).toBeUndefined()
      })
    ))

  it("closing the server with connections in their handshake, or accepted and never taken: prompt, and every peer sees its end", () =>
    Effect.runPromise(
      Effect.gen(function* () {
        const { handshaking, waiting } = yield* Effect.scoped(
          Effect.gen(function* () {
            // The first connection's handshake never ends; the others pass it at once.
            let first = true
            const server = yield* Server.make({
              port: 0,
              handshake: () => {
                const mine = first
                first = false
                return mine ? Effect.never : Effect.succeed(true)
              }
            })
            const handshaking = yield* Effect.promise(() => wireClient({ port: server.port }))
            yield* Effect.sleep("50 millis")
            const waiting = yield* Effect.promise(() => wireClient({ port: server.port }))
            yield* Effect.sleep("50 millis")
            // Each peer ends once the server's side has ended (as Stocking peers do), so the graceful close is quick.
            for (const client of [handshaking, waiting]) void client.ended.then(() => client.end())
            return { handshaking, waiting }
          })
        ).pipe(
          Effect.timeoutOrElse({
            duration: "3 seconds",
            orElse: () => Effect.die(new Error("the server's scope did not close within 3 seconds"))
          })
        )
        expect(
          yield* Effect.promise(() =>
            Promise.race([handshaking.ended.then(() => "ended"), handshaking.closed.then(() => "closed")])
          )
        ).toBeDefined()
        expect(yield* Effect.promise(() => waiting.ended)).toBe(true)
        handshaking.destroy()
        waiting.destroy()
      })
    ))

  it("a Unix socket in a temp dir: echo, and the socket file is removed when the server closes", () =>
    run(
      Effect.gen(function* () {
        const directory = yield* tempDir
        const socketPath = path.join(directory, "s.sock")
        yield* Effect.scoped(
          Effect.gen(function* () {
            const server = yield* Server.make({ path: socketPath })
            expect(server.address).toEqual({ _tag: "Unix", path: socketPath })
            expect(server.port).toBe(0)
            yield* Effect.forkScoped(server.serve(echo))
            const client = yield* connect({ path: socketPath })
            client.send("over unix", new Uint8Array([9]))
            expect(yield* promise(() => client.take(2))).toEqual(["over unix", new Uint8Array([9])])
            expect(fs.statSync(socketPath).isSocket()).toBe(true)
          })
        )
        expect(fs.existsSync(socketPath)).toBe(false)
      })
    ))

  it("a Unix socket with mode: the file has it", () =>
    run(
      Effect.gen(function* () {
        const directory = yield* tempDir
        const socketPath = path.join(directory, "m.sock")
        const server = yield* Server.make({ path: socketPath, mode: 0o600 })
        expect(fs.statSync(socketPath).mode & 0o777).toBe(0o600)
        yield* Effect.forkScoped(server.serve(echo))
        const client = yield* connect({ path: socketPath })
        client.send("m")
        expect(yield* promise(() => client.next())).toBe("m")
      })
    ))

  it("listen errors: a live server's path, a stale socket (and removeStale), a path too long, no directory, a port in use", () =>
    run(
      Effect.gen(function* () {
        const directory = yield* tempDir
        const live = path.join(directory, "live.sock")
        yield* Server.make({ path: live })
        const inUse = yield* Effect.flip(Server.make({ path: live }))
        expect(inUse.reason).toBe("AddressInUse")
        expect(inUse.message).toContain("another server is listening there")

        const stale = path.join(directory, "stale.sock")
        yield* Effect.promise(
          () =>
            new Promise<void>((resolve) => {
              // A socket file that no server listens on any more.
              const other = net.createServer().listen(stale, () => {
                // Node.js: closing the handle alone leaves the file behind. Elsewhere (Bun has no such handle)
                // the server closes normally, the file goes, and the stale case below is skipped.
                const handle = (other as unknown as { _handle?: { close?: unknown } | null })._handle
                if (typeof handle?.close === "function") {
                  ;(handle.close as () => void).call(handle)
                  resolve()
                } else other.close(() => resolve())
              })
            })
        )
        if (fs.existsSync(stale)) {
          const staleError = yield* Effect.flip(Server.make({ path: stale }))
          expect(staleError.reason).toBe("StaleSocket")
          expect(staleError.message).toContain("removeStale")
          const replaced = yield* Server.make({ path: stale, removeStale: true })
          expect(replaced.address).toEqual({ _tag: "Unix", path: stale })
        }

        const long = path.join(directory, "x".repeat(200) + ".sock")
        const tooLong = yield* Effect.flip(Server.make({ path: long }))
        expect(tooLong.reason).toBe("PathTooLong")
        expect(tooLong.message).toMatch(/bytes long/)

        const nowhere = yield* Effect.flip(Server.make({ path: path.join(directory, "none", "s.sock") }))
        expect(nowhere.reason).toBe("NoDirectory")

        const taken = yield* Server.make({ port: 0 })
        const portInUse = yield* Effect.flip(Server.make({ port: taken.port }))
        expect(portInUse).toBeInstanceOf(Server.ServerError)
        expect(portInUse.reason).toBe("Listen")
        expect(portInUse.message).toContain(`127.0.0.1:${taken.port}`)
      })
    ))

  it("layer provides the Server service; layerServe serves and provides the server it serves with", () =>
    run(
      Effect.gen(function* () {
        const port = yield* Effect.flatMap(Server.Server, (server) => Effect.succeed(server.port)).pipe(
          Effect.provide(Server.layer({ port: 0 }))
        )
        expect(port).toBeGreaterThan(0)

        const context = yield* Layer.build(Server.layerServe({ port: 0 }, echo))
        const server = yield* Effect.provideContext(Server.Server, context)
        const client = yield* connect({ port: server.port })
        client.send("via layerServe")
        expect(yield* promise(() => client.next())).toBe("via layerServe")
      })
    ))

  it("Tag: a service class with its own layers", () =>
    run(
      Effect.gen(function* () {
        class EchoServer extends Server.Tag<EchoServer>()("test/EchoServer") {}
        expect(EchoServer.key).toBe("test/EchoServer")
        const context = yield* Layer.build(EchoServer.layerServe({ port: 0 }, echo))
        const server = yield* Effect.provideContext(EchoServer, context)
        const client = yield* connect({ port: server.port })
        client.send("via the class")
        expect(yield* promise(() => client.next())).toBe("via the class")
      })
    ))
})

// ---------------------------------------------------------------------------
// The path users take: the server from Server, the client from Stocking.make
// ---------------------------------------------------------------------------

describe("Server (effect 4) with Stocking.make clients", () => {
  it("serve and a Stocking client: each side writes, each side reads", () =>
    run(
      Effect.gen(function* () {
        const server = yield* Server.make({ port: 0 })
        yield* Effect.forkScoped(server.serve((stocking) => Effect.andThen(stocking.write("welcome"), echo(stocking))))
        const client = yield* Stocking.make({ host: "127.0.0.1", port: server.port })
        expect(yield* client.take).toBe("welcome")
        yield* client.writeAll(["one", new Uint8Array([2]), "three"])
        const got = yield* Effect.all([client.take, client.take, client.take])
        expect(got).toEqual(["one", new Uint8Array([2]), "three"])
        yield* client.close
      })
    ))

  it("each accepted connection is reported in a stocking.accept span, with its peer", () =>
    run(
      Effect.gen(function* () {
        const spans: Array<Tracer.NativeSpan> = []
        const tracer = Tracer.make({
          span: (options) => {
            const span = new Tracer.NativeSpan(options)
            spans.push(span)
            return span
          }
        })
        const server = yield* Effect.withTracer(Server.make({ port: 0 }), tracer)
        yield* Effect.forkScoped(server.serve(echo))
        const client = yield* Stocking.make({ host: "127.0.0.1", port: server.port })
        yield* client.write("traced")
        expect(yield* client.take).toBe("traced")
        const accept = spans.find((span) => span.name === "stocking.accept")
        expect(accept).toBeDefined()
        expect(String(accept!.attributes.get("net.peer"))).toMatch(/^127\.0\.0\.1:\d+$/)
        expect(accept!.status._tag).toBe("Ended")
      })
    ))

  it("a Unix socket: a Stocking client over the path", () =>
    run(
      Effect.gen(function* () {
        const directory = yield* tempDir
        const socketPath = path.join(directory, "c.sock")
        const server = yield* Server.make({ path: socketPath })
        yield* Effect.forkScoped(server.serve(echo))
        const client = yield* Stocking.make({ path: socketPath })
        yield* client.write("unix")
        expect(yield* client.take).toBe("unix")
      })
    ))

  it("a server's handshake: a connection that fails it is never delivered; one that passes is", () =>
    run(
      Effect.gen(function* () {
        const server = yield* Server.make({
          port: 0,
          handshake: (raw) => Effect.map(raw.take, (hello) => hello === "let me in"),
          handshakeTimeout: "2 seconds"
        })
        const delivered: Array<number> = []
        yield* Effect.forkScoped(
          server.serve((stocking) =>
            Effect.andThen(
              Effect.sync(() => delivered.push(stocking.id)),
              echo(stocking)
            )
          )
        )
        const refused = yield* Stocking.make({ host: "127.0.0.1", port: server.port })
        yield* refused.write("wrong")
        const closed = yield* refused.closed
        expect(closed.reason).toBe("ClosedByPeer")
        expect(delivered).toEqual([])
        const admitted = yield* Stocking.make({ host: "127.0.0.1", port: server.port })
        yield* admitted.write("let me in")
        yield* admitted.write("echo?")
        expect(yield* admitted.take).toBe("echo?")
        expect(delivered.length).toBe(1)
      })
    ))

  it("layerConfig, and a Tag's layerConfig with its codec: where the variables say", () =>
    run(
      Effect.gen(function* () {
        const directory = yield* tempDir
        const socketPath = path.join(directory, "cfg.sock")
        const withEnv = Effect.provideService(
          ConfigProvider.ConfigProvider,
          ConfigProvider.fromEnv({ env: { STOCKING_SERVER_PATH: socketPath, STOCKING_SERVER_MODE: "600" } })
        )
        const plain = yield* Layer.build(Server.layerConfig()).pipe(withEnv)
        const server = yield* Effect.provideContext(Server.Server, plain)
        expect(server.address).toEqual({ _tag: "Unix", path: socketPath })
        expect(fs.statSync(socketPath).mode & 0o777).toBe(0o600)
        yield* Effect.forkScoped(server.serve(echo))
        const client = yield* Stocking.make({ path: socketPath })
        yield* client.write("configured")
        expect(yield* client.take).toBe("configured")

        const codec = Codec.json(Schema.Struct({ n: Schema.Number }))
        class Typed extends Server.Tag<Typed>()("test/TypedConfig", { codec }) {}
        const typedContext = yield* Layer.build(Typed.layerConfig({ port: 0 })).pipe(
          Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env: {} }))
        )
        const typed = yield* Effect.provideContext(Typed, typedContext)
        yield* Effect.forkScoped(
          typed.serve((stocking) => stocking.messages.pipe(Stream.runForEach(({ n }) => stocking.write({ n: n * 2 }))))
        )
        const typedClient = yield* Stocking.make({ host: "127.0.0.1", port: typed.port, codec })
        yield* typedClient.write({ n: 21 })
        expect(yield* typedClient.take).toEqual({ n: 42 })
      })
    ))

  it("Tag with a codec: typed values both ways", () =>
    run(
      Effect.gen(function* () {
        const Ping = Schema.Struct({ n: Schema.Number })
        const codec = Codec.json(Ping)
        class PingServer extends Server.Tag<PingServer>()("test/PingServer", { codec }) {}
        expect(PingServer.codec).toBe(codec)
        const context = yield* Layer.build(
          PingServer.layerServe({ port: 0 }, (stocking) =>
            stocking.messages.pipe(Stream.runForEach(({ n }) => stocking.write({ n: n + 1 })))
          )
        )
        const server = yield* Effect.provideContext(PingServer, context)
        const client = yield* Stocking.make({ host: "127.0.0.1", port: server.port, codec })
        yield* client.write({ n: 41 })
        expect(yield* client.take).toEqual({ n: 42 })
      })
    ))
})

// ---------------------------------------------------------------------------
// A property: many clients, random sizes, a random budget
// ---------------------------------------------------------------------------

const sizeArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 8, max: 64 }) },
  { weight: 4, arbitrary: fc.integer({ min: 65, max: 16 * KiB }) },
  { weight: 3, arbitrary: fc.integer({ min: 16 * KiB, max: 64 * KiB }) },
  { weight: 1, arbitrary: fc.integer({ min: 64 * KiB, max: 512 * KiB }) }
)

const caseArb = fc.record({
  maxTotalBytes: fc.integer({ min: 32 * KiB, max: 2 * 1024 * KiB }),
  via: fc.constantFrom("serve" as const, "connections" as const),
  backend: fc.constantFrom("poll" as const, "select" as const),
  transport: fc.oneof(
    { weight: 3, arbitrary: fc.constant("tcp" as const) },
    { weight: 1, arbitrary: fc.constant("unix" as const) }
  ),
  // Who the clients are: raw sockets speaking the wire format, or Stockings from `Stocking.make`.
  client: fc.constantFrom("wire" as const, "stocking" as const),
  // What the server writes to each connection before echoing.
  greeting: fc.array(sizeArb, { maxLength: 4 }),
  clients: fc.array(
    fc.record({
      sizes: fc.array(sizeArb, { minLength: 1, maxLength: 25 }),
      asText: fc.boolean(),
      // A raw client ends its side right after writing: the server must still echo everything, then end cleanly.
      endAfter: fc.boolean()
    }),
    { minLength: 1, maxLength: 8 }
  )
})

type Case = typeof caseArb extends fc.Arbitrary<infer A> ? A : never

/** The server's greeting to each connection: sender -1 stands for the server. */
const greetingOf = (c: Case) => c.greeting.map((size, seq) => labelled(9999, seq, size, seq % 2 === 0))

const expectedBy = (c: Case, i: number) => [
  ...c.greeting.map((size, seq) => ({ sender: 9999, seq, size })),
  ...c.clients[i]!.sizes.map((size, seq) => ({ sender: i, seq, size }))
]

/**
 * One raw client's exchange: writes its plan, and then, if asked, ends its
 * side at once. The server's side is then closed by the peer: what it had
 * written before arrives (a prefix of the greeting and the echo, in order),
 * and the handler still reads everything the client wrote (checked on the
 * server's side). Otherwise it reads the greeting and the whole echo, ends,
 * and sees a clean end with nothing more.
 */
const wireExchange = (c: Case, i: number, client: WireClient) =>
  Effect.gen(function* () {
    const plan = c.clients[i]!
    client.send(...plan.sizes.map((size, seq) => labelled(i, seq, size, plan.asText)))
    const expected = expectedBy(c, i)
    if (plan.endAfter) {
      client.end()
      expect(yield* promise(() => client.ended)).toBe(true)
      expect(client.received.map(labelOf)).toEqual(expected.slice(0, client.received.length))
      return
    }
    const got = yield* promise(() => client.take(expected.length))
    expect(got.map(labelOf)).toEqual(expected)
    client.end()
    expect(yield* promise(() => client.ended)).toBe(true)
    expect(client.received.length).toBe(expected.length)
  })

/** One Stocking client's exchange: writes its plan, reads the greeting and the echo, then closes. */
const stockingExchange = (c: Case, i: number, client: Stocking.Stocking) =>
  Effect.gen(function* () {
    const plan = c.clients[i]!
    const expected = expectedBy(c, i)
    const reader = yield* Effect.forkChild(Effect.forEach(expected, () => client.take))
    // Some one at a time, some in batches.
    const messages = plan.sizes.map((size, seq) => labelled(i, seq, size, plan.asText))
    for (let start = 0; start < messages.length; start += 1 + (start % 4)) {
      const batch = messages.slice(start, start + 1 + (start % 4))
      yield* batch.length === 1 ? client.write(batch[0]!) : client.writeAll(batch)
    }
    const got = yield* Fiber.join(reader)
    expect(got.map(labelOf)).toEqual(expected)
    yield* client.close
  })

const runCase = (c: Case) =>
  Effect.gen(function* () {
    const directory = yield* tempDir
    const listenOn: Server.ListenTarget = c.transport === "tcp" ? { port: 0 } : { path: path.join(directory, "p.sock") }
    const server = yield* Server.make({ ...listenOn, maxTotalBytes: c.maxTotalBytes })
    const target = c.transport === "tcp" ? { port: server.port } : { path: path.join(directory, "p.sock") }
    // What the server's side read, by sender: every message, once, in order, whether or not its peer ended early.
    const read = new Map<number, Array<ReturnType<typeof labelOf>>>()
    const record = (message: Message) => {
      const label = labelOf(message)
      const seen = read.get(label.sender) ?? []
      seen.push(label)
      read.set(label.sender, seen)
    }
    // A write may fail once the peer has ended (its connection is closing): the handler reads on.
    const handler = (stocking: Stocking.Stocking) =>
      Effect.andThen(
        Effect.ignore(stocking.writeAll(greetingOf(c))),
        stocking.messages.pipe(
          Stream.runForEach((message) =>
            Effect.andThen(
              Effect.sync(() => record(message)),
              Effect.ignore(stocking.write(message))
            )
          )
        )
      )
    if (c.via === "serve") {
      yield* Effect.forkScoped(server.serve(handler))
    } else {
      yield* Effect.forkScoped(
        Stream.runForEach(server.connections, (stocking) =>
          Effect.forkScoped(Effect.ensuring(handler(stocking), stocking.close))
        )
      )
    }
    yield* Effect.forEach(
      c.clients,
      (_, i) =>
        c.client === "wire"
          ? Effect.flatMap(connect(target), (client) => wireExchange(c, i, client))
          : Effect.flatMap(Stocking.make("port" in target ? { host: "127.0.0.1", ...target } : target), (client) =>
              stockingExchange(c, i, client)
            ),
      { concurrency: "unbounded", discard: true }
    )
    const complete = () => c.clients.every((plan, i) => (read.get(i)?.length ?? 0) >= plan.sizes.length)
    yield* eventually(complete, "the server's side read everything")
    c.clients.forEach((plan, i) =>
      expect(read.get(i)).toEqual(plan.sizes.map((size, seq) => ({ sender: i, seq, size })))
    )
  }).pipe(
    Effect.provideService(Backend.Backend, c.backend === "poll" ? Poll.backend : Select.make("5 millis")),
    Effect.timeoutOrElse({
      duration: "40 seconds",
      orElse: () =>
        Effect.die(new Error(`stalled: ${JSON.stringify({ ...c, clients: c.clients.map((x) => x.sizes.length) })}`))
    })
  )

describe("Server (effect 4): property", () => {
  it(
    "every client's messages come back once, in order, whatever the sizes, the clients and the budget",
    () =>
      fc.assert(
        fc.asyncProperty(caseArb, (c) => run(runCase(c))),
        { numRuns: Number(process.env.STOCKING_SOAK_RUNS ?? 40), endOnFailure: true }
      ),
    120_000
  )
})

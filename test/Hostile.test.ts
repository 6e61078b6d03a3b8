import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Option, Schedule, Scope, Stream } from "effect"
import { spawn, type SpawnOptions } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as net from "node:net"
import * as tls from "node:tls"
import { Framing } from "../src/index.js"
import { Server, Stocking } from "../src/node.js"
import { makeCerts } from "./utils/certs.js"
import { heldBytes } from "./utils/memory.js"
import { rawServer } from "./utils/net.js"

const tcpPort = (server: Server.Server<any, any, any>) => (server.address._tag === "Tcp" ? server.address.port : 0)

/** Byte `i` of the dripped payload. */
const byteAt = (i: number) => (i * 7 + (i >> 10)) & 0xff

/**
 * A hostile peer in a child process (so its own buffers do not count in this
 * process's memory): connects to `port` and sends `header`. Then, for each
 * byte it reads: a 1 asks for the next `piece` bytes of the payload (one
 * write, Nagle off, so each piece leaves at once), a 2 for the rest of the
 * `size`-byte payload in one write.
 */
/**
 * Runs a CommonJS script, given as text, in a child process of this same
 * runtime (Node, Bun or Deno), with `args` as `process.argv.slice(2)`. The
 * script's file is removed when the child exits.
 */
const runScript = <O extends SpawnOptions>(script: string, args: ReadonlyArray<string>, options: O) => {
  const file = path.join(os.tmpdir(), `stockings-client-${process.pid}-${nextScript++}.cjs`)
  fs.writeFileSync(file, script)
  const argv = "Deno" in globalThis ? ["run", "-A", file, ...args] : [file, ...args]
  const child = spawn(process.execPath, argv, options)
  child.on("exit", () => fs.rmSync(file, { force: true }))
  return child
}
let nextScript = 0

const dripper = (port: number, header: Uint8Array, size: number, dripped: number, piece: number) => {
  const script = `
    const net = require("node:net")
    const [port, header, size, dripped, piece] = process.argv.slice(2)
    const byteAt = ${byteAt.toString()}
    const socket = net.connect(Number(port), "127.0.0.1", () => socket.write(Buffer.from(header, "hex")))
    socket.setNoDelay(true)
    socket.on("error", () => process.exit(0))
    socket.on("close", () => process.exit(0))
    let sent = 0
    const drip = () => {
      const n = Math.min(Number(piece), Number(dripped) - sent)
      const bytes = Buffer.allocUnsafe(n)
      for (let k = 0; k < n; k++) bytes[k] = byteAt(sent + k)
      socket.write(bytes)
      sent += n
    }
    const rest = () => {
      const bytes = Buffer.allocUnsafe(Number(size) - sent)
      for (let k = 0; k < bytes.length; k++) bytes[k] = byteAt(sent + k)
      socket.write(bytes)
    }
    socket.on("data", (chunk) => {
      for (let i = 0; i < chunk.length; i++) (chunk[i] === 1 ? drip : rest)()
    })
  `
  const hex = Buffer.from(header).toString("hex")
  return Effect.acquireRelease(
    Effect.sync(() =>
      runScript(script, [String(port), hex, String(size), String(dripped), String(piece)], { stdio: "ignore" })
    ),
    (child) => Effect.sync(() => child.kill())
  )
}

describe("Hostile peers: drip-fed messages", () => {
  it.scopedLive(
    "a 16 MiB message dripped in tiny writes through a real socket: the server holds less than twice what arrived",
    () =>
      Effect.gen(function* () {
        const size = 16 * 1024 * 1024
        const dripped = 2 * 1024 * 1024
        const piece = 32
        const header = Framing.encodeHeader("bytes", size)
        const server = yield* Server.make({ port: 0 })
        yield* dripper(tcpPort(server), header, size, dripped, piece)
        const stocking = Option.getOrThrow(yield* Stream.runHead(server.connections))
        // Count what reaches the server's socket, chunk by chunk, and ask for the next piece after each
        // one: in lockstep, every piece is a chunk of its own. (Raw bytes on the socket: the Stocking
        // itself writes nothing here.)
        let chunks = 0
        let received = 0
        const socket = stocking.socket
        socket.on("data", (chunk: Uint8Array) => {
          chunks++
          received += chunk.length
          if (received < header.length + dripped) socket.write(Uint8Array.of(1))
        })
        while (received < header.length) yield* Effect.sleep("5 millis")
        const before = heldBytes()
        socket.write(Uint8Array.of(1))
        while (received < header.length + dripped) yield* Effect.sleep("20 millis")
        const growth = heldBytes() - before
        assert.isAbove(chunks, 10_000, `the drip arrived in ${chunks} chunks: too few to tell`)
        assert.isBelow(
          growth,
          2 * dripped,
          `held ${growth} bytes for ${dripped} payload bytes received in ${chunks} chunks`
        )
        // The rest in one write: the message arrives whole and exact.
        socket.write(Uint8Array.of(2))
        const message = (yield* stocking.take) as Uint8Array
        assert.strictEqual(message.length, size)
        let wrong = 0
        for (let i = 0; i < size; i += 997) if (message[i] !== byteAt(i)) wrong++
        assert.strictEqual(wrong, 0)
      }),
    60_000
  )
})

/** Resolves once `socket` has closed, however. */
const whenClosed = (socket: net.Socket) =>
  Effect.async<void>((resume) => {
    if (socket.closed) return resume(Effect.void)
    socket.once("close", () => resume(Effect.void))
  })

/** A raw TCP connection to `port`, destroyed with the scope; what it receives is dropped. */
const rawConnection = (port: number) =>
  Effect.acquireRelease(
    Effect.async<net.Socket>((resume) => {
      const socket = net.connect({ port, host: "127.0.0.1" }, () => resume(Effect.succeed(socket)))
      socket.on("error", () => {})
      socket.on("data", () => {})
    }),
    (socket) => Effect.sync(() => socket.destroy())
  )

/** The first flight of a real TLS client: its ClientHello, as sent to a plain TCP listener. */
const clientHello = Effect.scoped(
  Effect.gen(function* () {
    const { accepted, port } = yield* rawServer
    const client = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false })
    client.on("error", () => {})
    yield* Effect.addFinalizer(() => Effect.sync(() => client.destroy()))
    const socket = yield* accepted
    return yield* Effect.async<Buffer>((resume) => {
      socket.once("data", (chunk: Buffer) => resume(Effect.succeed(chunk)))
    })
  })
)

describe("Hostile peers: TLS handshakes", () => {
  it.scopedLive(
    "a peer that sends nothing, or half a ClientHello, is disconnected after tlsHandshakeTimeout; a good client is served",
    () =>
      Effect.gen(function* () {
        const { cert, key, ca } = yield* makeCerts
        const hello = yield* clientHello
        assert.strictEqual(hello[0], 0x16, "a TLS handshake record")
        const server = yield* Server.make({ port: 0, tls: { cert, key }, tlsHandshakeTimeout: "200 millis" })
        const port = tcpPort(server)
        yield* Effect.forkScoped(server.serve((s) => s.messages.pipe(Stream.runForEach(s.write))))
        const silent = yield* rawConnection(port)
        const halfHello = yield* rawConnection(port)
        halfHello.write(hello.subarray(0, hello.length >> 1))
        // Both are closed by the server (the test's timeout is the bound), while a real client is served.
        yield* Effect.all([whenClosed(silent), whenClosed(halfHello)], { concurrency: "unbounded" })
        const good = yield* Stocking.make({ host: "localhost", port, tls: { ca } })
        yield* good.write("still serving")
        assert.strictEqual(yield* good.take, "still serving")
      }),
    20_000
  )

  it.scopedLive(
    "by default a silent peer is disconnected after a few seconds, not Node's 120 s",
    () =>
      Effect.gen(function* () {
        const { cert, key } = yield* makeCerts
        const server = yield* Server.make({ port: 0, tls: { cert, key } })
        const silent = yield* rawConnection(tcpPort(server))
        const closed = yield* whenClosed(silent).pipe(Effect.timeout("20 seconds"), Effect.option)
        assert.isTrue(Option.isSome(closed), "the silent peer was disconnected within 20 s")
      }),
    30_000
  )
})

describe("Hostile peers: where the TLS handshake limit comes from", () => {
  it.scopedLive("tls.handshakeTimeout (milliseconds) is used when tlsHandshakeTimeout is not given", () =>
    Effect.gen(function* () {
      const { cert, key } = yield* makeCerts
      const server = yield* Server.make({ port: 0, tls: { cert, key, handshakeTimeout: 200 } })
      yield* whenClosed(yield* rawConnection(tcpPort(server)))
    })
  )

  it.scopedLive("a shorter handshakeTimeout bounds the TLS handshake too, with no handshake function", () =>
    Effect.gen(function* () {
      const { cert, key } = yield* makeCerts
      const server = yield* Server.make({
        port: 0,
        tls: { cert, key },
        tlsHandshakeTimeout: "1 hour",
        handshakeTimeout: "200 millis"
      })
      yield* whenClosed(yield* rawConnection(tcpPort(server)))
    })
  )
})

describe("Hostile peers: errors on every connection's path", () => {
  it.scopedLive("Closed carries no stack trace, and Error.stackTraceLimit is left as it was", () =>
    Effect.gen(function* () {
      const server = yield* Server.make({ port: 0 })
      const limit = Error.stackTraceLimit
      const peer = yield* rawConnection(tcpPort(server))
      const stocking = Option.getOrThrow(yield* Stream.runHead(server.connections))
      peer.end()
      const closed = yield* stocking.closed
      assert.strictEqual(closed.reason, "ClosedByPeer")
      // V8 keeps the header line alone; JavaScriptCore (Bun) leaves no stack at all. Either way: no frames.
      if (closed.stack !== undefined) assert.strictEqual(closed.stack, `Closed: ${closed.message}`)
      assert.strictEqual(Error.stackTraceLimit, limit)
      assert.match(new Error("other errors keep theirs").stack!, /\n\s+at /)
    })
  )
})

/**
 * `clients` connections opened at once by a child process (so the two ends'
 * file descriptors are not counted against one process's limit), each
 * sending one 64-byte message and waiting for its echo; prints how many were
 * served and how many failed, as JSON, then exits.
 */
const burst = (port: number, clients: number) => {
  const script = `
    const net = require("node:net")
    const [port, clients] = process.argv.slice(2, 4).map(Number)
    const request = Buffer.from(process.argv[4], "hex")
    let served = 0, failed = 0
    const sockets = []
    const settle = () => {
      if (served + failed < clients) return
      process.stdout.write(JSON.stringify({ served, failed }) + "\\n", () => {
        for (const s of sockets) s.destroy()
        process.exit(0)
      })
    }
    for (let i = 0; i < clients; i++) {
      const socket = net.connect({ port, host: "127.0.0.1", noDelay: true }, () => socket.write(request))
      sockets.push(socket)
      let got = 0, done = false
      socket.on("data", (chunk) => {
        got += chunk.length
        if (!done && got >= request.length) { done = true; served++; settle() }
      })
      socket.on("error", () => { if (!done) { done = true; failed++; settle() } })
      socket.on("close", () => { if (!done) { done = true; failed++; settle() } })
    }
  `
  return Effect.async<{ served: number; failed: number }, Error>((resume) => {
    const request = Buffer.from(Framing.encode(new Uint8Array(64).fill(7))).toString("hex")
    const child = runScript(script, [String(port), String(clients), request], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    let out = ""
    child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()))
    child.on("exit", () => {
      try {
        resume(Effect.succeed(JSON.parse(out)))
      } catch {
        resume(Effect.fail(new Error(`the client process printed ${JSON.stringify(out)}`)))
      }
    })
    return Effect.sync(() => child.kill())
  })
}

/** This process's soft limit on open files, from /proc (Linux); `Infinity` where that cannot be read. */
const openFileLimit = (): number => {
  try {
    const line = fs
      .readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"))
    const soft = Number(line?.slice("Max open files".length).trim().split(/\s+/)[0])
    return Number.isFinite(soft) ? soft : Infinity
  } catch {
    return Infinity
  }
}

describe("Hostile peers: bursts of connections", () => {
  it.scopedLive(
    "4,000 clients connecting at once are all served",
    () =>
      Effect.gen(function* () {
        const clients = 4000
        // The server's end of every connection is a descriptor in this process (the clients' are in the child's).
        const limit = openFileLimit()
        assert.isAtLeast(
          limit,
          clients + 500,
          `ulimit -n is ${limit}: raise it to at least ${clients + 500} (CI sets 8192)`
        )
        const server = yield* Server.make({ port: 0 })
        yield* Effect.forkScoped(server.serve((s) => s.messages.pipe(Stream.runForEach(s.write))))
        const result = yield* burst(tcpPort(server), clients)
        assert.deepStrictEqual(result, { served: clients, failed: 0 })
      }),
    120_000
  )
})

describe("Hostile peers: maxConnections", () => {
  it.scopedLive(
    "beyond maxConnections new connections are refused (closed with nothing sent) while the others are served",
    () =>
      Effect.gen(function* () {
        const max = 300
        const server = yield* Server.make({ port: 0, maxConnections: max })
        const port = tcpPort(server)
        yield* Effect.forkScoped(server.serve((s) => s.messages.pipe(Stream.runForEach(s.write))))
        const clients = yield* Effect.forEach(
          Array.from({ length: max }, (_, i) => i),
          (i) =>
            Effect.gen(function* () {
              const scope = yield* Scope.make()
              const client = yield* Stocking.make({ host: "127.0.0.1", port }).pipe(Scope.extend(scope))
              yield* client.write(`client ${i}`)
              assert.strictEqual(yield* client.take, `client ${i}`)
              return { client, scope }
            }),
          { concurrency: 50 }
        )
        // Extra peers: accepted by the kernel, closed by the server with nothing sent back.
        const extra = yield* Effect.forEach(Array.from({ length: 20 }), () => rawConnection(port))
        let received = 0
        for (const socket of extra) {
          socket.on("data", (chunk: Buffer) => (received += chunk.length))
          socket.write(Framing.encode("let me in"))
        }
        yield* Effect.forEach(extra, whenClosed, { discard: true })
        assert.strictEqual(received, 0)
        // The connections already open still work.
        yield* clients[0]!.client.write("still here")
        assert.strictEqual(yield* clients[0]!.client.take, "still here")
        // One closes: a new connection is served again (once the server has seen it go).
        yield* Scope.close(clients[1]!.scope, Exit.void)
        const late = yield* Effect.scoped(
          Effect.gen(function* () {
            const client = yield* Stocking.make({ host: "127.0.0.1", port })
            yield* client.write("late")
            return yield* client.take
          })
        ).pipe(
          Effect.timeout("2 seconds"),
          Effect.retry(Schedule.spaced("50 millis").pipe(Schedule.upTo("20 seconds")))
        )
        assert.strictEqual(late, "late")
        yield* Effect.forEach(clients, ({ scope }) => Scope.close(scope, Exit.void), { discard: true })
      }),
    60_000
  )

  it.scopedLive("a maxConnections that is not a positive integer is a defect saying what was given", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(Server.make({ port: 0, maxConnections: 0 }))
      assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause))
      assert.match(
        String(Cause.squash((exit as Exit.Failure<unknown, unknown>).cause)),
        /maxConnections must be a positive integer, got 0/
      )
    })
  )
})

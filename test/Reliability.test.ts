import { assert, describe, it } from "@effect/vitest"
import { Cause, Chunk, Effect, Exit, Fiber, Option, Schedule, Scope, Stream } from "effect"
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { Duplex } from "node:stream"
import * as tls from "node:tls"
import { Framing } from "../src/index.js"
import { Server, Stocking } from "../src/node.js"
import { makeCerts } from "./utils/certs.js"
import { backends, collect, pair, rawClient, rawPeer, rawServer, stockingWith } from "./utils/net.js"

const tcpPort = (server: Server.Server<any, any, any>) => (server.address._tag === "Tcp" ? server.address.port : 0)

/** Handles of the kinds a Stocking holds; none may be left once everything is closed. */
const liveHandles = () =>
  process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap" || r === "TLSWrap" || r === "TCPServerWrap")

const noHandlesLeft = Effect.gen(function* () {
  const deadline = Date.now() + 5000
  while (liveHandles().length > 0) {
    if (Date.now() > deadline) return assert.fail(`handles left: ${liveHandles().join(", ")}`)
    yield* Effect.sleep("10 millis")
  }
})

describe("Reliability: faults", () => {
  for (const [name, backend] of backends) {
    it.live(`${name}: peer resets mid-message: Closed says so, no partial message, earlier ones readable`, () =>
      Effect.gen(function* () {
        yield* Effect.scoped(
          Effect.gen(function* () {
            const { peer, stocking } = yield* rawPeer(backend)
            const half = Framing.encode(new Uint8Array(10_000)).subarray(0, 5_000)
            peer.write(Buffer.concat([Framing.encode("before"), half]))
            yield* Effect.sleep("30 millis")
            peer.resetAndDestroy()
            const closed = yield* stocking.closed
            assert.strictEqual(closed.reason, "SocketError")
            assert.match(closed.message, /ECONNRESET/)
            assert.strictEqual(yield* stocking.take, "before")
            const after = yield* Effect.flip(stocking.take)
            assert.strictEqual(after._tag, "Closed")
            // Writing to it now is a typed failure, not a throw.
            const write = yield* Effect.flip(stocking.write("too late"))
            assert.strictEqual(write._tag, "Closed")
          })
        )
        yield* noHandlesLeft
      })
    )

    it.live(`${name}: peer half-closes: all it sent is delivered, then Closed; our queued writes still go out`, () =>
      Effect.gen(function* () {
        yield* Effect.scoped(
          Effect.gen(function* () {
            const { port, accepted } = yield* rawServer
            const peer = yield* Effect.acquireRelease(
              Effect.async<net.Socket>((resume) => {
                const s = net.createConnection({ port, host: "127.0.0.1", allowHalfOpen: true }, () =>
                  resume(Effect.succeed(s))
                )
              }),
              (s) => Effect.sync(() => s.destroy())
            )
            const received = collect(peer)
            const stocking = yield* stockingWith(backend, { socket: yield* accepted })
            const replies = Array.from({ length: 1000 }, (_, i) => `reply ${i}`)
            peer.end(Framing.encodeAll(["a", "b"]))
            assert.strictEqual(yield* stocking.take, "a")
            assert.strictEqual(yield* stocking.take, "b")
            // Written after the peer's end arrived may fail Closed; written before is sent.
            yield* stocking.writeAll(replies).pipe(Effect.ignore)
            const closed = yield* stocking.closed
            assert.strictEqual(closed.reason, "ClosedByPeer")
            assert.strictEqual((yield* Effect.flip(stocking.take))._tag, "Closed")
            yield* Effect.async<void>((resume) => {
              if (peer.readableEnded) resume(Effect.void)
              else peer.once("end", () => resume(Effect.void))
            })
            const decoder = Framing.unsafeMakeDecoder()
            const got = received.decoded(decoder)
            // Whatever was accepted before the close went out, in order.
            assert.deepStrictEqual(got, replies.slice(0, got.length))
          })
        )
        yield* noHandlesLeft
      })
    )

    it.live(`${name}: interrupting write, take and the handshake leaves the Stocking consistent`, () =>
      Effect.gen(function* () {
        yield* Effect.scoped(
          Effect.gen(function* () {
            const { client, server } = yield* pair(backend, backend, { client: { maxQueuedMessages: 1 } })
            // A take interrupted while waiting: the next take still gets the next message.
            const waiting = yield* Effect.fork(server.take)
            yield* Effect.sleep("10 millis")
            yield* Fiber.interrupt(waiting)
            yield* client.write("first")
            assert.strictEqual(yield* server.take, "first")
            // Writes interrupted while suspended on a full queue queue nothing; the rest arrive whole.
            server.socket.pause()
            const big = new Uint8Array(256 * 1024).fill(1)
            const writers = yield* Effect.forEach(Array.from({ length: 50 }), () => Effect.fork(client.write(big)), {
              concurrency: "unbounded"
            })
            yield* Effect.sleep("50 millis")
            yield* Effect.forEach(writers, Fiber.interrupt)
            const accepted = writers.filter((f) => {
              const exit = f.unsafePoll()
              return exit !== null && Exit.isSuccess(exit)
            }).length
            server.socket.resume()
            yield* client.write("marker")
            for (let i = 0; i < accepted; i++) {
              const m = (yield* server.take) as Uint8Array
              assert.strictEqual(m.length, big.length)
            }
            assert.strictEqual(yield* server.take, "marker")
          })
        )
        // A handshake interrupted by its scope closing: everything is released.
        const scope = yield* Scope.make()
        const { client } = yield* pair(backend, backend, {
          client: { handshake: (raw) => Effect.as(raw.take, true) }
        }).pipe(Scope.extend(scope))
        yield* Scope.close(scope, Exit.void)
        // Whichever side's finalizer ran first, the handshake never completed and both are closed.
        const why = yield* Effect.flip(client.ready)
        assert.strictEqual(why._tag, "Closed")
        assert.isFalse(yield* client.isActive)
        assert.isFalse(yield* client.handshakeComplete)
        yield* noHandlesLeft
      })
    )
  }

  it.live("abort drops what is queued and closes at once", () =>
    Effect.gen(function* () {
      yield* Effect.scoped(
        Effect.gen(function* () {
          const [, poll] = backends[0]!
          const { client, server } = yield* pair(poll, poll)
          server.socket.pause()
          yield* client.writeAll(Array.from({ length: 6 }, () => new Uint8Array(1024 * 1024)))
          assert.isTrue(yield* client.writeDataQueued)
          yield* client.abort
          assert.isFalse(yield* client.isActive)
          assert.isFalse(yield* client.writeDataQueued)
          assert.isTrue(client.socket.destroyed)
          const closed = yield* client.closed
          assert.strictEqual(closed.reason, "ClosedLocally")
        })
      )
      yield* noHandlesLeft
    })
  )
})

describe("Reliability: bad input", () => {
  it.live("a 2^50-byte header is rejected when it completes, and memory does not grow", () =>
    Effect.gen(function* () {
      yield* Effect.scoped(
        Effect.gen(function* () {
          const [, poll] = backends[0]!
          const { peer, stocking } = yield* rawPeer(poll)
          const before = process.memoryUsage().rss
          peer.write(Framing.encodeHeader("bytes", 2 ** 50))
          peer.write(new Uint8Array(1024 * 1024))
          const closed = yield* stocking.closed
          assert.strictEqual(closed.reason, "ProtocolError")
          const cause = closed.cause as Framing.FramingError
          assert.strictEqual(cause.declaredLength, 2 ** 50)
          assert.strictEqual(cause.limit, Framing.DEFAULT_MAX_MESSAGE_SIZE)
          assert.match(closed.message, /1125899906842624 bytes.*exceeds maxMessageSize of 16777216/)
          assert.isBelow(process.memoryUsage().rss - before, 32 * 1024 * 1024)
        })
      )
      yield* noHandlesLeft
    })
  )

  it.live("malformed headers and invalid UTF-8 close with a typed ProtocolError", () =>
    Effect.gen(function* () {
      const [, poll] = backends[0]!
      const cases: Array<readonly [Uint8Array, Framing.FramingErrorReason]> = [
        [new Uint8Array(8), "HeaderTooLong"],
        [Uint8Array.of(0x3f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0xff), "LengthOverflow"],
        [Uint8Array.of(0x82, 0xc3, 0x28), "InvalidUtf8"]
      ]
      for (const [bytes, reason] of cases) {
        yield* Effect.scoped(
          Effect.gen(function* () {
            const { peer, stocking } = yield* rawPeer(poll, { maxMessageSize: Framing.MAX_LENGTH })
            peer.write(bytes)
            const closed = yield* stocking.closed
            assert.strictEqual(closed.reason, "ProtocolError")
            assert.strictEqual((closed.cause as Framing.FramingError).reason, reason)
          })
        )
      }
      yield* noHandlesLeft
    })
  )

  it.scopedLive(
    "a refused message (over maxMessageSize) resets the connection: the sender sees an error, not a clean close",
    () =>
      Effect.gen(function* () {
        const server = yield* Server.make({ port: 0, maxMessageSize: 10 })
        yield* Effect.forkScoped(server.serve((s) => s.messages.pipe(Stream.runDrain)))
        const client = yield* Stocking.make({ host: "127.0.0.1", port: tcpPort(server) })
        yield* client.write("this message is 27 bytes.!!")
        // The sender does not close: all it learns comes from the server.
        const closed = yield* client.closed
        assert.strictEqual(closed.reason, "SocketError", String(closed))
        assert.strictEqual((closed.cause as NodeJS.ErrnoException).code, "ECONNRESET")
      })
  )

  it.scopedLive("a header and payload dripping in one byte per 10 ms arrive whole", () =>
    Effect.gen(function* () {
      const [, poll] = backends[0]!
      const { peer, stocking } = yield* rawPeer(poll)
      const frame = Framing.encode("d".repeat(70))
      for (const byte of frame) {
        peer.write(Uint8Array.of(byte))
        yield* Effect.sleep("10 millis")
      }
      assert.strictEqual(yield* stocking.take, "d".repeat(70))
    })
  )

  it.live("idleTimeout closes a peer that sends nothing, with a typed reason", () =>
    Effect.gen(function* () {
      yield* Effect.scoped(
        Effect.gen(function* () {
          const [, poll] = backends[0]!
          const { port, accepted } = yield* rawServer
          yield* rawClient(port)
          const stocking = yield* stockingWith(poll, { socket: yield* accepted, idleTimeout: "150 millis" })
          const closed = yield* stocking.closed
          assert.strictEqual(closed.reason, "IdleTimeout")
          assert.match(closed.message, /idle: nothing sent or received for 150ms/)
        })
      )
      yield* noHandlesLeft
    })
  )

  it.live("a client that never completes the handshake is closed after the timeout, freeing the server", () =>
    Effect.gen(function* () {
      yield* Effect.scoped(
        Effect.gen(function* () {
          const server = yield* Server.make({
            port: 0,
            handshake: (raw) => Effect.map(raw.take, (m) => m === "hello"),
            handshakeTimeout: "100 millis"
          })
          const silent = yield* rawClient(tcpPort(server))
          const ended = yield* Effect.async<void>((resume) => {
            silent.on("close", () => resume(Effect.void))
          }).pipe(Effect.timeout("3 seconds"), Effect.option)
          assert.isTrue(Option.isSome(ended), "the server closed the silent client")
        })
      )
      yield* noHandlesLeft
    })
  )

  it.live(
    "fuzz: 10,000 random byte streams at a live server, which keeps serving a well-behaved client",
    () =>
      Effect.gen(function* () {
        yield* Effect.scoped(
          Effect.gen(function* () {
            const server = yield* Server.make({ port: 0, maxMessageSize: 64 * 1024 })
            const port = tcpPort(server)
            let served = 0
            yield* Effect.forkScoped(
              server.serve((s) =>
                s.messages.pipe(
                  Stream.runForEach((m) =>
                    Effect.zipRight(
                      Effect.sync(() => served++),
                      s.write(m)
                    )
                  )
                )
              )
            )
            const good = yield* Stocking.make({ host: "127.0.0.1", port })
            let seed = 12345
            const random = () => {
              seed = (seed * 1103515245 + 12345) & 0x7fffffff
              return seed
            }
            const streams = 10_000
            let sent = 0
            const attack = Effect.async<void>((resume) => {
              let active = 0
              const next = () => {
                while (active < 64 && sent < streams) {
                  sent++
                  active++
                  const bytes = Buffer.alloc(1 + (random() % 200))
                  for (let i = 0; i < bytes.length; i++) bytes[i] = random() & 0xff
                  const s = net.createConnection({ port, host: "127.0.0.1" }, () => s.end(bytes))
                  s.on("error", () => {})
                  s.on("data", () => {})
                  s.on("close", () => {
                    active--
                    if (sent === streams && active === 0) resume(Effect.void)
                    else next()
                  })
                }
              }
              next()
            })
            const attacker = yield* Effect.fork(attack)
            let round = 0
            while (attacker.unsafePoll() === null) {
              yield* good.write(`still here ${round}`)
              assert.strictEqual(yield* good.take, `still here ${round}`)
              round++
            }
            yield* Fiber.join(attacker)
            assert.strictEqual(sent, streams)
            assert.isAbove(round, 10)
            yield* good.write("after the storm")
            assert.strictEqual(yield* good.take, "after the storm")
            assert.isAbove(served, round)
          })
        )
        yield* noHandlesLeft
      }),
    120_000
  )
})

/**
 * How many file descriptors this process may open: the soft limit, which
 * Node.js raises to the hard limit at startup (so `ulimit -n` in the shell
 * that starts the tests is what counts). Read from /proc on Linux, else from
 * a shell started by this process (it inherits the limit).
 */
const openFileLimit = (): number => {
  try {
    const line = fs.readFileSync("/proc/self/limits", "utf8").match(/^Max open files\s+(\S+)/m)
    if (line) return line[1] === "unlimited" ? Infinity : Number(line[1])
  } catch {
    // not Linux
  }
  const out = execFileSync("/bin/sh", ["-c", "ulimit -n"], { encoding: "utf8" }).trim()
  return out === "unlimited" ? Infinity : Number(out)
}

/** Both ends of 2,000 connections, the listener, and what the test runner holds. */
const loadTestDescriptors = 4200

describe("Reliability: load", () => {
  it.live(
    "2,000 concurrent connections to one server, 50 messages each, all correct",
    () =>
      Effect.gen(function* () {
        const limit = openFileLimit()
        if (limit < loadTestDescriptors) {
          return assert.fail(
            `the load test needs ${loadTestDescriptors} file descriptors and this process may open ${limit}: run \`ulimit -n ${loadTestDescriptors}\` (or more) before the tests`
          )
        }
        yield* Effect.scoped(
          Effect.gen(function* () {
            const server = yield* Server.make({ port: 0, backlog: 2048 })
            const port = tcpPort(server)
            yield* Effect.forkScoped(server.serve((s) => s.messages.pipe(Stream.runForEach((m) => s.write(m)))))
            const results = yield* Effect.forEach(
              Array.from({ length: 2000 }, (_, i) => i),
              (i) =>
                Effect.scoped(
                  Effect.gen(function* () {
                    const c = yield* Stocking.make({
                      host: "127.0.0.1",
                      port,
                      retry: Schedule.recurs(5).pipe(Schedule.addDelay(() => "20 millis"))
                    })
                    const sent = Array.from({ length: 50 }, (_, k) => `${i}/${k}`)
                    yield* c.writeAll(sent)
                    const got = yield* c.messages.pipe(Stream.take(50), Stream.runCollect)
                    return Chunk.toArray(got).join(",") === sent.join(",")
                  })
                ),
              { concurrency: "unbounded" }
            )
            assert.strictEqual(results.filter(Boolean).length, 2000)
          })
        )
        yield* noHandlesLeft
      }),
    120_000
  )
})

describe("Transports", () => {
  const certs = makeCerts

  it.scopedLive(
    "TLS: verified by default; a known CA works, an unknown CA or a wrong host name fails with ConnectError Tls",
    () =>
      Effect.gen(function* () {
        const { ca, cert, key, otherCa } = yield* certs
        const server = yield* Server.make({ port: 0, tls: { cert, key } })
        const port = tcpPort(server)
        yield* Effect.forkScoped(server.serve((s) => s.messages.pipe(Stream.runForEach((m) => s.write(m)))))

        const client = yield* Stocking.make({ host: "localhost", port, tls: { ca } })
        assert.instanceOf(client.socket, tls.TLSSocket)
        yield* client.write("over TLS")
        assert.strictEqual(yield* client.take, "over TLS")

        const unknownCa = yield* Effect.flip(
          Effect.scoped(Stocking.make({ host: "localhost", port, tls: { ca: otherCa } }))
        )
        assert.strictEqual(unknownCa.reason, "Tls")
        const systemCas = yield* Effect.flip(Effect.scoped(Stocking.make({ host: "localhost", port, tls: true })))
        assert.strictEqual(systemCas.reason, "Tls")
        const wrongName = yield* Effect.flip(
          Effect.scoped(Stocking.make({ host: "127.0.0.1", port, tls: { ca, servername: "wrong.example" } }))
        )
        assert.strictEqual(wrongName.reason, "Tls")
        assert.match(wrongName.message, /TLS with 127.0.0.1:\d+ failed/)
      })
  )

  it.scopedLive("any connected Duplex can be wrapped: a TLS socket, and a child process's stdio", () =>
    Effect.gen(function* () {
      const { ca, cert, key } = yield* certs
      const server = yield* Server.make({ port: 0, tls: { cert, key } })
      yield* Effect.forkScoped(server.serve((s) => s.messages.pipe(Stream.runForEach((m) => s.write(m)))))
      const socket = yield* Effect.async<tls.TLSSocket>((resume) => {
        const s = tls.connect({ host: "localhost", port: tcpPort(server), ca }, () => resume(Effect.succeed(s)))
      })
      const wrapped = yield* Stocking.make({ socket })
      yield* wrapped.write(Uint8Array.of(9, 8, 7))
      assert.deepStrictEqual([...((yield* wrapped.take) as Uint8Array)], [9, 8, 7])

      // `cat` echoes every byte: a Stocking over its stdin/stdout reads back what it wrote.
      const child = spawn("cat", [], { stdio: ["pipe", "pipe", "inherit"] })
      yield* Effect.addFinalizer(() => Effect.sync(() => child.kill()))
      const duplex = Duplex.from({ readable: child.stdout, writable: child.stdin })
      const overPipe = yield* Stocking.make({ socket: duplex })
      assert.isTrue(Option.isNone(overPipe.remoteAddress))
      yield* overPipe.writeAll(["through", "a pipe", new Uint8Array(100_000).fill(3)])
      assert.strictEqual(yield* overPipe.take, "through")
      assert.strictEqual(yield* overPipe.take, "a pipe")
      assert.strictEqual(((yield* overPipe.take) as Uint8Array).length, 100_000)
    })
  )

  it.scopedLive("Unix domain sockets: client and server", () =>
    Effect.gen(function* () {
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "stockings-unix-"))),
        (d) => Effect.sync(() => fs.rmSync(d, { recursive: true, force: true }))
      )
      const socketPath = path.join(dir, "stocking.sock")
      const server = yield* Server.make({ path: socketPath })
      yield* Effect.forkScoped(server.serve((s) => s.messages.pipe(Stream.runForEach((m) => s.write(m)))))
      const client = yield* Stocking.make({ path: socketPath })
      yield* client.write("over a Unix socket")
      assert.strictEqual(yield* client.take, "over a Unix socket")
    })
  )

  it.scopedLive("connectTimeout bounds a connect that gets no answer", () =>
    Effect.gen(function* () {
      // A plain TCP listener never answers a TLS ClientHello: the connect hangs until the deadline.
      const { port } = yield* rawServer
      const started = Date.now()
      const error = yield* Effect.flip(
        Effect.scoped(Stocking.make({ host: "127.0.0.1", port, tls: true, connectTimeout: "200 millis" }))
      )
      assert.strictEqual(error.reason, "Timeout")
      assert.match(error.message, /no answer within the connect timeout/)
      assert.isAtLeast(Date.now() - started, 150)
    })
  )
})

describe("TLS client certificates", () => {
  /** A server that requires a certificate issued by its CA, and the client certificates to try. */
  const mutualTls = Effect.gen(function* () {
    const { ca, cert, dir, key, otherCa } = yield* makeCerts
    const server = yield* Server.make({
      port: 0,
      tls: { cert, key, ca, requestCert: true, rejectUnauthorized: true }
    })
    yield* Effect.forkScoped(server.serve((s) => s.messages.pipe(Stream.runForEach((m) => s.write(m)))))
    return {
      port: tcpPort(server),
      ca,
      // Issued by the server's CA (the server's own certificate serves as a client certificate).
      trusted: { cert, key },
      // Self-signed by another CA: the server rejects it.
      untrusted: { cert: otherCa, key: fs.readFileSync(path.join(dir, "other.key")) }
    }
  })

  it.scopedLive("a client certificate the server trusts is served (TLS 1.3)", () =>
    Effect.gen(function* () {
      const { ca, port, trusted } = yield* mutualTls
      const client = yield* Stocking.make({ host: "localhost", port, tls: { ca, ...trusted } })
      assert.strictEqual((client.socket as tls.TLSSocket).getProtocol(), "TLSv1.3")
      yield* client.write("with a certificate")
      assert.strictEqual(yield* client.take, "with a certificate")
      yield* client.close
      assert.strictEqual((yield* client.closed).reason, "ClosedLocally")
    })
  )

  it.scopedLive("TLS 1.3, no client certificate: the server's alert is the cause of Closed, on the first read", () =>
    Effect.gen(function* () {
      const { ca, port } = yield* mutualTls
      // Under TLS 1.3 the client's handshake completes before the server has looked at its certificate.
      const client = yield* Stocking.make({ host: "localhost", port, tls: { ca } })
      const error = yield* Effect.flip(client.take)
      assert.strictEqual(error._tag, "Closed")
      const closed = error as Stocking.Closed
      assert.strictEqual(closed.reason, "SocketError", String(closed))
      // ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED from OpenSSL (Node, Deno), ERR_SSL_TLSV1_... from BoringSSL (Bun).
      assert.match(String((closed.cause as NodeJS.ErrnoException).code), /^ERR_SSL_TLSV1.*_ALERT_CERTIFICATE_REQUIRED$/)
    })
  )

  it.scopedLive(
    "TLS 1.3, an untrusted client certificate: the first read fails with Closed saying it was rejected, not a clean close",
    () =>
      Effect.gen(function* () {
        const { ca, port, untrusted } = yield* mutualTls
        const client = yield* Stocking.make({ host: "localhost", port, tls: { ca, ...untrusted } })
        const exit = yield* Effect.exit(client.forEach(() => Effect.void))
        const closed = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
        assert.strictEqual(closed?._tag, "Closed", `not a clean end: ${String(yield* client.closed)}`)
        const cause = (closed as Stocking.Closed).cause
        assert.match(String(cause), /client certificate/)
        assert.strictEqual((yield* client.closed).cause, cause)
      })
  )

  it.scopedLive("TLS 1.2: no client certificate, or an untrusted one, fails the connect with ConnectError Tls", () =>
    Effect.gen(function* () {
      const { ca, port, untrusted } = yield* mutualTls
      const none = yield* Effect.flip(
        Effect.scoped(Stocking.make({ host: "localhost", port, tls: { ca, maxVersion: "TLSv1.2" } }))
      )
      assert.strictEqual(none.reason, "Tls", none.message)
      const rejected = yield* Effect.flip(
        Effect.scoped(Stocking.make({ host: "localhost", port, tls: { ca, ...untrusted, maxVersion: "TLSv1.2" } }))
      )
      assert.strictEqual(rejected.reason, "Tls", rejected.message)
      assert.match(rejected.message, /^TLS with localhost:\d+ failed: .*client certificate/)
    })
  )
})

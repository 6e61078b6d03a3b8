/**
 * Data-integrity defects reported on the paths users take: the server side from `Server.make` (through `serve`
 * and `connections`, and `Server.layerServe` where cheap), clients from `Stocking.make`, on both backends.
 * Each case is its own test; see the report that came with them for how each failed when they were written.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Deferred, Effect, Exit, Fiber, Option, Ref, Scope, Stream } from "effect"
import * as net from "node:net"
import { Framing } from "../src/index.js"
import type { Stocking } from "../src/node.js"
import { backends, rawServer, stockingWith } from "./utils/net.js"
import {
  connectPair,
  describeError,
  isCleanClose,
  isPeerEnd,
  listen,
  rawPeer,
  resetPeer,
  serverPair,
  type Via,
  vias,
  writeFrames
} from "./utils/server.js"

const KiB = 1024
const MiB = 1024 * KiB

const describeMessage = (m: Framing.Message) =>
  typeof m === "string" ? (m.length <= 8 ? JSON.stringify(m) : `text(${m.length})`) : `bytes(${m.length})`

/** Fails with `message` after `ms` milliseconds. */
const within =
  (ms: number, message: string) =>
  <A, E, R>(self: Effect.Effect<A, E, R>) =>
    Effect.timeoutFail(self, { duration: ms, onTimeout: () => new Error(`${message} (after ${ms} ms)`) })

/** Takes until the first failure; returns the messages and the error. */
const takeUntilError = (stocking: Stocking.Stocking) =>
  Effect.gen(function* () {
    const got: Array<Framing.Message> = []
    while (true) {
      const next = yield* Effect.either(stocking.take)
      if (next._tag === "Left") return { got, error: next.left as unknown }
      got.push(next.right)
    }
  })

// ---------------------------------------------------------------------------
// Case 1: silent loss at the peer's close
// ---------------------------------------------------------------------------

const fifty = Array.from({ length: 50 }, (_, i) => `message ${i}`)

/**
 * A client writes 50 small messages and leaves its scope (a graceful close); the server side starts reading 50 ms
 * later. Returns the server side and a fiber for the client's close.
 */
const writeFiftyAndLeave = (backend: (typeof backends)[number][1], via: Via) =>
  Effect.gen(function* () {
    const listening = yield* listen(backend, { transport: "tcp", via })
    const clientScope = yield* Scope.make()
    const { client, server } = yield* connectPair(listening).pipe(Scope.extend(clientScope))
    yield* Effect.forEach(fifty, (m) => client.write(m), { discard: true })
    const leaving = yield* Effect.fork(Scope.close(clientScope, Exit.void))
    yield* Effect.sleep("50 millis")
    return { server, leaving }
  })

describe("case 1: silent loss at the peer's close", () => {
  for (const [name, backend] of backends) {
    for (const via of [...vias, "layerServe" as const]) {
      it.scopedLive(
        `${name}, ${via}: 50 messages then a graceful close; read 50 ms later with messages: all 50, then the end`,
        () =>
          Effect.gen(function* () {
            const { server, leaving } = yield* writeFiftyAndLeave(backend, via)
            const got: Array<Framing.Message> = []
            const exit = yield* server.messages.pipe(
              Stream.runForEach((m) => Effect.sync(() => got.push(m))),
              within(5_000, "the stream did not end"),
              Effect.exit
            )
            assert.strictEqual(got.length, 50, `${got.length} of 50 messages arrived`)
            assert.deepStrictEqual(got, fifty)
            assert.isTrue(
              Exit.isSuccess(exit),
              `the stream ended with ${Exit.isFailure(exit) ? String(exit.cause) : ""}`
            )
            yield* Fiber.join(leaving)
          })
      )

      it.scopedLive(
        `${name}, ${via}: 50 messages then a graceful close; a take loop 50 ms later: all 50, then Closed(ClosedByPeer) with no cause`,
        () =>
          Effect.gen(function* () {
            const { server, leaving } = yield* writeFiftyAndLeave(backend, via)
            const { got, error } = yield* takeUntilError(server).pipe(within(5_000, "take neither gave nor failed"))
            assert.strictEqual(got.length, 50, `${got.length} of 50 messages arrived, then ${describeError(error)}`)
            assert.deepStrictEqual(got, fifty)
            assert.isTrue(
              isPeerEnd(error),
              `ended with ${describeError(error)}, not Closed(ClosedByPeer) with no cause`
            )
            yield* Fiber.join(leaving)
          })
      )
    }
  }
})

// ---------------------------------------------------------------------------
// Case 2: reordering on the server's send side
// ---------------------------------------------------------------------------

describe("case 2: the server's send side keeps the order", () => {
  for (const [name, backend] of backends) {
    for (const via of vias) {
      it.scopedLive(
        `${name}, ${via}: "s0", 5 MiB of 1s, 5 MiB of 2s, "s1", 9 MiB of text, "s2" from one fiber arrive in order`,
        () =>
          Effect.gen(function* () {
            const { client, server } = yield* serverPair(backend, { transport: "tcp", via })
            const sent: Array<Framing.Message> = [
              "s0",
              new Uint8Array(5 * MiB).fill(1),
              new Uint8Array(5 * MiB).fill(2),
              "s1",
              "t".repeat(9 * MiB),
              "s2"
            ]
            const writer = yield* Effect.fork(
              Effect.forEach(sent, (m) => server.write(m), { discard: true }).pipe(
                within(20_000, "the server-side writer stalled")
              )
            )
            const got: Array<Framing.Message> = []
            yield* Effect.gen(function* () {
              while (got.length < sent.length) got.push(yield* client.take)
            }).pipe(
              within(20_000, "not every message arrived"),
              Effect.catchAll((e) => Effect.fail(new Error(`${e.message}; got ${got.map(describeMessage).join(", ")}`)))
            )
            yield* Fiber.join(writer)
            const summary = (m: Framing.Message) =>
              typeof m === "string" ? (m.length <= 8 ? m : `text(${m.length})`) : `bytes(${m.length}) of ${m[0]}`
            assert.deepStrictEqual(got.map(summary), sent.map(summary), `arrived: ${got.map(summary).join(", ")}`)
            for (const [i, m] of got.entries()) {
              const expected = sent[i]!
              if (typeof m === "string") assert.isTrue(m === expected, `message ${i} differs`)
              else assert.isTrue(Buffer.from(m).equals(Buffer.from(expected as Uint8Array)), `message ${i} differs`)
            }
          }),
        60_000
      )
    }
  }
})

// ---------------------------------------------------------------------------
// Case 3: the budget strands connections
// ---------------------------------------------------------------------------

/**
 * A raw peer that declares a 16 MiB message and sends `bytes` of it in 64 KiB writes, never more than one write
 * ahead of its socket. Completes once all is written to the OS, or after `patience` ms without progress (the
 * server stopped reading).
 */
const partialSender = (socket: net.Socket, bytes: number, patience: number) =>
  Effect.async<number>((resume) => {
    socket.write(Framing.encodeHeader("bytes", 16 * MiB))
    const chunk = Buffer.alloc(64 * 1024, 1)
    let sent = 0
    let timer: ReturnType<typeof setTimeout> | undefined
    const done = () => {
      clearTimeout(timer)
      socket.off("drain", pump)
      resume(Effect.succeed(sent))
    }
    const stalled = () => {
      timer = setTimeout(done, patience)
    }
    function pump() {
      clearTimeout(timer)
      while (sent < bytes) {
        sent += chunk.length
        if (!socket.write(chunk)) {
          socket.once("drain", pump)
          return stalled()
        }
      }
      done()
    }
    pump()
  })

describe("case 2b: the server's send side under a tiny budget", () => {
  for (const [name, backend] of backends) {
    for (const via of vias) {
      for (const batched of [false, true]) {
        it.scopedLive(
          `${name}, ${via}, ${batched ? "writeAll in threes" : "write"}: maxTotalBytes 64 KiB, 60 messages of 2 MiB, 10 B and 200 KiB in turn reach a client that reads with pauses, in order`,
          () =>
            Effect.gen(function* () {
              const { client, server } = yield* serverPair(backend, {
                transport: "tcp",
                via,
                server: { maxTotalBytes: 64 * KiB }
              })
              const sizes = [2 * MiB, 10, 200 * KiB]
              const sent = Array.from({ length: 60 }, (_, i) => new Uint8Array(sizes[i % 3]!).fill(i))
              const write = batched
                ? Effect.forEach([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19], (k) =>
                    server.writeAll(sent.slice(3 * k, 3 * k + 3))
                  )
                : Effect.forEach(sent, (m) => server.write(m), { discard: true })
              const writer = yield* Effect.fork(write.pipe(within(30_000, "the server-side writer stalled")))
              const got: Array<Framing.Message> = []
              yield* Effect.gen(function* () {
                while (got.length < sent.length) {
                  got.push(yield* client.take)
                  if (got.length % 7 === 0) yield* Effect.sleep("5 millis")
                }
              }).pipe(within(30_000, "not every message arrived"))
              yield* Fiber.join(writer)
              got.forEach((m, i) => {
                assert.isTrue(
                  m instanceof Uint8Array && m.length === sent[i]!.length && m[0] === (i & 0xff),
                  `message ${i}`
                )
              })
            }),
          60_000
        )
      }
    }
  }
})

describe("case 3: the budget strands connections", () => {
  for (const [name, backend] of backends) {
    for (const via of vias) {
      for (const ending of ["close", "reset"] as const) {
        it.scopedLive(
          `${name}, ${via}: maxTotalBytes 4 MiB, 4 peers send 8 MiB of a 16 MiB message then ${ending}: their connections close, then a good client's 1 MiB message gets through`,
          () =>
            Effect.gen(function* () {
              const listening = yield* listen(backend, { transport: "tcp", via, server: { maxTotalBytes: 4 * MiB } })
              const peers = yield* Effect.forEach(Array.from({ length: 4 }), () => rawPeer(listening))
              const sides = yield* Effect.forEach(peers, () =>
                listening.accepted.pipe(within(5_000, "a peer's connection was not delivered"))
              )
              const sent = yield* Effect.forEach(peers, (peer) => partialSender(peer.socket, 8 * MiB, 500), {
                concurrency: "unbounded"
              })
              for (const peer of peers) {
                if (ending === "close") peer.socket.destroy()
                else resetPeer(peer)
              }
              const stillOpen = yield* Effect.forEach(
                sides,
                (side) => side.closed.pipe(Effect.timeout("5 seconds"), Effect.option, Effect.map(Option.isNone)),
                { concurrency: "unbounded" }
              )
              assert.deepStrictEqual(
                stillOpen.filter(Boolean).length,
                0,
                `${stillOpen.filter(Boolean).length} of 4 connections still open 5 s after their peers ${ending === "close" ? "closed" : "reset"} (each peer got ${sent.map((n) => (n / MiB).toFixed(1)).join(", ")} MiB out)`
              )
              const { client, server } = yield* connectPair(listening)
              const big = new Uint8Array(MiB).fill(7)
              yield* client.write(big)
              const got = yield* server.take.pipe(within(10_000, "the good client's 1 MiB message did not arrive"))
              assert.strictEqual(describeMessage(got), describeMessage(big))
            }),
          60_000
        )
      }
    }
  }
})

// ---------------------------------------------------------------------------
// Case 4: budget deadlock / throughput
// ---------------------------------------------------------------------------

const ECHO_CLIENTS = 32
const ECHO_MESSAGES = 100
/**
 * The budget may slow the echoes, never stop them. Alone on 2 cores this takes 1-2 s with poll and 3-4 s with
 * select (every message over half the budget waits until no other connection holds anything); beside other test
 * files it has taken over 30 s. So what fails the test is a stall: no echo at all for `ECHO_STALL_MS`, or the
 * whole run past `ECHO_DEADLINE_MS`.
 */
const ECHO_STALL_MS = 10_000
const ECHO_DEADLINE_MS = 100_000

/** A deterministic generator (mulberry32), so a failing run can be repeated. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** Sizes from 12 B to 256 KiB, spread evenly over the powers of two (most are small). */
const sizes = (seed: number, count: number) => {
  const next = random(seed)
  return Array.from({ length: count }, () => Math.round(12 * Math.pow((256 * 1024) / 12, next())))
}

/** Message `i` of client `c`: bytes [c, i(4), fill...], so a mix-up shows. */
const echoMessage = (c: number, i: number, size: number): Uint8Array => {
  const bytes = new Uint8Array(size)
  bytes[0] = c
  new DataView(bytes.buffer).setUint32(1, i)
  bytes.fill((c * 31 + i) & 255, 5)
  return bytes
}

describe("case 4: the budget under many well-behaved clients", () => {
  for (const [name, backend] of backends) {
    for (const via of vias) {
      it.scopedLive(
        `${name}, ${via}: maxTotalBytes 256 KiB, ${ECHO_CLIENTS} echo clients x ${ECHO_MESSAGES} messages of 12 B..256 KiB: every echo comes back in order, none stalls ${ECHO_STALL_MS / 1000} s`,
        () =>
          Effect.gen(function* () {
            const listening = yield* listen(backend, {
              transport: "tcp",
              via,
              server: { maxTotalBytes: 256 * 1024, closeTimeout: "1 second" },
              handler: (s) => s.forEach((m) => s.write(m))
            })
            const done = yield* Ref.make(0)
            const echoes = yield* Ref.make(0)
            const clients = Array.from({ length: ECHO_CLIENTS }, (_, c) =>
              Effect.gen(function* () {
                const client = yield* listening.connect({ closeTimeout: "1 second" })
                const plan = sizes(c + 1, ECHO_MESSAGES).map((size, i) => echoMessage(c, i, size))
                const writer = yield* Effect.fork(Effect.forEach(plan, (m) => client.write(m), { discard: true }))
                for (const [i, expected] of plan.entries()) {
                  const got = yield* client.take
                  yield* Ref.update(echoes, (n) => n + 1)
                  if (!(got instanceof Uint8Array) || !Buffer.from(got).equals(Buffer.from(expected))) {
                    return yield* Effect.fail(
                      new Error(`client ${c}: echo ${i} is not message ${i} (${describeMessage(got)})`)
                    )
                  }
                }
                yield* Fiber.join(writer)
                yield* Ref.update(done, (n) => n + 1)
              })
            )
            // Fails once a whole ECHO_STALL_MS passes without an echo.
            const watchdog = Effect.gen(function* () {
              let last = -1
              while (true) {
                const now = yield* Ref.get(echoes)
                if (now === last) return yield* Effect.fail(new Error(`stalled: no echo for ${ECHO_STALL_MS} ms`))
                last = now
                yield* Effect.sleep(ECHO_STALL_MS)
              }
            })
            const exit = yield* Effect.all(clients, { concurrency: "unbounded", discard: true }).pipe(
              Effect.raceFirst(watchdog),
              within(ECHO_DEADLINE_MS, "not every client got all its echoes"),
              Effect.exit
            )
            const finished = yield* Ref.get(done)
            const received = yield* Ref.get(echoes)
            assert.isTrue(
              Exit.isSuccess(exit),
              `${finished} of ${ECHO_CLIENTS} clients got all their echoes (${received} of ${ECHO_CLIENTS * ECHO_MESSAGES} echoes): ${Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""}`
            )
          }),
        ECHO_DEADLINE_MS + 20_000
      )
    }
  }
})

// ---------------------------------------------------------------------------
// Case 5: a reset reads as a clean close
// ---------------------------------------------------------------------------

const before: ReadonlyArray<Framing.Message> = ["one", new Uint8Array([1, 2, 3]), "three", "four"]

/** How a read ended, for the assertion message: the error, or "cleanly". */
const endOf = (exit: Exit.Exit<void, unknown>): string =>
  Exit.isSuccess(exit)
    ? "cleanly"
    : Option.match(Cause.failureOption(exit.cause), {
        onNone: () => String(exit.cause),
        onSome: describeError
      })

describe("case 5: a reset is not a clean close", () => {
  for (const [name, backend] of backends) {
    for (const via of vias) {
      // TCP only: over TLS Node reports a reset after data as the end of the stream, with no error (README: Closing).
      for (const transport of ["tcp"] as const) {
        it.scopedLive(
          `${name}, ${via}, ${transport}: a raw peer writes 4 messages and resets; a handler that only reads ends with an error that is not a clean close`,
          () =>
            Effect.gen(function* () {
              const result = yield* Deferred.make<{ got: Array<Framing.Message>; exit: Exit.Exit<void, unknown> }>()
              const listening = yield* listen(backend, {
                transport,
                via,
                handler: (s) =>
                  Effect.gen(function* () {
                    const got: Array<Framing.Message> = []
                    const exit = yield* Effect.exit(s.forEach((m) => Effect.sync(() => got.push(m))))
                    yield* Deferred.succeed(result, { got, exit })
                  })
              })
              const peer = yield* rawPeer(listening)
              // The messages and the reset leave in the same turn, as when a process dies right after writing.
              writeFrames(peer.socket, before)
              resetPeer(peer)
              const { got, exit } = yield* Deferred.await(result).pipe(within(15_000, "the handler never ended"))
              // Whatever arrived is a prefix of what was sent, in order.
              assert.deepStrictEqual(got, before.slice(0, got.length))
              assert.isTrue(
                Exit.isFailure(exit) && !Option.exists(Cause.failureOption(exit.cause), isCleanClose),
                `the handler's read ended ${endOf(exit)} after ${got.length} of ${before.length} messages`
              )
            }),
          30_000
        )
      }
    }

    it.scopedLive(
      `${name}, client: a raw server peer writes 4 messages and resets; the client's take loop ends with an error that is not a clean close`,
      () =>
        Effect.gen(function* () {
          const { port, accepted } = yield* rawServer
          const client = yield* stockingWith(backend, { host: "127.0.0.1", port })
          const socket = yield* accepted
          writeFrames(socket, before)
          socket.resetAndDestroy()
          const { got, error } = yield* takeUntilError(client).pipe(within(15_000, "take neither gave nor failed"))
          assert.deepStrictEqual(got, before.slice(0, got.length))
          assert.isFalse(
            isCleanClose(error),
            `the take loop ended with ${describeError(error)} after ${got.length} of ${before.length} messages`
          )
        })
    )
  }
})

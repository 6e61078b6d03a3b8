/**
 * The send path's promise under backpressure: every message arrives exactly
 * once, each writer's order is kept, and nothing stalls, whatever the
 * outbound bounds, message sizes, writers and reader pauses. Real sockets
 * (TCP loopback, a Unix socket, TLS) on both backends.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import type { Scope } from "effect"
import * as fc from "fast-check"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import * as tls from "node:tls"
import type { Framing } from "../src/index.js"
import { Backend, Stocking } from "../src/node.js"
import { makeCerts } from "./utils/certs.js"
import { backends, pair } from "./utils/net.js"
import { identify, messageOf, writePlan } from "./utils/messages.js"

const MiB = 1024 * 1024

/** How long a whole exchange may take before it counts as stalled. */
const STALL_MS = 20_000

/** Property runs per backend; `STOCKING_SOAK_RUNS` raises it (see `npm run soak`). */
const RUNS = Number(process.env.STOCKING_SOAK_RUNS ?? 200)

/** Receives `count` messages from `stocking`, or fails naming what is missing after `STALL_MS`. */
const receive = (stocking: Stocking.Stocking, count: number) =>
  Effect.gen(function* () {
    const got: Array<Framing.Message> = []
    while (got.length < count) got.push(yield* stocking.take)
    return got
  }).pipe(
    Effect.timeoutFail({
      duration: STALL_MS,
      onTimeout: () => new Error(`stalled: fewer than ${count} messages arrived within ${STALL_MS} ms`)
    })
  )

/** Waits until nothing is queued on `stocking`'s side (the socket's buffer included). */
const settled = (stocking: Stocking.Stocking) =>
  Effect.gen(function* () {
    const deadline = Date.now() + STALL_MS
    while (yield* stocking.writeDataQueued) {
      if (Date.now() > deadline) return yield* Effect.fail(new Error("writeDataQueued stayed true"))
      yield* Effect.sleep("2 millis")
    }
  })

/** Writes each message with `write`, in order; fails if a write stays suspended for `STALL_MS`. */
const writeEach = (stocking: Stocking.Stocking, messages: ReadonlyArray<Framing.Message>) =>
  Effect.forEach(messages, (m) => stocking.write(m), { discard: true }).pipe(
    Effect.timeoutFail({ duration: STALL_MS, onTimeout: () => new Error("the writer stalled in write") })
  )

const describeMessage = (m: Framing.Message) =>
  typeof m === "string" ? (m.length <= 8 ? JSON.stringify(m) : `text(${m.length})`) : `bytes(${m.length})`

describe("send path: the reported cases", () => {
  for (const [name, backend] of backends) {
    it.scopedLive(`${name}: maxQueuedMessages 1, one writer: a..f arrive in order`, () =>
      Effect.gen(function* () {
        const { client, server } = yield* pair(backend, backend, { client: { maxQueuedMessages: 1 } })
        const sent = ["a", "b", "c", "d", "e", "f"]
        const writer = yield* Effect.fork(writeEach(client, sent))
        assert.deepStrictEqual(yield* receive(server, sent.length), sent)
        yield* Fiber.join(writer)
        yield* settled(client)
      })
    )

    it.scopedLive(`${name}: default limits, two 5 MiB messages between small ones keep their order`, () =>
      Effect.gen(function* () {
        const { client, server } = yield* pair(backend, backend)
        const first = new Uint8Array(5 * MiB).fill(1)
        const second = new Uint8Array(5 * MiB).fill(2)
        const sent: Array<Framing.Message> = ["s0", first, second, "s1"]
        const writer = yield* Effect.fork(writeEach(client, sent))
        const got = yield* receive(server, sent.length)
        yield* Fiber.join(writer)
        assert.deepStrictEqual(got.map(describeMessage), sent.map(describeMessage))
        assert.strictEqual((got[1] as Uint8Array)[0], 1)
        assert.strictEqual((got[2] as Uint8Array)[0], 2)
        yield* settled(client)
      })
    )

    it.scopedLive(`${name}: 5, 5 and 9 MiB in a burst: everything arrives, the writer never stalls`, () =>
      Effect.gen(function* () {
        const { client, server } = yield* pair(backend, backend)
        const sent: Array<Framing.Message> = [
          "s0",
          new Uint8Array(5 * MiB).fill(1),
          new Uint8Array(5 * MiB).fill(2),
          "s1",
          new Uint8Array(9 * MiB).fill(3),
          "s2"
        ]
        const writer = yield* Effect.fork(writeEach(client, sent))
        const got = yield* receive(server, sent.length)
        yield* Fiber.join(writer)
        assert.deepStrictEqual(got.map(describeMessage), sent.map(describeMessage))
        assert.deepStrictEqual(
          got.map((m) => (typeof m === "string" ? m : m[0])),
          ["s0", 1, 2, "s1", 3, "s2"]
        )
        yield* settled(client)
      })
    )
  }
})

// ---------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------

/** Mostly small, some medium, a few up to 9 MiB. */
const sizeArb = fc.oneof(
  { weight: 30, arbitrary: fc.integer({ min: 0, max: 64 }) },
  { weight: 8, arbitrary: fc.integer({ min: 65, max: 64 * 1024 }) },
  { weight: 2, arbitrary: fc.integer({ min: 64 * 1024, max: MiB }) },
  { weight: 1, arbitrary: fc.integer({ min: MiB, max: 9 * MiB }) }
)

const writerArb = fc.array(
  fc.record({
    size: sizeArb,
    asText: fc.boolean(),
    // Write this one with `writeAll` together with the next `batch - 1`, or alone with `write`.
    batch: fc.oneof(
      { weight: 3, arbitrary: fc.constant(1) },
      { weight: 1, arbitrary: fc.integer({ min: 2, max: 40 }) }
    ),
    pauseAfter: fc.oneof(
      { weight: 6, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 4 }) }
    )
  }),
  { minLength: 1, maxLength: 40 }
)

const caseArb = fc.record({
  writers: fc.array(writerArb, { minLength: 1, maxLength: 4 }),
  maxQueuedMessages: fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 8 }), fc.integer({ min: 9, max: 4096 })),
  maxQueuedBytes: fc.oneof(fc.integer({ min: 1024, max: 64 * 1024 }), fc.integer({ min: 64 * 1024, max: 16 * MiB })),
  // The reader pauses (ms) after some messages.
  readerPauses: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 16 })
})

type Case = typeof caseArb extends fc.Arbitrary<infer A> ? A : never

/** Runs one case over a connected pair and checks the promise. */
const runCase = (c: Case, client: Stocking.Stocking, server: Stocking.Stocking) =>
  Effect.gen(function* () {
    const plans = c.writers.map((ops, writer) =>
      ops.map((op, seq) => ({ ...op, message: messageOf(writer, seq, op.size, op.asText) }))
    )
    const total = plans.reduce((n, p) => n + p.length, 0)
    const reader = yield* Effect.fork(
      Effect.gen(function* () {
        const got: Array<Framing.Message> = []
        while (got.length < total) {
          got.push(yield* server.take)
          const pause = c.readerPauses[got.length % c.readerPauses.length]!
          if (pause > 0 && got.length % 3 === 0) yield* Effect.sleep(pause)
        }
        return got
      })
    )
    const writeAll = plans.map((plan) => writePlan(client, plan))
    yield* Effect.all(writeAll, { concurrency: "unbounded", discard: true })
    const got = yield* Fiber.join(reader)
    const next = plans.map(() => 0)
    for (const m of got) {
      const { writer, seq, size } = identify(m)
      const expected = plans[writer]?.[next[writer]!]
      if (expected === undefined || seq !== next[writer]) {
        throw new Error(`writer ${writer}: expected message ${next[writer]}, got ${seq}`)
      }
      if (typeof m !== typeof expected.message || size !== expected.message.length) {
        throw new Error(`writer ${writer} message ${seq}: wrong kind or size (${describeMessage(m)})`)
      }
      next[writer]!++
    }
    assert.deepStrictEqual(
      next,
      plans.map((p) => p.length)
    )
    yield* settled(client)
    assert.isFalse(yield* client.writeDataQueued)
  }).pipe(
    Effect.timeoutFail({
      duration: STALL_MS,
      onTimeout: () => new Error(`stalled after ${STALL_MS} ms`)
    })
  )

const property = (
  runs: number,
  connect: (c: Case) => Effect.Effect<{ client: Stocking.Stocking; server: Stocking.Stocking }, unknown, Scope.Scope>
) =>
  fc.assert(
    fc.asyncProperty(caseArb, (c) =>
      Effect.runPromise(Effect.scoped(Effect.flatMap(connect(c), ({ client, server }) => runCase(c, client, server))))
    ),
    { numRuns: runs, endOnFailure: true }
  )

const limitsOf = (c: Case) => ({ maxQueuedMessages: c.maxQueuedMessages, maxQueuedBytes: c.maxQueuedBytes })

describe("send path: property over real sockets", () => {
  for (const [name, backend] of backends) {
    it(
      `${name}: exactly once, each writer in order, no stall (TCP, ${RUNS} runs)`,
      () => property(RUNS, (c) => pair(backend, backend, { client: limitsOf(c) })),
      600_000
    )
  }

  for (const [name, backend] of backends) {
    it(
      `${name}: over a Unix socket`,
      () =>
        property(Math.max(10, RUNS / 10), (c) =>
          Effect.gen(function* () {
            const dir = yield* Effect.acquireRelease(
              Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "stockings-send-"))),
              (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
            )
            const file = path.join(dir, "s.sock")
            const { accepted } = yield* listen((onSocket) => net.createServer(onSocket), { path: file })
            const client = yield* Stocking.make({ path: file, ...limitsOf(c) }).pipe(
              Effect.provideService(Backend.Backend, backend)
            )
            const server = yield* Stocking.make({ socket: yield* accepted }).pipe(
              Effect.provideService(Backend.Backend, backend)
            )
            return { client, server }
          })
        ),
      600_000
    )
  }

  for (const [name, backend] of backends) {
    it(
      `${name}: over TLS`,
      () =>
        Effect.runPromise(
          Effect.scoped(
            Effect.gen(function* () {
              const certs = yield* makeCerts
              yield* Effect.promise(() =>
                property(Math.max(10, RUNS / 10), (c) =>
                  Effect.gen(function* () {
                    const { accepted, port } = yield* listen(
                      (onSocket) => tls.createServer({ key: certs.key, cert: certs.cert }, onSocket),
                      { port: 0, host: "127.0.0.1" }
                    )
                    const client = yield* Stocking.make({
                      host: "127.0.0.1",
                      port,
                      tls: { ca: certs.ca },
                      ...limitsOf(c)
                    }).pipe(Effect.provideService(Backend.Backend, backend))
                    const server = yield* Stocking.make({ socket: yield* accepted }).pipe(
                      Effect.provideService(Backend.Backend, backend)
                    )
                    return { client, server }
                  })
                )
              )
            })
          )
        ),
      600_000
    )
  }
})

/** A listening server (closed with the scope); the Effect takes the next accepted socket. */
const listen = (make: (onSocket: (socket: net.Socket) => void) => net.Server, where: net.ListenOptions) =>
  Effect.gen(function* () {
    const sockets: Array<net.Socket> = []
    const waiters: Array<(socket: net.Socket) => void> = []
    const all = new Set<net.Socket>()
    const server = yield* Effect.acquireRelease(
      Effect.async<net.Server>((resume) => {
        const server = make((socket) => {
          all.add(socket)
          const waiter = waiters.shift()
          if (waiter) waiter(socket)
          else sockets.push(socket)
        })
        server.listen(where, () => resume(Effect.succeed(server)))
      }),
      (server) =>
        Effect.async<void>((resume) => {
          for (const socket of all) socket.destroy()
          server.close(() => resume(Effect.void))
        })
    )
    const take = Effect.async<net.Socket>((resume) => {
      const socket = sockets.shift()
      if (socket) return resume(Effect.succeed(socket))
      waiters.push((s) => resume(Effect.succeed(s)))
    })
    return { accepted: take, port: (server.address() as net.AddressInfo | null)?.port ?? 0 }
  })

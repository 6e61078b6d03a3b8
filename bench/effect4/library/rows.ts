/**
 * The Effect 4 line's rows, run by the bench's Effect 4 child
 * (bench/effect4/child.ts) when `src/effect4/Stocking.ts` is there, in the
 * same rounds as the Effect 3 line's same rows (bench/throughput.ts,
 * bench/latency.ts, bench/memory.ts), which they mirror:
 *
 * - `throughput`: one writer `write`s `n` messages of `size` bytes, the
 *   reader `take`s them in a loop; the reading end is made by
 *   `Stocking.make({ host, port })`, the writing end wraps the accepted
 *   socket (`Stocking.make({ socket })`). Timed as bench/counting.ts says.
 * - `latency`: 64 B ping-pong, the client a `write` + `take` loop; the echo
 *   a `take` loop over a wrapped accepted socket, or `Server.make` +
 *   `serve` with a `take` loop as the handler.
 * - `idle`: `pairs` connected pairs (one connecting, one wrapping the
 *   accepted socket), RSS and V8 heap per pair once all are open.
 *
 * They use the line's default backend and only `Stocking.make`, `write`,
 * `take`, `abort`, `Server.make`, `address` and `serve`.
 */
import { Deferred, Effect, Exit, Fiber } from "effect"
import * as net from "node:net"
import { check, heapUsed, now, type PerPair, settledRss, summariseTrips, type Trips, whenClosed } from "../../common.js"
import { counter, lead, makePayload, type Measurement } from "../../counting.js"
import type { Echo4, LibraryRows } from "../../line4.js"
import * as Server from "../../../src/effect4/Server.js"
import * as Stocking from "../../../src/effect4/Stocking.js"

/** A plain listening socket (as bench/util.ts `rawListener`), closed with the scope; accepted sockets in order. */
const rawListener = Effect.acquireRelease(
  Effect.promise(
    () =>
      new Promise<{ server: net.Server; port: number; accepted: () => Promise<net.Socket> }>((resolve) => {
        const sockets: Array<net.Socket> = []
        const waiting: Array<(socket: net.Socket) => void> = []
        const server = net.createServer({ allowHalfOpen: true }, (socket) => {
          const waiter = waiting.shift()
          if (waiter) waiter(socket)
          else sockets.push(socket)
        })
        const accepted = () => {
          const socket = sockets.shift()
          return socket ? Promise.resolve(socket) : new Promise<net.Socket>((r) => waiting.push(r))
        }
        server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, () =>
          resolve({ server, port: (server.address() as net.AddressInfo).port, accepted })
        )
      })
  ),
  ({ server }) => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
)

type Listener = Effect.Success<typeof rawListener>

/** A Stocking connected by address and one wrapping the accepted socket. Lives in the scope. */
const stockingPair = (listener: Listener) =>
  Effect.gen(function* () {
    const client = yield* Stocking.make({ host: "127.0.0.1", port: listener.port })
    const socket = yield* Effect.promise(listener.accepted)
    const server = yield* Stocking.make({ socket })
    return { client, server, socket }
  })

const timeout =
  (what: string) =>
  <A, E>(self: Effect.Effect<A, E>): Effect.Effect<A, E | Error> =>
    Effect.timeoutOrElse(self, {
      duration: "120 seconds",
      orElse: () => Effect.fail(new Error(`effect4 library ${what} timed out`))
    })

const throughput = (size: number, n: number): Promise<Measurement> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const { client: reading, server: writing } = yield* stockingPair(yield* rawListener)
        const payload = makePayload(size)
        const c = counter(size, n)
        const leadReceived = yield* Deferred.make<void>()
        const onMessage = (message: Uint8Array | string) => {
          if (c.onMessage(message)) Deferred.doneUnsafe(leadReceived, Exit.void)
        }
        const writeCount = (count: number) =>
          Effect.gen(function* () {
            for (let i = 0; i < count; i++) yield* writing.write(payload)
          })
        const readerFiber = yield* Effect.forkChild(
          Effect.gen(function* () {
            for (let i = 0; i < c.total; i++) onMessage(yield* reading.take)
          })
        )
        const writerFiber = yield* Effect.forkChild(
          Effect.gen(function* () {
            yield* writeCount(lead(n))
            yield* Deferred.await(leadReceived)
            c.start()
            yield* writeCount(n)
          })
        )
        yield* Fiber.join(readerFiber)
        yield* Fiber.join(writerFiber)
        return c.finish("effect4 library write + take", payload)
      })
    ).pipe(timeout(`throughput ${size} B`))
  )

const SIZE = 64

type AnyStocking = Effect.Success<ReturnType<typeof stockingPair>>["client"]

const clientLoop = (client: AnyStocking, warmup: number, trips: number) =>
  Effect.gen(function* () {
    const payload = new Uint8Array(SIZE).fill(1)
    const samples = new Float64Array(trips)
    for (let i = 0; i < warmup + trips; i++) {
      const t0 = now()
      yield* client.write(payload)
      const pong = yield* client.take
      const t1 = now()
      if (i === 0) check(pong.length === SIZE, "effect4 library pong size")
      if (i >= warmup) samples[i - warmup] = t1 - t0
    }
    return summariseTrips(samples)
  })

const echoLoop = (stocking: AnyStocking) =>
  Effect.gen(function* () {
    while (true) yield* stocking.write(yield* stocking.take)
  })

const latency = (echo: Echo4, warmup: number, trips: number): Promise<Trips> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        if (echo === "serve") {
          const server = yield* Server.make({ port: 0 })
          yield* server.serve((s) => echoLoop(s)).pipe(Effect.forkScoped)
          const port = server.address._tag === "Tcp" ? server.address.port : 0
          const client = yield* Stocking.make({ host: "127.0.0.1", port })
          return yield* clientLoop(client, warmup, trips)
        }
        const { client, server } = yield* stockingPair(yield* rawListener)
        yield* echoLoop(server).pipe(Effect.ignore, Effect.forkScoped)
        return yield* clientLoop(client, warmup, trips)
      })
    ).pipe(timeout("ping-pong"))
  )

const CONNECT_BATCH = 100

const idle = (pairs: number): Promise<PerPair> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const listener = yield* rawListener
        const rss0 = yield* Effect.promise(settledRss)
        const heap0 = heapUsed()
        const opened = yield* Effect.forEach(Array.from({ length: pairs }), () => stockingPair(listener), {
          concurrency: CONNECT_BATCH
        })
        yield* Effect.sleep("50 millis")
        const rss1 = yield* Effect.promise(settledRss)
        const result = { rss: (rss1 - rss0) / pairs, heap: (heapUsed() - heap0) / pairs }
        // Teardown is not measured: abort every pair at once rather than close each gracefully in the scope.
        yield* Effect.forEach(opened, (p) => Effect.andThen(p.client.abort, p.server.abort), { discard: true })
        yield* Effect.promise(() => Promise.all(opened.map((p) => whenClosed(p.socket))))
        return result
      })
    )
  )

export { idle, latency, throughput }

/** Checked against the interface the child expects. */
export const rows: LibraryRows = { throughput, latency, idle }

/**
 * Issue 21's question about `effect/socket`, measured: whole Stockings
 * messages over an `effect/socket` `Socket` (src/effect4/internal/
 * socketMessages.ts, over the `node:net` Socket of src/effect4/internal/
 * netSocket.ts) against the Effect 4 `Stocking` (src/effect4/Stocking.ts),
 * which drives `node:net` itself. Same process, same loopback, rounds
 * interleaved; each figure is the median over rounds.
 *
 * - `64 B write/take`: one side `write`s N messages of 64 B one by one, the
 *   other `take`s them one by one: messages per second, start to last take.
 * - `64 B writeAll/takeBatch`: the same messages, written 1000 at a time,
 *   read a batch at a time.
 * - `64 KiB`: M messages of 64 KiB written one by one, taken one by one: MB/s.
 * - `ping-pong`: one side writes 64 B and takes the echo, the other takes
 *   and writes it back: p50 and p99 of the round trip, in µs.
 *
 *   npx vite-node --config bench/effect4/vite-node.config.ts bench/effect4/socket.ts [--rounds 5] [--quick]
 *
 * (vite-node resolves `effect` to Effect 4 with the config's plugin, as
 * Vitest's `effect4` project does.)
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Scope from "effect/Scope"
import * as net from "node:net"
import * as NetSocket from "../../src/effect4/internal/netSocket.js"
import * as SocketMessages from "../../src/effect4/internal/socketMessages.js"
import * as Stocking from "../../src/effect4/Stocking.js"
import type { Message } from "../../src/internal/wire.js"

interface Endpoint {
  readonly write: (message: Message) => Effect.Effect<void, unknown>
  readonly writeAll: (messages: ReadonlyArray<Message>) => Effect.Effect<void, unknown>
  readonly take: Effect.Effect<Message, unknown>
  readonly takeBatch: Effect.Effect<ReadonlyArray<Message>, unknown>
}

type Kind = "stocking" | "socket"
const kinds: ReadonlyArray<Kind> = ["stocking", "socket"]

const args = process.argv.slice(2)
const quick = args.includes("--quick")
const roundsArg = args.indexOf("--rounds")
const ROUNDS = roundsArg >= 0 ? Number(args[roundsArg + 1]) : quick ? 2 : 5
const SMALL = quick ? 50_000 : 200_000
const BIG = quick ? 500 : 2_000
const PINGS = quick ? 5_000 : 20_000
const WARM_PINGS = 1_000

const small = new Uint8Array(64).fill(7)
const big = new Uint8Array(64 * 1024).fill(9)

/** A loopback listener whose accepted connections are handed out in order. */
const listener = Effect.acquireRelease(
  Effect.callback<{
    server: net.Server
    port: number
    accepted: Array<(socket: net.Socket) => void>
    queue: Array<net.Socket>
  }>((resume) => {
    const accepted: Array<(socket: net.Socket) => void> = []
    const queue: Array<net.Socket> = []
    const server = net.createServer({ noDelay: true }, (socket) => {
      const waiter = accepted.shift()
      if (waiter !== undefined) waiter(socket)
      else queue.push(socket)
    })
    server.listen(0, "127.0.0.1", () =>
      resume(Effect.succeed({ server, port: (server.address() as net.AddressInfo).port, accepted, queue }))
    )
  }),
  ({ server }) => Effect.callback<void>((resume) => void server.close(() => resume(Effect.void)))
)

type Listener = Effect.Success<typeof listener>

const accept = (l: Listener) =>
  Effect.callback<net.Socket>((resume) => {
    const waiting = l.queue.shift()
    if (waiting !== undefined) resume(Effect.succeed(waiting))
    else l.accepted.push((s) => resume(Effect.succeed(s)))
  })

/** Both ends of one connection, as the kind asked for, in the current scope. */
const pair = (l: Listener, kind: Kind): Effect.Effect<readonly [Endpoint, Endpoint], unknown, Scope.Scope> =>
  Effect.gen(function* () {
    const accepted = yield* Effect.forkChild(accept(l))
    if (kind === "stocking") {
      const client = yield* Stocking.make({ host: "127.0.0.1", port: l.port })
      const server = yield* Stocking.make({ socket: yield* Fiber.join(accepted) })
      return [client, server] as const
    }
    const client = yield* SocketMessages.make(NetSocket.makeNet({ host: "127.0.0.1", port: l.port }))
    const conn = yield* Fiber.join(accepted)
    const server = yield* SocketMessages.make(NetSocket.fromDuplex(Effect.succeed(conn)))
    return [client, server] as const
  })

const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9

/** N messages written one by one, taken one by one: messages per second. */
const oneByOne = (a: Endpoint, b: Endpoint, count: number, message: Message) =>
  Effect.gen(function* () {
    const start = process.hrtime.bigint()
    const reader = yield* Effect.forkChild(
      Effect.gen(function* () {
        for (let i = 0; i < count; i++) yield* b.take
      })
    )
    for (let i = 0; i < count; i++) yield* a.write(message)
    yield* Fiber.join(reader)
    return count / seconds(start)
  })

/** N messages written 1000 at a time, read a batch at a time: messages per second. */
const batched = (a: Endpoint, b: Endpoint, count: number) =>
  Effect.gen(function* () {
    const batch: Array<Message> = Array.from({ length: 1000 }, () => small)
    const start = process.hrtime.bigint()
    const reader = yield* Effect.forkChild(
      Effect.gen(function* () {
        let got = 0
        while (got < count) got += (yield* b.takeBatch).length
      })
    )
    for (let sent = 0; sent < count; sent += batch.length) yield* a.writeAll(batch)
    yield* Fiber.join(reader)
    return count / seconds(start)
  })

/** Round trips of 64 B: the sorted latencies in µs. */
const pingPong = (a: Endpoint, b: Endpoint, count: number) =>
  Effect.gen(function* () {
    const echo = yield* Effect.forkChild(
      Effect.gen(function* () {
        for (let i = 0; i < count + WARM_PINGS; i++) yield* b.write(yield* b.take)
      })
    )
    for (let i = 0; i < WARM_PINGS; i++) {
      yield* a.write(small)
      yield* a.take
    }
    const times = new Float64Array(count)
    for (let i = 0; i < count; i++) {
      const start = process.hrtime.bigint()
      yield* a.write(small)
      yield* a.take
      times[i] = Number(process.hrtime.bigint() - start) / 1e3
    }
    yield* Fiber.join(echo)
    return times.sort()
  })

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((x, y) => x - y)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const percentile = (sorted: Float64Array, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

type Row =
  | "64 B write/take (msg/s)"
  | "64 B writeAll/takeBatch (msg/s)"
  | "64 KiB (MB/s)"
  | "ping-pong p50 (µs)"
  | "ping-pong p99 (µs)"
const rows: ReadonlyArray<Row> = [
  "64 B write/take (msg/s)",
  "64 B writeAll/takeBatch (msg/s)",
  "64 KiB (MB/s)",
  "ping-pong p50 (µs)",
  "ping-pong p99 (µs)"
]

const round = (l: Listener, kind: Kind) =>
  Effect.gen(function* () {
    const out = new Map<Row, number>()
    // A fresh connection for each measure, so that none inherits another's buffers.
    const fresh = <A>(f: (a: Endpoint, b: Endpoint) => Effect.Effect<A, unknown>) =>
      Effect.scoped(Effect.flatMap(pair(l, kind), ([a, b]) => f(a, b)))
    out.set("64 B write/take (msg/s)", yield* fresh((a, b) => oneByOne(a, b, SMALL, small)))
    out.set("64 B writeAll/takeBatch (msg/s)", yield* fresh((a, b) => batched(a, b, SMALL)))
    out.set("64 KiB (MB/s)", ((yield* fresh((a, b) => oneByOne(a, b, BIG, big))) * big.length) / 1e6)
    const times = yield* fresh((a, b) => pingPong(a, b, PINGS))
    out.set("ping-pong p50 (µs)", percentile(times, 50))
    out.set("ping-pong p99 (µs)", percentile(times, 99))
    return out
  })

const main = Effect.gen(function* () {
  const l = yield* listener
  const results: Record<Kind, Map<Row, Array<number>>> = { stocking: new Map(), socket: new Map() }
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which kind goes first, so that neither always runs on a warmer process.
    for (const kind of r % 2 === 0 ? kinds : [...kinds].reverse()) {
      const out = yield* round(l, kind)
      for (const [row, value] of out) {
        const list = results[kind].get(row) ?? []
        list.push(value)
        results[kind].set(row, list)
      }
    }
  }
  const fmt = (x: number) => (x >= 1000 ? Math.round(x).toLocaleString("en-US") : x.toFixed(1))
  const spread = (xs: ReadonlyArray<number>) => `${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))}`
  console.log(
    `node ${process.version}, ${ROUNDS} rounds; 64 B x ${SMALL}, 64 KiB x ${BIG}, ${PINGS} round trips; ` +
      `median (min-max over rounds); ratio: median of each round's effect/socket / Stocking`
  )
  console.log(
    `${"".padEnd(34)}${"Stocking (node:net)".padStart(34)}${"effect/socket".padStart(34)}${"ratio".padStart(8)}`
  )
  for (const row of rows) {
    const s = results.stocking.get(row) ?? []
    const k = results.socket.get(row) ?? []
    const ratio = median(k.map((x, i) => x / s[i]!))
    const cell = (xs: ReadonlyArray<number>) => `${fmt(median(xs))} (${spread(xs)})`
    console.log(`${row.padEnd(34)}${cell(s).padStart(34)}${cell(k).padStart(34)}${ratio.toFixed(2).padStart(7)}x`)
  }
})

Effect.runPromise(Effect.scoped(main)).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})

/**
 * Fan-in: `clients` connections to one server, each doing `exchanges`
 * request/response exchanges (64 B each way, one request in flight per
 * client), all clients at once. Connections are opened first (in batches);
 * the clock covers the exchanges only. Reported: exchanges per second.
 *
 * - Library: `Server.make({ port: 0 })` with `server.serve` echoing each
 *   connection's `messages` back with `write`; clients are `Stocking.make`
 *   connections looping `write` then `take`.
 * - Baseline: a node:net server and node:net clients with `Sender` and
 *   `Receiver` on every socket.
 */
import { Effect, Stream } from "effect"
import type * as net from "node:net"
import { Backend, Poll, Server, Stocking } from "../src/node.js"
import { closeServer, connect, listen, portOf, Receiver, Sender, SMALL_POOL } from "./baseline.js"
import { check, median, now, type Options, openFileLimit, ratios, round3, type Row } from "./util.js"

const SIZE = 64
const CONNECT_BATCH = 100

interface Measurement {
  readonly seconds: number
  readonly exchanges: number
  /** Seconds spent opening the connections and closing them (not in `seconds`). */
  readonly setup: number
}

export const baselineRound = async (clients: number, exchanges: number): Promise<Measurement> => {
  const start = now()
  const serverSockets: Array<net.Socket> = []
  const server = await listen((socket) => {
    serverSockets.push(socket)
    const sender = new Sender(socket)
    socket.on(
      "data",
      new Receiver((message) => {
        sender.write(message)
      }).push
    )
  })
  const port = portOf(server)
  const request = new Uint8Array(SIZE).fill(5)
  let completed = 0
  let finished = 0
  let finish!: () => void
  const allDone = new Promise<void>((resolve) => (finish = resolve))
  const client = async () => {
    let count = 0
    let sender!: Sender
    const receiver = new Receiver((message) => {
      if (message.length !== SIZE) return
      completed++
      if (++count === exchanges) {
        if (++finished === clients) finish()
      } else {
        sender.write(request)
      }
    })
    const socket = await connect(port, receiver.push, SMALL_POOL)
    sender = new Sender(socket)
    return { socket, sender }
  }
  const opened: Array<{ socket: net.Socket; sender: Sender }> = []
  for (let i = 0; i < clients; i += CONNECT_BATCH) {
    const batch = Math.min(CONNECT_BATCH, clients - i)
    opened.push(...(await Promise.all(Array.from({ length: batch }, client))))
  }
  const sockets = opened.map((o) => o.socket)
  const senders = opened.map((o) => o.sender)
  const t0 = now()
  for (const sender of senders) sender.write(request)
  await allDone
  const t1 = now()
  const closing = [...sockets, ...serverSockets].map(
    (s) => new Promise<void>((resolve) => (s.closed ? resolve() : s.once("close", () => resolve())))
  )
  for (const s of sockets) s.destroy()
  await Promise.all(closing)
  await closeServer(server)
  return { seconds: (t1 - t0) / 1000, exchanges: completed, setup: (now() - start - (t1 - t0)) / 1000 }
}

export const libraryRound = (clients: number, exchanges: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const start = now()
      const server = yield* Server.make({ port: 0, backlog: 4096 })
      yield* server.serve((s) => s.messages.pipe(Stream.runForEach(s.write))).pipe(Effect.forkScoped)
      const port = server.address._tag === "Tcp" ? server.address.port : 0
      const stockings = yield* Effect.forEach(
        Array.from({ length: clients }),
        () => Stocking.make({ host: "127.0.0.1", port }),
        { concurrency: CONNECT_BATCH }
      )
      const request = new Uint8Array(SIZE).fill(5)
      let completed = 0
      const t0 = now()
      yield* Effect.forEach(
        stockings,
        (client) =>
          Effect.gen(function* () {
            for (let i = 0; i < exchanges; i++) {
              yield* client.write(request)
              const reply = yield* client.take
              if (reply.length === SIZE) completed++
            }
          }),
        { concurrency: "unbounded", discard: true }
      )
      const t1 = now()
      yield* Effect.forEach(stockings, (s) => s.close, { concurrency: "unbounded", discard: true })
      return { seconds: (t1 - t0) / 1000, exchanges: completed, setup: (now() - start - (t1 - t0)) / 1000 }
    })
  ).pipe(
    Effect.provideService(Backend.Backend, Poll.backend),
    Effect.timeoutFail({ duration: "120 seconds", onTimeout: () => new Error("library fan-in timed out") })
  )

export const run = async (options: Options): Promise<Array<Row>> => {
  const label = "fan-in"
  if (options.only !== undefined && !options.only.test(label)) return []
  let clients = options.quick ? 200 : 2000
  const exchanges = options.quick ? 20 : 100
  const limit = openFileLimit()
  if (2 * clients + 256 > limit) {
    const lowered = Math.max(10, Math.floor((limit - 256) / 2))
    options.log(
      `  note: ulimit -n is ${limit}: ${clients} clients need ${2 * clients + 256} descriptors; using ${lowered}`
    )
    clients = lowered
  }
  // Warm-up, not counted; it also gives the first estimate of a round's cost for the
  // time budget. Twice: the first pass pays for JIT compilation.
  const warmClients = Math.min(options.quick ? 50 : 200, clients)
  const warmExchanges = 20
  let warmBase: Measurement | undefined
  let warmLib!: Measurement
  for (let i = 0; i < (options.quick ? 1 : 2); i++) {
    warmBase = options.libraryOnly ? undefined : await baselineRound(warmClients, warmExchanges)
    warmLib = await Effect.runPromise(libraryRound(warmClients, warmExchanges))
  }
  const rate = (m: Measurement | undefined) => (m === undefined ? NaN : m.exchanges / m.seconds)
  options.log(
    `  warm-up (${warmClients} clients x ${warmExchanges}): lib ${rate(warmLib).toFixed(0)}, base ${rate(
      warmBase
    ).toFixed(0)} exchanges/s`
  )

  // The time budget. The fan-in is by far the longest measurement (the library did
  // ~5k exchanges/s here: 2,000 x 100 is ~40 s a round, ~150 s for three pairs of
  // rounds), and the last in the run. Before each pair of rounds, the cost of the
  // pairs still to do is estimated (from the warm-up, then from the rounds done);
  // if they would overrun the budget, fewer exchanges per client are done from
  // then on, with a note. Both sides of a pair always do the same number.
  // The short warm-up rounds cost more per exchange than long ones (library
  // 3.7k/s warm-up vs 5.3k/s for 2,000 x 100 here): CALIBRATION allows for that.
  const CALIBRATION = 0.8
  const SAFETY = 0.95
  // Seconds per exchange (all clients together), and per client for connect + close.
  const perExchange = (m: Measurement | undefined, scale: number) =>
    m === undefined ? 0 : (scale * m.seconds) / m.exchanges
  const perClientSetup = (m: Measurement | undefined, n: number) => (m === undefined ? 0 : m.setup / n)
  const baseline: Array<Measurement> = []
  const library: Array<Measurement> = []
  const used: Array<number> = []
  let perRound = exchanges
  for (let round = 0; round < options.rounds; round++) {
    const [exchangeCost, setupCost] =
      round === 0
        ? [
            perExchange(warmLib, CALIBRATION) + perExchange(warmBase, CALIBRATION),
            perClientSetup(warmLib, warmClients) + perClientSetup(warmBase, warmClients)
          ]
        : [
            median(library.map((m) => perExchange(m, 1))) + (median(baseline.map((m) => perExchange(m, 1))) || 0),
            median(library.map((m) => perClientSetup(m, clients))) +
              (median(baseline.map((m) => perClientSetup(m, clients))) || 0)
          ]
    const left = options.rounds - round
    const remaining = (SAFETY * (options.deadline - now())) / 1000
    const projected = left * clients * (setupCost + exchangeCost * perRound)
    if (projected > remaining) {
      const fitting = Math.max(10, Math.floor((remaining / (left * clients) - setupCost) / exchangeCost))
      if (fitting < perRound) {
        options.log(
          `  note: ${left} more pair(s) of rounds at ${perRound} exchanges per client projected at ` +
            `${projected.toFixed(0)} s, ${remaining.toFixed(0)} s left in the time budget: ` +
            `doing ${fitting} exchanges per client`
        )
        perRound = fitting
      }
    } else if (round === 0) {
      options.log(`  projected ${projected.toFixed(0)} s of ${remaining.toFixed(0)} s left in the time budget`)
    }
    if (!options.libraryOnly) baseline.push(await baselineRound(clients, perRound))
    library.push(await Effect.runPromise(libraryRound(clients, perRound)))
    used.push(perRound)
  }
  const perClient = used.every((n) => n === used[0]) ? `${used[0]}` : used.join("/")
  options.log(`  ${label} ${clients} clients x ${perClient}: ${options.rounds} rounds done`)
  for (let i = 0; i < used.length; i++) {
    for (const m of [baseline[i], library[i]]) {
      if (m === undefined) continue
      const total = clients * used[i]!
      check(m.exchanges === total && m.seconds > 0, `${label}: ${m.exchanges} of ${total} exchanges completed`)
    }
  }
  const lib = library.map((m) => m.exchanges / m.seconds)
  const base = baseline.map((m) => m.exchanges / m.seconds)
  const row: Row = {
    name: `fan-in ${perClient} exchanges per client`,
    size: clients,
    value: round3(median(lib)),
    unit: "exchanges/s",
    baseline: round3(median(base)),
    ratio: round3(median(ratios(lib, base))),
    better: "higher",
    note: `rounds lib ${library.map((m) => (m.seconds * 1000).toFixed(0)).join("/")} ms, base ${baseline
      .map((m) => (m.seconds * 1000).toFixed(0))
      .join("/")} ms; connect + close lib ${median(library.map((m) => m.setup)).toFixed(1)} s, base ${median(
      baseline.map((m) => m.setup)
    ).toFixed(1)} s`
  }
  options.log(`    lib ${row.value} exchanges/s, base ${row.baseline}, ratio ${row.ratio}`)
  return [row]
}

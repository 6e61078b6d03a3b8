/**
 * Accepting: `clients` connections opened all at once by a separate process
 * (bench/accept-clients.ts), each sending one 64 B message and waiting for
 * its echo. Measured in this process, the server's: connections served per
 * second (all of them over the time from the first connect to the last
 * echo), the 90th percentile of a client's time from `connect` to its echo,
 * CPU time per connection (user + system, from `process.cpuUsage`, over the
 * same span), and memory per idle connection once all are open (RSS and V8
 * heap growth after full collections, divided by `clients`).
 *
 * - Library: `Server.make({ port: 0 })` (default backlog) with `serve`
 *   echoing each connection's `messages` back with `write`.
 * - Baseline: a node:net server with the same backlog, echoing with
 *   `Receiver` and `Sender` on every socket.
 */
import { Effect, Stream } from "effect"
import { fork, type ChildProcess } from "node:child_process"
import type * as net from "node:net"
import { fileURLToPath } from "node:url"
import { Backend, Poll, Server } from "../src/node.js"
import { DEFAULT_BACKLOG } from "../src/internal/server.js"
import type { Report } from "./accept-clients.js"
import { closeServer, listen, portOf, Receiver, Sender } from "./baseline.js"
import {
  check,
  heapUsed,
  median,
  type Options,
  openFileLimit,
  percentile,
  ratios,
  round3,
  type Row,
  settledRss
} from "./util.js"

export interface Measurement {
  readonly report: Report
  /** Server CPU time per connection, µs. */
  readonly cpu: number
  /** Server RSS and heap growth per idle connection, bytes. */
  readonly rss: number
  readonly heap: number
}

const TIMEOUT = 60_000

export const clientProcess = (): ChildProcess =>
  fork(fileURLToPath(new URL("./accept-clients.js", import.meta.url)), [], {
    stdio: ["ignore", "inherit", "inherit", "ipc"]
  })

export const ask = <A>(child: ChildProcess, message: unknown): Promise<A> =>
  new Promise((resolve) => {
    child.once("message", (reply) => resolve(reply as A))
    child.send(message as never)
  })

/** One round against a server listening on `port`; `open` counts the server's open connections. */
export const measure = async (child: ChildProcess, port: number, clients: number, open: () => number) => {
  const rss0 = await settledRss()
  const heap0 = heapUsed()
  const cpu0 = process.cpuUsage()
  const report = await ask<Report>(child, { port, clients, timeout: TIMEOUT })
  const cpu = process.cpuUsage(cpu0)
  const rss1 = await settledRss()
  const result: Measurement = {
    report,
    cpu: (cpu.user + cpu.system) / clients,
    rss: (rss1 - rss0) / clients,
    heap: (heapUsed() - heap0) / clients
  }
  await ask(child, "close")
  const deadline = Date.now() + 30_000
  while (open() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  check(open() === 0, `accept: ${open()} server connections still open after the clients closed`)
  return result
}

export const baselineRound = async (child: ChildProcess, clients: number): Promise<Measurement> => {
  let open = 0
  const server = await listen((socket: net.Socket) => {
    open++
    socket.on("close", () => open--)
    const sender = new Sender(socket)
    socket.on("data", new Receiver((message) => sender.write(message)).push)
  }, DEFAULT_BACKLOG)
  const result = await measure(child, portOf(server), clients, () => open)
  await closeServer(server)
  return result
}

export const libraryRound = (child: ChildProcess, clients: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const server = yield* Server.make({ port: 0 })
      let open = 0
      yield* server
        .serve((s) =>
          Effect.suspend(() => {
            open++
            return s.messages.pipe(Stream.runForEach(s.write), Effect.ensuring(Effect.sync(() => open--)))
          })
        )
        .pipe(Effect.forkScoped)
      const port = server.address._tag === "Tcp" ? server.address.port : 0
      return yield* Effect.promise(() => measure(child, port, clients, () => open))
    })
  ).pipe(Effect.provideService(Backend.Backend, Poll.backend))

export const run = async (options: Options): Promise<Array<Row>> => {
  const label = "accept"
  if (options.only !== undefined && !options.only.test(label)) return []
  let clients = options.quick ? 300 : 2000
  const limit = openFileLimit()
  if (clients + 256 > limit) {
    const lowered = Math.max(10, limit - 256)
    options.log(`  note: ulimit -n is ${limit}: ${clients} clients need ${clients + 256} descriptors; using ${lowered}`)
    clients = lowered
  }
  const child = clientProcess()
  try {
    // Warm-up, not counted: the first pass pays for JIT compilation on both sides.
    const warm = Math.min(clients, 300)
    if (!options.libraryOnly) await baselineRound(child, warm)
    await Effect.runPromise(libraryRound(child, warm))
    const baseline: Array<Measurement> = []
    const library: Array<Measurement> = []
    for (let round = 0; round < options.rounds; round++) {
      if (!options.libraryOnly) baseline.push(await baselineRound(child, clients))
      library.push(await Effect.runPromise(libraryRound(child, clients)))
    }
    options.log(`  ${label} ${clients} at once: ${options.rounds} rounds done`)
    for (const m of [...baseline, ...library]) {
      check(m.report.failed === 0, `${label}: ${m.report.failed} of ${clients} clients never served`)
    }
    const rate = (m: Measurement) => (1000 * m.report.served.length) / m.report.wall
    const p90 = (m: Measurement) => percentile(m.report.served, 90)
    const connectP90 = (m: Measurement) => percentile(m.report.connected, 90)
    const ms = (values: ReadonlyArray<number>) => values.map((v) => v.toFixed(0)).join("/")
    const row = (
      name: string,
      unit: string,
      better: "higher" | "lower",
      figure: (m: Measurement) => number,
      note?: string
    ): Row => {
      const lib = library.map(figure)
      const base = baseline.map(figure)
      return {
        name: `${label} ${name}`,
        size: clients,
        value: round3(median(lib)),
        unit,
        baseline: round3(median(base)),
        ratio: round3(median(ratios(lib, base))),
        better,
        ...(note === undefined ? {} : { note })
      }
    }
    const rows = [
      row(
        "connections served",
        "conns/s",
        "higher",
        rate,
        `walls lib ${ms(library.map((m) => m.report.wall))} ms, base ${ms(baseline.map((m) => m.report.wall))} ms`
      ),
      row(
        "p90 connect to echo",
        "ms",
        "lower",
        p90,
        `p90 TCP connect lib ${ms(library.map(connectP90))} ms, base ${ms(baseline.map(connectP90))} ms; ` +
          `max to echo lib ${ms(library.map((m) => m.report.served.at(-1) ?? NaN))} ms, base ${ms(
            baseline.map((m) => m.report.served.at(-1) ?? NaN)
          )} ms`
      ),
      row("server CPU", "µs/conn", "lower", (m) => m.cpu),
      row("server idle RSS", "KiB/conn", "lower", (m) => m.rss / 1024),
      row("server idle heap", "KiB/conn", "lower", (m) => m.heap / 1024)
    ]
    for (const r of rows) options.log(`    ${r.name}: lib ${r.value} ${r.unit}, base ${r.baseline}, ratio ${r.ratio}`)
    return rows
  } finally {
    child.kill()
  }
}

/**
 * Where the server's CPU goes per accepted connection: the accept bench's
 * library echo server (bench/accept.ts: `Server.make` + `serve` echoing
 * `messages` with `write`, clients from a separate process), with V8's
 * sampling profiler running only while the clients connect and are served
 * (not while memory settles, nor while they close).
 *
 *   npx tsc -p tsconfig.bench.json
 *   node .bench-build/bench/accept-profile.js [--clients 2000] [--rounds 3] [--out /tmp/accept.cpuprofile] [--baseline]
 *   node .bench-build/bench/profile-summary.js /tmp/accept.*.cpuprofile 40
 *
 * `--baseline` profiles the bare node:net echo server instead, for comparison.
 */
import { Effect, Stream } from "effect"
import * as fs from "node:fs"
import * as inspector from "node:inspector/promises"
import type * as net from "node:net"
import { Backend, Poll, Server } from "../src/node.js"
import { DEFAULT_BACKLOG } from "../src/internal/server.js"
import type { Report } from "./accept-clients.js"
import { ask, clientProcess } from "./accept.js"
import { closeServer, listen, portOf, Receiver, Sender } from "./baseline.js"

const args = process.argv.slice(2)
const value = (name: string): string | undefined => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const clients = Number(value("--clients") ?? 2000)
const rounds = Number(value("--rounds") ?? 3)
const out = value("--out") ?? "/tmp/accept.cpuprofile"
const baseline = args.includes("--baseline")

const session = new inspector.Session()
session.connect()
await session.post("Profiler.enable")
await session.post("Profiler.setSamplingInterval", { interval: 100 })

const child = clientProcess()
let cpuMicros = 0
let profiled = 0

/** One round against `port`: profiled from the first connect to the last echo. */
const serveRound = async (port: number, profile: boolean, open: () => number): Promise<void> => {
  if (profile) await session.post("Profiler.start")
  const cpu0 = process.cpuUsage()
  const report = await ask<Report>(child, { port, clients, timeout: 60_000 })
  const cpu = process.cpuUsage(cpu0)
  if (profile) {
    const { profile: taken } = await session.post("Profiler.stop")
    // One file per profiled round: /tmp/accept.1.cpuprofile, /tmp/accept.2.cpuprofile, ...
    fs.writeFileSync(out.replace(/\.cpuprofile$/, `.${++profiled}.cpuprofile`), JSON.stringify(taken))
    cpuMicros += cpu.user + cpu.system
  }
  console.log(
    `  ${report.served.length} served in ${report.wall.toFixed(0)} ms, ${((cpu.user + cpu.system) / clients).toFixed(0)} µs CPU/conn`
  )
  await ask(child, "close")
  while (open() > 0) await new Promise((resolve) => setTimeout(resolve, 10))
}

const libraryRound = (profile: boolean) =>
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
      yield* Effect.promise(() => serveRound(server.port, profile, () => open))
    })
  ).pipe(Effect.provideService(Backend.Backend, Poll.backend))

const baselineRound = async (profile: boolean): Promise<void> => {
  let open = 0
  const server = await listen((socket: net.Socket) => {
    open++
    socket.on("close", () => open--)
    const sender = new Sender(socket)
    socket.on("data", new Receiver((message) => sender.write(message)).push)
  }, DEFAULT_BACKLOG)
  await serveRound(portOf(server), profile, () => open)
  await closeServer(server)
}

try {
  // One unprofiled round first: the JIT's warm-up.
  for (let round = 0; round <= rounds; round++) {
    if (baseline) await baselineRound(round > 0)
    else await Effect.runPromise(libraryRound(round > 0))
  }
  console.log(
    `${baseline ? "baseline" : "library"}: ${(cpuMicros / (clients * rounds)).toFixed(0)} µs CPU/conn profiled`
  )
} finally {
  child.kill()
  session.disconnect()
}

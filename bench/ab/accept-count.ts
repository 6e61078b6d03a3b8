/**
 * The server's work per accepted connection, for instruction counts under
 * callgrind (bench/ab/count.sh with SCRIPT=accept-count.js): a build's
 * `Server.make` + `serve`, each handler echoing `messages` with
 * `Stream.runForEach(write)` as bench/accept.ts does, and plain node:net
 * clients in this same process, `BATCH` at a time, each sending one 64 B
 * message, waiting for its echo, then closing. A warm-up of 2 x 300
 * connections (`--warm R`: R x 300), then `--count N` connections between the two marks (see
 * bench/ab/ab.ts). The clients' own work is in the count too, the same for
 * every build: compare builds, not absolute figures.
 *
 *   node .bench-build/bench/ab/accept-count.js --count 2000 .ab/5761d3c/out
 *   node .bench-build/bench/ab/accept-count.js --count 2000 --baseline
 *
 * `--baseline` serves with the bare node:net echo server of bench/accept.ts.
 * `--handler forEach` echoes with `forEach(write)` instead (no Stream run, so
 * no scope, fiber or Channel per connection of the handler's own), to tell
 * the handler's share from the server's.
 *
 * `--memory` takes TCP out: each client is an in-memory duplex pair
 * (`pair.ts`), one end handed to the listening server as an accepted socket
 * (its 'connection' event), the other the client's. The client writes its
 * message on the next turn (over TCP too the first bytes come after the
 * server has taken the connection), ends its side once the echo is in, and
 * is done when the server's end has closed. Over TCP how many connections come in one event-loop turn
 * depends on timing, and with it the work per connection (the counts of two
 * runs of one build differ by up to 40%); in memory every run takes the same
 * steps. The bare server there ends its side when the client's ends, as
 * Node does for a TCP server without `allowHalfOpen`.
 *
 * `--open` keeps the counted clients open until all of them are served,
 * and closes them after the count, as bench/accept.ts measures: accepting
 * and serving, not closing.
 */
import { Effect, Stream } from "effect"
import * as net from "node:net"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import type * as Lib from "../../src/node.js"
import { encode } from "../../src/internal/framing.js"
import { closeServer, listen, portOf, Receiver, Sender } from "../baseline.js"
import { memoryPair } from "./pair.js"

type Library = typeof Lib

const args = process.argv.slice(2)
const value = (name: string): string | undefined => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const count = Number(value("--count") ?? 2000)
const baseline = args.includes("--baseline")
const handler = value("--handler") ?? "messages"
const inMemory = args.includes("--memory")
const keepOpen = args.includes("--open")
const warm = Number(value("--warm") ?? 2)
// The build directory: the argument that is neither a flag nor a flag's value (`--count N`, `--size B`).
const withValue = new Set(["--count", "--size", "--handler", "--warm"])
const dir = args.find((a, i) => !a.startsWith("--") && !withValue.has(args[i - 1]!))

/** Library handlers running (the baseline has none). */
let handlers = 0

/** Clients in flight at once. */
const BATCH = 50

const REQUEST = encode(new Uint8Array(64).fill(7))

/**
 * A client served: its message echoed. `close` ends it, and completes once
 * it is closed (in memory: once the server's end has closed).
 */
interface Served {
  readonly close: () => Promise<void>
}

/** One client: connect, send one message, wait for the whole echo. */
const client = (port: number): Promise<Served> =>
  new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: "127.0.0.1", noDelay: true })
    let got = 0
    const closed = new Promise<void>((done) => socket.on("close", () => done()))
    socket.on("connect", () => socket.write(REQUEST))
    socket.on("data", (chunk: Buffer) => {
      got += chunk.length
      if (got >= REQUEST.length) resolve({ close: () => (socket.destroy(), closed) })
    })
    socket.on("close", () => (got >= REQUEST.length ? undefined : reject(new Error("no echo"))))
    socket.on("error", reject)
  })

/** The listening servers, as they start listening: `--memory` hands them its accepted ends. */
const listening: Array<net.Server> = []
const listenAt = net.Server.prototype.listen
net.Server.prototype.listen = function (this: net.Server, ...rest: Array<unknown>) {
  listening.push(this)
  return (listenAt as (...a: Array<unknown>) => net.Server).apply(this, rest)
}

/** One in-memory client: the server gets the other end as accepted. */
const memoryClient = (): Promise<Served> =>
  new Promise((resolve, reject) => {
    const [own, accepted] = memoryPair()
    let got = 0
    const closed = new Promise<void>((done) => accepted.on("close", () => done()))
    own.on("data", (chunk: Buffer) => {
      got += chunk.length
      if (got >= REQUEST.length) resolve({ close: () => (own.end(), closed) })
    })
    own.on("error", reject)
    listening.at(-1)!.emit("connection", accepted)
    // On a later turn, as a TCP client's first bytes come after the server has taken the connection.
    setImmediate(() => own.write(REQUEST))
  })

/**
 * `n` clients, `BATCH` at a time. Each closes once served, or, with
 * `keepOpen`, once all `n` are served and `close` is called.
 */
const clients = async (port: number, n: number, keepOpen = false): Promise<() => Promise<void>> => {
  const open: Array<Served> = []
  for (let i = 0; i < n; i += BATCH) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(BATCH, n - i) }, () => (inMemory ? memoryClient() : client(port)))
    )
    if (keepOpen) open.push(...batch)
    else await Promise.all(batch.map((c) => c.close()))
  }
  return async () => {
    await Promise.all(open.map((c) => c.close()))
  }
}

const rounds = async (port: number): Promise<void> => {
  for (let i = 0; i < warm; i++) await (await clients(port, 300, keepOpen))()
  // What the warm-up's closes leave running (a server releases a connection after its socket has closed,
  // and Effect's scheduler falls back to timers after long runs of microtasks) finishes before the count
  // starts: every handler has returned, then 3 s more (under callgrind everything runs some fifty times
  // slower), then a few turns.
  while (handlers > 0) await new Promise((resolve) => setTimeout(resolve, 10))
  await new Promise((resolve) => setTimeout(resolve, 3000))
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve))
  process.resourceUsage()
  const close = await clients(port, count, keepOpen)
  process.memoryUsage.rss()
  await close()
}

if (baseline) {
  const server = await listen((socket: net.Socket) => {
    const sender = new Sender(socket)
    socket.on("data", new Receiver((message) => sender.write(message)).push)
    if (inMemory) socket.on("end", () => socket.end())
  })
  await rounds(portOf(server))
  await closeServer(server)
} else {
  if (dir === undefined) {
    console.error("usage: accept-count.js --count N (BUILD_DIR | --baseline)")
    process.exit(2)
  }
  const lib = (await import(pathToFileURL(path.resolve(dir, "node.js")).href)) as Library
  await Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* lib.Server.make({ port: 0 })
        yield* server
          .serve((s) =>
            Effect.suspend(() => {
              handlers++
              return (handler === "forEach" ? s.forEach(s.write) : s.messages.pipe(Stream.runForEach(s.write))).pipe(
                Effect.ensuring(Effect.sync(() => handlers--))
              )
            })
          )
          .pipe(Effect.forkScoped)
        yield* Effect.promise(() => rounds(server.port))
      })
    ).pipe(Effect.provideService(lib.Backend.Backend, lib.Poll.backend))
  )
}
console.log(`counted ${baseline ? "baseline" : dir} ${count} connections`)

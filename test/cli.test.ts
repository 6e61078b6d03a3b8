/**
 * The `stocking` command line, run for real as a child process
 * (`vite-node src/bin/stocking.ts -- ARGS`) against servers started here.
 * Every wait is for a line the CLI prints (never a sleep).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Queue, Runtime, Stream } from "effect"
import type { Scope } from "effect"
import * as fc from "fast-check"
import { spawn } from "node:child_process"
import type { ChildProcessWithoutNullStreams } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { Framing } from "../src/index.js"
import { makeCerts } from "./utils/certs.js"
import { Server, Stocking } from "../src/node.js"
import { escapeText } from "../src/bin/output.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const viteNode = path.join(root, "node_modules", ".bin", "vite-node")
// Generous: every CLI is a vite-node process, which takes seconds to start on a busy machine.
const WAIT = "60 seconds"

interface Result {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly lines: ReadonlyArray<string>
}

/** A running `stocking` process: its stdout lines as they come, its stdin, and its exit. */
class Cli {
  readonly lines: Array<string> = []
  stderr = ""
  private partial = ""
  private closed = false
  private waiters: Array<() => void> = []
  readonly exited: Promise<Result>

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding("utf8")
    child.stderr.setEncoding("utf8")
    child.stdout.on("data", (data: string) => {
      const parts = (this.partial + data).split("\n")
      this.partial = parts.pop()!
      this.lines.push(...parts)
      this.wake()
    })
    child.stderr.on("data", (data: string) => (this.stderr += data))
    this.exited = new Promise((resolve) =>
      child.on("close", (code) => {
        if (this.partial !== "") this.lines.push(this.partial)
        this.closed = true
        this.wake()
        resolve({ code, stdout: this.lines.join("\n"), stderr: this.stderr, lines: [...this.lines] })
      })
    )
  }

  private wake(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const waiter of waiters) waiter()
  }

  /** Waits for a stdout line matching `pattern` and returns its match. */
  line(pattern: RegExp): Effect.Effect<RegExpMatchArray, Error> {
    const find = () => {
      for (const line of this.lines) {
        const match = line.match(pattern)
        if (match !== null) return match
      }
      return undefined
    }
    const missing = (why: string) =>
      new Error(`no line matching ${pattern} (${why}) in:\n${this.lines.join("\n")}\nstderr:\n${this.stderr}`)
    return Effect.async<RegExpMatchArray, Error>((resume) => {
      const check = () => {
        const match = find()
        if (match !== undefined) resume(Effect.succeed(match))
        else if (this.closed) resume(Effect.fail(missing("the process exited")))
        else this.waiters.push(check)
      }
      check()
    }).pipe(Effect.timeoutFail({ duration: WAIT, onTimeout: () => missing(`waited ${WAIT}`) }))
  }

  /**
   * Sends the process a signal. Not `child.kill(signal)`: under Deno, a child
   * signalled that way is reported as killed by the signal (code null) even
   * when it handles the signal and exits with a code of its own.
   */
  signal(signal: NodeJS.Signals): void {
    process.kill(this.child.pid!, signal)
  }

  get exit(): Effect.Effect<Result> {
    return Effect.promise(() => this.exited)
  }
}

const spawnCli = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  new Cli(spawn(viteNode, ["src/bin/stocking.ts", "--", ...args], { cwd: root, env: { ...process.env, ...env } }))

/** Starts the CLI in the scope; it is killed with the scope if it is still running. */
const startCli = (args: ReadonlyArray<string>, env?: Record<string, string>): Effect.Effect<Cli, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => spawnCli(args, env)),
    (cli) => Effect.sync(() => cli.child.exitCode === null && cli.child.kill("SIGKILL"))
  )

/** Runs the CLI to its end with `input` on stdin (then end of input). */
const runCli = (args: ReadonlyArray<string>, options: { input?: string; env?: Record<string, string> } = {}) =>
  Effect.scoped(
    Effect.gen(function* () {
      const cli = yield* startCli(args, options.env)
      // A CLI that fails before reading all of its input closes its stdin: not the test's error.
      cli.child.stdin.on("error", () => {})
      cli.child.stdin.end(options.input ?? "")
      return yield* cli.exit.pipe(
        Effect.timeoutFail({ duration: WAIT, onTimeout: () => new Error(`stocking ${args.join(" ")} did not exit`) })
      )
    })
  )

/** One `stocking: ...` line, and no stack trace. */
const assertOneErrorLine = (result: Result, pattern: RegExp) => {
  const lines = result.stderr.split("\n").filter((line) => line !== "")
  assert.strictEqual(lines.length, 1, result.stderr)
  assert.match(lines[0]!, pattern, result.stderr)
  assert.notMatch(result.stderr, /^\s+at /m)
}

const tcpPort = (server: Server.Server) => (server.address._tag === "Tcp" ? server.address.port : 0)

/** A library server on port 0 that hands every message it receives to a queue (and echoes it with `echo`). */
const recordingServer = (options: { readonly echo: boolean }) =>
  Effect.gen(function* () {
    const received = yield* Queue.unbounded<Framing.Message>()
    const server = yield* Server.make({ port: 0 })
    yield* Effect.forkScoped(
      server.serve((stocking) =>
        stocking.messages.pipe(
          Stream.runForEach((message) =>
            Effect.zipRight(Queue.offer(received, message), options.echo ? stocking.write(message) : Effect.void)
          )
        )
      )
    )
    return { port: tcpPort(server), received }
  })

const takeN = <A>(queue: Queue.Queue<A>, n: number) =>
  Effect.forEach(Array.from({ length: n }), () => Queue.take(queue)).pipe(
    Effect.timeoutFail({ duration: WAIT, onTimeout: () => new Error(`fewer than ${n} messages arrived`) })
  )

/** A port nothing listens on. */
const closedPort = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as net.AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "stocking-cli-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

/** The CA, certificate and key as files, for the CLI's --ca / --cert / --key. */
const certs = Effect.map(makeCerts, ({ caPath, certPath, keyPath }) => ({ ca: caPath, cert: certPath, key: keyPath }))

const LISTENING = /^listening on 127\.0\.0\.1:(\d+)( \(TLS\))?$/

describe("stocking CLI", { timeout: 120_000 }, () => {
  it.live("--help prints usage and exits 0, at the top level and for every command", () =>
    Effect.gen(function* () {
      const [top, serve, connect, send] = yield* Effect.all(
        [runCli(["--help"]), runCli(["serve", "--help"]), runCli(["connect", "-h"]), runCli(["send", "--help"])],
        { concurrency: "unbounded" }
      )
      for (const result of [top, serve, connect, send]) {
        assert.strictEqual(result.code, 0, result.stderr)
        assert.strictEqual(result.stderr, "")
      }
      assert.match(top.stdout, /^Usage: stocking <command> \[options\]/)
      assert.include(top.stdout, "serve")
      assert.match(serve.stdout, /^Usage: stocking serve \[--port N \| --path P\]/)
      assert.match(connect.stdout, /^Usage: stocking connect HOST:PORT/)
      assert.include(connect.stdout, "--linger SECONDS")
      assert.match(send.stdout, /^Usage: stocking send HOST:PORT MESSAGE\.\.\./)
    })
  )

  it.live("bad usage exits 2 with one line on stderr", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [Array<string>, RegExp]> = [
        [[], /^stocking: expected a command/],
        [["serve", "--bogus"], /^stocking: unknown option '--bogus' \(see `stocking serve --help`\)$/],
        [["serve", "--tls"], /needs --cert FILE and --key FILE/],
        [["connect", "localhost"], /expected HOST:PORT, not "localhost"/],
        [["send", "127.0.0.1:70000", "x"], /the port must be a whole number from 1 to 65535/],
        [["connect", "127.0.0.1:7000", "--backend", "epoll"], /--backend must be poll, select or auto/],
        // A negative number after an option is its value, and is judged as one (not "ambiguous").
        [["serve", "--port", "-1"], /^stocking: --port must be a whole number from 0 to 65535, not "-1"/],
        [["serve", "--port", "99999"], /^stocking: --port must be a whole number from 0 to 65535, not "99999"/],
        [["connect", "127.0.0.1:7000", "--linger", "-1"], /^stocking: --linger must be a number of seconds, 0 or more/],
        [["send", "127.0.0.1:7000", "x", "--max-message-size", "-5"], /^stocking: --max-message-size must be a whole/]
      ]
      const results = yield* Effect.forEach(cases, ([args]) => runCli(args), { concurrency: "unbounded" })
      results.forEach((result, i) => {
        assert.strictEqual(result.code, 2, `${cases[i]![0].join(" ")}: ${result.stderr}`)
        assertOneErrorLine(result, cases[i]![1])
        assert.strictEqual(result.stdout, "")
      })
    })
  )

  it.live("a refused connection: one line on stderr, exit 1, no stack trace (and an error event with --json)", () =>
    Effect.gen(function* () {
      const port = yield* closedPort
      const [connect, send] = yield* Effect.all(
        [runCli(["connect", `127.0.0.1:${port}`]), runCli(["send", `127.0.0.1:${port}`, "hi", "--json"])],
        { concurrency: "unbounded" }
      )
      assert.strictEqual(connect.code, 1)
      assertOneErrorLine(connect, new RegExp(`^stocking: could not connect to 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`))
      assert.strictEqual(connect.stdout, "")
      assert.strictEqual(send.code, 1)
      assertOneErrorLine(send, /ECONNREFUSED/)
      const event = JSON.parse(send.lines[0]!)
      assert.strictEqual(event.event, "error")
      assert.match(event.message, /^could not connect to 127\.0\.0\.1:\d+: .*ECONNREFUSED/)
    })
  )

  it.scopedLive("serve prints text and bytes with the peer, echoes with --echo, and exits 0 on SIGINT", () =>
    Effect.gen(function* () {
      const serve = yield* startCli(["serve", "--port", "0", "--echo"])
      const port = Number((yield* serve.line(LISTENING))[1])
      assert.isAbove(port, 0)

      const client = yield* Stocking.make({ host: "127.0.0.1", port })
      const peer = `127.0.0.1:${(client.socket as net.Socket).localPort}`
      yield* serve.line(new RegExp(`^${peer} connected$`))
      yield* client.writeAll(["hello there", Uint8Array.of(1, 2, 255), ""])
      assert.strictEqual(yield* client.take, "hello there")
      assert.deepStrictEqual([...((yield* client.take) as Uint8Array)], [1, 2, 255])
      assert.strictEqual(yield* client.take, "")
      yield* client.close
      yield* serve.line(new RegExp(`^${peer} disconnected$`))

      serve.signal("SIGINT")
      const result = yield* serve.exit
      assert.strictEqual(result.code, 0, result.stderr)
      assert.deepStrictEqual(result.lines, [
        `listening on 127.0.0.1:${port}`,
        `${peer} connected`,
        `${peer} text: hello there`,
        `${peer} bytes: 0102ff`,
        `${peer} text: `,
        `${peer} disconnected`
      ])
    })
  )

  it.scopedLive("connect sends each stdin line, prints the replies, and exits 0 at the end of input", () =>
    Effect.gen(function* () {
      const { port, received } = yield* recordingServer({ echo: true })
      const peer = `127.0.0.1:${port}`
      const [text, bytes] = yield* Effect.all(
        [
          runCli(["connect", peer], { input: "one\ntwo words\n\nthree\n" }),
          runCli(["connect", peer, "--bytes"], { input: "0102ff\n00 01\n" })
        ],
        { concurrency: "unbounded" }
      )
      assert.strictEqual(text.code, 0, text.stderr)
      assert.strictEqual(text.stderr, "")
      assert.deepStrictEqual(text.lines, [
        `${peer} text: one`,
        `${peer} text: two words`,
        `${peer} text: `,
        `${peer} text: three`
      ])
      assert.strictEqual(bytes.code, 0, bytes.stderr)
      assert.deepStrictEqual(bytes.lines, [`${peer} bytes: 0102ff`, `${peer} bytes: 0001`])

      const all = yield* takeN(received, 6)
      const texts = all.filter((m) => typeof m === "string")
      const binary = all.filter((m) => typeof m !== "string").map((m) => Buffer.from(m).toString("hex"))
      assert.deepStrictEqual(texts, ["one", "two words", "", "three"])
      assert.deepStrictEqual(binary, ["0102ff", "0001"])
    })
  )

  it.scopedLive("connect: the peer closing before the end of input is an error (exit 1, one line)", () =>
    Effect.gen(function* () {
      const server = yield* Server.make({ port: 0 })
      // Says goodbye and hangs up as soon as a client connects.
      yield* Effect.forkScoped(server.serve((stocking) => stocking.write("bye")))
      const connect = yield* startCli(["connect", `127.0.0.1:${tcpPort(server)}`])
      // stdin stays open: the input has not ended when the peer leaves.
      const result = yield* connect.exit
      assert.strictEqual(result.code, 1)
      assert.deepStrictEqual(result.lines, [`127.0.0.1:${tcpPort(server)} text: bye`])
      assertOneErrorLine(result, /^stocking: connection to 127\.0\.0\.1:\d+ closed by the peer$/)
    })
  )

  it.scopedLive("send sends each argument as a message and exits 0 once flushed", () =>
    Effect.gen(function* () {
      const { port, received } = yield* recordingServer({ echo: true })
      const text = yield* runCli(["send", `127.0.0.1:${port}`, "first", "second message"])
      assert.strictEqual(text.code, 0, text.stderr)
      assert.strictEqual(text.stdout + text.stderr, "")
      assert.deepStrictEqual(yield* takeN(received, 2), ["first", "second message"])

      const bytes = yield* runCli(["send", `localhost:${port}`, "--bytes", "00ff", "de ad"])
      assert.strictEqual(bytes.code, 0, bytes.stderr)
      const [a, b] = yield* takeN(received, 2)
      assert.deepStrictEqual([...(a as Uint8Array)], [0, 255])
      assert.deepStrictEqual([...(b as Uint8Array)], [0xde, 0xad])
    })
  )

  it.scopedLive("--json: one JSON object per line from serve, connect and send", () =>
    Effect.gen(function* () {
      const serve = yield* startCli(["serve", "--json", "--echo", "--bytes-as", "base64"])
      const listening = JSON.parse((yield* serve.line(/^\{"event":"listening".*\}$/))[0]!)
      assert.deepStrictEqual(listening, { event: "listening", host: "127.0.0.1", port: listening.port, tls: false })
      const address = `127.0.0.1:${listening.port}`

      const [connect, send] = yield* Effect.all(
        [
          runCli(["connect", address, "--json", "--bytes"], { input: "0102\n" }),
          runCli(["send", address, "--json", "hi"])
        ],
        { concurrency: "unbounded" }
      )
      assert.strictEqual(connect.code, 0, connect.stderr)
      assert.deepStrictEqual(
        connect.lines.map((line) => JSON.parse(line)),
        [
          { event: "connected", peer: address },
          { event: "message", peer: address, kind: "bytes", hex: "0102" },
          { event: "disconnected", peer: address, reason: "ClosedLocally" }
        ]
      )
      assert.strictEqual(send.code, 0, send.stderr)
      assert.deepStrictEqual(
        send.lines.map((line) => JSON.parse(line)),
        [
          { event: "connected", peer: address },
          { event: "sent", peer: address, messages: 1 }
        ]
      )

      yield* serve.line(/"kind":"text"/)
      yield* serve.line(/"kind":"bytes"/)
      serve.signal("SIGTERM")
      const result = yield* serve.exit
      assert.strictEqual(result.code, 0, result.stderr)
      const events = result.lines.map((line) => JSON.parse(line))
      const messages = events.filter((event) => event.event === "message")
      assert.sameDeepMembers(
        messages.map(({ peer: _peer, ...rest }) => rest),
        [
          { event: "message", kind: "bytes", base64: "AQI=" },
          { event: "message", kind: "text", text: "hi" }
        ]
      )
      assert.strictEqual(events.filter((event) => event.event === "connected").length, 2)
      assert.strictEqual(events.filter((event) => event.event === "disconnected").length, 2)
    })
  )

  it.scopedLive("--backend select, over a Unix socket: stocking serve and stocking connect talk to each other", () =>
    Effect.gen(function* () {
      const socketPath = path.join(yield* tempDir, "cli.sock")
      const env = { STOCKING_SELECT_SEND_INTERVAL: "0.05" }
      const serve = yield* startCli(["serve", "--path", socketPath, "--echo", "--backend", "select"], env)
      yield* serve.line(new RegExp(`^listening on ${socketPath}$`))
      const connect = yield* runCli(["connect", "--path", socketPath, "--backend", "select"], {
        input: "alpha\nbeta\n",
        env
      })
      assert.strictEqual(connect.code, 0, connect.stderr)
      assert.deepStrictEqual(connect.lines, [`${socketPath} text: alpha`, `${socketPath} text: beta`])
      yield* serve.line(/^local#\d+ disconnected$/)
      serve.signal("SIGINT")
      const result = yield* serve.exit
      assert.strictEqual(result.code, 0, result.stderr)
      assert.match(result.stdout, /^local#\d+ text: alpha$/m)
      assert.match(result.stdout, /^local#\d+ text: beta$/m)
    })
  )

  it.scopedLive("TLS with a throwaway CA: --ca verifies the server; the system's CAs do not, in one line", () =>
    Effect.gen(function* () {
      const { ca, cert, key } = yield* certs
      const serve = yield* startCli(["serve", "--tls", "--cert", cert, "--key", key, "--echo"])
      const port = Number((yield* serve.line(LISTENING))[1])
      yield* serve.line(/\(TLS\)$/)
      const [verified, unverified] = yield* Effect.all(
        [
          runCli(["connect", `localhost:${port}`, "--ca", ca], { input: "over tls\n" }),
          runCli(["connect", `localhost:${port}`, "--tls"], { input: "nope\n" })
        ],
        { concurrency: "unbounded" }
      )
      assert.strictEqual(verified.code, 0, verified.stderr)
      assert.match(verified.stdout, /^127\.0\.0\.1:\d+ text: over tls$/)
      assert.strictEqual(unverified.code, 1)
      assertOneErrorLine(unverified, new RegExp(`^stocking: TLS with localhost:${port} failed: `))
      assert.match((yield* serve.line(/^.* text: over tls$/))[0]!, /^127\.0\.0\.1:\d+ text: over tls$/)
      assert.notInclude(serve.lines.join("\n"), "nope")
    })
  )
})

/** A TCP listener that accepts and then says nothing, ever: no TLS handshake, no end of stream. */
const silentListener = Effect.acquireRelease(
  Effect.async<{ readonly server: net.Server; readonly sockets: Set<net.Socket> }>((resume) => {
    const sockets = new Set<net.Socket>()
    const server = net.createServer({ allowHalfOpen: true }, (socket) => {
      sockets.add(socket)
      socket.on("error", () => {})
      socket.resume()
    })
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ server, sockets })))
  }),
  ({ server, sockets }) =>
    Effect.async<void>((resume) => {
      for (const socket of sockets) socket.destroy()
      server.close(() => resume(Effect.void))
    })
).pipe(
  Effect.map(({ server, sockets }) => ({
    port: (server.address() as net.AddressInfo).port,
    /** Waits for a client to connect. */
    connected: Effect.gen(function* () {
      while (sockets.size === 0) yield* Effect.sleep("20 millis")
    })
  }))
)

const ERASE = "\r\x1b[K"

/** stderr split into what the status line showed and the lines printed for good. */
const splitStatus = (stderr: string) => {
  const statuses: Array<string> = []
  const lines: Array<string> = []
  for (const line of stderr.split("\n")) {
    const parts = line.split(ERASE)
    const last = parts.pop()!
    statuses.push(...parts.filter((part) => part !== ""))
    if (last !== "") lines.push(last)
  }
  return { statuses, lines }
}

describe("stocking CLI: safety and feedback", { timeout: 120_000 }, () => {
  it.live("--version prints the package's version", () =>
    Effect.gen(function* () {
      const result = yield* runCli(["--version"])
      const { version } = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"))
      assert.strictEqual(result.code, 0, result.stderr)
      assert.strictEqual(result.stdout, version)
    })
  )

  it.scopedLive("peer text is escaped: a message cannot forge lines or reach the terminal with escape sequences", () =>
    Effect.gen(function* () {
      const serve = yield* startCli(["serve", "--echo"])
      const port = Number((yield* serve.line(LISTENING))[1])
      const client = yield* Stocking.make({ host: "127.0.0.1", port })
      const peer = `127.0.0.1:${(client.socket as net.Socket).localPort}`
      const hostile = "one\n10.0.0.7:4444 connected\r\x1b]0;pwned\x07\x1b[2J\ttab back\\slash \u202eevil\x7f\x9b"
      yield* client.write(hostile)
      assert.strictEqual(yield* client.take, hostile, "the message itself is delivered unchanged")
      // connect prints what arrives the same way.
      const connect = yield* runCli(["connect", `127.0.0.1:${port}`], { input: "red \x1b[31malert\r\n" })
      assert.strictEqual(connect.code, 0, connect.stderr)
      assert.deepStrictEqual(connect.lines, [`127.0.0.1:${port} text: red \\x1b[31malert`])
      yield* client.close
      yield* serve.line(new RegExp(`^${peer} disconnected$`))
      serve.signal("SIGINT")
      const result = yield* serve.exit
      assert.strictEqual(result.code, 0, result.stderr)
      assert.deepStrictEqual(
        result.lines.filter((line) => !line.startsWith("127.0.0.1:") || line.startsWith(peer)),
        [
          `listening on 127.0.0.1:${port}`,
          `${peer} connected`,
          `${peer} text: one\\n10.0.0.7:4444 connected\\r\\x1b]0;pwned\\x07\\x1b[2J\\ttab back\\\\slash \\u202eevil\\x7f\\x9b`,
          `${peer} disconnected`
        ]
      )
      assert.include(result.stdout, " text: red \\x1b[31malert\n")
      assert.notInclude(result.stdout, "\x1b")
      assert.notInclude(result.stdout, "\r")
    })
  )

  it.scopedLive("--connect-timeout: a TLS listener that never answers ends in one line on stderr, exit 1", () =>
    Effect.gen(function* () {
      const { port } = yield* silentListener
      const result = yield* runCli([
        "connect",
        `127.0.0.1:${port}`,
        "--tls",
        "--connect-timeout",
        "0.6",
        "--status",
        "always"
      ])
      assert.strictEqual(result.code, 1)
      const { lines, statuses } = splitStatus(result.stderr)
      assert.deepStrictEqual(lines, [
        `stocking: could not connect to 127.0.0.1:${port}: no answer within 0.6 s (--connect-timeout)`
      ])
      assert.include(statuses, `connecting to 127.0.0.1:${port} (TLS)...`)
      // Erased before the error line: the error starts a line of its own.
      assert.isTrue(
        result.stderr.endsWith(
          `${ERASE}stocking: could not connect to 127.0.0.1:${port}: no answer within 0.6 s (--connect-timeout)\n`
        )
      )
    })
  )

  it.scopedLive(
    "--status always: progress while a long input is sent, then the wait for a peer that never closes",
    () =>
      Effect.gen(function* () {
        const { connected, port } = yield* silentListener
        const cli = yield* startCli(["connect", `127.0.0.1:${port}`, "--status", "always", "--linger", "0"])
        yield* connected
        // Input for about 1.5 seconds, then its end.
        for (let i = 0; i < 15; i++) {
          cli.child.stdin.write(`line ${i}\n`)
          yield* Effect.sleep("100 millis")
        }
        cli.child.stdin.end()
        const result = yield* cli.exit
        assert.strictEqual(result.code, 0, result.stderr)
        const { lines, statuses } = splitStatus(result.stderr)
        assert.deepStrictEqual(lines, [])
        assert.isTrue(
          statuses.some((status) => /^sending: \d+ messages, \d+ B$/.test(status)),
          statuses.join(" | ")
        )
        assert.include(statuses, "closing: waiting for the peer to close (at most 5s)...")
      })
  )

  it.scopedLive(
    "serve respects stdout backpressure: an unread stdout pauses the peer, nothing is dropped, memory stays bounded",
    () =>
      Effect.gen(function* () {
        const child = yield* Effect.acquireRelease(
          Effect.sync(() => spawn(viteNode, ["src/bin/stocking.ts", "--", "serve"], { cwd: root })),
          (child) => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL"))
        )
        child.stderr.setEncoding("utf8")
        let stderr = ""
        child.stderr.on("data", (d: string) => (stderr += d))
        // Reads stdout line by line without keeping it: checks the order, counts the messages.
        let partial = ""
        let port = 0
        let next = 0
        let disorder: string | undefined
        child.stdout.setEncoding("utf8")
        child.stdout.on("data", (data: string) => {
          const parts = (partial + data).split("\n")
          partial = parts.pop()!
          for (const line of parts) {
            const listening = LISTENING.exec(line)
            if (listening !== null) port = Number(listening[1])
            const match = / text: (\d+) x+$/.exec(line)
            if (match === null) continue
            if (Number(match[1]) !== next && disorder === undefined)
              disorder = `expected ${next}, got: ${line.slice(0, 60)}`
            next++
          }
        })
        while (port === 0) yield* Effect.sleep("20 millis")
        const rss = () => {
          const status = fs.existsSync(`/proc/${child.pid}/status`)
            ? fs.readFileSync(`/proc/${child.pid}/status`, "utf8")
            : ""
          const kib = /VmRSS:\s+(\d+) kB/.exec(status)
          return kib === null ? undefined : Number(kib[1]) * 1024
        }
        const rssBefore = rss()

        // Stop reading the CLI's stdout, and send 128 MiB of 1 KiB messages.
        child.stdout.pause()
        const total = 128 * 1024
        const size = 1024
        const bound = 64 * 1024 * 1024
        const client = yield* Stocking.make({ host: "127.0.0.1", port })
        let queued = 0
        const writer = yield* Effect.forkScoped(
          Effect.gen(function* () {
            while (queued < total) {
              const batch = Array.from({ length: 256 }, (_, k) => {
                const seq = String(queued + k)
                return `${seq} ${"x".repeat(size - seq.length - 1)}`
              })
              yield* client.writeAll(batch)
              queued += batch.length
            }
          })
        )
        // Wait until the writer makes no progress for 1.5 s: the CLI has stopped reading.
        let last = -1
        let since = Date.now()
        while (Date.now() - since < 1500) {
          if (queued * size > bound) assert.fail(`the CLI took ${queued} messages while its stdout was not read`)
          if (queued !== last) {
            last = queued
            since = Date.now()
          }
          yield* Effect.sleep("100 millis")
        }
        assert.isBelow(queued, total)
        const rssStalled = rss()
        if (rssBefore !== undefined && rssStalled !== undefined) {
          assert.isBelow(rssStalled - rssBefore, 100 * 1024 * 1024, "the CLI's memory grew with the unread output")
        }

        // Read again: everything arrives, in order.
        child.stdout.resume()
        yield* Fiber.join(writer)
        while (next < total) {
          if (child.exitCode !== null) assert.fail(`the CLI exited: ${stderr}`)
          yield* Effect.sleep("50 millis")
        }
        assert.strictEqual(disorder, undefined)
        assert.strictEqual(next, total)
        yield* client.close
        process.kill(child.pid!, "SIGINT") // not child.kill: see `signal` above (Deno)
        const code = yield* Effect.async<number | null>((resume) => {
          if (child.exitCode !== null) return resume(Effect.succeed(child.exitCode))
          child.on("exit", (code) => resume(Effect.succeed(code)))
        })
        assert.strictEqual(code, 0, stderr)
      }),
    120_000
  )
})

/** A library server refusing messages over `maxMessageSize`; what it accepts goes to `received`, then `CLOSED`. */
const CLOSED = "<connection closed>"
const limitedServer = (maxMessageSize: number) =>
  Effect.gen(function* () {
    const received = yield* Queue.unbounded<Framing.Message>()
    const server = yield* Server.make({ port: 0, maxMessageSize })
    yield* Effect.forkScoped(
      server.serve((stocking) =>
        stocking.messages.pipe(
          Stream.runForEach((message) => Queue.offer(received, message)),
          Effect.ensuring(Queue.offer(received, CLOSED))
        )
      )
    )
    return { port: tcpPort(server), received }
  })

/** 27 bytes: over a limit of 10. */
const BIG = "this message is 27 bytes.!!"

describe("stocking CLI: messages that were not delivered", { timeout: 120_000 }, () => {
  it.scopedLive("send: a message over the server's maxMessageSize is refused: exit 1, one line saying so", () =>
    Effect.gen(function* () {
      assert.strictEqual(Buffer.byteLength(BIG), 27)
      const { port } = yield* limitedServer(10)
      const result = yield* runCli(["send", `127.0.0.1:${port}`, "short", BIG])
      assert.strictEqual(result.code, 1, result.stderr)
      assertOneErrorLine(
        result,
        new RegExp(
          `^stocking: connection to 127\\.0\\.0\\.1:${port} failed: .*; 2 messages may not have been delivered$`
        )
      )
      assert.strictEqual(result.stdout, "")
    })
  )

  it.scopedLive("connect: a line over the server's maxMessageSize is refused: exit 1, one line saying so", () =>
    Effect.gen(function* () {
      const { port } = yield* limitedServer(10)
      const result = yield* runCli(["connect", `127.0.0.1:${port}`, "--linger", "0"], { input: `short\n${BIG}\n` })
      assert.strictEqual(result.code, 1, result.stderr)
      assertOneErrorLine(
        result,
        new RegExp(
          `^stocking: connection to 127\\.0\\.0\\.1:${port} failed: .*; 2 messages may not have been delivered$`
        )
      )
      assert.strictEqual(result.stdout, "")
    })
  )

  it.scopedLive("connect: a peer that resets the connection while messages are queued: one line with how many", () =>
    Effect.gen(function* () {
      // Takes the first chunk, then resets the connection (RST) with the rest of the input unread.
      const port = yield* Effect.acquireRelease(
        Effect.async<net.Server>((resume) => {
          const server = net.createServer((socket) => {
            socket.on("error", () => {})
            socket.once("data", () => socket.resetAndDestroy())
          })
          server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
        }),
        (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
      ).pipe(Effect.map((server) => (server.address() as net.AddressInfo).port))
      const line = "x".repeat(1000)
      const input = Array.from({ length: 20_000 }, () => line).join("\n") + "\n"
      const result = yield* runCli(["connect", `127.0.0.1:${port}`], { input })
      assert.strictEqual(result.code, 1, result.stderr)
      assertOneErrorLine(
        result,
        new RegExp(
          `^stocking: connection to 127\\.0\\.0\\.1:${port} failed: .*; [\\d,]+ messages? may not have been delivered$`
        )
      )
    })
  )

  it.scopedLive("send: --max-message-size is checked before connecting: exit 1, one line, nothing sent", () =>
    Effect.gen(function* () {
      // Nothing listens there: the size is refused before any connect is tried.
      const port = yield* closedPort
      const result = yield* runCli(["send", `127.0.0.1:${port}`, "short", BIG, "--max-message-size", "10"])
      assert.strictEqual(result.code, 1, result.stderr)
      assertOneErrorLine(result, /^stocking: message 2 is 27 bytes, more than --max-message-size 10: nothing was sent$/)
      const bytes = yield* runCli(["send", `127.0.0.1:${port}`, "--bytes", "00 01 02", "--max-message-size", "2"])
      assert.strictEqual(bytes.code, 1, bytes.stderr)
      assertOneErrorLine(bytes, /^stocking: message 1 is 3 bytes, more than --max-message-size 2: nothing was sent$/)
    })
  )

  it.scopedLive("connect: --max-message-size is checked on each line before it is sent: exit 1, one line", () =>
    Effect.gen(function* () {
      const { port, received } = yield* limitedServer(1000)
      const result = yield* runCli(["connect", `127.0.0.1:${port}`, "--max-message-size", "10"], {
        input: `short\n${BIG}\nnever\n`
      })
      assert.strictEqual(result.code, 1, result.stderr)
      assertOneErrorLine(
        result,
        /^stocking: input line 2 is 27 bytes, more than --max-message-size 10: it and the lines after it were not sent$/
      )
      // The line before it was sent; nothing after it.
      assert.deepStrictEqual(yield* takeN(received, 2), ["short", CLOSED])
    })
  )
})

/**
 * What the CLI must never print raw, in readable or JSON output: C0, DEL, C1,
 * the bidi controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069),
 * the line and paragraph separators, and lone surrogates.
 */
const ESCAPED_CODE_UNITS: ReadonlyArray<number> = [
  ...Array.from({ length: 0x20 }, (_, i) => i),
  ...Array.from({ length: 0x21 }, (_, i) => 0x7f + i),
  0x061c,
  0x200e,
  0x200f,
  0x2028,
  0x2029,
  0x202a,
  0x202b,
  0x202c,
  0x202d,
  0x202e,
  0x2066,
  0x2067,
  0x2068,
  0x2069
]
const RAW_ESCAPED_CLASS =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** Characters likely to break a terminal line, mixed with anything else Unicode has. */
const hostileCodePoint = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...ESCAPED_CODE_UNITS.map((c) => String.fromCharCode(c))) },
  { weight: 1, arbitrary: fc.constantFrom("\\", '"', "x", " ", "\\x1b", "\\u202e", "é", "😀") },
  {
    weight: 2,
    arbitrary: fc
      .integer({ min: 0, max: 0x10ffff })
      .filter((c) => c < 0xd800 || c > 0xdfff)
      .map((c) => String.fromCodePoint(c))
  }
)
const hostileText = fc.array(hostileCodePoint, { maxLength: 40 }).map((chars) => chars.join(""))
/** Also lone surrogates, which a string can hold (though UTF-8 on the wire cannot). */
const hostileString = fc
  .array(
    fc.oneof(
      hostileCodePoint,
      fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c))
    ),
    {
      maxLength: 40
    }
  )
  .map((chars) => chars.join(""))

/** Reads the readable escapes back: `\\`, `\n`, `\r`, `\t`, `\xHH`, `\uHHHH`. */
const unescapeText = (text: string): string =>
  text.replace(/\\(?:x([0-9a-f]{2})|u([0-9a-f]{4})|(.))/g, (_, hex2: string, hex4: string, char: string) => {
    if (hex2 !== undefined) return String.fromCharCode(parseInt(hex2, 16))
    if (hex4 !== undefined) return String.fromCharCode(parseInt(hex4, 16))
    const known: Record<string, string> = { "\\": "\\", n: "\n", r: "\r", t: "\t" }
    const value = known[char]
    if (value === undefined) throw new Error(`unknown escape \\${char} in ${JSON.stringify(text)}`)
    return value
  })

describe("stocking CLI: escaping", { timeout: 120_000 }, () => {
  it("property: escapeText leaves no character of the escaped classes raw, and reads back to the original", () => {
    fc.assert(
      fc.property(hostileString, (text) => {
        const escaped = escapeText(text)
        assert.notMatch(escaped, RAW_ESCAPED_CLASS, JSON.stringify(escaped))
        assert.strictEqual(unescapeText(escaped), text)
      }),
      { numRuns: 2000, examples: [["\u061c"], ["\u009b\u0085\u202e\u2066\u2028"]] }
    )
  })

  it.scopedLive(
    "property: whatever a peer sends, serve prints it escaped (readable) and as JSON that parses back to it, never raw",
    () =>
      Effect.gen(function* () {
        const readable = yield* startCli(["serve"])
        const json = yield* startCli(["serve", "--json"])
        const readablePort = Number((yield* readable.line(LISTENING))[1])
        const jsonPort = JSON.parse((yield* json.line(/^\{"event":"listening".*\}$/))[0]!).port as number
        const toReadable = yield* Stocking.make({ host: "127.0.0.1", port: readablePort })
        const toJson = yield* Stocking.make({ host: "127.0.0.1", port: jsonPort })
        const run = Runtime.runPromise(yield* Effect.runtime<never>())
        let n = 0
        yield* Effect.tryPromise(() =>
          fc.assert(
            fc.asyncProperty(hostileText, async (text) => {
              // A number first, to find its line; the rest is the peer's.
              const id = n++
              const message = `${id}:${text}`
              await run(Effect.all([toReadable.write(message), toJson.write(message)]))
              // (The whole line: `s`, as a raw line separator in it must not hide it.)
              const [printed] = await run(readable.line(new RegExp(`^127\\.0\\.0\\.1:\\d+ text: ${id}:.*$`, "s")))
              assert.notMatch(printed!, RAW_ESCAPED_CLASS, JSON.stringify(printed))
              assert.strictEqual(unescapeText(printed!.slice(printed!.indexOf(" text: ") + 7)), message)
              const [event] = await run(json.line(new RegExp(`^\\{"event":"message".*"text":"${id}:.*$`, "s")))
              assert.notMatch(event!, RAW_ESCAPED_CLASS, JSON.stringify(event))
              assert.strictEqual(JSON.parse(event!).text, message)
            }),
            { numRuns: 150, examples: [["\u061c"], ["\u009b\u0085\u202e\u2066\u2028"]] }
          )
        )
      }),
    60_000
  )
})

describe("stocking CLI: TLS client certificates", { timeout: 120_000 }, () => {
  it.scopedLive(
    "a client certificate the server rejects (none, or an untrusted one): send and connect exit 1 with one TLS line",
    () =>
      Effect.gen(function* () {
        const { caPath, certPath, dir, keyPath } = yield* makeCerts
        const untrusted = ["--cert", path.join(dir, "other.pem"), "--key", path.join(dir, "other.key")]
        // --ca on serve: client certificates issued by this CA are required.
        const serve = yield* startCli(["serve", "--cert", certPath, "--key", keyPath, "--ca", caPath])
        const target = `localhost:${Number((yield* serve.line(LISTENING))[1])}`
        const refused = yield* Effect.all(
          [
            runCli(["send", target, "--ca", caPath, "refused 1"]),
            runCli(["send", target, "--ca", caPath, ...untrusted, "refused 2"]),
            runCli(["connect", target, "--ca", caPath], { input: "refused 3\n" }),
            runCli(["connect", target, "--ca", caPath, ...untrusted], { input: "refused 4\n" })
          ],
          { concurrency: "unbounded" }
        )
        refused.forEach((result, i) => {
          assert.strictEqual(result.code, 1, `case ${i + 1}: ${result.stderr}`)
          // The server rejects the certificate after the TLS 1.3 handshake, with our message unread: its close is
          // then an alert or, when the reset overtakes the alert, a reset. Either way one line and exit 1; the
          // server never sees the message (below).
          assertOneErrorLine(
            result,
            /^stocking: connection to 127\.0\.0\.1:\d+ failed: (?:TLS error: .*certificate|the peer reset the connection)/
          )
        })
        // The server's own certificate, issued by the CA, is accepted as a client certificate.
        const trusted = yield* runCli(["send", target, "--ca", caPath, "--cert", certPath, "--key", keyPath, "trusted"])
        assert.strictEqual(trusted.code, 0, trusted.stderr)
        yield* serve.line(/ text: trusted$/)
        assert.notInclude(serve.lines.join("\n"), "refused")
      })
  )
})

describe("stocking CLI: Unix socket paths", { timeout: 120_000 }, () => {
  it.scopedLive(
    "serve --path: a stale socket file is one line naming --remove-stale; --remove-stale and --mode 600 start it",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const socketPath = path.join(dir, "cli.sock")
        // A socket file that no server listens on: a second name for a socket whose server then closes.
        yield* Effect.async<void>((resume) => {
          const server = net.createServer()
          server.listen(`${socketPath}.live`, () => {
            fs.linkSync(`${socketPath}.live`, socketPath)
            server.close(() => resume(Effect.void))
          })
        })
        const refused = yield* runCli(["serve", "--path", socketPath])
        assert.strictEqual(refused.code, 1, refused.stderr)
        assertOneErrorLine(
          refused,
          new RegExp(`^stocking: could not listen on ${socketPath}: .*no server.*--remove-stale`)
        )

        const serve = yield* startCli(["serve", "--path", socketPath, "--remove-stale", "--mode", "600", "--echo"])
        yield* serve.line(new RegExp(`^listening on ${socketPath}$`))
        assert.strictEqual((fs.statSync(socketPath).mode & 0o777).toString(8), "600")
        const sent = yield* runCli(["send", "--path", socketPath, "through a private socket"])
        assert.strictEqual(sent.code, 0, sent.stderr)
        yield* serve.line(/ text: through a private socket$/)
      })
  )

  it.scopedLive("a path over the platform's limit, or --mode without --path or out of range: one line each", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const limit = process.platform === "linux" ? 107 : 103
      const longPath = path.join(dir, "y".repeat(limit + 10 - dir.length - 1))
      const [serve, connect, noPath, badMode] = yield* Effect.all(
        [
          runCli(["serve", "--path", longPath]),
          runCli(["connect", "--path", longPath]),
          runCli(["serve", "--mode", "600"]),
          runCli(["serve", "--path", path.join(dir, "s.sock"), "--mode", "999"])
        ],
        { concurrency: "unbounded" }
      )
      assert.strictEqual(serve.code, 1, serve.stderr)
      assertOneErrorLine(serve, new RegExp(`^stocking: could not listen on .*: .*${limit + 10} bytes.*${limit}`))
      assert.strictEqual(connect.code, 1, connect.stderr)
      assertOneErrorLine(connect, new RegExp(`^stocking: could not connect to .*: .*${limit + 10} bytes.*${limit}`))
      assert.deepStrictEqual(fs.readdirSync(dir), [], "nothing created")
      assert.strictEqual(noPath.code, 2, noPath.stderr)
      assertOneErrorLine(noPath, /^stocking: --mode goes with --path/)
      assert.strictEqual(badMode.code, 2, badMode.stderr)
      assertOneErrorLine(badMode, /^stocking: --mode must be an octal file mode from 0 to 777, not "999"/)
    })
  )
})

/**
 * The `stocking` command line, run for real as a child process
 * (`vite-node src/bin/stocking.ts -- ARGS`) against servers started here.
 * Every wait is for a line the CLI prints (never a sleep).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Queue, Stream } from "effect"
import type { Scope } from "effect"
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

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const viteNode = path.join(root, "node_modules", ".bin", "vite-node")
const WAIT = "20 seconds"

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
  assert.match(lines[0]!, pattern)
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

describe("stocking CLI", () => {
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
        [["connect", "127.0.0.1:7000", "--backend", "epoll"], /--backend must be poll, select or auto/]
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

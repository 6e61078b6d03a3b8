/**
 * The `stocking` command line on Effect 4, run for real as a child process
 * against servers and clients started here, over loopback and Unix sockets.
 *
 * The child is `vite-node --config test/effect4/cli.vite.config.ts
 * src/effect4/bin/stocking.ts -- ARGS`: that config resolves every `effect`
 * import of the sources (the CLI's shared modules in `src/bin/` and the
 * machinery in `src/internal/` included) to Effect 4, as this Vitest
 * project does. The first test checks that it does: the CLI's own modules
 * load Effect 4's `effect`, not Effect 3's. Every wait is for a line the
 * CLI prints (never a sleep), or for its exit.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { spawn } from "node:child_process"
import type { ChildProcessWithoutNullStreams } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import * as Server from "../../src/effect4/Server.js"
import * as Stocking from "../../src/effect4/Stocking.js"
import type { Message } from "../../src/internal/wire.js"
import { makeCerts } from "../utils/certs.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")
const viteNode = path.join(root, "node_modules", ".bin", "vite-node")
const CONFIG = "test/effect4/cli.vite.config.ts"
const ENTRY = "src/effect4/bin/stocking.ts"
const WAIT_MS = 60_000

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
    // A CLI that fails before reading all of its input closes its stdin: not the test's error.
    child.stdin.on("error", () => {})
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
  line(pattern: RegExp): Promise<RegExpMatchArray> {
    const missing = (why: string) =>
      new Error(`no line matching ${pattern} (${why}) in:\n${this.lines.join("\n")}\nstderr:\n${this.stderr}`)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(missing(`waited ${WAIT_MS} ms`)), WAIT_MS)
      const check = () => {
        const match = this.lines.map((line) => line.match(pattern)).find((match) => match !== null)
        if (match !== undefined && match !== null) {
          clearTimeout(timer)
          resolve(match)
        } else if (this.closed) {
          clearTimeout(timer)
          reject(missing("the process exited"))
        } else {
          this.waiters.push(check)
        }
      }
      check()
    })
  }

  /** Sends the process a signal (see test/cli.test.ts for why not `child.kill`). */
  signal(signal: NodeJS.Signals): void {
    process.kill(this.child.pid!, signal)
  }

  /** Waits for the exit. */
  exit(): Promise<Result> {
    return withTimeout(this.exited, `stocking did not exit`)
  }
}

const withTimeout = <A>(promise: Promise<A>, what: string): Promise<A> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} within ${WAIT_MS} ms`)), WAIT_MS)
    })
  ]).finally(() => clearTimeout(timer))
}

/** Every CLI started by a test, killed after it if still running. */
const started: Array<Cli> = []
/** Every scope opened by a test, closed after it. */
const scopes: Array<Scope.Closeable> = []
/** Every temporary directory made by a test, removed after it. */
const dirs: Array<string> = []

afterEach(async () => {
  for (const cli of started.splice(0)) if (cli.child.exitCode === null) cli.child.kill("SIGKILL")
  for (const scope of scopes.splice(0)) await Effect.runPromise(Scope.close(scope, Exit.void))
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

/** Starts the Effect 4 CLI. */
const startCli = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Cli => {
  const cli = new Cli(
    spawn(viteNode, ["--config", CONFIG, ENTRY, "--", ...args], { cwd: root, env: { ...process.env, ...env } })
  )
  started.push(cli)
  return cli
}

/** Runs the Effect 4 CLI to its end with `input` on stdin (then end of input). */
const runCli = (args: ReadonlyArray<string>, options: { input?: string; env?: Record<string, string> } = {}) => {
  const cli = startCli(args, options.env)
  cli.child.stdin.end(options.input ?? "")
  return cli.exit()
}

/** Runs an Effect in a scope that stays open until the test ends. */
const inScope = async <A, E>(effect: Effect.Effect<A, E, Scope.Scope>): Promise<A> => {
  const scope = await Effect.runPromise(Scope.make())
  scopes.push(scope)
  return Effect.runPromise(Scope.provide(scope)(effect))
}

/** One `stocking: ...` line, and no stack trace. */
const expectOneErrorLine = (result: Result, pattern: RegExp) => {
  const lines = result.stderr.split("\n").filter((line) => line !== "")
  expect(lines, result.stderr).toHaveLength(1)
  expect(lines[0]).toMatch(pattern)
  expect(result.stderr).not.toMatch(/^\s+at /m)
}

/** A port nothing listens on. */
const closedPort = (): Promise<number> =>
  new Promise((resolve) => {
    const server = net.createServer()
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

/** A temporary directory, removed after the test. */
const tempDir = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stocking-cli4-"))
  dirs.push(dir)
  return dir
}

/** An Effect 4 library server on port 0 that records every message (echoing it with `echo`), and a close as `CLOSED`. */
const CLOSED = "<connection closed>"
const recordingServer = (options: { readonly echo: boolean; readonly maxMessageSize?: number }) =>
  inScope(
    Effect.gen(function* () {
      const received: Array<Message> = []
      const server = yield* Server.make({ port: 0, ...options })
      yield* Effect.forkScoped(
        server.serve((stocking) =>
          stocking
            .forEach((message) =>
              Effect.andThen(
                Effect.sync(() => received.push(message)),
                options.echo ? stocking.write(message) : Effect.void
              )
            )
            .pipe(Effect.ensuring(Effect.sync(() => received.push(CLOSED))))
        )
      )
      return { port: server.port, received }
    })
  )

/** Waits until `received` holds at least `n` messages. */
const receivedN = async (received: ReadonlyArray<Message>, n: number): Promise<ReadonlyArray<Message>> => {
  const deadline = Date.now() + WAIT_MS
  while (received.length < n) {
    if (Date.now() > deadline) throw new Error(`fewer than ${n} messages arrived: ${JSON.stringify(received)}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return received.slice(0, n)
}

const LISTENING = /^listening on 127\.0\.0\.1:(\d+)( \(TLS\))?$/

// Generous: every CLI is a vite-node process, which takes seconds to start on a busy machine.
describe("stocking CLI on Effect 4", { timeout: 180_000 }, () => {
  it("runs on Effect 4: the child's `effect` is Effect 4, for sources outside src/effect4 too", async () => {
    // The same config on a module that prints which `effect` its import found.
    const child = spawn(viteNode, ["--config", CONFIG, "test/effect4/fixtures/effectLine.ts"], { cwd: root })
    let stdout = ""
    child.stdout.setEncoding("utf8").on("data", (data: string) => (stdout += data))
    await withTimeout(new Promise((resolve) => child.on("close", resolve)), "the probe did not exit")
    expect(stdout.trim()).toBe("4")
    // And the CLI's entry checks its line when built (src/effect4/internal/line.ts) and uses Effect 4's
    // Stocking, which cannot load on Effect 3 (`Context.Service`): every test below runs it.
  })

  it("--help and --version exit 0; bad usage exits 2 with one line", async () => {
    const [top, serve, version, noCommand, badPort, badBackend] = await Promise.all([
      runCli(["--help"]),
      runCli(["serve", "--help"]),
      runCli(["--version"]),
      runCli([]),
      runCli(["serve", "--port", "-1"]),
      runCli(["connect", "127.0.0.1:7000", "--backend", "epoll"])
    ])
    for (const result of [top, serve, version]) {
      expect(result.code, result.stderr).toBe(0)
      expect(result.stderr).toBe("")
    }
    expect(top.stdout).toMatch(/^Usage: stocking <command> \[options\]/)
    expect(serve.stdout).toMatch(/^Usage: stocking serve \[--port N \| --path P\]/)
    expect(version.stdout).toBe(JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).version)
    for (const [result, pattern] of [
      [noCommand, /^stocking: expected a command/],
      [badPort, /^stocking: --port must be a whole number from 0 to 65535, not "-1"/],
      [badBackend, /--backend must be poll, select or auto/]
    ] as const) {
      expect(result.code, result.stderr).toBe(2)
      expectOneErrorLine(result, pattern)
      expect(result.stdout).toBe("")
    }
  })

  it("a refused connection, a bad STOCKING_BACKEND: one line on stderr, exit 1 (and an error event with --json)", async () => {
    const port = await closedPort()
    const [connect, send, config] = await Promise.all([
      runCli(["connect", `127.0.0.1:${port}`]),
      runCli(["send", `127.0.0.1:${port}`, "hi", "--json"]),
      runCli(["send", `127.0.0.1:${port}`, "hi"], { env: { STOCKING_BACKEND: "epoll" } })
    ])
    expect(connect.code).toBe(1)
    expectOneErrorLine(connect, new RegExp(`^stocking: could not connect to 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`))
    expect(connect.stdout).toBe("")
    expect(send.code).toBe(1)
    expectOneErrorLine(send, /ECONNREFUSED/)
    const event = JSON.parse(send.lines[0]!)
    expect(event.event).toBe("error")
    expect(event.message).toMatch(/^could not connect to 127\.0\.0\.1:\d+: .*ECONNREFUSED/)
    expect(config.code).toBe(1)
    expectOneErrorLine(
      config,
      /^stocking: invalid configuration: Invalid data at STOCKING_BACKEND: Expected one of \(poll, select, auto\) but received "epoll"$/
    )
  })

  it("serve prints text and bytes with the peer, echoes with --echo, escapes peer text, and exits 0 on SIGINT", async () => {
    const serve = startCli(["serve", "--port", "0", "--echo"])
    const port = Number((await serve.line(LISTENING))[1])
    const hostile = "one\n10.0.0.7:4444 connected\r\x1b[2J\u202eevil\x9b"
    const { peer, replies } = await inScope(
      Effect.gen(function* () {
        const client = yield* Stocking.make({ host: "127.0.0.1", port })
        const peer = `127.0.0.1:${(client.socket as net.Socket).localPort}`
        yield* client.writeAll(["hello there", Uint8Array.of(1, 2, 255), "", hostile])
        const replies = [yield* client.take, yield* client.take, yield* client.take, yield* client.take]
        yield* client.close
        return { peer, replies }
      })
    )
    expect(replies).toEqual(["hello there", Uint8Array.of(1, 2, 255), "", hostile])
    await serve.line(new RegExp(`^${peer} disconnected$`))
    serve.signal("SIGINT")
    const result = await serve.exit()
    expect(result.code, result.stderr).toBe(0)
    expect(result.lines).toEqual([
      `listening on 127.0.0.1:${port}`,
      `${peer} connected`,
      `${peer} text: hello there`,
      `${peer} bytes: 0102ff`,
      `${peer} text: `,
      `${peer} text: one\\n10.0.0.7:4444 connected\\r\\x1b[2J\\u202eevil\\x9b`,
      `${peer} disconnected`
    ])
  })

  it("connect sends stdin's lines and prints the replies; send sends its arguments; both exit 0", async () => {
    const { port, received } = await recordingServer({ echo: true })
    const peer = `127.0.0.1:${port}`
    const [text, bytes] = await Promise.all([
      runCli(["connect", peer], { input: "one\ntwo words\n\nthree\n" }),
      runCli(["connect", peer, "--bytes"], { input: "0102ff\n00 01\n" })
    ])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stderr).toBe("")
    expect(text.lines).toEqual([
      `${peer} text: one`,
      `${peer} text: two words`,
      `${peer} text: `,
      `${peer} text: three`
    ])
    expect(bytes.code, bytes.stderr).toBe(0)
    expect(bytes.lines).toEqual([`${peer} bytes: 0102ff`, `${peer} bytes: 0001`])
    const all = (await receivedN(received, 8)).filter((m) => m !== CLOSED)
    expect(all.filter((m) => typeof m === "string")).toEqual(["one", "two words", "", "three"])
    expect(all.filter((m) => typeof m !== "string").map((m) => Buffer.from(m).toString("hex"))).toEqual([
      "0102ff",
      "0001"
    ])

    received.length = 0
    const send = await runCli(["send", peer, "first", "second message"])
    expect(send.code, send.stderr).toBe(0)
    expect(send.stdout + send.stderr).toBe("")
    expect(await receivedN(received, 3)).toEqual(["first", "second message", CLOSED])
  })

  it("connect: the peer closing before the end of input is an error (exit 1, one line)", async () => {
    const port = await inScope(
      Effect.gen(function* () {
        const server = yield* Server.make({ port: 0 })
        // Says goodbye and hangs up as soon as a client connects.
        yield* Effect.forkScoped(server.serve((stocking) => stocking.write("bye")))
        return server.port
      })
    )
    // stdin stays open: the input has not ended when the peer leaves.
    const result = await startCli(["connect", `127.0.0.1:${port}`]).exit()
    expect(result.code).toBe(1)
    expect(result.lines).toEqual([`127.0.0.1:${port} text: bye`])
    expectOneErrorLine(result, /^stocking: connection to 127\.0\.0\.1:\d+ closed by the peer$/)
  })

  it("--json from serve, connect and send; serve exits 0 on SIGTERM", async () => {
    const serve = startCli(["serve", "--json", "--echo", "--bytes-as", "base64"])
    const listening = JSON.parse((await serve.line(/^\{"event":"listening".*\}$/))[0]!)
    expect(listening).toEqual({ event: "listening", host: "127.0.0.1", port: listening.port, tls: false })
    const address = `127.0.0.1:${listening.port}`
    const [connect, send] = await Promise.all([
      runCli(["connect", address, "--json", "--bytes"], { input: "0102\n" }),
      runCli(["send", address, "--json", "hi"])
    ])
    expect(connect.code, connect.stderr).toBe(0)
    expect(connect.lines.map((line) => JSON.parse(line))).toEqual([
      { event: "connected", peer: address },
      { event: "message", peer: address, kind: "bytes", hex: "0102" },
      { event: "disconnected", peer: address, reason: "ClosedLocally" }
    ])
    expect(send.code, send.stderr).toBe(0)
    expect(send.lines.map((line) => JSON.parse(line))).toEqual([
      { event: "connected", peer: address },
      { event: "sent", peer: address, messages: 1 }
    ])
    await serve.line(/"kind":"text"/)
    await serve.line(/"kind":"bytes"/)
    serve.signal("SIGTERM")
    const result = await serve.exit()
    expect(result.code, result.stderr).toBe(0)
    const events = result.lines.map((line) => JSON.parse(line))
    const messages = events.filter((event) => event.event === "message").map(({ peer: _peer, ...rest }) => rest)
    expect(messages).toHaveLength(2)
    expect(messages).toEqual(
      expect.arrayContaining([
        { event: "message", kind: "bytes", base64: "AQI=" },
        { event: "message", kind: "text", text: "hi" }
      ])
    )
    expect(events.filter((event) => event.event === "disconnected")).toHaveLength(2)
  })

  it("--backend select over a Unix socket; a stale socket file names --remove-stale; --mode 600", async () => {
    const dir = tempDir()
    const socketPath = path.join(dir, "cli.sock")
    // A socket file that no server listens on: a second name for a socket whose server then closes.
    await new Promise<void>((resolve) => {
      const server = net.createServer()
      server.listen(`${socketPath}.live`, () => {
        fs.linkSync(`${socketPath}.live`, socketPath)
        server.close(() => resolve())
      })
    })
    const refused = await runCli(["serve", "--path", socketPath])
    expect(refused.code, refused.stderr).toBe(1)
    expectOneErrorLine(refused, new RegExp(`^stocking: could not listen on ${socketPath}: .*no server.*--remove-stale`))

    const env = { STOCKING_SELECT_SEND_INTERVAL: "0.05" }
    const serve = startCli(
      ["serve", "--path", socketPath, "--remove-stale", "--mode", "600", "--echo", "--backend", "select"],
      env
    )
    await serve.line(new RegExp(`^listening on ${socketPath}$`))
    expect((fs.statSync(socketPath).mode & 0o777).toString(8)).toBe("600")
    const connect = await runCli(["connect", "--path", socketPath, "--backend", "select"], {
      input: "alpha\nbeta\n",
      env
    })
    expect(connect.code, connect.stderr).toBe(0)
    expect(connect.lines).toEqual([`${socketPath} text: alpha`, `${socketPath} text: beta`])
    await serve.line(/^local#\d+ disconnected$/)
    serve.signal("SIGINT")
    const result = await serve.exit()
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/^local#\d+ text: alpha$/m)
    expect(result.stdout).toMatch(/^local#\d+ text: beta$/m)
  })

  it("TLS: --ca verifies the server, the system's CAs do not; a client certificate required and refused", async () => {
    const { caPath, certPath, dir, keyPath } = await inScope(makeCerts)
    const serve = startCli(["serve", "--cert", certPath, "--key", keyPath, "--ca", caPath, "--echo"])
    const port = Number((await serve.line(LISTENING))[1])
    await serve.line(/\(TLS\)$/)
    const target = `localhost:${port}`
    const untrusted = ["--cert", path.join(dir, "other.pem"), "--key", path.join(dir, "other.key")]
    const [trusted, unverified, noCert, otherCert] = await Promise.all([
      runCli(["connect", target, "--ca", caPath, "--cert", certPath, "--key", keyPath], { input: "over tls\n" }),
      runCli(["connect", target, "--tls", "--cert", certPath, "--key", keyPath], { input: "nope\n" }),
      runCli(["send", target, "--ca", caPath, "refused 1"]),
      runCli(["connect", target, "--ca", caPath, ...untrusted], { input: "refused 2\n" })
    ])
    expect(trusted.code, trusted.stderr).toBe(0)
    expect(trusted.stdout).toMatch(/^127\.0\.0\.1:\d+ text: over tls$/)
    expect(unverified.code).toBe(1)
    expectOneErrorLine(unverified, new RegExp(`^stocking: TLS with localhost:${port} failed: `))
    for (const result of [noCert, otherCert]) {
      expect(result.code, result.stderr).toBe(1)
      // The server rejects the certificate after the TLS 1.3 handshake, with our message unread: its close is
      // then an alert or, when the reset overtakes the alert, a reset. Either way one line and exit 1; the
      // server never sees the message (below).
      expectOneErrorLine(
        result,
        /^stocking: connection to 127\.0\.0\.1:\d+ failed: (?:TLS error: .*certificate|the peer reset the connection)/
      )
    }
    await serve.line(/ text: over tls$/)
    expect(serve.lines.join("\n")).not.toMatch(/nope|refused/)
  })

  it("--connect-timeout with --status always: a TLS listener that never answers ends in one line, exit 1", async () => {
    const sockets = new Set<net.Socket>()
    const listener = net.createServer({ allowHalfOpen: true }, (socket) => {
      sockets.add(socket)
      socket.on("error", () => {})
      socket.resume()
    })
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve))
    try {
      const port = (listener.address() as net.AddressInfo).port
      const result = await runCli([
        "connect",
        `127.0.0.1:${port}`,
        "--tls",
        "--connect-timeout",
        "0.6",
        "--status",
        "always"
      ])
      expect(result.code).toBe(1)
      const error = `stocking: could not connect to 127.0.0.1:${port}: no answer within 0.6 s (--connect-timeout)\n`
      // The status line said what it waited for, and was erased before the error line.
      expect(result.stderr).toContain(`connecting to 127.0.0.1:${port} (TLS)...`)
      expect(result.stderr.endsWith(`\r\x1b[K${error}`), JSON.stringify(result.stderr)).toBe(true)
    } finally {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => listener.close(resolve))
    }
  })

  it("--status always: progress while a long input is sent, then the wait for a peer that never closes", async () => {
    const sockets = new Set<net.Socket>()
    const listener = net.createServer({ allowHalfOpen: true }, (socket) => {
      sockets.add(socket)
      socket.on("error", () => {})
      socket.resume()
    })
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve))
    try {
      const port = (listener.address() as net.AddressInfo).port
      const cli = startCli(["connect", `127.0.0.1:${port}`, "--status", "always", "--linger", "0"])
      while (sockets.size === 0) await new Promise((resolve) => setTimeout(resolve, 20))
      // Input for about 1.5 seconds, then its end.
      for (let i = 0; i < 15; i++) {
        cli.child.stdin.write(`line ${i}\n`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      cli.child.stdin.end()
      const result = await cli.exit()
      expect(result.code, result.stderr).toBe(0)
      const statuses = result.stderr.split("\r\x1b[K").filter((part) => part !== "")
      expect(
        statuses.some((status) => /^sending: \d+ messages, \d+ B$/.test(status)),
        statuses.join(" | ")
      ).toBe(true)
      expect(statuses).toContain("closing: waiting for the peer to close (at most 5s)...")
      // Nothing printed for good: only the status line, drawn and erased.
      expect(result.stderr).not.toContain("\n")
    } finally {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => listener.close(resolve))
    }
  })

  it("a Unix socket path over the platform's limit, or --mode without --path or out of range: one line each", async () => {
    const dir = tempDir()
    const limit = process.platform === "linux" ? 107 : 103
    const longPath = path.join(dir, "y".repeat(limit + 10 - dir.length - 1))
    const [serve, connect, noPath, badMode] = await Promise.all([
      runCli(["serve", "--path", longPath]),
      runCli(["connect", "--path", longPath]),
      runCli(["serve", "--mode", "600"]),
      runCli(["serve", "--path", path.join(dir, "s.sock"), "--mode", "999"])
    ])
    expect(serve.code, serve.stderr).toBe(1)
    expectOneErrorLine(serve, new RegExp(`^stocking: could not listen on .*: .*${limit + 10} bytes.*${limit}`))
    expect(connect.code, connect.stderr).toBe(1)
    expectOneErrorLine(connect, new RegExp(`^stocking: could not connect to .*: .*${limit + 10} bytes.*${limit}`))
    expect(fs.readdirSync(dir)).toEqual([])
    expect(noPath.code, noPath.stderr).toBe(2)
    expectOneErrorLine(noPath, /^stocking: --mode goes with --path/)
    expect(badMode.code, badMode.stderr).toBe(2)
    expectOneErrorLine(badMode, /^stocking: --mode must be an octal file mode from 0 to 777, not "999"/)
  })

  it("messages not delivered: a server refusing one over its maxMessageSize, and --max-message-size on the way out", async () => {
    const big = "this message is 27 bytes.!!"
    const { port, received } = await recordingServer({ echo: false, maxMessageSize: 10 })
    const [send, connect, tooBig] = await Promise.all([
      runCli(["send", `127.0.0.1:${port}`, "short", big]),
      runCli(["connect", `127.0.0.1:${port}`, "--linger", "0"], { input: `short\n${big}\n` }),
      runCli(["connect", `127.0.0.1:${port}`, "--max-message-size", "10"], { input: `short\n${big}\nnever\n` })
    ])
    for (const result of [send, connect]) {
      expect(result.code, result.stderr).toBe(1)
      expectOneErrorLine(
        result,
        new RegExp(
          `^stocking: connection to 127\\.0\\.0\\.1:${port} failed: .*; 2 messages may not have been delivered$`
        )
      )
      expect(result.stdout).toBe("")
    }
    expect(tooBig.code, tooBig.stderr).toBe(1)
    expectOneErrorLine(
      tooBig,
      /^stocking: input line 2 is 27 bytes, more than --max-message-size 10: it and the lines after it were not sent$/
    )
    // Each connection delivered "short", then closed; nothing over the limit, nothing after it.
    const all = await receivedN(received, 6)
    expect(all.filter((m) => m === "short")).toHaveLength(3)
    expect(all.filter((m) => m === CLOSED)).toHaveLength(3)
  })
})

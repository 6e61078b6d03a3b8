/**
 * Live interop with the original Python Stockings: a Python Stocking (the original library, run as a separate
 * process by `test/interop/peer.py`) on the other end of a real loopback socket. Both roles (a Python server and our
 * `Stocking.make` client; our `Server.make` server, through `serve` and through `connections`, and a Python client),
 * each of our backends against each of theirs.
 *
 * The original is GPL-3.0: it is only ever run, never copied. Where it is found: `test/interop/original.ts`;
 * without it (or without `python3`) the suite skips, in one line that says why.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Either, Option, Schema, Stream } from "effect"
import type { Scope } from "effect"
import { spawn, spawnSync } from "node:child_process"
import type { ChildProcessWithoutNullStreams } from "node:child_process"
import { createHash } from "node:crypto"
import type { Framing } from "../src/index.js"
import { Backend, Server, Stocking } from "../src/node.js"
import { find, libDir, peerScript } from "./interop/original.js"
import { backends } from "./utils/net.js"

const KiB = 1024
const MiB = 1024 * KiB
/** The longest wait for anything the peer reports. */
const WAIT_MS = 25_000
/** Our side's settings: a close that the peer does not answer gives up soon. */
const SETTINGS = { closeTimeout: "3 seconds" } as const

/** Settings a test adds to `SETTINGS` (on our client, or on our server and so on each of its connections). */
interface RunOptions {
  /** After the body, close our side its mode's way, and wait until it is closed. */
  readonly closeAfter?: boolean
  readonly maxBufferedBytes?: number
  readonly maxQueuedBytes?: number
}

// ---------------------------------------------------------------------------
// Finding the original
// ---------------------------------------------------------------------------

const found = find()

// ---------------------------------------------------------------------------
// Messages: generated the same way on both sides, compared by kind, length and digest
// ---------------------------------------------------------------------------

/** The same alphabet as GEN_ALPHABET in peer.py: ASCII, Latin-1, BMP and astral code points. */
const GEN_ALPHABET = Array.from(
  "abcdefghijklmnopqrstuvwxyz0123456789 .,-\u00e9\u00fc\u00df\u20ac\u2713\u4e2d\u6587\u{1d11e}\u{1f642}"
)

/** What the peer is told to write (and what we write, from the same description). */
type Spec =
  | { readonly text: string }
  | { readonly hex: string }
  | { readonly gen: "text" | "bytes"; readonly size: number; readonly seed: number }
  | { readonly repeat: string; readonly size: number }

type Step =
  | { readonly op: "write"; readonly messages: ReadonlyArray<Spec> }
  | { readonly op: "raw"; readonly hex: string }
  | { readonly op: "frame"; readonly kind: "text" | "bytes"; readonly hex: string }
  | { readonly op: "flush" }
  | {
      readonly op: "read"
      readonly count?: number
      readonly toEnd?: boolean
      readonly initialPauseMs?: number
      readonly pauseEvery?: number
      readonly pauseMs?: number
    }
  | { readonly op: "poll" }
  | { readonly op: "state" }
  | { readonly op: "waitInactive"; readonly timeoutMs?: number }
  | { readonly op: "close" }
  | { readonly op: "sleep"; readonly ms: number }
  | { readonly op: "wait" }

/** A payload whose period (251 bytes, or the alphabet's length) is no power of two: a piece out of place shows. */
const generate = (kind: "text" | "bytes", size: number, seed: number): Framing.Message => {
  if (kind === "bytes") {
    const period = new Uint8Array(251)
    for (let i = 0; i < 251; i++) period[i] = (i * 131 + seed) % 251
    const out = new Uint8Array(size)
    for (let i = 0; i < size; i += 251) out.set(period.subarray(0, Math.min(251, size - i)), i)
    return out
  }
  const n = GEN_ALPHABET.length
  const period = Array.from({ length: n }, (_, i) => GEN_ALPHABET[(i * 7 + seed) % n]!)
  return period.join("").repeat(Math.floor(size / n)) + period.slice(0, size % n).join("")
}

const materialize = (spec: Spec): Framing.Message =>
  "text" in spec
    ? spec.text
    : "hex" in spec
      ? Uint8Array.from(Buffer.from(spec.hex, "hex"))
      : "repeat" in spec
        ? spec.repeat.repeat(spec.size)
        : generate(spec.gen, spec.size, spec.seed)

const hex = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")

/** A message as both sides describe it: kind, length in bytes, and the bytes themselves (or their digest). */
const label = (kind: string, len: number, sha: string, value: string | undefined): string =>
  value !== undefined && len <= 64
    ? `${kind}(${len}):${kind === "text" ? JSON.stringify(value) : value}`
    : `${kind}(${len}):sha256=${sha.slice(0, 16)}`

const labelOf = (message: Framing.Message): string => {
  const bytes = typeof message === "string" ? Buffer.from(message, "utf8") : message
  const sha = createHash("sha256").update(bytes).digest("hex")
  return label(
    typeof message === "string" ? "text" : message instanceof Uint8Array ? "bytes" : typeof message,
    bytes.length,
    sha,
    typeof message === "string" ? message : hex(message)
  )
}

const labelsOf = (specs: ReadonlyArray<Spec>) => specs.map((spec) => labelOf(materialize(spec)))

/** Deterministic pseudo-random numbers (mulberry32), so a failing case is the same case next time. */
const random = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * `count` messages of random sizes minSize..maxSize bytes (text: up to maxSize / 2 code points), mostly bytes,
 * each distinct. Messages the Python side writes need `minSize` 1: the original's `write` drops empty ones.
 */
const randomSpecs = (seed: number, count: number, maxSize: number, minSize = 0): ReadonlyArray<Spec> => {
  const next = random(seed)
  return Array.from({ length: count }, (_, i) => {
    const kind = i % 5 === 2 ? "text" : "bytes"
    // Cubed: mostly small, some near the top, a quarter of the top on average (the suite's time goes on bytes).
    const u = next()
    const top = kind === "text" ? maxSize / 2 : maxSize
    const size = minSize + Math.floor(u * u * u * (top - minSize + 1))
    return { gen: kind, size, seed: seed + i }
  })
}

// ---------------------------------------------------------------------------
// The peer process
// ---------------------------------------------------------------------------

const Described = Schema.Struct({
  kind: Schema.String,
  len: Schema.Number,
  sha: Schema.String,
  value: Schema.optional(Schema.String)
})

const PeerEvent = Schema.Struct({
  event: Schema.String,
  port: Schema.optional(Schema.Number),
  kind: Schema.optional(Schema.String),
  len: Schema.optional(Schema.Number),
  sha: Schema.optional(Schema.String),
  value: Schema.optional(Schema.String),
  message: Schema.optional(Schema.NullOr(Described)),
  received: Schema.optional(Schema.Number),
  count: Schema.optional(Schema.Number),
  ms: Schema.optional(Schema.Number),
  active: Schema.optional(Schema.Boolean),
  alive: Schema.optional(Schema.Boolean),
  handshakeComplete: Schema.optional(Schema.Boolean),
  writeDataQueued: Schema.optional(Schema.Union(Schema.Boolean, Schema.String)),
  backend: Schema.optional(Schema.String),
  op: Schema.optional(Schema.NullOr(Schema.String)),
  reason: Schema.optional(Schema.String)
})
type PeerEvent = typeof PeerEvent.Type

const decodeEvent = Schema.decodeUnknownEither(Schema.parseJson(PeerEvent))

/** Every peer process started, so the suite can check that none outlives it. */
const running = new Set<ChildProcessWithoutNullStreams>()

/** A running peer.py: its reports as they come, its stdin for signals, and its exit. */
class Peer {
  readonly events: Array<PeerEvent> = []
  stderr = ""
  exitCode: number | null | undefined = undefined
  private partial = ""
  private waiters = new Set<() => void>()
  readonly exited: Promise<void>

  constructor(
    readonly child: ChildProcessWithoutNullStreams,
    readonly name: string
  ) {
    child.stdout.setEncoding("utf8")
    child.stderr.setEncoding("utf8")
    // The peer may be gone when we write to it; its exit is reported where it matters.
    child.stdin.on("error", () => {})
    child.stdout.on("data", (data: string) => {
      const parts = (this.partial + data).split("\n")
      this.partial = parts.pop()!
      for (const line of parts) {
        if (line.trim() === "") continue
        const decoded = decodeEvent(line)
        this.events.push(Either.isRight(decoded) ? decoded.right : { event: "unreadable", reason: line })
      }
      this.wake()
    })
    child.stderr.on("data", (data: string) => (this.stderr += data))
    this.exited = new Promise((resolve) => {
      const exited = (code: number | null) => {
        if (this.exitCode !== undefined) return
        this.exitCode = code
        running.delete(child)
        this.wake()
        resolve()
      }
      // 'close', not 'exit': by then every report it printed has been read.
      child.on("close", exited)
      // Not started at all (no such interpreter): there will be no 'close'.
      child.on("error", (error) => {
        this.stderr += `${error.message}\n`
        if (child.pid === undefined) exited(null)
      })
    })
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter()
  }

  /** The last reports and stderr, for failure messages. */
  log(): string {
    const last = this.events.slice(-12).map((e) => JSON.stringify(e))
    return `${this.name}: ${this.events.length} reports, the last:\n  ${last.join("\n  ")}\nstderr:\n${this.stderr}`
  }

  count(name: string): number {
    return this.events.filter((e) => e.event === name).length
  }

  /** The labels of the messages the peer has received (the `message` reports), in order. */
  received(): Array<string> {
    return this.events.filter((e) => e.event === "message").map((e) => label(e.kind!, e.len!, e.sha!, e.value))
  }

  /** Waits for the `n`th report named `name`; fails at once if the peer reports an error or exits. */
  waitFor(name: string, n = 1): Effect.Effect<PeerEvent, Error> {
    const check = (): Either.Either<PeerEvent, Error> | undefined => {
      let seen = 0
      for (const e of this.events) {
        if (e.event === name && ++seen === n) return Either.right(e)
        if (e.event === "error" && name !== "error")
          return Either.left(new Error(`the peer failed in ${e.op}: ${e.reason}\n${this.log()}`))
      }
      if (this.exitCode !== undefined)
        return Either.left(new Error(`the peer exited (${this.exitCode}) before report ${name} #${n}\n${this.log()}`))
      return undefined
    }
    return Effect.async<PeerEvent, Error>((resume) => {
      const waiter = () => {
        const result = check()
        if (result === undefined) return
        this.waiters.delete(waiter)
        resume(result)
      }
      this.waiters.add(waiter)
      waiter()
      return Effect.sync(() => this.waiters.delete(waiter))
    }).pipe(
      Effect.timeoutFail({
        duration: WAIT_MS,
        onTimeout: () => new Error(`no report ${name} #${n} from the peer within ${WAIT_MS} ms\n${this.log()}`)
      })
    )
  }

  /** Fails once the peer reports an error or exits: raced against waits on our side. */
  failure(): Effect.Effect<never, Error> {
    return Effect.async<never, Error>((resume) => {
      const waiter = () => {
        const error = this.events.find((e) => e.event === "error")
        if (error === undefined && this.exitCode === undefined) return
        this.waiters.delete(waiter)
        resume(
          Effect.fail(
            new Error(
              error === undefined
                ? `the peer exited (${this.exitCode})\n${this.log()}`
                : `the peer failed in ${error.op}: ${error.reason}\n${this.log()}`
            )
          )
        )
      }
      this.waiters.add(waiter)
      waiter()
      return Effect.sync(() => this.waiters.delete(waiter))
    })
  }

  /** Lets a `wait` step go on. */
  readonly signal: Effect.Effect<void> = Effect.sync(() => {
    this.child.stdin.write("go\n")
  })

  /** Ends stdin (the peer exits), and kills it if it has not exited a second later. */
  readonly stop: Effect.Effect<void> = Effect.promise(async () => {
    if (this.exitCode !== undefined) return
    this.child.stdin.end()
    const timer = new Promise<void>((resolve) => setTimeout(resolve, 1000).unref())
    await Promise.race([this.exited, timer])
    if (this.exitCode === undefined) this.child.kill("SIGKILL")
    await this.exited
  })
}

type Theirs = "poll" | "select"

/** The original's select backend wakes every interval (default 0.5 s) to look for something to send. */
const peerEnv = {
  ...process.env,
  STOCKING_SELECT_SEND_INTERVAL: "0.005",
  PYTHONDONTWRITEBYTECODE: "1",
  PYTHONUTF8: "1"
}

const spawnPeer = (python: string, theirs: Theirs, args: ReadonlyArray<string>, script: ReadonlyArray<Step>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(python, ["-S", peerScript, libDir, theirs, ...args], {
        env: peerEnv,
        stdio: "pipe"
      })
      running.add(child)
      child.stdin.write(JSON.stringify(script) + "\n")
      return new Peer(child, `python ${theirs} peer (${args.join(" ")})`)
    }),
    (peer) => peer.stop
  )

// ---------------------------------------------------------------------------
// The configurations
// ---------------------------------------------------------------------------

type Mode = "client" | "serve" | "connections"

interface Setup {
  readonly mode: Mode
  readonly ours: string
  readonly backend: Backend.Backend
  readonly theirs: Theirs
}

const setupName = (s: Setup) =>
  s.mode === "client"
    ? `Python ${s.theirs} server <-> our ${s.ours} client (Stocking.make)`
    : `our ${s.ours} server (Server ${s.mode}) <-> Python ${s.theirs} client`

const setups: ReadonlyArray<Setup> = (["client", "serve", "connections"] as const).flatMap((mode) =>
  backends.flatMap(([ours, backend]) =>
    (["poll", "select"] as const).map((theirs) => ({ mode, ours, backend, theirs }))
  )
)

interface Connected<A> {
  readonly value: A
  readonly ours: Stocking.Stocking
  readonly peer: Peer
}

/**
 * Connects our side and the peer (running `script`), then runs `body` on our Stocking: in the client mode once
 * it is ready, in the server modes as the connection's handler (so the handler's end closes the connection, as
 * `serve` does and as the README's `connections` recipe does). With `closeAfter`, our side is then closed its
 * mode's way (the client by `close`, a server connection by its handler ending) and this waits until it is closed.
 */
const connect = <A, E>(
  python: string,
  setup: Setup,
  script: ReadonlyArray<Step>,
  body: (ours: Stocking.Stocking, peer: Peer) => Effect.Effect<A, E>,
  options: RunOptions = {}
): Effect.Effect<Connected<A>, E | Error | Stocking.Closed, Scope.Scope> =>
  Effect.gen(function* () {
    const { closeAfter: _, ...limits } = options
    const settings = { ...SETTINGS, ...limits }
    if (setup.mode === "client") {
      const peer = yield* spawnPeer(python, setup.theirs, ["listen"], script)
      const { port } = yield* peer.waitFor("listening")
      const ours = yield* Stocking.make({ host: "127.0.0.1", port: port!, ...settings }).pipe(
        Effect.provideService(Backend.Backend, setup.backend),
        Effect.mapError((e) => new Error(`${e.message}\n${peer.log()}`))
      )
      yield* ours.ready
      yield* peer.waitFor("ready")
      const value = yield* body(ours, peer)
      if (options.closeAfter === true) yield* ours.close
      return { value, ours, peer }
    }
    const server = yield* Server.make({ port: 0, ...settings }).pipe(
      Effect.provideService(Backend.Backend, setup.backend),
      Effect.orDie
    )
    const result = yield* Deferred.make<Connected<A>, E | Error>()
    const peer = yield* spawnPeer(python, setup.theirs, ["connect", String(server.port)], script)
    const handler = (ours: Stocking.Stocking) =>
      Effect.gen(function* () {
        yield* peer.waitFor("ready")
        return { value: yield* body(ours, peer), ours, peer }
      }).pipe(
        Effect.exit,
        Effect.flatMap((exit) => Deferred.done(result, exit)),
        Effect.asVoid
      )
    if (setup.mode === "serve") yield* Effect.forkScoped(server.serve(handler))
    else
      yield* Effect.forkScoped(
        server.connections.pipe(Stream.runForEach((s) => Effect.forkScoped(Effect.ensuring(handler(s), s.close))))
      )
    const connected = yield* Effect.raceFirst(Deferred.await(result), peer.failure())
    // The handler has ended, so its connection is closing (or closed).
    if (options.closeAfter === true) yield* connected.ours.closed
    return connected
  })

// ---------------------------------------------------------------------------
// Helpers on our side
// ---------------------------------------------------------------------------

const takeN = (ours: Stocking.Stocking, n: number) =>
  Effect.gen(function* () {
    const got: Array<Framing.Message> = []
    while (got.length < n) got.push(yield* ours.take)
    return got
  }).pipe(
    Effect.timeoutFail({
      duration: WAIT_MS,
      onTimeout: () => new Error(`fewer than ${n} messages arrived within ${WAIT_MS} ms`)
    })
  )

/** The messages that arrived, as labels, are exactly the ones sent, in order (the diff shows what differs). */
const assertLabels = (got: ReadonlyArray<string>, expected: ReadonlyArray<string>, what: string) =>
  assert.deepStrictEqual(got, expected, `${what}: ${got.length} messages arrived, ${expected.length} were sent`)

/** What the peer received from report `from` on (0-based, counting `message` reports). */
const peerReceived = (peer: Peer, from: number, count: number) => peer.received().slice(from, from + count)

// ---------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------

if (!found.ok) {
  it.skip(`Python interop: skipped, ${found.reason}`, () => {})
} else {
  const python = found.python

  describe("Python interop", () => {
    afterAll(() => {
      assert.strictEqual(running.size, 0, `${running.size} peer processes are still running`)
    })

    it.effect("the peer script imports the original", () =>
      Effect.sync(() => {
        const r = spawnSync(python, ["-S", peerScript, libDir, "check"], { encoding: "utf8", env: peerEnv })
        assert.strictEqual(r.status, 0, r.stderr)
        assert.match(r.stdout, /"event": "ok"/)
      })
    )

    for (const setup of setups) {
      const run = <A, E>(
        script: ReadonlyArray<Step>,
        body: (ours: Stocking.Stocking, peer: Peer) => Effect.Effect<A, E>,
        options: RunOptions = {}
      ) => connect(python, setup, script, body, options)

      describe(setupName(setup), () => {
        it.scopedLive("test.py testInit: the handshake completes on both ends; nothing to read yet", () =>
          run(
            [{ op: "state" }, { op: "poll" }, { op: "read", count: 1 }, { op: "write", messages: [{ text: "hi" }] }],
            (ours, peer) =>
              Effect.gen(function* () {
                assert.isTrue(yield* ours.handshakeComplete)
                assert.isTrue(yield* ours.isActive)
                assert.isFalse(yield* ours.writeDataQueued)
                assert.isTrue(Option.isNone(yield* ours.read))
                const state = yield* peer.waitFor("state")
                assert.deepInclude(state, {
                  active: true,
                  alive: true,
                  handshakeComplete: true,
                  writeDataQueued: false
                })
                assert.strictEqual((yield* peer.waitFor("poll")).message, null)
                yield* ours.write("hello")
                yield* peer.waitFor("message")
                assert.deepStrictEqual(peer.received(), [labelOf("hello")])
                assert.strictEqual(yield* ours.take, "hi")
              })
          )
        )

        it.scopedLive("test.py testReadWrite: 64 KiB, interleaved, 500 in order, an empty write", () => {
          const big = "a".repeat(2 ** 16)
          const numbers = Array.from({ length: 500 }, (_, i) => String(i))
          return run(
            [
              { op: "write", messages: [{ text: big }] },
              { op: "read", count: 1 },
              { op: "write", messages: [{ text: "test" }] },
              { op: "read", count: 1 },
              { op: "write", messages: [{ text: "b" }, { text: "c" }] },
              { op: "read", count: 2 },
              { op: "read", count: 500 },
              { op: "write", messages: numbers.map((text) => ({ text })) },
              // The original sends nothing for an empty write.
              { op: "write", messages: [{ text: "" }] },
              { op: "wait" },
              { op: "write", messages: [{ text: "after the empty one" }] }
            ],
            (ours, peer) =>
              Effect.gen(function* () {
                assert.strictEqual(labelOf(yield* ours.take), labelOf(big))
                yield* ours.write(big)
                yield* peer.waitFor("message", 1)
                assert.strictEqual(yield* ours.take, "test")
                yield* ours.write("test")
                yield* peer.waitFor("message", 2)
                yield* ours.write("a")
                yield* peer.waitFor("wrote", 3)
                yield* ours.write("d")
                assert.deepStrictEqual(yield* takeN(ours, 2), ["b", "c"])
                yield* peer.waitFor("message", 4)
                assert.deepStrictEqual(peer.received(), [big, "test", "a", "d"].map(labelOf))
                for (const n of numbers) yield* ours.write(n)
                yield* peer.waitFor("message", 504)
                assertLabels(peerReceived(peer, 4, 500), numbers.map(labelOf), "500 written one by one")
                assert.deepStrictEqual(yield* takeN(ours, 500), numbers)
                yield* peer.waitFor("wrote", 5)
                yield* Effect.sleep("100 millis")
                assert.isTrue(Option.isNone(yield* ours.read), "the original sent something for write('')")
                yield* peer.signal
                assert.strictEqual(yield* ours.take, "after the empty one")
              })
          )
        })

        it.scopedLive("test.py header tests: slow and joined headers, every header length boundary", () => {
          const lengths = [1, 50, 63, 64, 127, 128, 255, 256, 1023, 1024, 1025, 8191, 8192, 8193, 65535, 65536]
          const boundary: ReadonlyArray<Spec> = lengths.flatMap((size, i) => [
            { gen: "bytes" as const, size, seed: i },
            { text: "a".repeat(size) }
          ])
          const joined = ["a", "b"]
          return run(
            [
              // testSlowMessageHeaders: a header in two pieces, then the payload in two more.
              { op: "raw", hex: "01" },
              { op: "wait" },
              { op: "raw", hex: "81" + "78".repeat(30) },
              { op: "wait" },
              { op: "raw", hex: "79".repeat(35) },
              // testTwoJoinedMessages: two frames in one send.
              { op: "raw", hex: "8161" + "8162" },
              // testSerializemessageHeaders / testFastMessageHeaders, end to end.
              { op: "write", messages: boundary },
              { op: "read", count: joined.length + boundary.length }
            ],
            (ours, peer) =>
              Effect.gen(function* () {
                yield* peer.waitFor("wrote", 1)
                yield* Effect.sleep("50 millis")
                assert.isTrue(Option.isNone(yield* ours.read), "a message from one header byte")
                yield* peer.signal
                yield* peer.waitFor("wrote", 2)
                yield* Effect.sleep("50 millis")
                assert.isTrue(Option.isNone(yield* ours.read), "a message from 30 of its 65 bytes")
                yield* peer.signal
                assert.strictEqual(yield* ours.take, "x".repeat(30) + "y".repeat(35))
                assert.deepStrictEqual(yield* takeN(ours, 2), joined)
                const got = yield* takeN(ours, boundary.length)
                assertLabels(got.map(labelOf), labelsOf(boundary), "header boundaries, Python to us")
                yield* ours.writeAll(joined)
                yield* ours.writeAll(boundary.map(materialize))
                yield* peer.waitFor("message", joined.length + boundary.length)
                assertLabels(
                  peer.received(),
                  [...joined.map(labelOf), ...labelsOf(boundary)],
                  "joined and header boundaries, us to Python"
                )
              })
          )
        })

        it.scopedLive("test.py testSendType: text stays text, bytes stay bytes, empty and non-ASCII too", () => {
          const kinds: ReadonlyArray<Spec> = [
            { text: "a" },
            { hex: "61" },
            { text: "h\u00e9llo w\u00f6rld" },
            { text: "\u20ac \u4e2d\u6587 \u{1d11e} \u{1f642} e\u0301 \u2028 \ufeff" },
            { text: "\u0000nul\u0000" },
            { text: "00ff" },
            { hex: "68692c20627974657321" },
            { hex: Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString("hex") },
            { hex: "c328a0a1" },
            { gen: "text", size: 5000, seed: 3 }
          ]
          const ourMessages: ReadonlyArray<Framing.Message> = ["", ...kinds.map(materialize), new Uint8Array(0)]
          return run(
            [
              // write() drops empty messages, so empty frames go out with the original's own header encoder.
              { op: "frame", kind: "text", hex: "" },
              { op: "write", messages: kinds },
              { op: "frame", kind: "bytes", hex: "" },
              { op: "read", count: ourMessages.length }
            ],
            (ours, peer) =>
              Effect.gen(function* () {
                const got = yield* takeN(ours, ourMessages.length)
                for (const [i, m] of got.entries()) {
                  const want = ourMessages[i]!
                  if (typeof want === "string") assert.strictEqual(typeof m, "string", `message ${i} became bytes`)
                  else assert.instanceOf(m, Uint8Array, `message ${i} became text`)
                }
                assertLabels(got.map(labelOf), ourMessages.map(labelOf), "kinds, Python to us")
                yield* ours.writeAll(ourMessages)
                yield* peer.waitFor("message", ourMessages.length)
                assertLabels(peer.received(), ourMessages.map(labelOf), "kinds, us to Python")
              })
          )
        })

        it.scopedLive("test.py testClose: the Python side closes, ours sees ClosedByPeer", () =>
          run([{ op: "close" }, { op: "state" }], (ours, peer) =>
            Effect.gen(function* () {
              yield* peer.waitFor("closed")
              const start = Date.now()
              const why = yield* ours.closed.pipe(
                Effect.timeoutFail({ duration: WAIT_MS, onTimeout: () => new Error("never closed") })
              )
              const ms = Date.now() - start
              assert.strictEqual(why.reason, "ClosedByPeer")
              assert.isUndefined(why.cause)
              assert.isFalse(yield* ours.isActive)
              assert.isBelow(ms, 2000, "our side noticed late")
              assert.isFalse((yield* peer.waitFor("state")).active)
              const after = yield* Effect.flip(ours.take)
              assert.deepInclude(after, { _tag: "Closed", reason: "ClosedByPeer" })
            })
          )
        )

        it.scopedLive("test.py testClose: our side closes, the Python side goes inactive", () =>
          Effect.gen(function* () {
            let start = 0
            const { ours, peer } = yield* run(
              [{ op: "waitInactive", timeoutMs: 10_000 }, { op: "state" }],
              () => Effect.sync(() => void (start = Date.now())),
              { closeAfter: true }
            )
            yield* peer.waitFor("inactive")
            const ms = Date.now() - start
            // Under closeTimeout (3 s): the close did not have to give up waiting for the peer's end.
            assert.isBelow(ms, 2500, "the close took long: the peer did not end its side, or we waited for it")
            const state = yield* peer.waitFor("state")
            assert.isFalse(state.active)
            const why = yield* ours.closed
            assert.strictEqual(why.reason, "ClosedLocally")
            assert.isUndefined(why.cause)
          })
        )

        it.scopedLive(
          "large messages, both ways: 1 MiB and 5 MiB bytes, 1 Mi characters of text, then test.py's 2**24 (16 MiB) text",
          () => {
            const large: ReadonlyArray<Spec> = [
              { text: "s0" },
              { gen: "bytes", size: MiB, seed: 1 },
              { text: "s1" },
              { gen: "bytes", size: 5 * MiB, seed: 2 },
              { gen: "text", size: MiB, seed: 3 },
              { text: "s2" }
            ]
            const expected = labelsOf(large)
            const longest: Spec = { repeat: "a", size: 2 ** 24 }
            return run(
              [
                { op: "write", messages: large },
                // The reader starts late, so our large messages wait behind a full socket.
                { op: "read", count: large.length, initialPauseMs: 200 },
                { op: "write", messages: [longest] }
              ],
              (ours, peer) =>
                Effect.gen(function* () {
                  const got = yield* takeN(ours, large.length)
                  assertLabels(got.map(labelOf), expected, "large, Python to us")
                  yield* ours.writeAll(large.map(materialize))
                  yield* peer.waitFor("message", large.length)
                  assertLabels(peer.received(), expected, "large, us to Python")
                  const long = yield* ours.take
                  assert.strictEqual(labelOf(long), labelOf(materialize(longest)), "test.py's 16 MiB message")
                })
            )
          },
          60_000
        )

        it.scopedLive(
          "backpressure, Python to us: 500 messages of 1 B..256 KiB, our reader pausing, 1 MiB buffered at most",
          () => {
            const specs = randomSpecs(1000, 500, 256 * KiB, 1)
            const expected = labelsOf(specs)
            const got: Array<string> = []
            return run(
              [{ op: "write", messages: specs }, { op: "flush" }],
              (ours, peer) =>
                Effect.gen(function* () {
                  yield* Effect.sleep("200 millis")
                  while (got.length < specs.length) {
                    got.push(labelOf(yield* ours.take))
                    if (got.length % 50 === 0) yield* Effect.sleep("20 millis")
                  }
                  assertLabels(got, expected, "500 messages, Python to us")
                  yield* Effect.sleep("50 millis")
                  const extra = yield* ours.takeAll
                  assert.strictEqual(extra.length, 0, "more messages than were sent")
                }).pipe(
                  Effect.timeoutFail({
                    duration: WAIT_MS,
                    onTimeout: () =>
                      new Error(
                        `stalled after ${got.length} of ${specs.length}: ${JSON.stringify(specs.slice(Math.max(0, got.length - 3), got.length + 3))}\n${peer.log()}`
                      )
                  })
                ),
              // Our socket is paused whenever 1 MiB waits for the reader, so the Python sender is held back often.
              { maxBufferedBytes: MiB }
            )
          },
          60_000
        )

        it.scopedLive(
          "backpressure, us to Python: 500 messages of 0..256 KiB, the Python reader pausing, 1 MiB queued at most",
          () => {
            const specs = randomSpecs(2000, 500, 256 * KiB)
            const expected = labelsOf(specs)
            return run(
              [
                { op: "read", count: specs.length, initialPauseMs: 200, pauseEvery: 50, pauseMs: 20 },
                { op: "sleep", ms: 50 },
                { op: "poll" }
              ],
              (ours, peer) =>
                Effect.gen(function* () {
                  for (const spec of specs) yield* ours.write(materialize(spec))
                  yield* peer.waitFor("message", specs.length)
                  assertLabels(peer.received(), expected, "500 messages, us to Python")
                  assert.strictEqual((yield* peer.waitFor("poll")).message, null, "more messages than were sent")
                }),
              // Our writes suspend whenever 1 MiB is queued.
              { maxQueuedBytes: MiB }
            )
          },
          60_000
        )

        it.scopedLive("the Python writer closes with messages we have not read: all of them, then a clean end", () => {
          const specs = [
            ...randomSpecs(3000, 100, 64 * KiB, 1),
            { gen: "bytes" as const, size: MiB, seed: 1 },
            { text: "last" }
          ]
          const expected = labelsOf(specs)
          return run([{ op: "write", messages: specs }, { op: "flush" }, { op: "close" }], (ours, peer) =>
            Effect.gen(function* () {
              yield* peer.waitFor("closed")
              yield* Effect.sleep("200 millis")
              // The first few with `take`, the rest through `messages`, which must then end cleanly.
              const got: Array<Framing.Message> = []
              let early: Stocking.Closed | Stocking.NotReady | undefined
              while (got.length < 10 && early === undefined) {
                const next = yield* Effect.either(ours.take)
                if (Either.isLeft(next)) early = next.left
                else got.push(next.right)
              }
              if (early === undefined) {
                const rest = yield* ours.messages.pipe(
                  Stream.runCollect,
                  Effect.timeoutFail({ duration: WAIT_MS, onTimeout: () => new Error("messages did not end") })
                )
                got.push(...rest)
              }
              const why = yield* ours.closed
              assertLabels(
                got.map(labelOf),
                expected,
                `messages left unread when the peer closed (our side closed: ${why.reason}` +
                  (early === undefined ? ")" : `; take failed after ${got.length}: ${early.message})`)
              )
              assert.strictEqual(why.reason, "ClosedByPeer")
              assert.isUndefined(why.cause)
              const after = yield* Effect.flip(ours.take)
              assert.isTrue(
                after._tag === "Closed" && after.reason === "ClosedByPeer" && after.cause === undefined,
                `a read after the end: ${after.message}`
              )
            })
          )
        })

        it.scopedLive("we close with messages the Python reader has not read: all of them, then its end", () =>
          Effect.gen(function* () {
            const specs = [
              ...randomSpecs(4000, 100, 64 * KiB),
              { gen: "bytes" as const, size: MiB, seed: 1 },
              { text: "last" }
            ]
            const { ours, peer } = yield* run(
              [{ op: "wait" }, { op: "read", toEnd: true, initialPauseMs: 200 }],
              (ours, peer) =>
                Effect.gen(function* () {
                  yield* ours.writeAll(specs.map(materialize))
                  yield* peer.signal
                }),
              { closeAfter: true }
            )
            const end = yield* peer.waitFor("end")
            assertLabels(peer.received(), labelsOf(specs), "messages left unread when we closed")
            assert.strictEqual(end.received, specs.length)
            const why = yield* ours.closed
            assert.strictEqual(why.reason, "ClosedLocally")
          })
        )
      })
    }
  })
}

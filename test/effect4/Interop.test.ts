/**
 * The Effect 4 line against the original Python Stockings, live: the
 * original (GPL-3.0, run as a separate process by `test/interop/peer.py`,
 * never copied) on the other end of a real loopback socket, each of our
 * backends against each of its own, in both roles: a Python server and our
 * `Stocking.make` client; our `Server.make` (through `serve`) and a Python
 * client. Messages go both ways and are compared by kind, length and
 * SHA-256; the peer's close after its last write must deliver everything.
 *
 * Where the original is found: `test/interop/original.ts`; without it (or
 * `python3`) the suite skips, saying why.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { spawn } from "node:child_process"
import type { ChildProcessWithoutNullStreams } from "node:child_process"
import { createHash } from "node:crypto"
import { afterAll, describe, expect, it } from "vitest"
import * as Backend from "../../src/effect4/Backend/Backend.js"
import * as Poll from "../../src/effect4/Backend/Poll.js"
import * as Select from "../../src/effect4/Backend/Select.js"
import * as Server from "../../src/effect4/Server.js"
import * as Stocking from "../../src/effect4/Stocking.js"
import { find, libDir, peerScript } from "../interop/original.js"

const original = find()
const found: { readonly python: string } | { readonly reason: string } = original.ok
  ? { python: original.python }
  : { reason: original.reason }

// The same generator as peer.py's `generate` (and test/Interop.test.ts's).
const GEN_ALPHABET = Array.from(
  "abcdefghijklmnopqrstuvwxyz0123456789 .,-\u00e9\u00fc\u00df\u20ac\u2713\u4e2d\u6587\u{1d11e}\u{1f642}"
)
const generate = (kind: "text" | "bytes", size: number, seed: number): Stocking.Message => {
  if (kind === "bytes") {
    const period = Uint8Array.from({ length: 251 }, (_, i) => (i * 131 + seed) % 251)
    return Uint8Array.from({ length: size }, (_, i) => period[i % 251]!)
  }
  const n = GEN_ALPHABET.length
  const period = Array.from({ length: n }, (_, i) => GEN_ALPHABET[(i * 7 + seed) % n]!)
  return Array.from({ length: size }, (_, i) => period[i % n]).join("")
}

type Spec = { readonly gen: "text" | "bytes"; readonly size: number; readonly seed: number }

/** What both sides write: small and large, text and bytes, empty ones, astral code points. */
const SPECS: ReadonlyArray<Spec> = [
  { gen: "text", size: 0, seed: 1 },
  { gen: "bytes", size: 0, seed: 2 },
  { gen: "text", size: 5, seed: 3 },
  { gen: "bytes", size: 127, seed: 4 },
  { gen: "text", size: 128, seed: 5 },
  { gen: "bytes", size: 70_000, seed: 6 },
  { gen: "text", size: 300_000, seed: 7 },
  { gen: "bytes", size: 2 * 1024 * 1024, seed: 8 },
  ...Array.from({ length: 40 }, (_, i): Spec => ({ gen: i % 2 === 0 ? "text" : "bytes", size: i * 37, seed: 9 + i }))
]

interface Seen {
  readonly kind: "text" | "bytes"
  readonly len: number
  readonly sha: string
}

const describeMessage = (message: Stocking.Message): Seen => {
  const bytes = typeof message === "string" ? Buffer.from(message, "utf8") : Buffer.from(message)
  return {
    kind: typeof message === "string" ? "text" : "bytes",
    len: bytes.length,
    sha: createHash("sha256").update(bytes).digest("hex")
  }
}

const expected: ReadonlyArray<Seen> = SPECS.map((spec) => describeMessage(generate(spec.gen, spec.size, spec.seed)))

/** What we get of the peer's writes: the original's `write` drops empty messages (docs/DIFFERENCES.md). */
const expectedFromPeer: ReadonlyArray<Seen> = expected.filter((seen) => seen.len > 0)

/** A running peer.py: its reports, line by line. */
class Peer {
  private readonly events: Array<Record<string, unknown>> = []
  private waiters: Array<() => void> = []
  private partial = ""
  readonly exited: Promise<number | null>

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding("utf8")
    child.stdout.on("data", (data: string) => {
      const parts = (this.partial + data).split("\n")
      this.partial = parts.pop()!
      for (const line of parts) if (line.trim() !== "") this.events.push(JSON.parse(line) as Record<string, unknown>)
      const waiters = this.waiters
      this.waiters = []
      for (const wake of waiters) wake()
    })
    this.exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)))
  }

  /** Waits for the first report of `event` at or after `from`; its index. */
  async next(event: string, from = 0, timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs
    while (true) {
      const index = this.events.findIndex((e, i) => i >= from && (e["event"] === event || e["event"] === "error"))
      if (index >= 0) {
        if (this.events[index]!["event"] === "error") throw new Error(`peer: ${JSON.stringify(this.events[index])}`)
        return index
      }
      if (Date.now() > deadline) throw new Error(`peer: no "${event}" within ${timeoutMs} ms: ${this.log()}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200)
        this.waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  messages(): Array<Seen> {
    return this.events
      .filter((e) => e["event"] === "message")
      .map((e) => ({ kind: e["kind"] as Seen["kind"], len: e["len"] as number, sha: e["sha"] as string }))
  }

  get(index: number): Record<string, unknown> {
    return this.events[index]!
  }

  log(): string {
    return this.events.map((e) => JSON.stringify(e).slice(0, 160)).join("\n")
  }

  end(): void {
    this.child.stdin.end()
  }
}

const peers: Array<Peer> = []
afterAll(() => {
  for (const peer of peers) peer.child.kill()
})

const startPeer = (python: string, backend: string, args: ReadonlyArray<string>, script: unknown): Peer => {
  const child = spawn(python, [peerScript, libDir, backend, ...args], { stdio: "pipe" })
  child.stdin.write(JSON.stringify(script) + "\n")
  const peer = new Peer(child)
  peers.push(peer)
  return peer
}

/** The peer's script: read ours, write its own, then close (its last writes must still arrive). */
const script = [{ op: "read", count: SPECS.length }, { op: "write", messages: SPECS }, { op: "flush" }, { op: "close" }]

const ours = [
  ["poll", Poll.backend],
  ["select", Select.make("20 millis")]
] as const

const theirs = ["poll", "select"] as const

/** Writes every message, then reads until the peer's clean end: everything it wrote, nothing more. */
const exchange = (stocking: Stocking.Stocking) =>
  Effect.gen(function* () {
    yield* stocking.writeAll(SPECS.map((spec) => generate(spec.gen, spec.size, spec.seed)))
    const got: Array<Seen> = []
    yield* stocking.forEach((message) => Effect.sync(() => void got.push(describeMessage(message))))
    return got
  })

const run = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>, backend: Backend.Backend) =>
  Effect.runPromise(Effect.scoped(effect).pipe(Effect.provideService(Backend.Backend, backend)))

if ("reason" in found) {
  describe("effect4 Python interop", () => {
    it.skip(`skipped: ${found.reason}`, () => {})
  })
} else {
  const { python } = found
  describe("effect4 Python interop", () => {
    for (const [ourName, ourBackend] of ours) {
      for (const theirName of theirs) {
        it(`our ${ourName} client, their ${theirName} server: both directions, everything before the close`, async () => {
          const peer = startPeer(python, theirName, ["listen"], script)
          const port = peer.get(await peer.next("listening"))["port"] as number
          const got = await run(
            Effect.flatMap(Stocking.make({ host: "127.0.0.1", port, closeTimeout: "3 seconds" }), exchange),
            ourBackend
          )
          await peer.next("closed")
          peer.end()
          expect(peer.messages()).toEqual(expected)
          expect(got).toEqual(expectedFromPeer)
        }, 60_000)

        it(`our ${ourName} server (serve), their ${theirName} client: both directions, everything before the close`, async () => {
          const got: Array<Array<Seen>> = []
          let peer: Peer | undefined
          await run(
            Effect.gen(function* () {
              const server = yield* Server.make({ host: "127.0.0.1", port: 0, closeTimeout: "3 seconds" })
              peer = startPeer(python, theirName, ["connect", String(server.port)], script)
              // One connection: serve it, and stop once it is done.
              yield* server
                .serve((stocking) => Effect.map(exchange(stocking), (seen) => void got.push(seen)))
                .pipe(
                  Effect.raceFirst(
                    Effect.promise(async () => {
                      while (got.length === 0) await new Promise((resolve) => setTimeout(resolve, 20))
                    })
                  )
                )
            }),
            ourBackend
          )
          await peer!.next("closed")
          peer!.end()
          expect(peer!.messages()).toEqual(expected)
          expect(got).toEqual([expectedFromPeer])
        }, 60_000)
      }
    }
  })
}

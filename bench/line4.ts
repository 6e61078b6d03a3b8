/**
 * The Effect 4 side of `npm run bench`: a child process running the bench's
 * Effect 4 build, driven round by round from the sections of the main run,
 * so that its sides interleave with the Effect 3 sides in the same rounds
 * (the parent waits, idle, while the child runs a side, as it would while
 * any other side runs).
 *
 * - The Effect 4 build: `tsconfig.bench.effect4.json` (and, once
 *   `src/effect4/Stocking.ts` exists, `tsconfig.bench.effect4.library.json`)
 *   type-checks `bench/effect4/` against Effect 4 (`paths`) and emits it into
 *   `.bench-build-effect4/` (`scripts/bench-effect4.mjs`, run by
 *   `npm run bench`).
 * - The child runs under plain `node` with a module resolve hook
 *   (`bench/effect4/loader.ts`, registered with `--import`) that maps
 *   `effect` and `effect/*` to `effect4` and `effect4/*`: the compiled code
 *   imports `effect` bare, as the library's sources do. Only the bench uses
 *   this hook.
 * - What it runs: the Effect 4 floors (bench/effect4/floor.ts, the Effect 3
 *   floors of bench/floor.ts op for op), the idle floor and bare pairs, and,
 *   when the Effect 4 line's `Stocking` is there, its rows
 *   (bench/effect4/library/rows.ts). Without it the child says why, and the
 *   sections print that and skip those rows.
 *
 * This module has no Effect in it: both builds compile it (the child takes
 * the protocol's types from here).
 */
import { type ChildProcess, fork } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import type { PerPair, Trips } from "./common.js"
import type { Measurement } from "./counting.js"

export type FloorKind = "sync" | "2-op"

/** The Effect 4 library's ping-pong echoes: a `take` loop over a wrapped socket, or `Server.serve` with a `take` loop. */
export type Echo4 = "take" | "serve"

/** The idle sides: bare pairs, the idle floor (a take-loop fiber per end), the Effect 4 line's Stocking pairs. */
export type Idle4 = "bare" | "floor" | "library"

export type Request =
  | { readonly op: "throughput floor"; readonly size: number; readonly n: number; readonly kind: FloorKind }
  | { readonly op: "throughput library"; readonly size: number; readonly n: number }
  | { readonly op: "latency floor"; readonly warmup: number; readonly trips: number; readonly kind: FloorKind }
  | { readonly op: "latency library"; readonly echo: Echo4; readonly warmup: number; readonly trips: number }
  | { readonly op: "idle"; readonly side: Idle4; readonly pairs: number }

/** The child's first message. */
export interface Hello {
  readonly ready: true
  /** The `version` of the package `effect` resolves to in the child. */
  readonly effectVersion: string
  /** Where `effect` resolves to in the child. */
  readonly effectUrl: string
  /** Why the Effect 4 library rows are skipped; `undefined` when they run. */
  readonly skipLibrary: string | undefined
  readonly failures: ReadonlyArray<string>
}

export type Reply =
  | { readonly id: number; readonly ok: true; readonly value: unknown; readonly failures: ReadonlyArray<string> }
  | { readonly id: number; readonly ok: false; readonly error: string; readonly failures: ReadonlyArray<string> }

/** What bench/effect4/library/rows.ts exports (loaded by the child only when it was built). */
export interface LibraryRows {
  /** One-way `write` + `take` at `size`, the reading end made by `Stocking.make({ host, port })`. */
  readonly throughput: (size: number, n: number) => Promise<Measurement>
  readonly latency: (echo: Echo4, warmup: number, trips: number) => Promise<Trips>
  /** Idle Stocking pairs (one connecting, one wrapping the accepted socket). */
  readonly idle: (pairs: number) => Promise<PerPair>
}

export interface Line4 {
  readonly effectVersion: string
  /** Why the Effect 4 library rows are skipped; `undefined` when they run. */
  readonly skipLibrary: string | undefined
  readonly throughputFloor: (size: number, n: number, kind: FloorKind) => Promise<Measurement>
  readonly throughputLibrary: (size: number, n: number) => Promise<Measurement>
  readonly latencyFloor: (warmup: number, trips: number, kind: FloorKind) => Promise<Trips>
  readonly latencyLibrary: (echo: Echo4, warmup: number, trips: number) => Promise<Trips>
  readonly idle: (side: Idle4, pairs: number) => Promise<PerPair>
  /** Seconds from the child's start to its hello, and spent in calls to it since. */
  readonly seconds: () => { readonly start: number; readonly calls: number; readonly count: number }
  readonly close: () => Promise<void>
}

/** The repository's root, from this module's place in either build (`.bench-build*` / `bench/line4.js`). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")

/** Where the Effect 4 build of the bench lands. */
export const BUILD4 = ".bench-build-effect4"

/**
 * Starts the child. Resolves to `undefined`, with the reason in `problem`,
 * when it cannot: the Effect 4 build is missing or the child failed to load.
 * Every sanity failure the child records is added to `failures`.
 */
export const startLine4 = async (
  failures: Array<string>,
  problem: (reason: string) => void
): Promise<Line4 | undefined> => {
  const dir = path.join(repoRoot, BUILD4, "bench", "effect4")
  const child = path.join(dir, "child.js")
  const loader = path.join(dir, "loader.js")
  if (!fs.existsSync(child) || !fs.existsSync(loader)) {
    problem(
      `the Effect 4 build is missing (${path.relative(process.cwd(), child)}): run node scripts/bench-effect4.mjs`
    )
    return undefined
  }
  const t0 = performance.now()
  const proc: ChildProcess = fork(child, [], {
    execArgv: ["--expose-gc", "--import", pathToFileURL(loader).href],
    serialization: "advanced",
    stdio: ["ignore", "inherit", "inherit", "ipc"]
  })
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  let nextId = 0
  let exited: string | undefined
  const hello = await new Promise<Hello | undefined>((resolve) => {
    const timer = setTimeout(() => {
      problem("the Effect 4 child did not start within 60 s")
      proc.kill()
      resolve(undefined)
    }, 60_000)
    proc.once("message", (message) => {
      clearTimeout(timer)
      resolve(message as Hello)
    })
    proc.once("exit", (code, signal) => {
      clearTimeout(timer)
      exited = `the Effect 4 child exited (${signal ?? `code ${code}`})`
      resolve(undefined)
      for (const { reject } of pending.values()) reject(new Error(exited))
      pending.clear()
    })
  })
  if (hello === undefined) {
    if (exited !== undefined) problem(exited)
    return undefined
  }
  failures.push(...hello.failures.map((f) => `effect4: ${f}`))
  const start = (performance.now() - t0) / 1000
  let inCalls = 0
  let count = 0
  proc.on("message", (message) => {
    const reply = message as Reply
    failures.push(...reply.failures.map((f) => `effect4: ${f}`))
    const waiter = pending.get(reply.id)
    if (waiter === undefined) return
    pending.delete(reply.id)
    if (reply.ok) waiter.resolve(reply.value)
    else waiter.reject(new Error(`effect4: ${reply.error}`))
  })
  const call = <A>(request: Request): Promise<A> => {
    if (exited !== undefined) return Promise.reject(new Error(exited))
    const t1 = performance.now()
    count++
    return new Promise<A>((resolve, reject) => {
      const id = nextId++
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
      proc.send({ id, request })
    }).finally(() => (inCalls += (performance.now() - t1) / 1000))
  }
  return {
    effectVersion: hello.effectVersion,
    skipLibrary: hello.skipLibrary,
    throughputFloor: (size, n, kind) => call({ op: "throughput floor", size, n, kind }),
    throughputLibrary: (size, n) => call({ op: "throughput library", size, n }),
    latencyFloor: (warmup, trips, kind) => call({ op: "latency floor", warmup, trips, kind }),
    latencyLibrary: (echo, warmup, trips) => call({ op: "latency library", echo, warmup, trips }),
    idle: (side, pairs) => call({ op: "idle", side, pairs }),
    seconds: () => ({ start, calls: inCalls, count }),
    close: () =>
      exited !== undefined
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            proc.once("exit", () => resolve())
            proc.disconnect()
          })
  }
}

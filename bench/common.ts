/**
 * Shared helpers with no Effect in them: statistics, garbage collection and
 * RSS, the result records every benchmark produces, and formatting. Both
 * builds of the bench use them: the Effect 3 one (bench/util.ts re-exports
 * this module) and the Effect 4 one (bench/effect4/, see bench/line4.ts).
 */
import * as fs from "node:fs"
import { constants, type PerformanceEntry, PerformanceObserver } from "node:perf_hooks"
import type { Duplex } from "node:stream"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import type { Line4 } from "./line4.js"

// ---------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------

/** One line of bench/results.json. `ratio` is library / baseline (see `better` for its direction). */
export interface Result {
  readonly name: string
  /** Message size in bytes, or the number of connections for memory and fan-in figures. */
  readonly size: number
  /** The library's median. */
  readonly value: number
  readonly unit: string
  /** The baseline's median. */
  readonly baseline: number
  /** Median over rounds of library / baseline of the same round; NaN (null in the JSON) when meaningless. */
  readonly ratio: number
}

/** Idle memory per connected pair, bytes (bench/idle.ts). */
export interface PerPair {
  readonly rss: number
  readonly heap: number
}

/** Ping-pong round trips of one round, µs (bench/latency.ts). */
export interface Trips {
  readonly p50: number
  readonly p99: number
  readonly count: number
}

/** Which way is better for a figure: used only to print the table's hint. */
export type Better = "higher" | "lower"

export interface Row extends Result {
  /** Library / the sync floor of the same round, median over rounds (throughput and latency rows). */
  readonly floorRatio?: number
  /** Library / the 2-op floor of the same round, median over rounds. */
  readonly floor2Ratio?: number
  /**
   * Throughput library rows: the peer (bench/peers.ts) this row does worst
   * against, and library / that peer, median over the rounds of the same run:
   * below 1, that peer beats the library here.
   */
  readonly peer?: { readonly name: string; readonly ratio: number }
  /**
   * Effect 4 rows (named `... effect4 ...`): this row / the same row of the Effect 3 line in the same rounds,
   * median over rounds (for memory rows: what each costs over its own bare sockets, Effect 4 / Effect 3).
   */
  readonly effect3Ratio?: number
  readonly better: Better
  /** Extra text for the table (not in the JSON). */
  readonly note?: string
}

export interface Options {
  readonly quick: boolean
  readonly libraryOnly: boolean
  readonly only: RegExp | undefined
  /** Rounds of each side per measurement. */
  readonly rounds: number
  /** `performance.now()` by which the whole run should be over (the time budget). */
  readonly deadline: number
  readonly log: (line: string) => void
  /** The Effect 4 side of the run (bench/line4.ts): a child process; `undefined` if it could not start. */
  readonly effect4: Line4 | undefined
}

/** Sanity failures: the bench exits non-zero if any is recorded (never for speed). */
export const failures: Array<string> = []
export const check = (condition: boolean, what: string): void => {
  if (!condition) {
    failures.push(what)
    console.error(`  SANITY CHECK FAILED: ${what}`)
  }
}

// ---------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------

export const median = (values: ReadonlyArray<number>): number => {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Nearest-rank percentile of an already sorted array. */
export const percentile = (sorted: Float64Array | ReadonlyArray<number>, p: number): number => {
  if (sorted.length === 0) return NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]!
}

/** p50 and p99 of round-trip times in ms, in µs; sorts `samples`. */
export const summariseTrips = (samples: Float64Array): Trips => {
  samples.sort()
  return { p50: percentile(samples, 50) * 1000, p99: percentile(samples, 99) * 1000, count: samples.length }
}

/**
 * Runs `rounds` alternating rounds (baseline, library, baseline, ...) and
 * returns every round's result, in order, so that round i of one side pairs
 * with round i of the other.
 */
export const alternate = async <T>(
  rounds: number,
  options: Options,
  label: string,
  baseline: (round: number) => Promise<T>,
  library: (round: number) => Promise<T>
): Promise<{ baseline: Array<T>; library: Array<T> }> => {
  const base: Array<T> = []
  const lib: Array<T> = []
  // No forced collection between rounds: a full GC hands freed memory back to
  // the OS and the next round pays page faults for it (it cut the 1 MiB
  // baseline from ~2 GB/s to ~1 GB/s); the memory rounds collect themselves.
  for (let round = 0; round < rounds; round++) {
    if (!options.libraryOnly) base.push(await baseline(round))
    lib.push(await library(round))
  }
  options.log(`  ${label}: ${rounds} rounds done`)
  return { baseline: base, library: lib }
}

/**
 * Runs `rounds` rounds of every side in turn (side 0, 1, ..., then again),
 * and returns each side's results in round order, so that round i of one
 * side pairs with round i of every other.
 */
export const interleave = async <T>(
  rounds: number,
  options: Options,
  label: string,
  sides: ReadonlyArray<(round: number) => Promise<T>>
): Promise<Array<Array<T>>> => {
  const out = sides.map((): Array<T> => [])
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < sides.length; i++) out[i]!.push(await sides[i]!(round))
  }
  options.log(`  ${label}: ${rounds} rounds of ${sides.length} sides done`)
  return out
}

/** A row's figures against raw and both floors, each side's values in round order. */
export const againstFloors = (
  own: ReadonlyArray<number>,
  raw: ReadonlyArray<number>,
  floorSync: ReadonlyArray<number>,
  floor2: ReadonlyArray<number>
) => ({
  value: round3(median(own)),
  baseline: round3(median(raw)),
  ratio: round3(median(ratios(own, raw))),
  floorRatio: round3(median(ratios(own, floorSync))),
  floor2Ratio: round3(median(ratios(own, floor2)))
})

/** Counts V8's major (mark-compact) collections from now on, as Node reports them. */
export const gcCounter = () => {
  let majors = 0
  const tally = (entries: ReadonlyArray<PerformanceEntry>) => {
    for (const entry of entries) {
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++
    }
  }
  const observer = new PerformanceObserver((list) => tally(list.getEntries()))
  observer.observe({ entryTypes: ["gc"] })
  return {
    /** Major collections so far (including those whose entries are still buffered). */
    majors: () => {
      tally(observer.takeRecords())
      return majors
    },
    stop: () => observer.disconnect()
  }
}

export const ratios = (library: ReadonlyArray<number>, baseline: ReadonlyArray<number>): Array<number> =>
  library.map((value, i) => (baseline[i] === undefined ? NaN : value / baseline[i]!))

// ---------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------

const gcFunction: () => void = (() => {
  const exposed = (globalThis as { gc?: () => void }).gc
  if (typeof exposed === "function") return exposed
  v8.setFlagsFromString("--expose-gc")
  return vm.runInNewContext("gc") as () => void
})()

const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Full collections until the heap stops shrinking, with turns of the event loop between. */
export const fullGc = async (): Promise<void> => {
  let last = Infinity
  for (let i = 0; i < 5; i++) {
    gcFunction()
    await tick()
    const used = process.memoryUsage().heapUsed
    if (i >= 1 && used >= last - 256 * 1024) break
    last = used
  }
}

export const rss = (): number => process.memoryUsage.rss()

/**
 * Collects and waits until RSS settles: what the previous round left (fibers
 * still winding down on timers, sockets still closing) is freed over the next
 * moments, and V8 gives pages back to the OS in the background; a reading
 * taken too early would see the memory drop in the middle of the next round.
 * Returns the settled RSS.
 */
export const settledRss = async (): Promise<number> => {
  let last = -1
  let steady = 0
  for (let i = 0; i < 12 && steady < 1; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    if (i === 0) await fullGc()
    else gcFunction()
    const value = rss()
    steady = Math.abs(value - last) < 256 * 1024 ? steady + 1 : 0
    last = value
  }
  return last
}

export const heapUsed = (): number => process.memoryUsage().heapUsed

/** Open-file limit of this process (soft), from /proc; `Infinity` if unknown. */
export const openFileLimit = (): number => {
  try {
    const limits = fs.readFileSync("/proc/self/limits", "utf8")
    const line = limits.split("\n").find((l) => l.startsWith("Max open files"))
    const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0]
    if (soft === undefined || soft === "unlimited") return Infinity
    const n = Number(soft)
    return Number.isFinite(n) ? n : Infinity
  } catch {
    return Infinity
  }
}

/** Resolves once the socket has emitted 'close' (at once if it already has). */
export const whenClosed = (socket: Duplex): Promise<void> =>
  socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once("close", () => resolve()))

// ---------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------

export const formatSize = (bytes: number): string =>
  bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0
    ? `${bytes / (1024 * 1024)} MiB`
    : bytes >= 1024 && bytes % 1024 === 0
      ? `${bytes / 1024} KiB`
      : `${bytes} B`

export const formatNumber = (value: number): string => {
  if (!Number.isFinite(value)) return String(value)
  const abs = Math.abs(value)
  if (abs >= 1e6) return `${(value / 1e6).toFixed(2)}M`
  if (abs >= 1e4) return `${(value / 1e3).toFixed(1)}k`
  if (abs >= 100) return value.toFixed(0)
  if (abs >= 10) return value.toFixed(1)
  return value.toFixed(2)
}

export const round3 = (value: number): number => (Number.isFinite(value) ? Number(value.toPrecision(4)) : value)

export const now = (): number => performance.now()

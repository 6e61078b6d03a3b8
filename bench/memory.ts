/**
 * Memory.
 *
 * 1. Idle connections: RSS (and V8 heap) per pair with `pairs` connections
 *    open, measured as the difference after full collections before opening
 *    and once all are open, divided by the number of pairs. Library: a
 *    Stocking on both ends (poll backend). Baseline: bare net.Socket pairs.
 * 2. A writer that never gets read: the writer offers `total` bytes in
 *    64 KiB messages (a fresh buffer each, as a producer would make them) to
 *    a peer whose socket is paused. Writes must suspend, so memory stays
 *    bounded. Reported: peak RSS growth while offering, and RSS growth still
 *    retained after a full collection once the writer has stalled.
 *    Baseline: `Sender` honouring its backpressure signal.
 */
import { Effect, Fiber } from "effect"
import { Backend, Poll, Stocking } from "../src/node.js"
import { Sender, socketPair } from "./baseline.js"
import { idleEnd } from "./floor.js"
import { idleRound } from "./idle.js"
import {
  alternate,
  check,
  heapUsed,
  interleave,
  median,
  type Options,
  openFileLimit,
  type PerPair,
  ratios,
  rawListener,
  round3,
  type Row,
  rss,
  settledRss,
  stockingPair,
  whenClosed
} from "./util.js"

const CONNECT_BATCH = 100
const MESSAGE = 64 * 1024

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

// ---------------------------------------------------------------------------
// Idle pairs
// ---------------------------------------------------------------------------

/** Bare `net.Socket` pairs (bench/idle.ts). */
export const baselineIdle = (pairs: number): Promise<PerPair> => idleRound("baseline idle", pairs)

/** The idle floor on Effect 3: bare pairs with a fiber per end waiting in a 2-op take loop (bench/floor.ts). */
export const floorIdle = (pairs: number): Promise<PerPair> => idleRound("idle floor", pairs, idleEnd)

export const libraryIdle = (pairs: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const listener = yield* rawListener()
      const rss0 = yield* Effect.promise(settledRss)
      const heap0 = heapUsed()
      const opened = yield* Effect.forEach(Array.from({ length: pairs }), () => stockingPair(Poll.backend, listener), {
        concurrency: CONNECT_BATCH
      })
      yield* Effect.sleep("50 millis")
      const rss1 = yield* Effect.promise(settledRss)
      const result = { rss: (rss1 - rss0) / pairs, heap: (heapUsed() - heap0) / pairs }
      let active = 0
      for (const p of opened) {
        if ((yield* p.client.isActive) && (yield* p.server.isActive)) active++
      }
      check(active === pairs, `library idle: ${active} of ${pairs} pairs active`)
      // Teardown is not measured: abort every pair at once (a graceful close of
      // 4,000 Stockings takes seconds) rather than one by one in the scope's finalizers.
      yield* Effect.forEach(opened, (p) => Effect.zipRight(p.client.abort, p.server.abort), { discard: true })
      // Wait for every socket to be gone, so none of this is freed during the next round.
      yield* Effect.promise(() =>
        Promise.all(opened.flatMap((p) => [whenClosed(p.client.socket), whenClosed(p.server.socket)]))
      )
      return result
    })
  )

// ---------------------------------------------------------------------------
// Non-reading peer
// ---------------------------------------------------------------------------

interface Growth {
  /** Peak RSS growth while offering, bytes. */
  readonly peak: number
  /** RSS growth after a full collection with the writer stalled, bytes. */
  readonly retained: number
  /** Bytes the writer got accepted before it stalled. */
  readonly accepted: number
}

/** Samples RSS every few milliseconds; `stop` returns the peak. */
const rssSampler = () => {
  let peak = rss()
  const timer = setInterval(() => {
    const value = rss()
    if (value > peak) peak = value
  }, 2)
  return {
    stop: () => {
      clearInterval(timer)
      return Math.max(peak, rss())
    }
  }
}

/** Resolves once `progress()` has not changed for `quietMs`, or `done()` holds. */
const stalled = async (progress: () => number, done: () => boolean, quietMs = 300): Promise<void> => {
  let last = -1
  let since = performance.now()
  for (;;) {
    await sleep(20)
    if (done()) return
    const value = progress()
    if (value !== last) {
      last = value
      since = performance.now()
    } else if (performance.now() - since >= quietMs) {
      return
    }
  }
}

export const baselineBlocked = async (total: number): Promise<Growth> => {
  const pair = await socketPair()
  pair.server.pause()
  const template = new Uint8Array(MESSAGE).fill(3)
  const rss0 = await settledRss()
  const sampler = rssSampler()
  const sender = new Sender(pair.client)
  let offered = 0
  let done = false
  void (async () => {
    while (offered < total) {
      if (!sender.write(template.slice())) await sender.drained()
      offered += MESSAGE
    }
    done = true
  })()
  await stalled(
    () => offered,
    () => done
  )
  const peak = sampler.stop() - rss0
  const retained = (await settledRss()) - rss0
  check(!done, "baseline blocked writer: stalled (it should not get 1 GiB into a paused peer)")
  await pair.close()
  return { peak, retained, accepted: offered }
}

export const libraryBlocked = (total: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const listener = yield* rawListener()
      const client = yield* Stocking.make({ host: "127.0.0.1", port: listener.port }).pipe(
        Effect.provideService(Backend.Backend, Poll.backend)
      )
      const peer = yield* listener.accepted
      peer.pause()
      const template = new Uint8Array(MESSAGE).fill(3)
      const rss0 = yield* Effect.promise(settledRss)
      const sampler = rssSampler()
      let offered = 0
      let done = false
      const writer = yield* Effect.fork(
        Effect.gen(function* () {
          while (offered < total) {
            yield* client.write(template.slice())
            offered += MESSAGE
          }
          done = true
        })
      )
      yield* Effect.promise(() =>
        stalled(
          () => offered,
          () => done
        )
      )
      const peak = sampler.stop() - rss0
      const retained = (yield* Effect.promise(settledRss)) - rss0
      check(!done, "library blocked writer: write suspended (it should not queue 1 GiB for a paused peer)")
      yield* Fiber.interrupt(writer)
      yield* client.abort
      peer.destroy()
      yield* Effect.promise(() => Promise.all([whenClosed(client.socket), whenClosed(peer)]))
      return { peak, retained, accepted: offered } satisfies Growth
    })
  )

// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// Idle pairs: the sides, the rounds, the rows
// ---------------------------------------------------------------------------

/**
 * The idle sides: bare pairs, the library, the idle floor (bench/floor.ts); then the same three on Effect 4, in
 * its child (bench/line4.ts), the library once src/effect4/Stocking.ts is there.
 */
type Side = "bare" | "library" | "floor" | "bare4" | "library4" | "floor4"

type IdleRun = (pairs: number) => Promise<PerPair>

/** Pairs per round: 2,000 (200 in quick mode), fewer if the open-file limit says so. */
const idlePairs = (options: Options): number => {
  const pairs = options.quick ? 200 : 2000
  // Each pair takes two descriptors; leave room for everything else.
  const limit = openFileLimit()
  if (2 * pairs + 256 <= limit) return pairs
  const lowered = Math.max(10, Math.floor((limit - 256) / 2))
  options.log(`  note: ulimit -n is ${limit}: ${pairs} pairs need ${2 * pairs + 256} descriptors; using ${lowered}`)
  return lowered
}

/**
 * Runs every side given in `rounds` interleaved rounds (after a warm-up round of 100 pairs each, in quick mode of the
 * first side and `library` only) and returns a reader of each side's figures, in round order (empty if not run).
 */
const idleRounds = async (
  options: Options,
  label: string,
  run: Partial<Record<Side, IdleRun>>,
  rounds = options.rounds
) => {
  const pairs = idlePairs(options)
  const sides = (Object.keys(run) as Array<Side>).filter((side) => run[side] !== undefined)
  const warm = Math.min(100, pairs)
  for (const side of sides) if (!options.quick || side === sides[0] || side === "library") await run[side]!(warm)
  const results = await interleave(
    rounds,
    options,
    `${label} (${pairs})`,
    sides.map((side) => () => run[side]!(pairs))
  )
  const of = (side: Side, key: keyof PerPair): Array<number> => {
    const i = sides.indexOf(side)
    return i < 0 ? [] : results[i]!.map((r) => r[key])
  }
  return { pairs, of }
}

type Figures = Awaited<ReturnType<typeof idleRounds>>

const KiB = (v: number) => (v / 1024).toFixed(1)

/**
 * The rows (RSS and V8 heap) of `side` against `bare`; for Effect 4 rows, `effect3` names the Effect 3 side and
 * its bare side, and `x E3` is what the row costs over its bare pairs against what Effect 3's costs over its own.
 */
const idleRows = (
  figures: Figures,
  name: string,
  side: Side,
  bare: Side,
  effect3?: { readonly figures: Figures; readonly side: Side; readonly bare: Side }
): Array<Row> => {
  const { pairs, of } = figures
  const rows: Array<Row> = []
  for (const key of ["rss", "heap"] as const) {
    const own = of(side, key)
    const base = of(bare, key)
    if (own.length === 0) continue
    // Bare sockets cost so little that their RSS delta can vanish into memory the
    // process already holds: a ratio against ~0 means nothing, so none is given then.
    const measurable = median(base) * pairs >= 1024 * 1024
    const over = median(own) - median(base)
    const over3 =
      effect3 === undefined
        ? NaN
        : median(effect3.figures.of(effect3.side, key)) - median(effect3.figures.of(effect3.bare, key))
    const floor = side === "floor" || side === "floor4"
    rows.push({
      name: `${name} ${key === "rss" ? "RSS" : "V8 heap"} per pair`,
      size: pairs,
      value: round3(median(own) / 1024),
      unit: "KiB/pair",
      baseline: round3(median(base) / 1024),
      ratio: measurable ? round3(median(ratios(own, base))) : NaN,
      // Given when Effect 3's cost over bare is above RSS noise (1 MiB in all).
      ...(effect3 === undefined ? {} : { effect3Ratio: over3 * pairs >= 1024 * 1024 ? round3(over / over3) : NaN }),
      better: "lower",
      note:
        `rounds ${own.map(KiB).join("/")}, bare ${base.map(KiB).join("/")} KiB; ` +
        `${floor ? "floor" : "library"} - bare ${KiB(over)} KiB/pair` +
        (floor ? ` (${KiB(over / 2)} KiB per waiting fiber and its end)` : "") +
        (effect3 === undefined ? "" : `; Effect 3's ${KiB(over3)} KiB`) +
        (side === "library4" ? "; target <= 12 KiB over bare" : "") +
        (measurable || base.length === 0 ? "" : "; no ratio: bare growth below 1 MiB in all, within RSS noise")
    })
    check(
      own.every((v) => v < 1024 * 1024),
      `${name}: ${key} per pair below 1 MiB`
    )
  }
  return rows
}

const logIdle = (options: Options, rows: ReadonlyArray<Row>) => {
  for (const r of rows) {
    options.log(
      `    ${r.name}: ${r.value} KiB, bare ${r.baseline} KiB` +
        (r.effect3Ratio === undefined ? "" : `, over bare x E3 ${r.effect3Ratio}`)
    )
  }
}

/**
 * Idle memory of the library (both lines) against bare pairs, then the paused peer. The idle floors run in a
 * section of their own at the end of the run (`runFloors`).
 */
export const run = async (options: Options): Promise<Array<Row>> => {
  const rows: Array<Row> = []
  const MiB = 1024 * 1024

  const idleLabel = "memory idle pairs"
  const line4 = options.effect4
  const library4 = line4 !== undefined && line4.skipLibrary === undefined
  if (
    options.only === undefined ||
    options.only.test(idleLabel) ||
    (library4 && options.only.test("memory idle effect4 pairs"))
  ) {
    if (line4 !== undefined && !library4) options.log(`  memory idle effect4 per pair: skipped: ${line4.skipLibrary}`)
    const withRaw = !options.libraryOnly
    const figures = await idleRounds(options, idleLabel, {
      ...(withRaw ? { bare: baselineIdle } : {}),
      library: (n) => Effect.runPromise(libraryIdle(n)),
      ...(line4 !== undefined && library4
        ? {
            ...(withRaw ? { bare4: (n: number) => line4.idle("bare", n) } : {}),
            library4: (n) => line4.idle("library", n)
          }
        : {})
    })
    const idle = [
      ...idleRows(figures, "memory idle", "library", "bare"),
      ...idleRows(figures, "memory idle effect4", "library4", "bare4", { figures, side: "library", bare: "bare" })
    ]
    logIdle(options, idle)
    rows.push(...idle)
  }

  const blockedLabel = "memory paused peer"
  if (options.only === undefined || options.only.test(blockedLabel)) {
    const total = options.quick ? 128 * MiB : 1024 * MiB
    const { baseline, library } = await alternate(
      options.rounds,
      options,
      `${blockedLabel} (${total / MiB} MiB offered)`,
      () => baselineBlocked(total),
      () => Effect.runPromise(libraryBlocked(total))
    )
    for (const key of ["peak", "retained"] as const) {
      const lib = library.map((r) => r[key])
      const base = baseline.map((r) => r[key])
      // The baseline holds at most ~2 batches in user space: its growth can be lost in RSS noise.
      const measurable = median(base) >= MiB
      rows.push({
        name: `memory paused peer RSS growth (${key})`,
        size: total,
        value: round3(median(lib) / MiB),
        unit: "MiB",
        baseline: round3(median(base) / MiB),
        ratio: measurable ? round3(median(ratios(lib, base))) : NaN,
        better: "lower",
        note:
          `rounds lib ${lib.map((v) => (v / MiB).toFixed(1)).join("/")}, base ${base
            .map((v) => (v / MiB).toFixed(1))
            .join("/")} MiB; writer stalled after lib ${(median(library.map((r) => r.accepted)) / MiB).toFixed(
            1
          )} MiB, base ${(median(baseline.map((r) => r.accepted)) / MiB).toFixed(1)} MiB offered` +
          (measurable ? "" : "; no ratio: baseline growth below 1 MiB, within RSS noise")
      })
    }
    check(
      library.every((r) => r.peak < total / 2),
      `${blockedLabel}: library growth bounded (below half of what was offered)`
    )
    options.log(
      `    ${rows
        .slice(-2)
        .map((r) => `${r.name}: lib ${r.value} base ${r.baseline} MiB`)
        .join("; ")}`
    )
  }
  return rows
}

/**
 * The idle floors, both lines, against bare pairs in the same rounds: last in the run, because the floor's
 * thousands of waiting fibers leave V8's code and allocation feedback such that the throughput floors run
 * 2.5-3x the CPU per message in the same process afterwards (measured on both lines).
 */
export const runFloors = async (options: Options): Promise<Array<Row>> => {
  const line4 = options.effect4
  const test = (name: string) => options.only === undefined || options.only.test(`${name} pairs`)
  if (options.libraryOnly || !(test("memory idle floor") || (line4 !== undefined && test("memory idle effect4 floor"))))
    return []
  const figures = await idleRounds(
    options,
    "memory idle floors",
    {
      bare: baselineIdle,
      floor: floorIdle,
      ...(line4 === undefined
        ? {}
        : { bare4: (n: number) => line4.idle("bare", n), floor4: (n: number) => line4.idle("floor", n) })
    },
    options.quick ? 1 : options.rounds
  )
  const rows = [
    ...idleRows(figures, "memory idle floor", "floor", "bare"),
    ...idleRows(figures, "memory idle effect4 floor", "floor4", "bare4", { figures, side: "floor", bare: "bare" })
  ]
  logIdle(options, rows)
  return rows
}

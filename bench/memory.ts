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

export const run = async (options: Options): Promise<Array<Row>> => {
  const rows: Array<Row> = []
  const MiB = 1024 * 1024

  const idleLabel = "memory idle pairs"
  const line4 = options.effect4
  const idle4 = line4 !== undefined && options.only?.test("memory idle effect4 pairs") === true
  if (options.only === undefined || options.only.test(idleLabel) || idle4) {
    let pairs = options.quick ? 200 : 2000
    // Each pair takes two descriptors; leave room for everything else.
    const limit = openFileLimit()
    if (2 * pairs + 256 > limit) {
      const lowered = Math.max(10, Math.floor((limit - 256) / 2))
      options.log(`  note: ulimit -n is ${limit}: ${pairs} pairs need ${2 * pairs + 256} descriptors; using ${lowered}`)
      pairs = lowered
    }
    const withRaw = !options.libraryOnly
    if (line4 !== undefined && line4.skipLibrary !== undefined) {
      options.log(`  memory idle effect4 per pair: skipped: ${line4.skipLibrary}`)
    }
    // The sides, each run in every round: bare pairs, the library, the idle floor (bench/floor.ts); then the
    // same three on Effect 4, in its child (bench/line4.ts), the library once src/effect4/Stocking.ts is there.
    type Side = "bare" | "library" | "floor" | "bare4" | "floor4" | "library4"
    const run: Record<Side, ((pairs: number) => Promise<PerPair>) | undefined> = {
      bare: withRaw ? baselineIdle : undefined,
      library: (n) => Effect.runPromise(libraryIdle(n)),
      floor: withRaw ? floorIdle : undefined,
      bare4: line4 !== undefined && withRaw ? (n) => line4.idle("bare", n) : undefined,
      floor4: line4 !== undefined && withRaw ? (n) => line4.idle("floor", n) : undefined,
      library4: line4 !== undefined && line4.skipLibrary === undefined ? (n) => line4.idle("library", n) : undefined
    }
    const sides = (Object.keys(run) as Array<Side>).filter((side) => run[side] !== undefined)
    // Warm-up: code paths and one-time allocations, not counted (in quick mode, of the first two sides only).
    const warm = Math.min(100, pairs)
    for (const side of sides) if (!options.quick || side === "bare" || side === "library") await run[side]!(warm)
    const results = await interleave(
      options.rounds,
      options,
      `${idleLabel} (${pairs})`,
      sides.map((side) => () => run[side]!(pairs))
    )
    const of = (side: Side, key: keyof PerPair): Array<number> => {
      const i = sides.indexOf(side)
      return i < 0 ? [] : results[i]!.map((r) => r[key])
    }
    const KiB = (v: number) => (v / 1024).toFixed(1)
    /** A row: `side` against `bare`; for Effect 4 rows, also what it costs over bare against the same on Effect 3. */
    const idleRow = (key: keyof PerPair, name: string, side: Side, bare: Side, effect3?: readonly [Side, Side]) => {
      const own = of(side, key)
      const base = of(bare, key)
      if (own.length === 0) return
      // Bare sockets cost so little that their RSS delta can vanish into memory the
      // process already holds: a ratio against ~0 means nothing, so none is given then.
      const measurable = median(base) * pairs >= 1024 * 1024
      const over = median(own) - median(base)
      const over3 = effect3 === undefined ? NaN : median(of(effect3[0], key)) - median(of(effect3[1], key))
      rows.push({
        name: `${name} ${key === "rss" ? "RSS" : "V8 heap"} per pair`,
        size: pairs,
        value: round3(median(own) / 1024),
        unit: "KiB/pair",
        baseline: round3(median(base) / 1024),
        ratio: measurable ? round3(median(ratios(own, base))) : NaN,
        // Over bare against Effect 3's over bare: given when Effect 3's is above RSS noise (1 MiB in all).
        ...(effect3 === undefined ? {} : { effect3Ratio: over3 * pairs >= 1024 * 1024 ? round3(over / over3) : NaN }),
        better: "lower",
        note:
          `rounds ${own.map(KiB).join("/")}, bare ${base.map(KiB).join("/")} KiB; ` +
          `${side.startsWith("floor") ? "floor" : "library"} - bare ${KiB(over)} KiB/pair` +
          (side.startsWith("floor") ? ` (${KiB(over / 2)} KiB per waiting fiber and its end)` : "") +
          (effect3 === undefined ? "" : `; Effect 3's ${KiB(over3)} KiB`) +
          (side === "library4" ? "; target <= 12 KiB over bare" : "") +
          (measurable || base.length === 0 ? "" : "; no ratio: bare growth below 1 MiB in all, within RSS noise")
      })
      check(
        results[sides.indexOf(side)]!.every((r) => r[key] < 1024 * 1024),
        `${idleLabel}: ${name} ${key} per pair below 1 MiB`
      )
    }
    const before = rows.length
    for (const key of ["rss", "heap"] as const) idleRow(key, "memory idle", "library", "bare")
    for (const key of ["rss", "heap"] as const) idleRow(key, "memory idle floor", "floor", "bare")
    for (const key of ["rss", "heap"] as const) {
      idleRow(key, "memory idle effect4 floor", "floor4", "bare4", ["floor", "bare"])
    }
    for (const key of ["rss", "heap"] as const)
      idleRow(key, "memory idle effect4", "library4", "bare4", ["library", "bare"])
    for (const r of rows.slice(before)) {
      options.log(
        `    ${r.name}: ${r.value} KiB, bare ${r.baseline} KiB` +
          (r.effect3Ratio === undefined ? "" : `, over bare x E3 ${r.effect3Ratio}`)
      )
    }
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

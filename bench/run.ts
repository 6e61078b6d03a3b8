/**
 * effect-stockings benchmark: the library against a tuned hand-written
 * node:net implementation of the same wire format (bench/baseline.ts), all in
 * this one process over 127.0.0.1.
 *
 *   node_modules/.bin/tsc -p tsconfig.bench.json && node --expose-gc .bench-build/bench/run.js [options]
 *
 * Options:
 *   --quick           short CI smoke run (checks that it runs and the numbers are sane, never speed)
 *   --rounds N        rounds of each side per measurement (default 3, quick 2)
 *   --only REGEX      run only the measurements whose label matches (e.g. "poll stream 64 B")
 *   --library-only    skip the baseline rounds (for profiling the library)
 *   --out PATH        also write the JSON results to PATH
 *
 * The same run measures the Effect 4 line too (bench/line4.ts): its floors,
 * and its library rows once src/effect4/Stocking.ts exists, in a child
 * process running the bench's Effect 4 build (built by
 * scripts/bench-effect4.mjs, which `npm run bench` runs first), in the same
 * rounds as the Effect 3 rows. Those rows are named `... effect4 ...`
 * (`--only effect4` runs them with the Effect 3 rows they are held against);
 * their `x floor` and `x 2-op` are against the Effect 4 floors, and `x E3`
 * against the same row of the Effect 3 line.
 *
 * A full run (no --quick, --only or --library-only) writes bench/results.json.
 * Ratios are library / baseline of the same round, median over rounds: above 1
 * the library is faster for throughput and fan-in; for latency and memory
 * (library / baseline too) above 1 means the library is slower / bigger.
 * Throughput library rows also give `x peer`: library / the peer
 * (bench/peers.ts) it does worst against in the same rounds, and whether
 * that peer beats it.
 * The process exits non-zero if a sanity check fails (never for speed).
 */
import * as accept from "./accept.js"
import { DEFAULT_MAX_MESSAGE_SIZE } from "./baseline.js"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as fanin from "./fanin.js"
import * as latency from "./latency.js"
import { startLine4 } from "./line4.js"
import * as memory from "./memory.js"
import * as peerMemory from "./peer-memory.js"
import * as throughput from "./throughput.js"
import { DEFAULT_MAX_MESSAGE_SIZE as LIBRARY_MAX_MESSAGE_SIZE } from "../src/Framing.js"
import { check, failures, formatNumber, formatSize, type Options, type Result, type Row } from "./util.js"

const args = process.argv.slice(2)
const flag = (name: string) => args.includes(name)
const value = (name: string): string | undefined => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const known = new Set(["--quick", "--rounds", "--only", "--library-only", "--out"])
for (let i = 0; i < args.length; i++) {
  const arg = args[i]!
  if (!known.has(arg)) {
    console.error(`unknown argument: ${arg}`)
    process.exit(2)
  }
  if (arg === "--rounds" || arg === "--only" || arg === "--out") i++
}

const quick = flag("--quick")
const rounds = Number(value("--rounds") ?? (quick ? 2 : 3))
const onlySource = value("--only")
// The budget: 7 minutes for `npm run bench` (floors and every consumer add sides), 75 s for --quick, less a margin,
// and less what the idle floors' section, after fan-in, takes.
const budgetSeconds = quick ? 60 - 5 : 400 - 30
const effect4 = await startLine4(failures, (reason) => check(false, `Effect 4 side: ${reason}`))
const options: Options = {
  effect4,
  deadline: performance.now() + budgetSeconds * 1000,
  quick,
  libraryOnly: flag("--library-only"),
  only: onlySource === undefined ? undefined : new RegExp(onlySource),
  rounds,
  log: (line) => console.log(line)
}
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error("--rounds must be a positive integer")
  process.exit(2)
}

check(
  DEFAULT_MAX_MESSAGE_SIZE === LIBRARY_MAX_MESSAGE_SIZE,
  "bench/baseline.ts DEFAULT_MAX_MESSAGE_SIZE is the library's"
)

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")

// A hung benchmark must not hang CI: give up well past the expected time.
const watchdog = setTimeout(
  () => {
    console.error(`benchmark still running after ${quick ? 4 : 15} minutes: giving up`)
    process.exit(3)
  },
  (quick ? 4 : 15) * 60_000
)
watchdog.unref()

const started = performance.now()
const cpus = os.cpus()
console.log(
  `effect-stockings bench: node ${process.version}, ${cpus.length} x ${cpus[0]?.model ?? "cpu"}, ` +
    `${quick ? "quick" : "full"} mode, ${rounds} alternating rounds per measurement` +
    (options.libraryOnly ? ", library only" : "")
)
if (effect4 !== undefined) {
  check(effect4.effectVersion.startsWith("4."), `the Effect 4 child runs effect ${effect4.effectVersion}`)
  console.log(
    `Effect 4 side: effect ${effect4.effectVersion} in a child process; library rows ` +
      (effect4.skipLibrary === undefined ? "included" : `skipped: ${effect4.skipLibrary}`)
  )
}

const sections: ReadonlyArray<readonly [string, (options: Options) => Promise<Array<Row>>]> = [
  ["memory", memory.run],
  ["memory per hostile peer", peerMemory.run],
  ["throughput", throughput.run],
  ["latency", latency.run],
  ["accept", accept.run],
  // It fits its rounds to what is left of the time budget, less the idle floors' share.
  ["fan-in", fanin.run],
  // Last: the idle floors' waiting fibers slow what runs after them in the same process (bench/memory.ts).
  ["memory idle floors", memory.runFloors]
]

const rows: Array<Row> = []
const timings: Array<string> = []
for (const [name, run] of sections) {
  const t0 = performance.now()
  console.log(`\n[${name}]`)
  rows.push(...(await run(options)))
  timings.push(`${name} ${((performance.now() - t0) / 1000).toFixed(1)} s`)
}
const elapsed = (performance.now() - started) / 1000
await effect4?.close()

// ---------------------------------------------------------------------------
// Table
// ---------------------------------------------------------------------------

const sizeLabel = (row: Row): string =>
  row.unit === "KiB/pair" || row.unit === "exchanges/s" || row.unit === "MiB/peer" || row.name.startsWith("accept ")
    ? `${row.size} conns`
    : formatSize(row.size)

const columns = [
  "benchmark",
  "size",
  "library",
  "baseline",
  "unit",
  "ratio",
  "x floor",
  "x 2-op",
  "x E3",
  "x peer",
  "a peer beats it?",
  "ratio means"
]
const fixed = (ratio: number | undefined) => (ratio !== undefined && Number.isFinite(ratio) ? ratio.toFixed(3) : "-")
const table = rows.map((row) => [
  row.name,
  sizeLabel(row),
  formatNumber(row.value),
  options.libraryOnly ? "-" : formatNumber(row.baseline),
  row.unit,
  options.libraryOnly ? "-" : Number.isFinite(row.ratio) ? row.ratio.toFixed(3) : "n/a",
  fixed(row.floorRatio),
  fixed(row.floor2Ratio),
  fixed(row.effect3Ratio),
  row.peer === undefined ? "-" : fixed(row.peer.ratio),
  row.peer === undefined ? "-" : `${row.peer.ratio < 1 ? "yes" : "no"}: ${row.peer.name}`,
  row.better === "higher"
    ? ">1: library faster"
    : row.unit === "µs" || row.unit === "ms"
      ? ">1: library slower"
      : ">1: library uses more"
])
const widths = columns.map((c, i) => Math.max(c.length, ...table.map((r) => r[i]!.length)))
const line = (cells: ReadonlyArray<string>) =>
  cells.map((c, i) => (i >= 2 && i <= 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ")
console.log(`\n${line(columns)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`)
for (const r of table) console.log(line(r))
console.log(`\nTotal ${elapsed.toFixed(1)} s (${timings.join(", ")})`)
if (effect4 !== undefined) {
  const { start, calls, count } = effect4.seconds()
  console.log(`Effect 4 child: ${start.toFixed(1)} s to start, ${calls.toFixed(1)} s in its ${count} sides`)
}
const notes = rows.filter((r) => r.note !== undefined)
if (notes.length > 0) {
  console.log("\nPer-round detail:")
  for (const r of notes) console.log(`  ${r.name} ${sizeLabel(r)}: ${r.note}`)
}

// ---------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------

const results: Array<
  Omit<Result, "ratio"> & {
    ratio: number | null
    floorRatio?: number
    floor2Ratio?: number | null
    effect3Ratio?: number | null
    peer?: { name: string; ratio: number }
  }
> = rows.map(({ name, size, value, unit, baseline, ratio, floorRatio, floor2Ratio, effect3Ratio, peer }) => ({
  name,
  size,
  value,
  unit,
  baseline,
  ratio: Number.isFinite(ratio) ? ratio : null,
  ...(floorRatio === undefined ? {} : { floorRatio, floor2Ratio: floor2Ratio ?? null }),
  ...(effect3Ratio === undefined ? {} : { effect3Ratio: Number.isFinite(effect3Ratio) ? effect3Ratio : null }),
  ...(peer === undefined ? {} : { peer: { name: peer.name, ratio: peer.ratio } })
}))
const json = `${JSON.stringify(results, null, 2)}\n`
const complete = !quick && options.only === undefined && !options.libraryOnly
if (complete) {
  const file = path.join(repoRoot, "bench", "results.json")
  fs.writeFileSync(file, json)
  console.log(`\nWrote ${path.relative(process.cwd(), file) || file}`)
}
const out = value("--out")
if (out !== undefined) {
  fs.writeFileSync(out, json)
  console.log(`Wrote ${out}`)
}

if (failures.length > 0) {
  console.error(`\n${failures.length} sanity check(s) failed:\n  ${failures.join("\n  ")}`)
  process.exitCode = 1
}

// Everything was closed: the process should now exit by itself. This timer
// does not keep it alive; it fires only if something else still does.
setTimeout(() => {
  const open = process.getActiveResourcesInfo().filter((r) => r !== "TTYWrap" && r !== "PipeWrap")
  console.error(`warning: the process did not exit after the run; still open: ${open.join(", ")}`)
}, 2000).unref()

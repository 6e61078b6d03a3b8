/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with
 * the most self time, and self time per source file.
 *
 *   node .bench-build/bench/profile-summary.js /tmp/prof/X.cpuprofile... [top=25] [--match REGEX]
 *
 * Several profiles add up. The last section gives the inclusive time of the
 * functions whose file matches REGEX (default `^src/`, the library's own).
 */
import * as fs from "node:fs"

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
}
interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
  readonly children?: ReadonlyArray<number>
}
interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const argv = process.argv.slice(2)
const matchAt = argv.indexOf("--match")
// The inclusive-time section lists the functions whose file matches this (default: the library's own).
const match = new RegExp(matchAt >= 0 ? argv[matchAt + 1]! : "^src/")
const rest = matchAt < 0 ? argv : argv.filter((_, i) => i !== matchAt && i !== matchAt + 1)
const files = rest.filter((a) => a.endsWith(".cpuprofile"))
if (files.length === 0) {
  console.error("usage: profile-summary <file.cpuprofile>... [top] [--match REGEX]")
  process.exit(2)
}
const top = Number(rest.find((a) => /^\d+$/.test(a)) ?? 25)

const shortUrl = (url: string): string => {
  if (url === "") return "(native)"
  const nm = url.lastIndexOf("node_modules/")
  if (nm >= 0) return url.slice(nm + "node_modules/".length)
  const build = url.indexOf(".bench-build/")
  if (build >= 0) return url.slice(build + ".bench-build/".length)
  return url.replace(/^file:\/\//, "")
}

// Several profiles (e.g. one per round) add up.
const perFunction = new Map<string, number>()
const perFile = new Map<string, number>()
const inclusive = new Map<string, number>()
let total = 0
const add = (map: Map<string, number>, key: string, time: number) => map.set(key, (map.get(key) ?? 0) + time)
for (const file of files) {
  const profile = JSON.parse(fs.readFileSync(file, "utf8")) as Profile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  // The first sample's delta runs from the profiler's start, which for a profile taken through the
  // inspector (bench/accept-profile.ts) is the Profiler.start call itself, up to a second: left out.
  for (let i = 1; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0
    self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + dt)
    total += dt
  }
  for (const [id, time] of self) {
    const frame = byId.get(id)!.callFrame
    const where = shortUrl(frame.url)
    add(
      perFunction,
      `${frame.functionName || "(anonymous)"}  ${where}${frame.url ? `:${frame.lineNumber + 1}` : ""}`,
      time
    )
    add(perFile, where.startsWith("effect/") ? "effect/*" : where, time)
  }
  // Inclusive time of the matching functions (each sample counted once per function on its stack).
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const keyOf = (node: ProfileNode): string =>
    `${node.callFrame.functionName || "(anonymous)"}  ${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`
  for (let i = 1; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0
    const seen = new Set<string>()
    for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parent.get(id)) {
      const node = byId.get(id)!
      if (!match.test(shortUrl(node.callFrame.url))) continue
      const key = keyOf(node)
      if (seen.has(key)) continue
      seen.add(key)
      add(inclusive, key, dt)
    }
  }
}

const pct = (t: number) => `${((100 * t) / total).toFixed(1).padStart(5)}%`
console.log(`${files.join(", ")}: ${(total / 1e6).toFixed(2)} s sampled`)
console.log(`\nTop ${top} functions by self time:`)
for (const [key, time] of [...perFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`  ${pct(time)}  ${key}`)
}
console.log("\nSelf time by file:")
for (const [key, time] of [...perFile].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
  console.log(`  ${pct(time)}  ${key}`)
}
console.log(`\nFunctions matching ${match} by inclusive time:`)
for (const [key, time] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`  ${pct(time)}  ${key}`)
}

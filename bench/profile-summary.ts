/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with
 * the most self time, and self time per source file.
 *
 *   node .bench-build/bench/profile-summary.js /tmp/prof/X.cpuprofile [top=25]
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

const file = process.argv[2]
if (file === undefined) {
  console.error("usage: profile-summary <file.cpuprofile> [top]")
  process.exit(2)
}
const top = Number(process.argv[3] ?? 25)
const profile = JSON.parse(fs.readFileSync(file, "utf8")) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const self = new Map<number, number>()
let total = 0
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i] ?? 0
  self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + dt)
  total += dt
}

const shortUrl = (url: string): string => {
  if (url === "") return "(native)"
  const nm = url.lastIndexOf("node_modules/")
  if (nm >= 0) return url.slice(nm + "node_modules/".length)
  const build = url.indexOf(".bench-build/")
  if (build >= 0) return url.slice(build + ".bench-build/".length)
  return url.replace(/^file:\/\//, "")
}

const perFunction = new Map<string, number>()
const perFile = new Map<string, number>()
for (const [id, time] of self) {
  const node = byId.get(id)!
  const frame = node.callFrame
  const where = shortUrl(frame.url)
  const key = `${frame.functionName || "(anonymous)"}  ${where}${frame.url ? `:${frame.lineNumber + 1}` : ""}`
  perFunction.set(key, (perFunction.get(key) ?? 0) + time)
  const fileKey = where.startsWith("effect/") ? "effect/*" : where
  perFile.set(fileKey, (perFile.get(fileKey) ?? 0) + time)
}

// Inclusive time of the library's own functions (each sample counted once per function on its stack).
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const keyOf = (node: ProfileNode): string =>
  `${node.callFrame.functionName || "(anonymous)"}  ${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`
const inclusive = new Map<string, number>()
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i] ?? 0
  const seen = new Set<string>()
  for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parent.get(id)) {
    const node = byId.get(id)!
    if (!shortUrl(node.callFrame.url).startsWith("src/")) continue
    const key = keyOf(node)
    if (seen.has(key)) continue
    seen.add(key)
    inclusive.set(key, (inclusive.get(key) ?? 0) + dt)
  }
}

const pct = (t: number) => `${((100 * t) / total).toFixed(1).padStart(5)}%`
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled`)
console.log(`\nTop ${top} functions by self time:`)
for (const [key, time] of [...perFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`  ${pct(time)}  ${key}`)
}
console.log("\nSelf time by file:")
for (const [key, time] of [...perFile].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
  console.log(`  ${pct(time)}  ${key}`)
}
console.log("\nLibrary functions (src/) by inclusive time:")
for (const [key, time] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
  console.log(`  ${pct(time)}  ${key}`)
}

// Builds the Effect 4 side of the bench (bench/line4.ts) into .bench-build-effect4/, type-checked against
// Effect 4 (`paths` in tsconfig.effect4.json): the floors always (tsconfig.bench.effect4.json), and the
// Effect 4 line's library rows (bench/effect4/library/) only once src/effect4/Stocking.ts and Server.ts
// exist (tsconfig.bench.effect4.library.json); until then the bench prints why it skips them.
//
//   node scripts/bench-effect4.mjs      (`npm run bench` runs it after the Effect 3 build)
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc")
const missing = ["Stocking.ts", "Server.ts"].filter((file) => !fs.existsSync(path.join(root, "src", "effect4", file)))
const project = missing.length === 0 ? "tsconfig.bench.effect4.library.json" : "tsconfig.bench.effect4.json"

// A library build left from before src/effect4 went away must not be loaded.
fs.rmSync(path.join(root, ".bench-build-effect4", "bench", "effect4", "library"), { recursive: true, force: true })
if (missing.length > 0) {
  console.log(`Effect 4 bench: library rows not built (src/effect4/${missing.join(", src/effect4/")} absent)`)
}
const result = spawnSync(process.execPath, [tsc, "-p", project], { cwd: root, stdio: "inherit" })
process.exit(result.status ?? 1)

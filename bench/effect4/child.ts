/**
 * The bench's Effect 4 child (bench/line4.ts starts it, under the resolve
 * hook of bench/effect4/loader.ts, so every `effect` import is Effect 4's).
 * It says hello (which Effect it runs, whether the library rows run, and
 * why not), then runs one side per request and replies with its figures and
 * any sanity failure recorded meanwhile. It exits when the parent
 * disconnects.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { failures } from "../common.js"
import { idleRound } from "../idle.js"
import type { Hello, LibraryRows, Reply, Request } from "../line4.js"
import { repoRoot } from "../line4.js"
import { idleEnd, latencyRound, throughputRound } from "./floor.js"

let reported = 0
const newFailures = (): ReadonlyArray<string> => {
  const fresh = failures.slice(reported)
  reported = failures.length
  return fresh
}

/** The `version` of the package `effect` resolves to here (through the hook), and where. */
const effectPackage = (): { version: string; url: string } => {
  const url = import.meta.resolve("effect")
  let dir = path.dirname(fileURLToPath(url))
  while (dir !== path.dirname(dir)) {
    const file = path.join(dir, "package.json")
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string; version?: string }
      if (pkg.name === "effect") return { version: pkg.version ?? "unknown", url }
    }
    dir = path.dirname(dir)
  }
  return { version: "unknown", url }
}

/**
 * The library rows, when the Effect 4 line's `Stocking` is in `src/effect4/`
 * and `scripts/bench-effect4.mjs` built them; otherwise why not.
 */
const loadLibrary = async (): Promise<{ rows: LibraryRows } | { skip: string }> => {
  if (!fs.existsSync(path.join(repoRoot, "src", "effect4", "Stocking.ts")))
    return { skip: "src/effect4/Stocking.ts is absent (the Effect 4 line's Stocking has not landed)" }
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), "library", "rows.js")
  if (!fs.existsSync(file))
    return {
      skip: "src/effect4/Stocking.ts is there but the library rows were not built: run node scripts/bench-effect4.mjs"
    }
  try {
    // A computed specifier: the floors' build (without src/effect4) does not type-check this module.
    return { rows: (await import(pathToFileURL(file).href)) as LibraryRows }
  } catch (error) {
    failures.push(`effect4 library rows failed to load: ${String(error)}`)
    console.error(error)
    return { skip: `the library rows failed to load (${String(error)})` }
  }
}

const library = await loadLibrary()

const dispatch = (request: Request): Promise<unknown> => {
  switch (request.op) {
    case "throughput floor":
      return throughputRound(request.size, request.n, request.kind)
    case "latency floor":
      return latencyRound(request.warmup, request.trips, request.kind)
    case "idle":
      if (request.side === "bare") return idleRound("effect4 bare idle", request.pairs)
      if (request.side === "floor") return idleRound("effect4 idle floor", request.pairs, idleEnd)
      break
  }
  if (!("rows" in library)) return Promise.reject(new Error(`library rows skipped: ${library.skip}`))
  switch (request.op) {
    case "throughput library":
      return library.rows.throughput(request.size, request.n)
    case "latency library":
      return library.rows.latency(request.echo, request.warmup, request.trips)
    case "idle":
      return library.rows.idle(request.pairs)
  }
}

process.on("message", (message) => {
  const { id, request } = message as { id: number; request: Request }
  dispatch(request).then(
    (value) => process.send!({ id, ok: true, value, failures: newFailures() } satisfies Reply),
    (error: unknown) =>
      process.send!({
        id,
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        failures: newFailures()
      } satisfies Reply)
  )
})
process.on("disconnect", () => process.exit(0))

const effect = effectPackage()
process.send!({
  ready: true,
  effectVersion: effect.version,
  effectUrl: effect.url,
  skipLibrary: "rows" in library ? undefined : library.skip,
  failures: newFailures()
} satisfies Hello)

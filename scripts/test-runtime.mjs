// Runs the test suite under Bun or Deno, with the runtime's binary taken from
// the npm registry (where both publish one package per platform) into
// .runtimes/, which is git-ignored. The runtimes are not dependencies of the
// project, so `npm ci` never fetches them and works on every platform.
//
//   node scripts/test-runtime.mjs bun|deno [vitest arguments]
//
// (`npm run test:bun`, `npm run test:deno`.) A binary already in .runtimes/
// is reused; nothing is downloaded while the tests run.
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

/** The versions tested, named in docs/TESTING.md. */
const versions = { bun: "1.4.5", deno: "2.9.6" }

const glibc = () => process.platform === "linux" && Boolean(process.report?.getReport().header.glibcVersionRuntime)

/** The registry package holding the runtime's binary for this platform, and the binary's path inside it. */
const platformPackage = (runtime) => {
  const key = `${process.platform}-${process.arch}`
  if (runtime === "bun") {
    const names = {
      // The baseline build runs on any x64 CPU, with or without AVX2.
      "linux-x64": glibc() ? "bun-linux-x64-baseline" : "bun-linux-x64-musl-baseline",
      "linux-arm64": glibc() ? "bun-linux-aarch64" : "bun-linux-aarch64-musl",
      "darwin-x64": "bun-darwin-x64-baseline",
      "darwin-arm64": "bun-darwin-aarch64",
      "win32-x64": "bun-windows-x64-baseline"
    }
    const name = names[key]
    return name && { name: `@oven/${name}`, binary: path.join("bin", process.platform === "win32" ? "bun.exe" : "bun") }
  }
  const names = {
    "linux-x64": "linux-x64-glibc",
    "linux-arm64": "linux-arm64-glibc",
    "darwin-x64": "darwin-x64",
    "darwin-arm64": "darwin-arm64",
    "win32-x64": "win32-x64"
  }
  const name = names[key]
  return name && { name: `@deno/${name}`, binary: process.platform === "win32" ? "deno.exe" : "deno" }
}

const run = (command, args, options = {}) => {
  const result = spawnSync(command, args, { stdio: "inherit", cwd: root, ...options })
  if (result.error) throw result.error
  return result.status ?? 1
}

/** Installs the runtime into .runtimes/ unless it is there already; its binary's path. */
const install = (runtime) => {
  const pkg = platformPackage(runtime)
  if (!pkg) {
    console.error(`test:${runtime}: no ${runtime} package on the npm registry for ${process.platform}-${process.arch}`)
    process.exit(1)
  }
  const spec = `${pkg.name}@${versions[runtime]}`
  const prefix = path.join(root, ".runtimes", spec.replace("/", "+"))
  const binary = path.join(prefix, "node_modules", pkg.name, pkg.binary)
  if (!fs.existsSync(binary)) {
    console.log(`test:${runtime}: installing ${spec} into ${path.relative(root, prefix)}`)
    fs.mkdirSync(prefix, { recursive: true })
    // Its own package.json, so npm does not take the project's for it.
    fs.writeFileSync(path.join(prefix, "package.json"), JSON.stringify({ private: true }) + "\n")
    const npm = process.platform === "win32" ? "npm.cmd" : "npm"
    const status = run(npm, ["install", "--prefix", prefix, "--no-save", "--no-audit", "--no-fund", spec], {
      shell: process.platform === "win32"
    })
    if (status !== 0 || !fs.existsSync(binary)) {
      console.error(`test:${runtime}: installing ${spec} failed`)
      process.exit(1)
    }
  }
  return binary
}

/**
 * Tests known to fail under a runtime, for a cause not yet fixed: skipped
 * there, and named on every run. Each entry says why; empty it once fixed.
 */
const knownFailures = {
  bun: [],
  deno: []
}

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

const [runtime, ...vitestArgs] = process.argv.slice(2)
if (runtime !== "bun" && runtime !== "deno") {
  console.error("usage: node scripts/test-runtime.mjs bun|deno [vitest arguments]")
  process.exit(2)
}
const binary = install(runtime)
const vitest = path.join("node_modules", "vitest", "vitest.mjs")
const skipped = knownFailures[runtime]
for (const name of skipped) console.log(`test:${runtime}: skipping a known failure: ${name}`)
if (skipped.length > 0 && !vitestArgs.some((a) => a === "-t" || a.startsWith("--testNamePattern"))) {
  vitestArgs.push("--testNamePattern", `^(?!.*(?:${skipped.map(escape).join("|")})$)`)
}
const args =
  runtime === "bun"
    ? // --bun: the runtime runs vitest (and the test workers it forks), not a node found on PATH.
      ["--bun", vitest, "run", ...vitestArgs]
    : ["run", "--allow-all", vitest, "run", ...vitestArgs]
const version = spawnSync(binary, ["--version"], { encoding: "utf8" }).stdout.trim().split("\n")[0]
console.log(`test:${runtime}: ${version}`)
process.exit(run(binary, args))

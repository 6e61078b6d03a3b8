// Adds lock entries for optional platform packages (other OSes' and CPUs' native
// builds of rollup, msgpackr-extract, ...) that the package registry this project
// builds against does not serve. Without them `npm ci` refuses the lock file as
// "out of sync". Each entry carries its os/cpu/libc, so npm skips it on every
// machine it does not fit, and never needs to fetch it. Run after `npm install`:
//
//   node scripts/lock-platform-stubs.mjs
import { readFileSync, writeFileSync } from "node:fs"

const lockPath = new URL("../package-lock.json", import.meta.url)
const lock = JSON.parse(readFileSync(lockPath, "utf8"))
const packages = lock.packages

const platformOf = (name) => {
  const tail = name.split("/").pop()
  const os = [
    "darwin",
    "win32",
    "android",
    "freebsd",
    "openbsd",
    "openharmony",
    "linux",
    "sunos",
    "aix",
    "netbsd"
  ].find((o) => tail.includes(`-${o}-`) || tail.endsWith(`-${o}`))
  const cpu = ["arm64", "x64", "ia32", "loong64", "ppc64", "riscv64", "s390x", "arm"].find((c) =>
    new RegExp(`-${c}(-|$)`).test(tail)
  )
  const libc = /-musl/.test(tail) ? "musl" : /-gnu/.test(tail) ? "glibc" : undefined
  return { os, cpu, libc }
}

let added = 0
for (const [path, entry] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${dep}`
    if (packages[key] !== undefined) continue
    const { os, cpu, libc } = platformOf(dep)
    if (os === undefined || cpu === undefined) {
      console.error(`not a platform package, left alone: ${dep} (from ${path || "root"})`)
      continue
    }
    packages[key] = {
      version,
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
      os: [os],
      cpu: [cpu],
      ...(libc ? { libc: [libc] } : {})
    }
    added++
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1))
)
writeFileSync(lockPath, JSON.stringify(lock, null, 2) + "\n")
console.log(`added ${added} platform stub entries`)

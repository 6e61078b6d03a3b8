/**
 * The accept bench (bench/accept.ts) across builds of the library, in one
 * run: each round serves `--clients` connections opened at once by the
 * client process against the bare node:net echo server, then against each
 * build's `Server.make` + `serve` echo (`messages` with
 * `Stream.runForEach(write)`). Per build: connections served per second and
 * server CPU per connection, each against the bare server's of the same
 * round and against the first build's (median of per-round ratios, with
 * the interquartile range).
 *
 *   bash bench/ab/build.sh ed86e36 HEAD && npx tsc -p tsconfig.bench.json
 *   node .bench-build/bench/ab/accept-ab.js [--clients 2000] [--rounds 7] .ab/ed86e36/out .ab/<head>/out
 */
import { Effect, Stream } from "effect"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import type * as Lib from "../../src/node.js"
import { baselineRound, clientProcess, type Measurement, measure } from "../accept.js"
import { median, openFileLimit } from "../util.js"

type Library = typeof Lib

const args = process.argv.slice(2)
const value = (name: string): string | undefined => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const rounds = Number(value("--rounds") ?? 7)
let clients = Number(value("--clients") ?? 2000)
const dirs = args.filter((a, i) => !a.startsWith("--") && args[i - 1] !== "--rounds" && args[i - 1] !== "--clients")
if (dirs.length === 0) {
  console.error("usage: accept-ab.js [--clients N] [--rounds R] BUILD_DIR...")
  process.exit(2)
}
const limit = openFileLimit()
if (clients + 256 > limit) {
  clients = Math.max(10, limit - 256)
  console.log(`ulimit -n is ${limit}: using ${clients} clients`)
}

const libraryRound = (lib: Library, child: ReturnType<typeof clientProcess>, n: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const server = yield* lib.Server.make({ port: 0 })
      let open = 0
      yield* server
        .serve((s) =>
          Effect.suspend(() => {
            open++
            return s.messages.pipe(Stream.runForEach(s.write), Effect.ensuring(Effect.sync(() => open--)))
          })
        )
        .pipe(Effect.forkScoped)
      const port = server.address._tag === "Tcp" ? server.address.port : 0
      return yield* Effect.promise(() => measure(child, port, n, () => open))
    })
  ).pipe(Effect.provideService(lib.Backend.Backend, lib.Poll.backend))

const libs = await Promise.all(
  dirs.map(async (dir) => (await import(pathToFileURL(path.resolve(dir, "node.js")).href)) as Library)
)
const names = dirs.map((d) => path.basename(path.dirname(path.resolve(d))))
const child = clientProcess()
try {
  // Warm-up, not counted.
  await baselineRound(child, 300)
  for (const lib of libs) await Effect.runPromise(libraryRound(lib, child, 300))
  const bare: Array<Measurement> = []
  const built: Array<Array<Measurement>> = libs.map(() => [])
  for (let round = 0; round < rounds; round++) {
    bare.push(await baselineRound(child, clients))
    for (let i = 0; i < libs.length; i++)
      built[i]!.push(await Effect.runPromise(libraryRound(libs[i]!, child, clients)))
  }
  const rate = (m: Measurement) => (1000 * m.report.served.length) / m.report.wall
  const ratio = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => {
    const r = a.map((x, i) => x / b[i]!).sort((x, y) => x - y)
    return `${median(r).toFixed(3)} (IQR ${r[Math.floor(r.length / 4)]!.toFixed(3)}-${r[Math.floor((3 * r.length) / 4)]!.toFixed(3)})`
  }
  console.log(`accept: ${clients} clients at once, ${rounds} interleaved rounds`)
  console.log(
    `  bare: ${median(bare.map(rate)).toFixed(0)} conns/s, ${median(bare.map((m) => m.cpu)).toFixed(0)} µs CPU/conn`
  )
  built.forEach((ms, i) => {
    const rates = ms.map(rate)
    const cpus = ms.map((m) => m.cpu)
    console.log(
      `  ${names[i]}: ${median(rates).toFixed(0)} conns/s, x bare ${ratio(rates, bare.map(rate))}, x ${names[0]} ${ratio(rates, built[0]!.map(rate))}; ` +
        `${median(cpus).toFixed(0)} µs CPU/conn, x bare ${ratio(
          cpus,
          bare.map((m) => m.cpu)
        )}, x ${names[0]} ${ratio(
          cpus,
          built[0]!.map((m) => m.cpu)
        )}`
    )
  })
  for (const [m, name] of [
    ...bare.map((m) => [m, "bare"] as const),
    ...built.flatMap((ms, i) => ms.map((m) => [m, names[i]!] as const))
  ]) {
    if (m.report.failed > 0) console.log(`  note: ${name}: ${m.report.failed} clients never served in a round`)
  }
} finally {
  child.kill()
}

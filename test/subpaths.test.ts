/**
 * Every subpath of the package imported first, alone, in a fresh process of
 * this same runtime (Node, Bun or Deno): the built module loads and has
 * exports. A module that an import cycle evaluates before the ones it needs
 * fails here ("Cannot access 'X' before initialization") even where the
 * other tests, which load the sources through one entry point, pass.
 *
 * The sources are built as `npm run build` builds them, into a directory of
 * this run's own (not dist/: a fresh clone must have no dist/ before it is
 * packed), inside the repository so that the packages resolve: each line
 * into its own, and the Effect 4 line's has a node_modules/effect of its
 * own (a link to the `effect4` dev dependency), as a consumer on Effect 4
 * has.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"))
const outDir = path.join(root, ".subpaths-build", String(process.pid))

type Line = 3 | 4

/** Each line's build: `npm run build`'s two compilations, each into a directory of its own. */
const builds: Record<Line, { readonly tsconfig: string; readonly dir: string }> = {
  3: { tsconfig: "tsconfig.build.json", dir: path.join(outDir, "effect3") },
  4: { tsconfig: "tsconfig.build.effect4.json", dir: path.join(outDir, "effect4") }
}

/** The subpaths and the built file each loads: `["./Stocking", "./dist/Stocking.js", 3]`. */
const subpaths = Object.entries<null | string | { default?: string }>(pkg.exports).flatMap(([subpath, target]) => {
  if (target === null || subpath === "./package.json") return []
  const file = typeof target === "string" ? target : target.default
  const line: Line = subpath === "./effect4" || subpath.startsWith("./effect4/") ? 4 : 3
  return file === undefined ? [] : [[subpath, file, line] as const]
})

/** Imports the module at the URL given as its argument, alone, and prints its export names as JSON. */
const importer = `
const url = process.argv[2]
const module = await import(url)
process.stdout.write(JSON.stringify(Object.keys(module)))
`

interface Result {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `file` (an ES module) in a fresh process of this runtime, with `args` as `process.argv.slice(2)`. */
const run = (file: string, args: ReadonlyArray<string>): Promise<Result> =>
  new Promise((resolve, reject) => {
    const argv = "Deno" in globalThis ? ["run", "-A", file, ...args] : [file, ...args]
    const child = spawn(process.execPath, argv, { cwd: root, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text))
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text))
    child.on("error", reject)
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
  })

describe("subpaths", () => {
  beforeAll(() => {
    fs.rmSync(outDir, { recursive: true, force: true })
    const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc")
    // `npm run build`'s compilations, JavaScript only (the declarations do not change what loads).
    const flags = ["--declaration", "false", "--declarationMap", "false", "--sourceMap", "false", "--pretty", "false"]
    for (const { tsconfig, dir } of Object.values(builds)) {
      const result = spawnSync("node", [tsc, "-p", tsconfig, "--outDir", dir, ...flags], {
        cwd: root,
        encoding: "utf8"
      })
      if (result.error) throw result.error
      if (result.status !== 0) throw new Error(`the build (${tsconfig}) failed:\n${result.stdout}${result.stderr}`)
    }
    // The Effect 4 line's modules find Effect 4 as `effect`, before the repository's Effect 3.
    fs.mkdirSync(path.join(builds[4].dir, "node_modules"))
    fs.symlinkSync(
      path.join(root, "node_modules", "effect4"),
      path.join(builds[4].dir, "node_modules", "effect"),
      "dir"
    )
    fs.writeFileSync(path.join(outDir, "import-alone.mjs"), importer)
  }, 120_000)

  afterAll(() => {
    fs.rmSync(outDir, { recursive: true, force: true })
    try {
      fs.rmdirSync(path.dirname(outDir)) // the parent too, unless another run's directory is in it
    } catch {
      // another run's, or already gone
    }
  })

  it("lists every subpath of package.json's exports: one per concept, plus the root, node and Rpc", () => {
    const names = subpaths.map(([subpath]) => subpath)
    assert.deepStrictEqual(names, [
      ".",
      "./node",
      "./Framing",
      "./Codec",
      "./Stocking",
      "./Server",
      "./Backend",
      "./Backend/Poll",
      "./Backend/Select",
      "./Backend/Auto",
      "./Metrics",
      "./Rpc",
      "./effect4",
      "./effect4/node",
      "./effect4/Framing",
      "./effect4/Codec",
      "./effect4/Stocking",
      "./effect4/Server",
      "./effect4/Backend",
      "./effect4/Backend/Poll",
      "./effect4/Backend/Select",
      "./effect4/Backend/Auto",
      "./effect4/Metrics",
      "./effect4/Rpc"
    ])
  })

  for (const [subpath, file, line] of subpaths) {
    it(`${subpath} loads alone in a fresh process, with exports`, { timeout: 60_000 }, async () => {
      const built = path.join(builds[line].dir, path.relative("dist", path.normalize(file)))
      assert.isTrue(fs.existsSync(built), `${subpath}: the build made no ${built}`)
      const result = await run(path.join(outDir, "import-alone.mjs"), [pathToFileURL(built).href])
      const output = `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`
      assert.strictEqual(result.code, 0, `import("effect-stockings${subpath.slice(1)}") alone failed:\n${output}`)
      let names: Array<string> = []
      try {
        names = JSON.parse(result.stdout)
      } catch {
        assert.fail(`the child printed no export names:\n${output}`)
      }
      assert.isAbove(names.length, 0, `${subpath} has no exports`)
    })
  }

  // Each line's check, loaded where the other line is installed: it throws effect-stockings' own message.
  const checks = [
    [3, "internal/line3.js", "effect 4.1", "Effect 3 line", '"effect-stockings/effect4"'],
    [4, "effect4/internal/line.js", "effect 3.22", "Effect 4 line", '"effect-stockings" and its subpaths']
  ] as const
  for (const [line, file, installed, says, advice] of checks) {
    it(
      `the Effect ${line} line's check, loaded on the other line, says which line and what to import`,
      { timeout: 60_000 },
      async () => {
        // The check and the module it needs, built for its line, put into the other line's build.
        const other = builds[line === 3 ? 4 : 3].dir
        for (const name of [file, "internal/line.js"]) {
          fs.mkdirSync(path.dirname(path.join(other, name)), { recursive: true })
          fs.copyFileSync(path.join(builds[line].dir, name), path.join(other, name))
        }
        const result = await run(path.join(outDir, "import-alone.mjs"), [pathToFileURL(path.join(other, file)).href])
        assert.notStrictEqual(result.code, 0, `it loaded: ${result.stdout}`)
        for (const text of [`effect-stockings: ${installed}`, says, advice]) assert.include(result.stderr, text)
        // And on its own line it loads.
        const own = await run(path.join(outDir, "import-alone.mjs"), [
          pathToFileURL(path.join(builds[line].dir, file)).href
        ])
        assert.strictEqual(own.code, 0, own.stderr)
      }
    )
  }

  it(
    "the stocking launcher runs the CLI of the installed line: Effect 3's, and on Effect 4 the Effect 4 build's",
    { timeout: 60_000 },
    async () => {
      const on3 = await run(path.join(builds[3].dir, "bin", "launcher.js"), ["--help"])
      assert.strictEqual(on3.code, 0, on3.stderr)
      assert.include(on3.stdout, "Usage: stocking")
      // The launcher, built by the Effect 3 build, in the Effect 4 line's build (where effect is Effect 4).
      fs.mkdirSync(path.join(builds[4].dir, "bin"), { recursive: true })
      fs.copyFileSync(path.join(builds[3].dir, "bin", "launcher.js"), path.join(builds[4].dir, "bin", "launcher.js"))
      assert.isTrue(fs.existsSync(path.join(builds[4].dir, "effect4", "bin", "stocking.js")), "no Effect 4 CLI built")
      const on4 = await run(path.join(builds[4].dir, "bin", "launcher.js"), ["--help"])
      assert.strictEqual(on4.code, 0, on4.stderr)
      assert.include(on4.stdout, "Usage: stocking")
      // A command loads the whole Effect 4 CLI (its Stocking, backends and runner) on Effect 4, and fails in one line.
      const port = await new Promise<number>((resolve) => {
        const server = net.createServer()
        server.listen(0, "127.0.0.1", () => {
          const { port } = server.address() as net.AddressInfo
          server.close(() => resolve(port))
        })
      })
      const send = await run(path.join(builds[4].dir, "bin", "launcher.js"), ["send", `127.0.0.1:${port}`, "hi"])
      assert.strictEqual(send.code, 1, send.stdout)
      assert.match(
        send.stderr,
        new RegExp(`^stocking: could not connect to 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.*\n$`)
      )
    }
  )
})

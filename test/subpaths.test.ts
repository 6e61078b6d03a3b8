/**
 * Every subpath of the package imported first, alone, in a fresh process of
 * this same runtime (Node, Bun or Deno): the built module loads and has
 * exports. A module that an import cycle evaluates before the ones it needs
 * fails here ("Cannot access 'X' before initialization") even where the
 * other tests, which load the sources through one entry point, pass.
 *
 * The sources are built as `npm run build` builds them, into a directory of
 * this run's own (not dist/: a fresh clone must have no dist/ before it is
 * packed), inside the repository so that the packages resolve.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"))
const outDir = path.join(root, ".subpaths-build", String(process.pid))

/** The subpaths and the built file each loads: `["./Stocking", "./dist/Stocking.js"]`. */
const subpaths = Object.entries<null | string | { default?: string }>(pkg.exports).flatMap(([subpath, target]) => {
  if (target === null || subpath === "./package.json") return []
  const file = typeof target === "string" ? target : target.default
  return file === undefined ? [] : [[subpath, file] as const]
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
    // `npm run build`'s compilation, JavaScript only (the declarations do not change what loads).
    const args = ["-p", "tsconfig.build.json", "--outDir", outDir]
    const flags = ["--declaration", "false", "--declarationMap", "false", "--sourceMap", "false", "--pretty", "false"]
    const result = spawnSync("node", [tsc, ...args, ...flags], { cwd: root, encoding: "utf8" })
    if (result.error) throw result.error
    if (result.status !== 0) throw new Error(`the build failed:\n${result.stdout}${result.stderr}`)
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
      "./Rpc"
    ])
  })

  for (const [subpath, file] of subpaths) {
    it(`${subpath} loads alone in a fresh process, with exports`, { timeout: 60_000 }, async () => {
      const built = path.join(outDir, path.relative("dist", path.normalize(file)))
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
})

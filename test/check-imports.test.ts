/**
 * The import check CI and `npm run lint` run (`eslint src`, with the rules of
 * `eslint.config.mjs`), on small source trees made for it: it fails on an
 * import cycle and on an internal module that loads a public one, and lets
 * type-only imports through. So the check cannot quietly stop checking.
 *
 * ESLint runs with Node.js whatever runtime runs this file: it is the
 * repository's tooling, not the library.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const eslint = path.join(root, "node_modules", "eslint", "bin", "eslint.js")
const config = path.join(root, "eslint.config.mjs")
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "stockings-check-imports-"))

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }))

interface Result {
  readonly code: number | null
  readonly output: string
}

/** Runs ESLint with the repository's configuration over `src` in `cwd`. */
const check = (cwd: string): Promise<Result> =>
  new Promise((resolve, reject) => {
    const args = [eslint, "--config", config, "--format", "json", "src"]
    const child = spawn("node", args, { cwd, stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.setEncoding("utf8").on("data", (text: string) => (output += text))
    child.stderr.setEncoding("utf8").on("data", (text: string) => (output += text))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, output }))
  })

let trees = 0

/** A source tree in a directory of its own: `{ "src/a.ts": "..." }`; its directory. */
const tree = (files: Record<string, string>): string => {
  const dir = path.join(scratch, String(trees++))
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
    fs.writeFileSync(path.join(dir, file), text)
  }
  return dir
}

/** The problems reported, as `file:line rule`, with the file relative to `dir`. */
const problems = (dir: string, output: string): Array<string> => {
  let results: Array<{ filePath: string; messages: Array<{ line: number; ruleId: string | null }> }>
  try {
    results = JSON.parse(output)
  } catch {
    return assert.fail(`ESLint printed no JSON report:\n${output}`)
  }
  return results
    .flatMap(({ filePath, messages }) =>
      messages.map(({ line, ruleId }) => `${path.relative(dir, filePath).split(path.sep).join("/")}:${line} ${ruleId}`)
    )
    .sort()
}

describe("check-imports", { timeout: 60_000 }, () => {
  it("fails on a cycle of value imports, naming each file in it", async () => {
    const dir = tree({
      "src/A.ts": 'import { b } from "./B.js"\nexport const a = () => b\n',
      "src/B.ts": 'import { c } from "./C.js"\nexport const b = c\n',
      "src/C.ts": 'import * as A from "./A.js"\nexport const c = A\n',
      "src/D.ts": 'import { a } from "./A.js"\nexport const d = a\n'
    })
    const result = await check(dir)
    assert.strictEqual(result.code, 1, result.output)
    assert.deepStrictEqual(problems(dir, result.output), [
      "src/A.ts:1 import-x/no-cycle",
      "src/B.ts:1 import-x/no-cycle",
      "src/C.ts:1 import-x/no-cycle"
    ])
  })

  it("fails on an internal module that loads a public one, even through inline type specifiers only", async () => {
    const dir = tree({
      "src/Public.ts": "export type Kind = string\nexport const value = 1\n",
      "src/internal/values.ts": 'import { value } from "../Public.js"\nexport const twice = value * 2\n',
      "src/internal/inline.ts": 'import { type Kind } from "../Public.js"\nexport const kind: Kind = "a"\n',
      "src/internal/reexport.ts": 'export { type Kind } from "../Public.js"\n'
    })
    const result = await check(dir)
    assert.strictEqual(result.code, 1, result.output)
    assert.deepStrictEqual(problems(dir, result.output), [
      "src/internal/inline.ts:1 no-restricted-syntax",
      "src/internal/reexport.ts:1 no-restricted-syntax",
      "src/internal/values.ts:1 no-restricted-imports"
    ])
  })

  it("passes type-only imports, the CLI's imports of public modules, and imports in comments and strings", async () => {
    const dir = tree({
      "src/Public.ts":
        'import * as internal from "./internal/impl.js"\nexport type Kind = string\nexport const value = internal.x\n',
      "src/internal/impl.ts": [
        'import type { Kind } from "../Public.js"',
        'import type * as Public from "../Public.js"',
        "import {",
        "  type Kind as Other,",
        "  zero",
        '} from "./types.js"',
        'import { helper } from "./helper.js"',
        "export type Alias = Public.Kind",
        "export const x: Kind | Public.Kind | Other = helper + zero",
        ""
      ].join("\n"),
      "src/internal/types.ts": "export type Kind = number\nexport const zero = 0\n",
      "src/internal/helper.ts": [
        '// import { value } from "../Public.js"',
        "/**",
        ' * import { value } from "../Public.js"',
        " */",
        "const text = `",
        'import { value } from "../Public.js"`',
        'const pattern = /["`]/',
        "export const helper = text.length + String(pattern).length",
        ""
      ].join("\n"),
      "src/bin/cli.ts": 'import { value } from "../Public.js"\nexport const cli = value\n'
    })
    const result = await check(dir)
    assert.strictEqual(result.code, 0, result.output)
  })

  it("fails on an import of an Effect package's barrel (`effect`), not of its modules (`effect/Effect`)", async () => {
    const dir = tree({
      "src/A.ts": 'import { Effect } from "effect"\nexport const a = Effect.void\n',
      "src/B.ts":
        'import * as Effect from "effect/Effect"\nimport type { Layer } from "effect"\nexport const b = Effect.void\n'
    })
    const result = await check(dir)
    assert.strictEqual(result.code, 1, result.output)
    assert.deepStrictEqual(problems(dir, result.output), ["src/A.ts:1 @effect/no-import-from-barrel-package"])
  })

  it("passes on this repository's sources", async () => {
    const result = await check(root)
    assert.strictEqual(result.code, 0, result.output)
  })
})

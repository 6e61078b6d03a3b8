/**
 * `scripts/check-imports.mjs`, the import check CI runs, on small source
 * trees made for it: it fails on an import cycle and on an internal module
 * that loads a public one, and lets type-only imports through. So the check
 * cannot quietly stop checking.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const script = path.join(root, "scripts", "check-imports.mjs")
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "stockings-check-imports-"))

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }))

interface Result {
  readonly code: number | null
  readonly output: string
}

/** Runs the check in a child of this runtime (Node, Bun or Deno), in `cwd`, with `args`. */
const check = (cwd: string, args: ReadonlyArray<string> = []): Promise<Result> =>
  new Promise((resolve, reject) => {
    const argv = "Deno" in globalThis ? ["run", "-A", script, ...args] : [script, ...args]
    const child = spawn(process.execPath, argv, { cwd, stdio: ["ignore", "pipe", "pipe"] })
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

describe("check-imports", () => {
  it("fails on a cycle of value imports, and prints it as a chain of files", async () => {
    const dir = tree({
      "src/A.ts": 'import { b } from "./B.js"\nexport const a = () => b\n',
      "src/B.ts": 'import { c } from "./C.js"\nexport const b = c\n',
      "src/C.ts": 'import * as A from "./A.js"\nexport const c = A\n',
      "src/D.ts": 'import { a } from "./A.js"\nexport const d = a\n'
    })
    const result = await check(dir, ["src"])
    assert.strictEqual(result.code, 1, result.output)
    const chain = ["src/A.ts", "src/B.ts", "src/C.ts", "src/A.ts"].map((f) => f.split("/").join(path.sep))
    assert.include(result.output, chain.join(" -> "))
    assert.include(result.output, "1 cycle(s)")
    assert.notInclude(result.output, "D.ts ->")
  })

  it("fails on an internal module that loads a public one, even through inline type specifiers only", async () => {
    const dir = tree({
      "src/Public.ts": "export type Kind = string\nexport const value = 1\n",
      "src/internal/values.ts": 'import { value } from "../Public.js"\nexport const twice = value * 2\n',
      "src/internal/inline.ts": 'import { type Kind } from "../Public.js"\nexport const kind: Kind = "a"\n'
    })
    const result = await check(dir, ["src"])
    assert.strictEqual(result.code, 1, result.output)
    const shown = (file: string) => file.split("/").join(path.sep)
    assert.include(result.output, `${shown("src/internal/values.ts")}:1 -> ${shown("src/Public.ts")} (value)`)
    assert.include(result.output, `${shown("src/internal/inline.ts")}:1 -> ${shown("src/Public.ts")}`)
    assert.include(result.output, "2 internal import(s) of public modules, 0 cycle(s)")
  })

  it("passes type-only imports, the CLI's imports of public modules, and imports in comments and strings", async () => {
    const dir = tree({
      "src/Public.ts":
        'import * as internal from "./internal/impl.js"\nexport type Kind = string\nexport const value = internal.x\n',
      "src/internal/impl.ts": [
        'import type { Kind } from "../Public.js"',
        'import type * as Public from "../Public.js"',
        'export type * from "../Public.js"',
        "import {",
        "  type Kind as Other",
        '} from "./types.js"',
        'import { helper } from "./helper.js"',
        "export const x: Kind | Public.Kind | Other = helper",
        ""
      ].join("\n"),
      "src/internal/types.ts": "export type Kind = number\n",
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
    const result = await check(dir, ["src"])
    assert.strictEqual(result.code, 0, result.output)
    assert.match(
      result.output,
      /5 files, 4 value imports between them: no internal module loads a public one, no cycle/
    )
  })

  it("passes on this repository's sources", async () => {
    const result = await check(root)
    assert.strictEqual(result.code, 0, result.output)
  })
})

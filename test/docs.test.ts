/**
 * The docs check: every `ts` block in README.md and docs/*.md and every
 * `@example` in src/ is written out as a module of its own and type-checked
 * against the package (its subpaths mapped onto src/), in one compiler run. A
 * block must be complete, or declare what it assumes (`declare const host:
 * string`).
 *
 * Two lines: a Markdown block fenced ```ts is Effect 3 code, one fenced
 * ```ts effect4 is Effect 4 code, and so is every `@example` in
 * src/effect4/. Each line's blocks are compiled in a run of their own, with
 * `effect` resolving to that line (Effect 4: the `effect4` dev dependency).
 * An Effect 4 block that imports a subpath whose source is not written yet
 * is skipped, with the reason, until it is.
 *
 * It also checks that every public constructor and operation has an example,
 * and that every relative link in those Markdown files reaches a file of the
 * repository (and a heading of it, for a link with a `#`).
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const outDir = path.join(root, ".docs-check")

/**
 * Blocks known to fail, in modules being rewritten on other branches: each
 * is `file#export` (`#module` for the module's own doc comment). Such a block
 * is still compiled, and this list must shrink: a block on it that compiles
 * fails the check until it is taken off. Empty it once those modules land.
 */
const pending: ReadonlySet<string> = new Set<string>([])

/**
 * Exports that need no example: the ones under these categories are types,
 * identifiers or plain values rather than constructors and operations.
 */
const noExampleNeeded = new Set(["type ids", "models", "options", "errors", "constants", "symbols", "metrics"])

/** Exports without an example yet (`file#export`): none; the test fails if one appears. */
const pendingExamples: ReadonlySet<string> = new Set<string>([])

interface Block {
  /** Where it is: `README.md:120` or `src/Codec.ts:56`. */
  readonly origin: string
  /** `file#export` for an `@example`, the origin for a README block. */
  readonly id: string
  readonly file: string
  readonly line: number
  readonly code: string
  /** The Effect line it is written for. */
  readonly effect: Line
}

type Line = 3 | 4

/** A Markdown fence's line: ```ts is Effect 3 code, ```ts effect4 Effect 4 code. */
const fences: Record<string, Line> = { "```ts": 3, "```ts effect4": 4 }

/** The guide and the reference pages beside it (docs/api/ is generated, and not among them). */
const markdownFiles = (): Array<string> => [
  "README.md",
  ...fs
    .readdirSync(path.join(root, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => `docs/${name}`)
]

const markdownBlocks = (file: string): Array<Block> => {
  const lines = fs.readFileSync(path.join(root, file), "utf8").split("\n")
  const blocks: Array<Block> = []
  for (let i = 0; i < lines.length; i++) {
    const effect = fences[lines[i]!]
    if (effect === undefined) continue
    const start = i + 1
    let end = start
    while (end < lines.length && lines[end] !== "```") end++
    blocks.push({
      origin: `${file}:${start + 1}`,
      id: `${file}:${start + 1}`,
      file,
      line: start + 1,
      code: lines.slice(start, end).join("\n"),
      effect
    })
    i = end
  }
  return blocks
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const slug = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-")

const anchors = (file: string): Set<string> =>
  new Set(
    fs
      .readFileSync(file, "utf8")
      .replace(/^```[\s\S]*?^```$/gm, "")
      .split("\n")
      .flatMap((line) => {
        const heading = /^#{1,6}\s+(.*)$/.exec(line)?.[1]
        return heading === undefined ? [] : [slug(heading)]
      })
  )

/** Relative links of a Markdown file (outside code) that do not reach a file of the repository or its heading. */
const brokenLinks = (file: string): Array<string> => {
  const text = fs
    .readFileSync(path.join(root, file), "utf8")
    .replace(/^```[\s\S]*?^```$/gm, "")
    .replace(/`[^`\n]*`/g, "")
  const broken: Array<string> = []
  for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/i.test(target!)) continue
    const [pathPart, anchor] = target!.split("#") as [string, string | undefined]
    const resolved =
      pathPart === "" ? path.join(root, file) : path.resolve(path.dirname(path.join(root, file)), pathPart)
    const inside = !path.relative(root, resolved).startsWith("..")
    if (!inside || !fs.existsSync(resolved)) broken.push(`${file}: ${target} (no such file in the repository)`)
    else if (anchor !== undefined && resolved.endsWith(".md") && !anchors(resolved).has(anchor)) {
      broken.push(`${file}: ${target} (no such heading)`)
    }
  }
  return broken
}

const sourceFiles = (dir: string): Array<string> =>
  fs
    .readdirSync(path.join(root, dir), { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory()
        ? sourceFiles(path.join(dir, entry.name))
        : entry.name.endsWith(".ts")
          ? [path.join(dir, entry.name)]
          : []
    )
    .sort()

/** The name a doc comment ending on `line` documents, or `module` for the one at the top of a file. */
const documentedName = (lines: ReadonlyArray<string>, line: number, isFirst: boolean): string => {
  for (let i = line + 1; i < lines.length && i < line + 4; i++) {
    const match =
      /^export\s+(?:declare\s+)?(?:const|function|class|interface|type|namespace|let)\s+([A-Za-z0-9_$]+)/.exec(
        lines[i]!
      ) ?? /^export\s+\*\s+as\s+([A-Za-z0-9_$]+)/.exec(lines[i]!)
    if (match) return match[1]!
    if (lines[i]!.trim() !== "" && !lines[i]!.trimStart().startsWith("*")) break
  }
  return isFirst ? "module" : `line ${line + 1}`
}

interface DocComment {
  readonly file: string
  readonly name: string
  readonly category: string | undefined
  readonly examples: Array<Block>
}

const docComments = (file: string): Array<DocComment> => {
  const lines = fs.readFileSync(path.join(root, file), "utf8").split("\n")
  const comments: Array<DocComment> = []
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== "/**") continue
    const start = i
    while (i < lines.length && !lines[i]!.trim().startsWith("*/")) i++
    const body = lines.slice(start + 1, i).map((l) => l.replace(/^\s*\* ?/, ""))
    const name = documentedName(lines, i, comments.length === 0 && start < 2)
    const category = body.map((l) => /^@category\s+(.+)$/.exec(l)?.[1]).find((c) => c !== undefined)
    const examples: Array<Block> = []
    for (let j = 0; j < body.length; j++) {
      if (body[j] !== "@example") continue
      let k = j + 1
      while (k < body.length && body[k]!.trim() === "") k++
      if (body[k] !== "```ts") continue
      const codeStart = k + 1
      let end = codeStart
      while (end < body.length && body[end] !== "```") end++
      const line = start + 1 + codeStart + 1
      examples.push({
        origin: `${file}:${line}`,
        id: `${file}#${name}`,
        file,
        line,
        code: body.slice(codeStart, end).join("\n"),
        effect: file.startsWith("src/effect4/") ? 4 : 3
      })
      j = end
    }
    comments.push({ file, name, category, examples })
  }
  return comments
}

/** The package's subpaths, mapped onto their sources: `effect-stockings/node` -> ../src/node.ts. */
const subpathSources = (prefix = "../"): Record<string, Array<string>> => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"))
  const paths: Record<string, Array<string>> = {}
  for (const [subpath, target] of Object.entries<null | { default?: string }>(pkg.exports)) {
    if (target === null || target.default === undefined || !target.default.endsWith(".js")) continue
    const source = target.default.replace(/^\.\/dist\//, `${prefix}src/`).replace(/\.js$/, ".ts")
    paths[subpath === "." ? pkg.name : `${pkg.name}/${subpath.slice(2)}`] = [source]
  }
  return paths
}

const comments = sourceFiles("src").flatMap(docComments)

/** The modules a user can import: the sources of the package's subpaths. */
const publicModules = new Set(Object.values(subpathSources()).map(([source]) => source!.replace(/^\.\.\//, "")))
const docBlocks = markdownFiles().flatMap(markdownBlocks)
const blocks = [...docBlocks, ...comments.flatMap((c) => c.examples)]

interface Diagnostic {
  readonly line: number
  readonly text: string
}

/** The compiler options that make `effect` (and `effect/...`) Effect 4, from a directory two levels down. */
const effect4Paths = {
  effect: ["../../node_modules/effect4/dist/index.d.ts"],
  "effect/*": ["../../node_modules/effect4/dist/*.d.ts", "../../node_modules/effect4/dist/*/index.d.ts"]
}

/**
 * Writes every block of `effect` out as a module and compiles them all at
 * once, in .docs-check/<line>/; the diagnostics, by block.
 */
const compileLine = (effect: Line, lineBlocks: ReadonlyArray<Block>): Map<Block, Array<Diagnostic>> => {
  const dir = path.join(outDir, String(effect))
  fs.mkdirSync(dir, { recursive: true })
  const byBlock = new Map<Block, Array<Diagnostic>>(lineBlocks.map((b) => [b, []]))
  if (lineBlocks.length === 0) return byBlock
  const names = new Map<string, Block>()
  lineBlocks.forEach((block, i) => {
    const name = `${String(i).padStart(3, "0")}-${block.origin.replace(/[^A-Za-z0-9]+/g, "_")}.ts`
    names.set(name, block)
    // `export {}` makes every block a module of its own; it adds no line before the block's.
    fs.writeFileSync(path.join(dir, name), `${block.code}\nexport {}\n`)
  })
  const tsconfig = {
    extends: "../../tsconfig.json",
    compilerOptions: {
      rootDir: "../..",
      noEmit: true,
      // A block may show a value without using it.
      noUnusedLocals: false,
      noUnusedParameters: false,
      paths: { ...subpathSources("../../"), ...(effect === 4 ? effect4Paths : {}) }
    },
    include: ["*.ts"]
  }
  fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(tsconfig, null, 2))
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc")
  const result = spawnSync("node", [tsc, "-p", path.join(dir, "tsconfig.json"), "--pretty", "false"], {
    cwd: root,
    encoding: "utf8"
  })
  if (result.error) throw result.error
  let last: Array<Diagnostic> | undefined
  for (const line of result.stdout.split("\n")) {
    const match = /^(?:.*[\\/])?\.docs-check[\\/][34][\\/]([^(]+)\((\d+),(\d+)\): (.*)$/.exec(line)
    if (match) {
      const block = names.get(match[1]!)
      last = block === undefined ? undefined : byBlock.get(block)
      const target = last ?? []
      target.push({ line: Number(match[2]), text: `${match[3]}: ${match[4]}` })
      if (block === undefined) throw new Error(`compiler error outside the blocks: ${line}`)
    } else if (line.startsWith(" ") && last !== undefined && last.length > 0) {
      const previous = last.pop()!
      last.push({ ...previous, text: `${previous.text}\n${line}` })
    } else if (line.trim() !== "") {
      throw new Error(`unexpected compiler output: ${line}\n${result.stdout}${result.stderr}`)
    }
  }
  if (result.status !== 0 && [...byBlock.values()].every((d) => d.length === 0)) {
    throw new Error(`the compiler failed: ${result.stdout}${result.stderr}`)
  }
  return byBlock
}

/** Both lines' blocks, each line compiled against its Effect (the Effect 4 blocks not written yet left out). */
const compile = (): Map<Block, Array<Diagnostic>> => {
  fs.rmSync(outDir, { recursive: true, force: true })
  return new Map([
    ...compileLine(
      3,
      blocks.filter((b) => b.effect === 3)
    ),
    ...compileLine(
      4,
      blocks.filter((b) => b.effect === 4)
    )
  ])
}

const report = (block: Block, diagnostics: ReadonlyArray<Diagnostic>) =>
  [
    `${block.origin}: this block does not compile against the package:`,
    ...diagnostics.map((d) => `  ${block.file}:${block.line + d.line - 1}:${d.text}`),
    "  the block, as compiled:",
    ...block.code.split("\n").map((l, i) => `  ${String(block.line + i).padStart(5)} | ${l}`)
  ].join("\n")

describe("docs", () => {
  let results: Map<Block, Array<Diagnostic>> | undefined
  const diagnosticsOf = (block: Block) => {
    results ??= compile()
    return results.get(block)!
  }

  it("finds the Markdown files' blocks and the examples", () => {
    assert.isAtLeast(
      blocks.filter((b) => b.file === "README.md").length,
      10,
      "README.md has its `ts` blocks (a fence of exactly ```ts, or ```ts effect4)"
    )
    assert.isAtLeast(
      blocks.filter((b) => b.file.startsWith("docs/")).length,
      5,
      "docs/*.md have their `ts` blocks (a fence of exactly ```ts)"
    )
    assert.isAtLeast(blocks.length - docBlocks.length, 20)
    const unknown = [...pending].filter((id) => !blocks.some((b) => b.id === id))
    assert.deepStrictEqual(unknown, [], "pending blocks that no longer exist: take them off the list")
  })

  for (const block of blocks) {
    const name = block.id === block.origin ? block.origin : `${block.origin} (${block.id.split("#")[1]})`
    it(`compiles: ${name}${block.effect === 4 ? " (Effect 4)" : ""}`, { timeout: 120_000 }, () => {
      const diagnostics = diagnosticsOf(block)
      if (pending.has(block.id)) {
        assert.isAbove(diagnostics.length, 0, `${block.id} compiles now: take it off the pending list in docs.test.ts`)
        return
      }
      if (diagnostics.length > 0) assert.fail(report(block, diagnostics))
    })
  }

  it("every relative link in README.md and docs/*.md reaches a file of the repository, and its heading", () => {
    assert.deepStrictEqual(markdownFiles().flatMap(brokenLinks), [])
  })

  it("every public constructor and operation has an example", () => {
    const missing = comments
      .filter(
        (c) =>
          publicModules.has(c.file) &&
          c.name !== "module" &&
          !c.name.startsWith("line ") &&
          c.category !== undefined &&
          !noExampleNeeded.has(c.category) &&
          c.examples.length === 0
      )
      .map((c) => `${c.file}#${c.name}`)
    const stillMissing = missing.filter((id) => !pendingExamples.has(id))
    if (stillMissing.length > 0) assert.fail(`exports without an @example:\n${stillMissing.join("\n")}`)
    const done = [...pendingExamples].filter((id) => !missing.includes(id))
    if (done.length > 0) assert.fail(`these have an example now: take them off pendingExamples:\n${done.join("\n")}`)
  })
})

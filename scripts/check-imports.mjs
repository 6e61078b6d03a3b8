// Checks the import graph of src/, and fails (exit 1) on either of:
//
//  (a) a module under src/internal/ that loads a public module (any module of
//      src/ outside src/internal/ and src/bin/) at run time;
//  (b) a cycle of imports that load modules at run time.
//
// Both make a subpath that is imported first, alone, evaluate a module before
// the ones it depends on are initialised ("Cannot access 'X' before
// initialization"). Internal modules hold what both sides need at run time;
// public modules import them and re-export.
//
//   node scripts/check-imports.mjs [source directory, src/ by default]
//
// It reads the static `import ... from` / `export ... from` statements, each
// at the start of a line, once comments and template literals are blanked
// out (so that an example in a doc comment is not taken for an import).
// `import type` and `export type` load nothing. A statement whose names are all inline `type` specifiers
// (`import { type A } from`) still loads its module: under
// verbatimModuleSyntax (tsconfig.json) it is emitted as `import {} from`.
// Dynamic `import()` is not followed: it loads its module later, on demand.
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const srcDir = path.resolve(process.argv[2] ?? path.join(root, "src"))

/** Directories of `srcDir` whose modules are not public. */
const NOT_PUBLIC = ["internal", "bin"]

const show = (file) => path.relative(process.cwd(), file) || file

const sourceFiles = (dir) =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) return sourceFiles(full)
      return /\.(?:m|c)?tsx?$/.test(entry.name) && !/\.d\.(?:m|c)?ts$/.test(entry.name) ? [full] : []
    })

const topDir = (file) => path.relative(srcDir, file).split(path.sep)[0]
const isInternal = (file) => topDir(file) === "internal" && path.relative(srcDir, file).includes(path.sep)
const isPublic = (file) => !(path.relative(srcDir, file).includes(path.sep) && NOT_PUBLIC.includes(topDir(file)))

// A clause: names, braces, commas, `*`, `as`, `type`; never another statement's keyword.
const CLAUSE = String.raw`((?:(?!\b(?:import|export)\b)[\w$\s{},*])+?)`
const FROM = String.raw`\s*from\s*(["'])([^"'\n]+)\4`
const STATEMENT = new RegExp(String.raw`^[ \t]*(import|export)(\s+type(?=[\s{*]))?\s*` + CLAUSE + FROM, "gm")
const SIDE_EFFECT = /^[ \t]*import\s*(["'])([^"'\n]+)\1/gm

/** Keywords after which a `/` starts a regular expression, not a division. */
const BEFORE_REGEXP = new Set(
  "return typeof instanceof case do else in of new delete void throw yield await".split(" ")
)

/**
 * `text` with its comments and the text of its template literals blanked
 * out (newlines kept, so offsets and lines stay), and its quoted strings and
 * regular expressions skipped whole: what remains at the start of a line is
 * code.
 */
const codeOf = (text) => {
  const out = text.split("")
  const blank = (from, to) => {
    for (let k = from; k < to; k++) if (out[k] !== "\n") out[k] = " "
  }
  /** For each `${` open: the brace depth its `}` returns to. */
  const substitutions = []
  let depth = 0
  let previous = "" // the last character of code before `i`, not a space
  let i = 0
  /** From `i`, inside a template literal: to past its end, or past the next `${`. */
  const template = () => {
    const start = i
    while (i < text.length) {
      if (text[i] === "\\") {
        i += 2
      } else if (text[i] === "`") {
        blank(start, i)
        i++
        previous = "`"
        return
      } else if (text[i] === "$" && text[i + 1] === "{") {
        blank(start, i)
        substitutions.push(depth)
        depth++
        i += 2
        previous = "{"
        return
      } else {
        i++
      }
    }
    blank(start, i)
  }
  const startsRegExp = () => {
    if (previous === "" || /[^\w$)\]}'"`]/.test(previous)) return true
    if (!/[\w$]/.test(previous)) return false
    const word = /[\w$]+\s*$/.exec(text.slice(Math.max(0, i - 20), i))
    return word !== null && BEFORE_REGEXP.has(word[0].trim())
  }
  while (i < text.length) {
    const c = text[i]
    const next = text[i + 1]
    if (c === "/" && next === "/") {
      const end = text.indexOf("\n", i)
      const to = end < 0 ? text.length : end
      blank(i, to)
      i = to
    } else if (c === "/" && next === "*") {
      const end = text.indexOf("*/", i + 2)
      const to = end < 0 ? text.length : end + 2
      blank(i, to)
      i = to
    } else if (c === '"' || c === "'") {
      let j = i + 1
      while (j < text.length && text[j] !== c && text[j] !== "\n") j += text[j] === "\\" ? 2 : 1
      i = j + 1
      previous = c
    } else if (c === "`") {
      i++
      template()
    } else if (c === "/" && startsRegExp()) {
      let j = i + 1
      let inClass = false
      while (j < text.length && text[j] !== "\n") {
        if (text[j] === "\\") {
          j += 2
          continue
        }
        if (text[j] === "[") inClass = true
        else if (text[j] === "]") inClass = false
        else if (text[j] === "/" && !inClass) break
        j++
      }
      i = j + 1
      previous = ")" // a `/` after a regular expression divides
    } else if (c === "}" && substitutions.length > 0 && substitutions[substitutions.length - 1] === depth - 1) {
      substitutions.pop()
      depth--
      i++
      template()
    } else {
      if (c === "{") depth++
      else if (c === "}") depth--
      if (!/\s/.test(c)) previous = c
      i++
    }
  }
  return out.join("")
}

const lineOf = (text, index) => text.slice(0, index).split("\n").length

/**
 * The statements of a module that name another module: its specifier, its
 * line, whether it loads the module at run time and, when it does, the names
 * it takes (or why it loads it).
 */
const importsOf = (source) => {
  const text = codeOf(source)
  const found = []
  for (const match of text.matchAll(STATEMENT)) {
    const [, keyword, typeOnly, clause, , specifier] = match
    const line = lineOf(text, match.index)
    if (typeOnly) {
      found.push({ specifier, line, value: false })
      continue
    }
    const braces = /\{([^}]*)\}/.exec(clause)
    const outside = clause
      .replace(/\{[^}]*\}/, "")
      .replace(/,/g, " ")
      .trim()
    const named = braces
      ? braces[1]
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : []
    const values = named.filter((s) => !/^type\s/.test(s))
    const names = [...(outside === "" ? [] : [outside.replace(/\s+/g, " ")]), ...values]
    if (names.length > 0) {
      found.push({ specifier, line, value: true, what: names.join(", ") })
    } else {
      // `import { type A } from`: emitted as `import {} from`, which still loads the module.
      found.push({
        specifier,
        line,
        value: true,
        what: `${keyword} { type ... } still loads it: write \`${keyword} type\``
      })
    }
  }
  for (const match of text.matchAll(SIDE_EFFECT)) {
    found.push({ specifier: match[2], line: lineOf(text, match.index), value: true, what: "for its side effects" })
  }
  return found.sort((a, b) => a.line - b.line)
}

/** The source file a relative specifier names, `undefined` for a file that is not a TypeScript module. */
const resolve = (from, specifier) => {
  const target = path.resolve(path.dirname(from), specifier)
  const candidates = [
    target,
    target.replace(/\.js$/, ".ts"),
    target.replace(/\.js$/, ".tsx"),
    target.replace(/\.mjs$/, ".mts"),
    target.replace(/\.cjs$/, ".cts"),
    `${target}.ts`,
    path.join(target, "index.ts")
  ]
  const found = candidates.find((c) => /\.(?:m|c)?tsx?$/.test(c) && fs.existsSync(c) && fs.statSync(c).isFile())
  if (found) return { file: found }
  return fs.existsSync(target) ? { file: undefined } : { missing: true }
}

if (!fs.existsSync(srcDir) || !fs.statSync(srcDir).isDirectory()) {
  console.error(`check-imports: no directory ${show(srcDir)}`)
  process.exit(2)
}

const files = sourceFiles(srcDir)
/** Value imports, by importing file: `{ to, line, what }`. */
const graph = new Map(files.map((file) => [file, []]))
const unresolved = []
let valueImports = 0
for (const file of files) {
  for (const edge of importsOf(fs.readFileSync(file, "utf8"))) {
    if (!edge.specifier.startsWith(".")) continue // a package or a builtin
    const resolved = resolve(file, edge.specifier)
    if (resolved.missing) {
      unresolved.push(`${show(file)}:${edge.line}: "${edge.specifier}" names no file`)
      continue
    }
    if (!edge.value || resolved.file === undefined || !graph.has(resolved.file)) continue
    graph.get(file).push({ to: resolved.file, line: edge.line, what: edge.what })
    valueImports++
  }
}

// (a) Internal modules that load public ones.
const inward = []
for (const [file, edges] of graph) {
  if (!isInternal(file)) continue
  for (const edge of edges) {
    if (isPublic(edge.to)) inward.push(`${show(file)}:${edge.line} -> ${show(edge.to)} (${edge.what})`)
  }
}

// (b) Cycles: the strongly connected components (Tarjan), then cycles through them until each of their edges is in one.
const components = []
{
  let next = 0
  const index = new Map()
  const low = new Map()
  const stack = []
  const onStack = new Set()
  const visit = (file) => {
    index.set(file, next)
    low.set(file, next)
    next++
    stack.push(file)
    onStack.add(file)
    for (const { to } of graph.get(file)) {
      if (!index.has(to)) {
        visit(to)
        low.set(file, Math.min(low.get(file), low.get(to)))
      } else if (onStack.has(to)) {
        low.set(file, Math.min(low.get(file), index.get(to)))
      }
    }
    if (low.get(file) === index.get(file)) {
      const component = []
      let member
      do {
        member = stack.pop()
        onStack.delete(member)
        component.push(member)
      } while (member !== file)
      const selfLoop = graph.get(file).some((e) => e.to === file)
      if (component.length > 1 || selfLoop) components.push(component.sort())
    }
  }
  for (const file of files) if (!index.has(file)) visit(file)
}

/** The shortest path of value imports from `from` to `to` within `members`, as a list of files. */
const shortestPath = (from, to, members) => {
  const previous = new Map([[from, undefined]])
  const queue = [from]
  while (queue.length > 0) {
    const file = queue.shift()
    if (file === to) break
    for (const { to: next } of graph.get(file)) {
      if (members.has(next) && !previous.has(next)) {
        previous.set(next, file)
        queue.push(next)
      }
    }
  }
  const chain = [to]
  while (chain[0] !== from) chain.unshift(previous.get(chain[0]))
  return chain
}

const cycles = components.map((component) => {
  const members = new Set(component)
  const covered = new Set()
  const found = []
  for (const file of component) {
    for (const { to } of graph.get(file)) {
      if (!members.has(to) || covered.has(`${file}\n${to}`)) continue
      const chain = to === file ? [file, file] : [file, ...shortestPath(to, file, members)]
      for (let i = 0; i + 1 < chain.length; i++) covered.add(`${chain[i]}\n${chain[i + 1]}`)
      found.push(chain)
    }
  }
  return { component, found }
})

let failed = false
if (unresolved.length > 0) {
  failed = true
  console.error(`check-imports: relative imports that name no file:`)
  for (const line of unresolved) console.error(`  ${line}`)
}
if (inward.length > 0) {
  failed = true
  console.error(
    `check-imports: internal modules that load public modules (import them with \`import type\`, or move what they need into src/internal/):`
  )
  for (const line of inward) console.error(`  ${line}`)
}
if (cycles.length > 0) {
  failed = true
  console.error(`check-imports: import cycles over value imports:`)
  for (const { component, found } of cycles) {
    console.error(`  ${component.length} files in a cycle: ${component.map(show).join(", ")}`)
    for (const chain of found) console.error(`    ${chain.map(show).join(" -> ")}`)
  }
}
if (failed) {
  const counts = `${inward.length} internal import(s) of public modules, ${cycles.length} cycle(s)`
  console.error(
    `check-imports: FAILED: ${counts}${unresolved.length > 0 ? `, ${unresolved.length} unresolved import(s)` : ""}`
  )
  process.exit(1)
}
console.log(
  `check-imports: ${files.length} files, ${valueImports} value imports between them: no internal module loads a public one, no cycle`
)

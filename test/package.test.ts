/**
 * The package as a user installs it: what it declares, and what each entry
 * point loads.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"))

const specifiers = (text: string): Array<string> => {
  // Without comments, where examples show imports that the module does not make.
  const source = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "")
  const found: Array<{ readonly at: number; readonly specifier: string }> = []
  const patterns = [
    /^\s*(?:import|export)\s+(?!type\b)[^"']*?\bfrom\s+["']([^"']+)["']/gm,
    /^\s*import\s+["']([^"']+)["']/gm,
    /\brequire\(\s*["']([^"']+)["']\s*\)/g
  ]
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) found.push({ at: match.index, specifier: match[1]! })
  }
  // In the order they appear in the module, which is the order they load in.
  return found.sort((a, b) => a.at - b.at).map((found) => found.specifier)
}

const packageName = (specifier: string) =>
  specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]!

/** An Effect line: 3 is the `effect` dev dependency, 4 the `effect4` one (`npm:effect@^4`). */
type Line = 3 | 4

const requireFromRoot = createRequire(path.join(root, "package.json"))

/** `effect/Either` -> `effect4/Either` on line 4: the specifier that reaches that line's copy from here. */
const onLine = (specifier: string, line: Line) =>
  line === 4 && (specifier === "effect" || specifier.startsWith("effect/"))
    ? `effect4${specifier.slice("effect".length)}`
    : specifier

/** Whether the installed `effect` of `line` has the module `specifier` (`effect/Either`) names. */
const effectHas = (specifier: string, line: Line): boolean => {
  try {
    return fs.existsSync(requireFromRoot.resolve(onLine(specifier, line)))
  } catch {
    return false
  }
}

interface Loaded {
  /** The packages loaded, by name. */
  readonly packages: Set<string>
  /** The `effect` modules this repository's sources load: `effect/Either`. */
  readonly effectModules: Set<string>
  /** This repository's sources loaded, relative to the root: `src/internal/queue.ts`. */
  readonly sources: Set<string>
}

/**
 * What a module loads at run time, following value imports (not `import
 * type`) through this repository's sources and through node_modules (via
 * each package's CommonJS build, whose `require` calls mirror its ES module
 * imports, or its only build, for Effect 4). Bare `effect` imports of the
 * sources reach the copy of `line`, as the published package's reach the
 * consumer's one copy.
 */
const loadedBy = (entry: string, line: Line): Loaded => {
  const seen = new Set<string>()
  const loaded: Loaded = { packages: new Set(), effectModules: new Set(), sources: new Set() }
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    const ours = !path.relative(root, file).startsWith("..") && !file.includes(`${path.sep}node_modules${path.sep}`)
    if (ours) loaded.sources.add(path.relative(root, file).split(path.sep).join("/"))
    const require = createRequire(file)
    for (const specifier of specifiers(fs.readFileSync(file, "utf8"))) {
      if (specifier.startsWith("node:")) continue
      if (specifier.startsWith(".")) {
        const resolved = path.resolve(path.dirname(file), specifier)
        const ts = resolved.replace(/\.js$/, ".ts")
        visit(file.endsWith(".ts") && fs.existsSync(ts) ? ts : require.resolve(specifier))
        continue
      }
      packages(specifier)
      if (ours && packageName(specifier) === "effect") loaded.effectModules.add(specifier)
      let resolved: string
      try {
        resolved = require.resolve(ours ? onLine(specifier, line) : specifier)
      } catch {
        continue // a Node.js builtin without the node: prefix, an optional package that is absent, or no such module
      }
      if (path.isAbsolute(resolved) && fs.existsSync(resolved)) visit(resolved)
    }
  }
  const packages = (specifier: string) => loaded.packages.add(packageName(specifier))
  visit(path.join(root, entry))
  return loaded
}

/** The packages a module loads at run time on the Effect 3 line (see `loadedBy`). */
const packagesLoadedBy = (entry: string): Set<string> => loadedBy(entry, 3).packages

/** The package's subpaths and their sources: `["./effect4/node", "src/effect4/node.ts", 4]`. */
const entries = Object.entries<null | { default?: string }>(pkg.exports).flatMap(([subpath, target]) => {
  if (target === null || target.default === undefined || subpath === "./package.json") return []
  const source = target.default.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts")
  const line: Line = subpath === "./effect4" || subpath.startsWith("./effect4/") ? 4 : 3
  return [[subpath, source, line] as const]
})

describe("package", () => {
  it("Effect is a peer of either line (one copy, the consumer's); the platform packages and @effect/rpc are optional peers", () => {
    const peers = ["effect", "@effect/platform", "@effect/platform-node", "@effect/rpc"]
    for (const name of peers) {
      assert.notProperty(pkg.dependencies ?? {}, name, `${name} must not be a dependency (a second copy of Effect)`)
      assert.match(pkg.peerDependencies[name], /^\^/, `${name} is a peer dependency`)
      assert.property(pkg.devDependencies, name, `${name} is a dev dependency, to build and test`)
    }
    // Both lines, so that `npm install effect-stockings effect@latest` takes Effect 4 and `effect@3` takes Effect 3.
    assert.strictEqual(pkg.peerDependencies.effect, "^3.22.2 || ^4.1.0")
    assert.match(pkg.devDependencies.effect, /^\^3\./, "Effect 3, the line the sources are built against by default")
    assert.match(pkg.devDependencies.effect4, /^npm:effect@\^4\./, "Effect 4, beside it, for the Effect 4 line")
    // Needed by one line or one entry only: never installed for a user who does not ask for them.
    assert.deepStrictEqual(pkg.peerDependenciesMeta, {
      "@effect/platform": { optional: true },
      "@effect/platform-node": { optional: true },
      "@effect/rpc": { optional: true }
    })
  })

  it("npm pack builds first, and ships dist, the bin and the license", () => {
    assert.strictEqual(pkg.scripts.prepack, "npm run build")
    assert.include(pkg.files, "dist")
    // The launcher picks the CLI of the installed Effect line; it and the Effect 3 CLI are both built.
    assert.strictEqual(pkg.bin.stocking, "./dist/bin/launcher.js")
    assert.isTrue(
      fs.existsSync(path.join(root, "src/bin/launcher.ts")) && fs.existsSync(path.join(root, "src/bin/stocking.ts"))
    )
    // The build runs the Effect 4 line first: both emit src/internal/, and the Effect 3 build's copy is the one kept.
    assert.strictEqual(pkg.scripts.build, "tsc -p tsconfig.build.effect4.json && tsc -p tsconfig.build.json")
    assert.isTrue(fs.existsSync(path.join(root, "LICENSE")))
    assert.strictEqual(pkg.license, "MIT")
  })

  it("ES modules only: no require condition, so engines asks for the Node.js that can require() them (20.19)", () => {
    for (const target of Object.values<null | string | Record<string, string>>(pkg.exports)) {
      if (target !== null && typeof target === "object") assert.notProperty(target, "require")
    }
    assert.strictEqual(pkg.type, "module")
    assert.strictEqual(pkg.engines.node, ">=20.19")
    assert.includeMembers(pkg.keywords, ["effect", "stockings", "framing", "tcp"])
  })

  it("the Effect 4 family mirrors the Effect 3 family under ./effect4, built into dist/effect4", () => {
    const three = entries.filter(([, , line]) => line === 3)
    const four = entries.filter(([, , line]) => line === 4)
    assert.deepStrictEqual(
      four.map(([subpath, source]) => [subpath, source]),
      three.map(([subpath, source]) => [
        subpath === "." ? "./effect4" : `./effect4/${subpath.slice(2)}`,
        source.replace(/^src\//, "src/effect4/")
      ])
    )
    assert.isNull(pkg.exports["./internal/*"])
    assert.isNull(pkg.exports["./effect4/internal/*"])
    // The line checks run for their effect (they throw on the wrong line): bundlers must keep them.
    assert.deepStrictEqual(pkg.sideEffects, ["./dist/internal/line3.js", "./dist/effect4/internal/line.js"])
    assert.deepStrictEqual(pkg.exports["./Rpc"], { types: "./dist/Rpc.d.ts", default: "./dist/Rpc.js" })
  })

  for (const [subpath, source] of entries) {
    it(`${subpath} has its source module, ${source}`, () => {
      assert.isTrue(fs.existsSync(path.join(root, source)), `${subpath}: ${source}`)
    })
  }

  it("the root and ./node entries load neither @effect/rpc nor msgpackr; ./Rpc does", () => {
    const rpc = packagesLoadedBy("src/Rpc.ts")
    // The walk itself works: the RPC module does reach both.
    assert.isTrue(rpc.has("@effect/rpc") && rpc.has("msgpackr"), [...rpc].join(", "))
    for (const entry of ["src/index.ts", "src/node.ts"]) {
      const loaded = packagesLoadedBy(entry)
      assert.isTrue(loaded.has("effect"), `${entry} loads effect`)
      for (const name of ["@effect/rpc", "msgpackr"]) {
        assert.isFalse(loaded.has(name), `${entry} loads ${name} (it loads: ${[...loaded].sort().join(", ")})`)
      }
    }
  })

  for (const [subpath, source, line] of entries) {
    const other: Line = line === 3 ? 4 : 3
    it(`${subpath} loads only the Effect ${line} line: no module of the other's, and no @effect/platform`, () => {
      const loaded = loadedBy(source, line)
      const list = (set: Set<string>) => [...set].sort().join(", ")
      assert.isTrue(loaded.packages.has("effect") || subpath.endsWith("/Framing"), `${source} loads effect`)
      // effect's modules of this line only (effect/Either is Effect 3's, effect/Result Effect 4's).
      const missing = [...loaded.effectModules].filter((specifier) => !effectHas(specifier, line))
      assert.deepStrictEqual(missing, [], `${source} loads modules that effect ${line} does not have`)
      // This repository's sources of this line and the shared core only.
      const foreign = [...loaded.sources].filter((file) =>
        line === 3 ? file.startsWith("src/effect4/") : !/^src\/(effect4|internal)\//.test(file)
      )
      assert.deepStrictEqual(foreign, [], `${source} loads Effect ${other} sources (it loads: ${list(loaded.sources)})`)
      // @effect/platform is Effect 3's, and is needed only by @effect/rpc (an Rpc entry's own peer).
      if (!subpath.endsWith("/Rpc") && subpath !== "./Rpc") {
        assert.isFalse(loaded.packages.has("@effect/platform"), `${source} loads @effect/platform`)
      }
      if (line === 4) {
        // Effect 4 has RPC and sockets in effect itself (effect/rpc, effect/socket).
        for (const name of ["@effect/platform", "@effect/rpc"]) {
          assert.isFalse(loaded.packages.has(name), `${source} loads ${name}, an Effect 3 package`)
        }
        if (subpath === "./effect4" || subpath === "./effect4/node") {
          assert.isFalse(loaded.packages.has("msgpackr"), `${source} loads msgpackr`)
        }
      }
    })
  }

  for (const [subpath, source, line] of entries) {
    const check = line === 3 ? "src/internal/line3.ts" : "src/effect4/internal/line.ts"
    it(`${subpath} imports its line's check (${check}) first`, () => {
      const first = specifiers(fs.readFileSync(path.join(root, source), "utf8"))[0]
      const expected = path.relative(path.dirname(source), check).replace(/\.ts$/, ".js")
      assert.strictEqual(first, expected.startsWith(".") ? expected : `./${expected}`, `${source}'s first import`)
    })
  }

  it("no tracked file reads or links a path outside the repository", () => {
    const outside = ["..", "shared"].join("/")
    // The one exception: the interop suites run the original Python library (GPL-3.0, so never copied in) as a
    // separate process from where this workplace keeps it, or from STOCKINGS_PY, and skips with its reason when
    // neither is there: a fresh clone with nothing beside it still passes.
    const allowed = new Set(["test/interop/original.ts"])
    const files = execFileSync("git", ["ls-files"], { cwd: root, encoding: "utf8" }).split("\n").filter(Boolean)
    const offenders = files.filter((file) => {
      if (allowed.has(file)) return false
      const full = path.join(root, file)
      return fs.existsSync(full) && fs.statSync(full).size < 1 << 20 && fs.readFileSync(full, "utf8").includes(outside)
    })
    assert.deepStrictEqual(offenders, [])
  })
})

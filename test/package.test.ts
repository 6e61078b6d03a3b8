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
  const found: Array<string> = []
  const patterns = [
    /^\s*(?:import|export)\s+(?!type\b)[^"']*?\bfrom\s+["']([^"']+)["']/gm,
    /^\s*import\s+["']([^"']+)["']/gm,
    /\brequire\(\s*["']([^"']+)["']\s*\)/g
  ]
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push(match[1]!)
  return found
}

const packageName = (specifier: string) =>
  specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]!

/**
 * The packages a module loads at run time, following value imports (not
 * `import type`) through this repository's sources and through
 * node_modules (via each package's CommonJS build, whose `require` calls
 * mirror its ES module imports).
 */
const packagesLoadedBy = (entry: string): Set<string> => {
  const seen = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    const require = createRequire(file)
    for (const specifier of specifiers(fs.readFileSync(file, "utf8"))) {
      if (specifier.startsWith("node:")) continue
      if (specifier.startsWith(".")) {
        const resolved = path.resolve(path.dirname(file), specifier)
        const ts = resolved.replace(/\.js$/, ".ts")
        visit(file.endsWith(".ts") && fs.existsSync(ts) ? ts : require.resolve(specifier))
        continue
      }
      packages.add(packageName(specifier))
      let resolved: string
      try {
        resolved = require.resolve(specifier)
      } catch {
        continue // a Node.js builtin without the node: prefix, or an optional package that is absent
      }
      if (path.isAbsolute(resolved) && fs.existsSync(resolved)) visit(resolved)
    }
  }
  visit(path.join(root, entry))
  return packages
}

describe("package", () => {
  it("Effect and its platform packages are peers, never bundled dependencies; @effect/rpc is an optional peer", () => {
    const peers = ["effect", "@effect/platform", "@effect/platform-node", "@effect/rpc"]
    for (const name of peers) {
      assert.notProperty(pkg.dependencies ?? {}, name, `${name} must not be a dependency (a second copy of Effect)`)
      assert.match(pkg.peerDependencies[name], /^\^/, `${name} is a peer dependency`)
      assert.property(pkg.devDependencies, name, `${name} is a dev dependency, to build and test`)
    }
    assert.match(pkg.peerDependencies.effect, /^\^3\./, "the Effect 3 line")
    assert.deepStrictEqual(pkg.peerDependenciesMeta, { "@effect/rpc": { optional: true } })
  })

  it("npm pack builds first, and ships dist, the bin and the license", () => {
    assert.strictEqual(pkg.scripts.prepack, "npm run build")
    assert.include(pkg.files, "dist")
    assert.strictEqual(pkg.bin.stocking, "./dist/bin/stocking.js")
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

  it("every subpath export has its source module", () => {
    for (const [subpath, target] of Object.entries<null | { default?: string }>(pkg.exports)) {
      if (target === null || subpath === "./package.json") continue
      const source = target.default!.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts")
      assert.isTrue(fs.existsSync(path.join(root, source)), `${subpath}: ${source}`)
    }
    assert.deepStrictEqual(pkg.exports["./Rpc"], { types: "./dist/Rpc.d.ts", default: "./dist/Rpc.js" })
  })

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

  it("no tracked file reads or links a path outside the repository", () => {
    const outside = ["..", "shared"].join("/")
    // The one exception: the interop suite runs the original Python library (GPL-3.0, so never copied in) as a
    // separate process from where this workplace keeps it, or from STOCKINGS_PY, and skips with its reason when
    // neither is there: a fresh clone with nothing beside it still passes.
    const allowed = new Set(["test/Interop.test.ts"])
    const files = execFileSync("git", ["ls-files"], { cwd: root, encoding: "utf8" }).split("\n").filter(Boolean)
    const offenders = files.filter((file) => {
      if (allowed.has(file)) return false
      const full = path.join(root, file)
      return fs.existsSync(full) && fs.statSync(full).size < 1 << 20 && fs.readFileSync(full, "utf8").includes(outside)
    })
    assert.deepStrictEqual(offenders, [])
  })
})

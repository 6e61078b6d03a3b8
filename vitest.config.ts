import { defineConfig, type Plugin } from "vitest/config"

/**
 * The repository tests both lines of the library in one run, each in its
 * own Vitest project (its own module graph):
 *
 * - `effect3`: `test/`, against `effect` 3 (the `effect` dependency);
 * - `effect4`: `test/effect4/`, against `effect` 4, installed beside it as
 *   `effect4` (`npm:effect@^4`). Every import of `effect` or `effect/...`
 *   in that project, the shared machinery's included, resolves to it.
 *
 * Published, the package has one copy of Effect: the consumer's.
 */
const effect4 = (): Plugin => ({
  name: "effect-stockings:effect4",
  enforce: "pre",
  resolveId(source, importer, options) {
    if (source !== "effect" && !source.startsWith("effect/")) return null
    return this.resolve(`effect4${source.slice("effect".length)}`, importer, { ...options, skipSelf: true })
  }
})

const shared = { testTimeout: 30_000, hookTimeout: 30_000, pool: "forks" } as const

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: "effect3", include: ["test/**/*.test.ts"], exclude: ["test/effect4/**"] } },
      { plugins: [effect4()], test: { ...shared, name: "effect4", include: ["test/effect4/**/*.test.ts"] } }
    ]
  }
})

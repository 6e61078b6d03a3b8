/**
 * The Vite config `test/effect4/cli.test.ts` runs the Effect 4 CLI with
 * (`vite-node --config test/effect4/cli.vite.config.ts src/effect4/bin/stocking.ts`):
 * as in the `effect4` Vitest project, every `effect` import of the sources,
 * the shared ones included, resolves to Effect 4 (`effect4`). Without it, a
 * child process would load Effect 3 for them.
 */
import { defineConfig, type Plugin } from "vite"

const effect4 = (): Plugin => ({
  name: "effect-stockings:effect4-cli",
  enforce: "pre",
  resolveId(source, importer, options) {
    if (source !== "effect" && !source.startsWith("effect/")) return null
    return this.resolve(`effect4${source.slice("effect".length)}`, importer, { ...options, skipSelf: true })
  }
})

export default defineConfig({ plugins: [effect4()] })

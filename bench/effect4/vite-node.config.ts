import { defineConfig, type Plugin } from "vite"

/**
 * For running an Effect 4 bench script from its sources with vite-node:
 * every import of `effect` or `effect/...` (the shared core's included)
 * resolves to Effect 4 (the `effect4` dev dependency), as in Vitest's
 * `effect4` project (vitest.config.ts).
 *
 *   npx vite-node --config bench/effect4/vite-node.config.ts bench/effect4/socket.ts
 */
const effect4 = (): Plugin => ({
  name: "effect-stockings:bench-effect4",
  enforce: "pre",
  resolveId(source, importer, options) {
    if (source !== "effect" && !source.startsWith("effect/")) return null
    return this.resolve(`effect4${source.slice("effect".length)}`, importer, { ...options, skipSelf: true })
  }
})

export default defineConfig({ plugins: [effect4()] })

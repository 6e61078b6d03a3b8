/**
 * The module resolve hook of the bench's Effect 4 child (registered by
 * bench/effect4/loader.ts): `effect` and `effect/*` resolve to the
 * `effect4` dev dependency (`npm:effect@^4`) and its subpaths, for every
 * importer, the shared core in src/internal included; nothing else changes.
 */
import type { ResolveHook } from "node:module"

export const resolve: ResolveHook = (specifier, context, nextResolve) =>
  specifier === "effect" || specifier.startsWith("effect/")
    ? nextResolve(`effect4${specifier.slice("effect".length)}`, context)
    : nextResolve(specifier, context)

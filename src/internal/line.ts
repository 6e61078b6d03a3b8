/**
 * Which Effect line an entry of the package is for, checked against the
 * `effect` that is installed. Effect-free, so that it runs before any
 * module of Effect or of this package that a wrong line would break.
 *
 * Each line has a side-effect module that calls `checkLine` (`line3.ts`
 * here, `src/effect4/internal/line.ts`), and every entry of that line
 * imports it first. The check reads `effect/package.json` (both lines
 * export it) with Node.js's `require`, reached through
 * `process.getBuiltinModule` so that nothing here names a Node.js module:
 * where there is no such thing (a browser bundle) it does nothing. It does
 * nothing either when run from the TypeScript sources (this repository's
 * tests, where each Vitest project resolves `effect` to its own line).
 *
 * The check can only speak if the module graph links: ES modules resolve
 * every static import before running any module, so a subpath of `effect`
 * that the installed line does not have (`effect/Either` on Effect 4)
 * fails first with `ERR_MODULE_NOT_FOUND`. README.md's "Mixing the lines"
 * shows what a user sees then.
 */

/** The two lines of Effect that the package has entries for. */
export type Line = 3 | 4

/** The entries of each line, as a user imports them. */
const entries: Record<Line, string> = {
  3: `"effect-stockings" and its subpaths without "/effect4" ("effect-stockings/node", ...)`,
  4: `"effect-stockings/effect4" and its subpaths ("effect-stockings/effect4/node", ...)`
}

/** The install line of each line. */
const install: Record<Line, string> = {
  3: "npm install effect@^3.22 @effect/platform@^0.97 @effect/platform-node@^0.108",
  4: "npm install effect@latest"
}

/**
 * The message for an entry of `line` loaded with `effect` at `version`
 * installed, or `undefined` when they match (or the version is not one of
 * either line's, which is left to the package manager's peer check).
 */
export const lineMismatch = (line: Line, version: string): string | undefined => {
  const major = Number(/^(\d+)\./.exec(version)?.[1])
  if (major === line || (major !== 3 && major !== 4)) return undefined
  const other: Line = line === 3 ? 4 : 3
  return (
    `effect-stockings: effect ${version} is installed, but this import is the Effect ${line} line of ` +
    `effect-stockings (${entries[line]}). On Effect ${other}, import from ${entries[other]} instead; ` +
    `to stay on Effect ${line}, install it: ${install[line]}`
  )
}

/** The version of the `effect` package that the modules next to this one load, when it can be read. */
export const installedEffectVersion = (from: string): string | undefined => {
  if (typeof process === "undefined" || typeof process.getBuiltinModule !== "function") return undefined
  const module = process.getBuiltinModule("node:module")
  if (module === undefined) return undefined
  try {
    const manifest: unknown = module.createRequire(from)("effect/package.json")
    if (typeof manifest !== "object" || manifest === null || !("version" in manifest)) return undefined
    return typeof manifest.version === "string" ? manifest.version : undefined
  } catch {
    return undefined // no effect at all: the import that needs it fails next, with its own message
  }
}

/**
 * Throws the message of `lineMismatch` when the installed `effect` is not
 * of `line`. Run from the sources (a `.ts` module), it does nothing.
 */
export const checkLine = (line: Line): void => {
  const from = import.meta.url
  if (!from.endsWith(".js")) return
  const version = installedEffectVersion(from)
  const message = version === undefined ? undefined : lineMismatch(line, version)
  if (message !== undefined) throw new Error(message)
}

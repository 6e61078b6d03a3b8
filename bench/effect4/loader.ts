/**
 * Makes `effect` mean Effect 4 in the bench's Effect 4 child (bench/line4.ts
 * starts it with `node --import <this file>`): from then on, `effect` and
 * `effect/*` resolve to the `effect4` dev dependency (`effect4`,
 * `effect4/*`), for `import` (the resolve hook of bench/effect4/hooks.ts)
 * and for `require` alike. The second matters for the Effect 4 line's own
 * check of the installed Effect (src/internal/line.ts reads
 * `effect/package.json` with `require`, which Node 20's module hooks do not
 * see): it must find Effect 4 here, as it would in an application on
 * Effect 4. Only the bench uses this; the library never does.
 */
import Module, { register } from "node:module"

register("./hooks.js", import.meta.url)

/** Node's CommonJS resolver (undocumented, stable since Node 0.x; not in @types/node). */
interface Resolver {
  _resolveFilename: (request: string, ...rest: Array<unknown>) => string
}
const resolver = Module as unknown as Resolver
const resolveFilename = resolver._resolveFilename
resolver._resolveFilename = function (this: unknown, request, ...rest) {
  const mapped =
    request === "effect" || request.startsWith("effect/") ? `effect4${request.slice("effect".length)}` : request
  return resolveFilename.call(this, mapped, ...rest)
}

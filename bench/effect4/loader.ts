/**
 * Registers bench/effect4/hooks.ts for the Effect 4 child of the bench
 * (bench/line4.ts starts it with `node --import <this file>`): from then on,
 * `effect` and `effect/*` resolve to Effect 4 (`effect4`, `effect4/*`).
 * Only the bench uses this hook; the library never does.
 */
import { register } from "node:module"

register("./hooks.js", import.meta.url)

/**
 * The Effect 3 line's `Backend` tag, declared here so that internal code
 * can read it without importing a public module. `Backend.Backend`
 * re-exports it, with its documentation.
 *
 * @internal
 */
import * as Context from "effect/Context"
import type { Backend as Strategy } from "./backend.js"

/** `Backend.Backend`, the tag. @internal */
export const Backend: Context.Tag<Strategy, Strategy> = Context.GenericTag<Strategy>("effect-stockings/Backend")

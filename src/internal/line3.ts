/**
 * The Effect 3 entries import this first: it throws a clear error when the
 * installed `effect` is not Effect 3 (see `line.ts`).
 */
import { checkLine } from "./line.js"

checkLine(3)

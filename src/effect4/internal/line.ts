/**
 * The Effect 4 entries import this first: it throws a clear error when the
 * installed `effect` is not Effect 4 (see `src/internal/line.ts`).
 */
import { checkLine } from "../../internal/line.js"

checkLine(4)

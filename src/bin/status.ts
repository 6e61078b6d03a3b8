/**
 * The status line: one line on stderr, redrawn in place, saying what the
 * command is waiting for (connecting, sending, closing). Shown when stderr
 * is a terminal (or with `--status always`), never mixed into stdout's
 * lines, and erased before the program's last words.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { StatusMode } from "./args.js"

/** Back to the start of the line, and erase it. */
const ERASE = "\r\x1b[K"

/** How often the line is redrawn, in milliseconds: a phase shorter than this never shows. */
const INTERVAL = 250

let enabled = false
let current: (() => string | undefined) | undefined = undefined
let drawn: string | undefined = undefined

const erase = (): void => {
  if (drawn === undefined) return
  drawn = undefined
  process.stderr.write(ERASE)
}

const draw = (): void => {
  const text = current?.()
  if (text === drawn) return
  if (text === undefined) return erase()
  drawn = text
  process.stderr.write(`${ERASE}${text}`)
}

/**
 * Erases the status line if stdout shares its terminal, before a line goes
 * to stdout.
 *
 * @since 0.1.0
 * @category status
 */
export const clearForOutput = (): void => {
  if (drawn !== undefined && process.stdout.isTTY) erase()
}

/**
 * Starts the status line for the life of the scope, if `mode` says so
 * (`auto`: when stderr is a terminal); erases it when the scope closes.
 *
 * @since 0.1.0
 * @category status
 */
export const start = (mode: StatusMode): Effect.Effect<void, never, Scope.Scope> => {
  if (mode === "never" || (mode === "auto" && !process.stderr.isTTY)) return Effect.void
  return Effect.gen(function* () {
    enabled = true
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        enabled = false
        current = undefined
        erase()
      })
    )
    yield* Effect.sync(draw).pipe(
      Effect.andThen(Effect.sleep(INTERVAL)),
      Effect.forever,
      Effect.interruptible,
      Effect.forkScoped
    )
  })
}

/**
 * Sets the status (a function, for a counter read at each redraw), or
 * clears it with `undefined` (erased at once).
 *
 * @since 0.1.0
 * @category status
 */
export const set = (text: string | (() => string | undefined) | undefined): Effect.Effect<void> =>
  Effect.sync(() => {
    if (!enabled) return
    current = typeof text === "string" ? () => text : text
    if (text === undefined) erase()
  })

/**
 * Runs `effect` with `text` as the status, cleared when it ends.
 *
 * @since 0.1.0
 * @category status
 */
export const during = <A, E, R>(
  text: string | (() => string | undefined),
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> => Effect.ensuring(Effect.andThen(set(text), effect), set(undefined))

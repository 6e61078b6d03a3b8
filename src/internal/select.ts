/**
 * The interval-driven backend's send strategy (see the `Select` modules for
 * the whole of it), one copy for both lines, declared here so that a
 * Stocking picks it by default without importing a public module. The
 * `Select` modules re-export it, with their documentation. The interval's
 * `Config` is each line's (`selectConfig.ts` for Effect 3).
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Parse from "./configParse.js"
import * as fx from "./fx.js"
import * as Backend from "./backend.js"

/** `Select.INTERVAL_VARIABLE`. @internal */
export const INTERVAL_VARIABLE = Parse.INTERVAL_VARIABLE

/** `Select.make`. @internal */
export const make = (interval: fx.DurationInput): Backend.Backend => {
  // Interval 0 only lets the other writers of this turn run.
  const wait = Duration.toMillis(interval) > 0 ? Effect.sleep(interval) : fx.yieldNow
  return {
    [Backend.TypeId]: Backend.TypeId,
    name: "select",
    start: (link) => {
      // Runs while something is queued: waits out the interval, sends everything queued by then in one write,
      // waits for the drain if the socket is full; returns when nothing is queued (no fiber, no timer then).
      const loop: Effect.Effect<void> = Effect.gen(function* () {
        while (link.queued > 0) {
          if (!link.closing) yield* wait
          if (!link.flush()) yield* link.drained
        }
      })
      // The first message queued starts the loop; a close sends what is queued at once, without waiting.
      return () => (link.closing ? void link.flush() : link.run(loop))
    }
  }
}

/**
 * The interval-driven backend's send strategy (see the `Select` module for
 * the whole of it), declared here so that a Stocking picks it by default
 * without importing a public module. The `Select` module re-exports it,
 * with its documentation.
 *
 * @internal
 */
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Backend from "./backend.js"
/** `Select.INTERVAL_VARIABLE`. @internal */
export const INTERVAL_VARIABLE = "STOCKING_SELECT_SEND_INTERVAL"
/** `Select.intervalConfig`. @internal */
export const intervalConfig = Config.number(INTERVAL_VARIABLE).pipe(
  Config.validate({
    message: "expected a non-negative number of seconds, such as 0.5",
    validation: (seconds) => Number.isFinite(seconds) && seconds >= 0
  }),
  Config.withDefault(0.5),
  Config.map((seconds) => Duration.millis(seconds * 1000)),
  Config.withDescription("How often, in seconds, the select backend sends what is queued")
)
/** `Select.make`. @internal */
export const make = (interval) => {
  // Interval 0 only lets the other writers of this turn run.
  const wait = Duration.toMillis(interval) > 0 ? Effect.sleep(interval) : Effect.yieldNow()
  return {
    [Backend.TypeId]: Backend.TypeId,
    name: "select",
    start: (link) => {
      // Runs while something is queued: waits out the interval, sends everything queued by then in one write,
      // waits for the drain if the socket is full; returns when nothing is queued (no fiber, no timer then).
      const loop = Effect.gen(function* () {
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

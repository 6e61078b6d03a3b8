/**
 * The interval-driven backend (see the `Select` module for its strategy),
 * declared here so that a Stocking picks it by default without importing a
 * public module. The `Select` module re-exports it, with its documentation.
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
export const intervalConfig: Config.Config<Duration.Duration> = Config.number(INTERVAL_VARIABLE).pipe(
  Config.validate({
    message: "expected a non-negative number of seconds, such as 0.5",
    validation: (seconds) => Number.isFinite(seconds) && seconds >= 0
  }),
  Config.withDefault(0.5),
  Config.map((seconds) => Duration.millis(seconds * 1000)),
  Config.withDescription("How often, in seconds, the select backend sends what is queued")
)

const idle = (link: Backend.Link): void => {
  link.onQueued(link.startLoop)
  if (link.queued > 0 || link.isClosing()) link.startLoop()
}

/** `Select.make`. @internal */
export const make = (interval: Duration.DurationInput): Backend.Backend => {
  const sleep = Duration.toMillis(interval) > 0 ? Effect.sleep(interval) : undefined
  return {
    [Backend.TypeId]: Backend.TypeId,
    name: "select",
    // Runs while something is queued; returns when nothing is (back to `idle`, no fiber) or the link is done.
    sendLoop: (link) => {
      // The interval, cut short by a close; interval 0 only lets the other writers of this turn run.
      const wait = sleep === undefined ? Effect.yieldNow() : Effect.raceFirst(sleep, link.closing)
      return Effect.gen(function* () {
        while (link.queued > 0) {
          if (!link.isClosing()) yield* wait
          if (!link.flush()) yield* link.drained
        }
      })
    },
    // No fiber and no timer while nothing is queued: the first message queued (or a close) starts the loop.
    idle
  }
}

/**
 * The Effect 3 line's `Config` for the select backend's interval
 * (`STOCKING_SELECT_SEND_INTERVAL`). The `Select` module re-exports it,
 * with its documentation.
 *
 * @internal
 */
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import { INTERVAL_VARIABLE } from "./select.js"

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

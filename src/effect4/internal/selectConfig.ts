/**
 * The Effect 4 line's `Config` for the select backend's interval
 * (`STOCKING_SELECT_SEND_INTERVAL`, seconds, default 0.5).
 *
 * @internal
 */
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import { INTERVAL_VARIABLE } from "../../internal/select.js"

/** `Select.intervalConfig`. @internal */
export const intervalConfig: Config.Config<Duration.Duration> = Config.Finite(INTERVAL_VARIABLE).pipe(
  Config.withDefault(0.5),
  Config.map((seconds) => Duration.millis(Math.max(0, seconds) * 1000))
)

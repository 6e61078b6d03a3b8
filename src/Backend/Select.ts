/**
 * The interval-driven backend (the original's SelectStocking): once a
 * message is queued, the send loop waits out the send interval, then hands
 * everything queued by then to the socket in one write. Messages written
 * within one interval travel together.
 *
 * The interval is `STOCKING_SELECT_SEND_INTERVAL`, in seconds (default 0.5,
 * as in the original), read through Effect `Config`; `layer({ interval })`
 * overrides it. Unlike the original, a Stocking with nothing to send does
 * not wake at all, so thousands of idle connections cost no timers; and a
 * close issued while the loop waits cuts the wait short: what is queued goes
 * out at once.
 *
 * The strategy: with nothing queued, no fiber and no timer; the first
 * message queued starts the send loop, which waits out the interval;
 * flushes everything queued, in one write; if the socket is past its
 * high-water mark, waits for its `drain`; and returns once nothing is
 * queued. Writers admitted from a wait for room during a flush go out with
 * the next interval's batch. A graceful close flushes what is queued at
 * once, without waiting for the interval. The code is one function of the
 * `Link`, in `src/internal/select.ts`.
 *
 * @since 0.1.0
 */
import "../internal/line3.js"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as internal from "../internal/select.js"
import * as configInternal from "../internal/config.js"
import * as Backend from "./Backend.js"

/**
 * The environment variable holding the send interval in seconds.
 *
 * @since 0.1.0
 * @category constants
 */
export const INTERVAL_VARIABLE = internal.INTERVAL_VARIABLE

/**
 * The send interval from `STOCKING_SELECT_SEND_INTERVAL` (seconds, a
 * non-negative number; default 0.5). An invalid value fails with a
 * `ConfigError` naming the variable.
 *
 * @since 0.1.0
 * @category config
 * @example
 * ```ts
 * import { ConfigProvider, Duration, Effect } from "effect"
 * import { Select } from "effect-stockings/node"
 *
 * // Reads STOCKING_SELECT_SEND_INTERVAL; here from a map instead of the environment.
 * const program = Effect.gen(function* () {
 *   const interval = yield* Select.intervalConfig
 *   return Duration.toMillis(interval) // 100
 * }).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["STOCKING_SELECT_SEND_INTERVAL", "0.1"]]))))
 * ```
 */
export const intervalConfig: Config.Config<Duration.Duration> = configInternal.intervalConfig

/**
 * The interval-driven backend with a fixed interval.
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Backend, Select, Stocking } from "effect-stockings/node"
 *
 * // Messages written within 50 ms of each other go out in one write.
 * const client = Stocking.make({ host: "localhost", port: 4000 }).pipe(
 *   Effect.provideService(Backend.Backend, Select.make("50 millis"))
 * )
 * ```
 */
export const make: (interval: Duration.DurationInput) => Backend.Backend = internal.make

/**
 * Provides the interval-driven backend. The interval is `options.interval`
 * if given, else `STOCKING_SELECT_SEND_INTERVAL`, else 0.5 seconds.
 *
 * @since 0.1.0
 * @category layers
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Select, Stocking } from "effect-stockings/node"
 *
 * const program = Effect.scoped(Stocking.make({ host: "localhost", port: 4000 })).pipe(
 *   Effect.provide(Select.layer({ interval: "10 millis" }))
 * )
 * ```
 */
export const layer = (options?: {
  readonly interval?: Duration.DurationInput | undefined
}): Layer.Layer<Backend.Backend, ConfigError.ConfigError> =>
  options?.interval !== undefined
    ? Layer.succeed(Backend.Backend, make(options.interval))
    : Layer.effect(Backend.Backend, Effect.map(intervalConfig, make))

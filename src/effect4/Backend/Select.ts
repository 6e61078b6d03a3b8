/**
 * The interval-driven backend (the original's SelectStocking): the first
 * message queued starts its send loop, which waits out the interval
 * (`STOCKING_SELECT_SEND_INTERVAL` seconds, default 0.5), then sends
 * everything queued by then in one write.
 *
 * @since 0.2.0
 */
import "../internal/line.js"
import type * as Config from "effect/Config"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as internal from "../../internal/select.js"
import * as configInternal from "../internal/config.js"
import * as Backend from "./Backend.js"

/**
 * The environment variable holding the interval, in seconds.
 *
 * @since 0.2.0
 * @category constants
 */
export const INTERVAL_VARIABLE: string = internal.INTERVAL_VARIABLE

/**
 * The interval, read from `STOCKING_SELECT_SEND_INTERVAL` (seconds; default 0.5).
 *
 * @since 0.2.0
 * @category config
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Select } from "effect-stockings/effect4/node"
 *
 * const program = Effect.gen(function* () {
 *   const interval = yield* Select.intervalConfig
 *   yield* Effect.log(`select sends every ${interval}`)
 * })
 * ```
 */
export const intervalConfig: Config.Config<Duration.Duration> = configInternal.intervalConfig

/**
 * A select backend that sends every `interval`.
 *
 * @since 0.2.0
 * @category constructors
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Backend, Select, Stocking } from "effect-stockings/effect4/node"
 *
 * const program = Stocking.make({ port: 9000 }).pipe(Effect.provideService(Backend.Backend, Select.make("50 millis")))
 * ```
 */
export const make: (interval: Duration.Input) => Backend.Backend = internal.make

/**
 * Provides a select backend: with `interval` if given, else from `intervalConfig`.
 *
 * @since 0.2.0
 * @category layers
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Select, Stocking } from "effect-stockings/effect4/node"
 *
 * const program = Effect.scoped(Stocking.make({ port: 9000 })).pipe(
 *   Effect.provide(Select.layer({ interval: "50 millis" }))
 * )
 * ```
 */
export const layer = (options?: {
  readonly interval?: Duration.Input | undefined
}): Layer.Layer<Backend.Backend, Config.ConfigError> =>
  options?.interval !== undefined
    ? Layer.succeed(Backend.Backend, make(options.interval))
    : Layer.effect(Backend.Backend, Effect.map(intervalConfig, make))

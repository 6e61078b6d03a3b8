/**
 * Picks the best backend the platform can run, as the original exposes the
 * best flavour as `Stockings.Stocking`.
 *
 * The rule: the readiness-driven `Poll` backend needs the socket to signal
 * when its send buffer has room again (`drain`, with `writableNeedDrain`).
 * Node.js's `node:net` sockets do, and so do runtimes that implement it
 * faithfully; where that signal is missing, the interval-driven `Select`
 * backend is used, since it only needs to write.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as internal from "../internal/auto.js"
import * as Backend from "./Backend.js"
import * as Poll from "./Poll.js"
import * as Select from "./Select.js"

/**
 * True when sockets on this runtime give readiness notifications, so the
 * `Poll` backend can run.
 *
 * @since 0.1.0
 * @category capabilities
 * @example
 * ```ts
 * import { Auto } from "effect-stockings/node"
 *
 * // True on Node.js: its sockets signal `drain` and expose `writableNeedDrain`.
 * const readiness: boolean = Auto.supportsReadiness()
 * ```
 */
export const supportsReadiness: () => boolean = internal.supportsReadiness

/**
 * The name of the backend `layer` picks on this runtime.
 *
 * @since 0.1.0
 * @category capabilities
 * @example
 * ```ts
 * import { Console } from "effect"
 * import { Auto } from "effect-stockings/node"
 *
 * // Logs "backend: poll" on Node.js.
 * const program = Console.log(`backend: ${Auto.preferred()}`)
 * ```
 */
export const preferred = (): Backend.Name => (supportsReadiness() ? "poll" : "select")

/**
 * The best backend the platform can run: `Poll` where sockets give readiness
 * notifications, else `Select` with its interval from the environment (an
 * invalid `STOCKING_SELECT_SEND_INTERVAL` fails with a `ConfigError`).
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * ```ts
 * import { Console, Effect } from "effect"
 * import { Auto } from "effect-stockings/node"
 *
 * const program = Effect.gen(function* () {
 *   const backend = yield* Auto.make
 *   yield* Console.log(`sending with the ${backend.name} backend`)
 * })
 * ```
 */
export const make: Effect.Effect<Backend.Backend, ConfigError.ConfigError> = internal.make

/**
 * Provides the best backend the platform can run (see `make`).
 *
 * @since 0.1.0
 * @category layers
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Auto, Stocking } from "effect-stockings/node"
 *
 * // What a Stocking does without a backend in context, made explicit.
 * const program = Effect.scoped(Stocking.make({ host: "localhost", port: 4000 })).pipe(
 *   Effect.provide(Auto.layer)
 * )
 * ```
 */
export const layer: Layer.Layer<Backend.Backend, ConfigError.ConfigError> = Layer.effect(Backend.Backend, make)

/**
 * The environment variable that forces a backend: `poll`, `select` or `auto`.
 *
 * @since 0.1.0
 * @category constants
 */
export const BACKEND_VARIABLE = "STOCKING_BACKEND"

/**
 * Like `layer`, but `STOCKING_BACKEND` (`poll`, `select` or `auto`, the
 * default) may force a choice. Any other value fails with a `ConfigError`
 * naming the variable.
 *
 * @since 0.1.0
 * @category layers
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Auto, Stocking } from "effect-stockings/node"
 *
 * // `STOCKING_BACKEND=select node app.js` runs this Stocking on the select backend.
 * const program = Effect.scoped(Stocking.make({ host: "localhost", port: 4000 })).pipe(
 *   Effect.provide(Auto.layerConfig)
 * )
 * ```
 */
export const layerConfig: Layer.Layer<Backend.Backend, ConfigError.ConfigError> = Layer.unwrapEffect(
  Effect.map(
    Config.literal("poll", "select", "auto")(BACKEND_VARIABLE).pipe(Config.withDefault("auto" as const)),
    (name) => (name === "poll" ? Poll.layer : name === "select" ? Select.layer() : layer)
  )
)

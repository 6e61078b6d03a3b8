/**
 * Picks the best backend for each connection, as the original exposes the
 * best flavour as `Stockings.Stocking`.
 *
 * The rule, applied per connection when its Stocking is made: the
 * readiness-driven `Poll` backend needs the socket to signal when its send
 * buffer has room again (`drain`, with `writableNeedDrain`). `node:net` and
 * `node:tls` sockets do, on Node.js and on runtimes that implement them
 * faithfully, and so does any Node.js stream; a socket passed to
 * `Stocking.make({ socket })` that lacks the signal gets the
 * interval-driven `Select` backend, which only needs to write. A Stocking
 * made without a backend in context applies the same rule.
 *
 * @since 0.1.0
 */
import "../internal/line3.js"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { Duplex } from "node:stream"
import * as internal from "../internal/auto.js"
import * as configInternal from "../internal/config.js"
import * as configParse from "../internal/configParse.js"
import * as Backend from "./Backend.js"
import * as Poll from "./Poll.js"
import * as Select from "./Select.js"

/**
 * Whether a socket signals readiness, so that the `Poll` backend can run on
 * it: it exposes `writableNeedDrain` (and emits `drain` when its buffer
 * falls back), as `node:net` and `node:tls` sockets and Node.js streams do.
 * Without a socket: whether this runtime's `node:net` sockets do.
 *
 * @since 0.1.0
 * @category capabilities
 * @example
 * ```ts
 * import { Duplex } from "node:stream"
 * import { Auto } from "effect-stockings/node"
 *
 * // True on Node.js: its sockets signal `drain` and expose `writableNeedDrain`.
 * const readiness: boolean = Auto.supportsReadiness()
 *
 * // A stream that does not expose the signal.
 * declare const wrapped: Duplex
 * const onThisOne: boolean = Auto.supportsReadiness(wrapped)
 * ```
 */
export const supportsReadiness: (socket?: Duplex) => boolean = internal.supportsReadiness

/**
 * The name of the backend `Auto` picks for a socket: `"poll"` if it signals
 * readiness (see `supportsReadiness`), else `"select"`. Without a socket:
 * the one it picks for this runtime's `node:net` sockets.
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
export const preferred: (socket?: Duplex) => Backend.Name = internal.preferred

/**
 * The best backend for each connection, chosen from its socket when the
 * Stocking is made: `Poll` for a socket that signals readiness (every
 * `node:net` and `node:tls` socket), `Select` for one that does not (a
 * stream passed to `Stocking.make({ socket })` without `writableNeedDrain`),
 * with its interval from the environment. `stocking.backend` tells which
 * one a Stocking got; the backend's own `name` is `"poll"`. An invalid
 * `STOCKING_SELECT_SEND_INTERVAL` fails with a `ConfigError`.
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * ```ts
 * import { Console, Effect } from "effect"
 * import { Auto, Backend, Stocking } from "effect-stockings/node"
 *
 * const program = Effect.gen(function* () {
 *   const backend = yield* Auto.make
 *   const stocking = yield* Stocking.make({ host: "localhost", port: 4000 }).pipe(
 *     Effect.provideService(Backend.Backend, backend)
 *   )
 *   yield* Console.log(`sending with the ${stocking.backend} backend`)
 * })
 * ```
 */
export const make: Effect.Effect<Backend.Backend, ConfigError.ConfigError> = internal.make

/**
 * Provides the best backend for each connection (see `make`). An explicit
 * `Poll.layer` or `Select.layer` instead applies to every connection,
 * whatever its socket.
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
export const BACKEND_VARIABLE: string = configParse.BACKEND_VARIABLE

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
  Effect.map(configInternal.backendConfig, (name) =>
    name === "poll" ? Poll.layer : name === "select" ? Select.layer() : layer
  )
)

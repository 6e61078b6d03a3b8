/**
 * The best backend for each connection: `Poll` for a socket that signals
 * readiness (every `node:net` and `node:tls` socket, any Node.js stream),
 * `Select` for any other `Duplex` handed to `Stocking.make({ socket })`.
 * This is what a Stocking uses when no `Backend` is in context.
 *
 * @since 0.2.0
 */
import "../internal/line.js"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { Duplex } from "node:stream"
import * as core from "../../internal/autoCore.js"
import * as Poll from "../../internal/poll.js"
import * as Select from "../../internal/select.js"
import * as configInternal from "../internal/config.js"
import * as Backend from "./Backend.js"

/**
 * Whether `socket` (or, without one, a `node:net` socket) signals readiness.
 *
 * @since 0.2.0
 * @category predicates
 * @example
 * ```ts
 * import * as net from "node:net"
 * import { Auto } from "effect-stockings/effect4/node"
 *
 * Auto.supportsReadiness() // true on Node.js, Bun and Deno
 * Auto.supportsReadiness(new net.Socket()) // true
 * ```
 */
export const supportsReadiness: (socket?: Duplex) => boolean = core.supportsReadiness

/**
 * The backend Auto picks for `socket` (or for a `node:net` socket).
 *
 * @since 0.2.0
 * @category predicates
 * @example
 * ```ts
 * import { Auto } from "effect-stockings/effect4/node"
 *
 * Auto.preferred() // "poll"
 * ```
 */
export const preferred: (socket?: Duplex) => Backend.Name = core.preferred

/**
 * Auto's backend: poll's strategy, and select (its interval from
 * `STOCKING_SELECT_SEND_INTERVAL`) for the sockets that need it.
 *
 * @since 0.2.0
 * @category constructors
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Auto, Backend, Stocking } from "effect-stockings/effect4/node"
 *
 * const program = Effect.gen(function* () {
 *   const backend = yield* Auto.make
 *   return yield* Effect.scoped(Stocking.make({ port: 9000 })).pipe(Effect.provideService(Backend.Backend, backend))
 * })
 * ```
 */
export const make: Effect.Effect<Backend.Backend, Config.ConfigError> = Effect.map(
  configInternal.intervalConfig,
  (interval) => core.withSelect(Select.make(interval))
)

/**
 * Provides Auto's backend.
 *
 * @since 0.2.0
 * @category layers
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Auto, Stocking } from "effect-stockings/effect4/node"
 *
 * const program = Effect.scoped(Stocking.make({ port: 9000 })).pipe(Effect.provide(Auto.layer))
 * ```
 */
export const layer: Layer.Layer<Backend.Backend, Config.ConfigError> = Layer.effect(Backend.Backend, make)

/**
 * The environment variable naming a backend for `layerConfig`: `poll`, `select` or `auto`.
 *
 * @since 0.2.0
 * @category constants
 */
export const BACKEND_VARIABLE: string = configInternal.BACKEND_VARIABLE

/**
 * Provides the backend named by `STOCKING_BACKEND` (`poll`, `select` or
 * `auto`, the default).
 *
 * @since 0.2.0
 * @category layers
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Auto, Stocking } from "effect-stockings/effect4/node"
 *
 * // `STOCKING_BACKEND=select node app.js` runs this Stocking on the select backend.
 * const program = Effect.scoped(Stocking.make({ port: 9000 })).pipe(Effect.provide(Auto.layerConfig))
 * ```
 */
export const layerConfig: Layer.Layer<Backend.Backend, Config.ConfigError> = Layer.effect(
  Backend.Backend,
  Effect.flatMap(configInternal.backendConfig, (name): Effect.Effect<Backend.Backend, Config.ConfigError> =>
    name === "poll"
      ? Effect.succeed(Poll.backend)
      : name === "select"
        ? Effect.map(configInternal.intervalConfig, Select.make)
        : make
  )
)

/** @internal */
export const forSocket = (socket: Duplex): Effect.Effect<Backend.Backend> =>
  core.signalsReadiness(socket) ? POLL : SELECT

const POLL: Effect.Effect<Backend.Backend> = Effect.succeed(Poll.backend)
const SELECT: Effect.Effect<Backend.Backend> = Effect.orDie(Effect.map(configInternal.intervalConfig, Select.make))

/**
 * The best backend for each connection (see the `Auto` module for the
 * rule; the rule itself is `autoCore.ts`, shared by both lines), declared here so that a Stocking picks it by default without
 * importing a public module. The `Auto` module re-exports it, with its
 * documentation.
 *
 * @internal
 */
import type * as ConfigError from "effect/ConfigError"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { Duplex } from "node:stream"
import type * as Backend from "./backend.js"
import { signalsReadiness, withSelect } from "./autoCore.js"
import * as Poll from "./poll.js"
import * as Select from "./select.js"
import * as configInternal from "./config.js"

export { preferred, supportsReadiness } from "./autoCore.js"

/** `Auto.make`. @internal */
export const make: Effect.Effect<Backend.Backend, ConfigError.ConfigError> = Effect.map(
  configInternal.intervalConfig,
  (interval: Duration.Duration) => withSelect(Select.make(interval))
)

/**
 * The backend for `socket` when none is in context: `poll` if it signals
 * readiness, else `select` with its interval from the environment, read
 * only then. An invalid `STOCKING_SELECT_SEND_INTERVAL` is a deployment
 * defect here (provide `Auto.layer` or `Select.layer` to handle it as a
 * typed `ConfigError`).
 *
 * @internal
 */
export const forSocket = (socket: Duplex): Effect.Effect<Backend.Backend> => (signalsReadiness(socket) ? POLL : SELECT)

const POLL: Effect.Effect<Backend.Backend> = Effect.succeed(Poll.backend)
const SELECT: Effect.Effect<Backend.Backend> = Effect.orDie(Effect.map(configInternal.intervalConfig, Select.make))

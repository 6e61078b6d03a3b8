/**
 * The best backend the platform can run (see the `Auto` module for the
 * rule), declared here so that a Stocking picks it by default without
 * importing a public module. The `Auto` module re-exports it, with its
 * documentation.
 *
 * @internal
 */
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as net from "node:net"
import type * as Backend from "./backend.js"
import * as Poll from "./poll.js"
import * as Select from "./select.js"

/** `Auto.supportsReadiness`. @internal */
export const supportsReadiness = (): boolean =>
  typeof net.Socket === "function" &&
  typeof net.Socket.prototype.once === "function" &&
  "writableNeedDrain" in net.Socket.prototype

/** `Auto.make`. @internal */
export const make: Effect.Effect<Backend.Backend, ConfigError.ConfigError> = Effect.suspend(() =>
  supportsReadiness() ? Effect.succeed(Poll.backend) : Effect.map(Select.intervalConfig, Select.make)
)

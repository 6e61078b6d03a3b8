/**
 * The best backend for each connection (see the `Auto` module for the
 * rule), declared here so that a Stocking picks it by default without
 * importing a public module. The `Auto` module re-exports it, with its
 * documentation.
 *
 * @internal
 */
import type * as ConfigError from "effect/ConfigError"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as net from "node:net"
import type { Duplex } from "node:stream"
import type * as Backend from "./backend.js"
import * as Poll from "./poll.js"
import * as Select from "./select.js"
import * as SelectConfig from "./selectConfig.js"

/**
 * Whether `socket` signals readiness: it exposes `writableNeedDrain`, as
 * Node.js streams do (and emit `drain` when it falls back), so that a
 * backend can wait for its buffer to drain.
 */
const signalsReadiness = (socket: Duplex): boolean =>
  typeof (socket as { readonly writableNeedDrain?: unknown }).writableNeedDrain === "boolean" &&
  typeof socket.once === "function"

/** `Auto.supportsReadiness`. @internal */
export const supportsReadiness = (socket?: Duplex): boolean =>
  socket !== undefined
    ? signalsReadiness(socket)
    : typeof net.Socket === "function" &&
      typeof net.Socket.prototype.once === "function" &&
      "writableNeedDrain" in net.Socket.prototype

/** `Auto.preferred`. @internal */
export const preferred = (socket?: Duplex): Backend.Name => (supportsReadiness(socket) ? "poll" : "select")

/** Auto's backend with `select` for the sockets that need it: `poll`'s strategy, and its per-socket choice. */
const withSelect = (select: Backend.Backend): Backend.Backend => ({
  ...Poll.backend,
  forSocket: (socket) => (signalsReadiness(socket) ? Poll.backend : select)
})

/** `Auto.make`. @internal */
export const make: Effect.Effect<Backend.Backend, ConfigError.ConfigError> = Effect.map(
  SelectConfig.intervalConfig,
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
const SELECT: Effect.Effect<Backend.Backend> = Effect.orDie(Effect.map(SelectConfig.intervalConfig, Select.make))

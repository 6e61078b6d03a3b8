import * as Effect from "effect/Effect"
import * as net from "node:net"
import * as Poll from "./poll.js"
import * as Select from "./select.js"
/**
 * Whether `socket` signals readiness: it exposes `writableNeedDrain`, as
 * Node.js streams do (and emit `drain` when it falls back), so that a
 * backend can wait for its buffer to drain.
 */
const signalsReadiness = (socket) => typeof socket.writableNeedDrain === "boolean" && typeof socket.once === "function"
/** `Auto.supportsReadiness`. @internal */
export const supportsReadiness = (socket) =>
  socket !== undefined
    ? signalsReadiness(socket)
    : typeof net.Socket === "function" &&
      typeof net.Socket.prototype.once === "function" &&
      "writableNeedDrain" in net.Socket.prototype
/** `Auto.preferred`. @internal */
export const preferred = (socket) => (supportsReadiness(socket) ? "poll" : "select")
/** Auto's backend with `select` for the sockets that need it: `poll`'s strategy, and its per-socket choice. */
const withSelect = (select) => ({
  ...Poll.backend,
  forSocket: (socket) => (signalsReadiness(socket) ? Poll.backend : select)
})
/** `Auto.make`. @internal */
export const make = Effect.map(Select.intervalConfig, (interval) => withSelect(Select.make(interval)))
/**
 * The backend for `socket` when none is in context: `poll` if it signals
 * readiness, else `select` with its interval from the environment, read
 * only then. An invalid `STOCKING_SELECT_SEND_INTERVAL` is a deployment
 * defect here (provide `Auto.layer` or `Select.layer` to handle it as a
 * typed `ConfigError`).
 *
 * @internal
 */
export const forSocket = (socket) => (signalsReadiness(socket) ? POLL : SELECT)
const POLL = Effect.succeed(Poll.backend)
const SELECT = Effect.orDie(Effect.map(Select.intervalConfig, Select.make))

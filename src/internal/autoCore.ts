/**
 * Auto's rule, the same on both lines: a socket that signals readiness gets
 * the poll backend, any other the select backend.
 *
 * @internal
 */
import * as net from "node:net"
import type { Duplex } from "node:stream"
import type * as Backend from "./backend.js"
import * as Poll from "./poll.js"

/**
 * Whether `socket` signals readiness: it exposes `writableNeedDrain`, as
 * Node.js streams do (and emit `drain` when it falls back), so that a
 * backend can wait for its buffer to drain.
 *
 * @internal
 */
export const signalsReadiness = (socket: Duplex): boolean =>
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

/** @internal Auto's backend with `select` for the sockets that need it: `poll`'s strategy, and its per-socket choice. */
export const withSelect = (select: Backend.Backend): Backend.Backend => ({
  ...Poll.backend,
  forSocket: (socket) => (signalsReadiness(socket) ? Poll.backend : select)
})

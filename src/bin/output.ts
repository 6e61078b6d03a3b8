/**
 * What the `stocking` command prints: one line per event on stdout, as text
 * for people or as JSON objects (`--json`) for scripts, and one line per
 * error on stderr.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { Message } from "../Framing.js"
import type * as Server from "../Server.js"
import type * as Stocking from "../Stocking.js"
import type { BytesFormat } from "./args.js"

/**
 * Where events go.
 *
 * @since 0.1.0
 * @category models
 */
export interface Output {
  readonly listening: (address: Server.BoundAddress, tls: boolean) => Effect.Effect<void>
  readonly connected: (peer: string) => Effect.Effect<void>
  readonly message: (peer: string, message: Message) => Effect.Effect<void>
  readonly disconnected: (peer: string, closed: Stocking.Closed) => Effect.Effect<void>
  readonly sent: (peer: string, messages: number) => Effect.Effect<void>
}

/**
 * Writes one line to stdout.
 *
 * @since 0.1.0
 * @category output
 */
export const writeLine = (line: string): void => {
  process.stdout.write(`${line}\n`)
}

/**
 * Writes one `stocking: ...` line to stderr.
 *
 * @since 0.1.0
 * @category output
 */
export const writeError = (message: string): void => {
  process.stderr.write(`stocking: ${message}\n`)
}

const tcpLabel = (address: string, port: number): string =>
  address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`

/**
 * How a peer is named in output: `host:port` (`[v6]:port`), a socket path,
 * or `local#ID` for an anonymous Unix socket peer.
 *
 * @since 0.1.0
 * @category output
 */
export const peerLabel = (stocking: Pick<Stocking.Stocking<never, unknown, unknown>, "id" | "remoteAddress">): string =>
  Option.match(stocking.remoteAddress, {
    onNone: () => `local#${stocking.id}`,
    onSome: (address) => (address._tag === "Tcp" ? tcpLabel(address.address, address.port) : address.path)
  })

const causeText = (cause: unknown): string =>
  cause instanceof Error ? cause.message : typeof cause === "string" ? cause : JSON.stringify(cause)

/**
 * Why a connection closed, in words, without naming the peer: `closed by
 * the peer`, `the peer broke the wire format: ...`.
 *
 * @since 0.1.0
 * @category output
 */
export const closedReason = (closed: Stocking.Closed): string => {
  const cause = closed.cause === undefined ? "" : `: ${causeText(closed.cause)}`
  switch (closed.reason) {
    case "ClosedLocally":
      return "closed on this side"
    case "ClosedByPeer":
      return closed.cause === undefined ? "closed by the peer" : `closed by the peer in the middle of a message${cause}`
    case "SocketError":
      return `socket error${cause}`
    case "HandshakeFailed":
      return `handshake failed${cause}`
    case "ProtocolError":
      return `the peer broke the wire format${cause}`
    case "IdleTimeout":
      return `idle timeout${cause}`
  }
}

/**
 * A closed connection as an error line: `connection to PEER closed by the
 * peer`, `connection to PEER failed: socket error: ...`.
 *
 * @since 0.1.0
 * @category output
 */
export const describeClosed = (peer: string, closed: Stocking.Closed): string => {
  const reason = closedReason(closed)
  return reason.startsWith("closed") ? `connection to ${peer} ${reason}` : `connection to ${peer} failed: ${reason}`
}

/**
 * True when a Stocking closed the ordinary way: here, or by the peer
 * ending the stream between messages.
 *
 * @since 0.1.0
 * @category output
 */
export const isCleanClose = (closed: Stocking.Closed): boolean =>
  closed.reason === "ClosedLocally" || (closed.reason === "ClosedByPeer" && closed.cause === undefined)

const bytesText = (bytes: Uint8Array, format: BytesFormat): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(format)

/**
 * Makes the output for one command. `events`: whether text mode prints
 * `connected` / `disconnected` lines (JSON mode always does).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: {
  readonly json: boolean
  readonly bytesAs: BytesFormat
  readonly events: boolean
}): Output => {
  const { bytesAs, events, json } = options
  const emit = (value: object) => Effect.sync(() => writeLine(JSON.stringify(value)))
  const text = (line: string) => Effect.sync(() => writeLine(line))
  return {
    listening: (address, tls) =>
      json
        ? emit(
            address._tag === "Tcp"
              ? { event: "listening", host: address.address, port: address.port, tls }
              : { event: "listening", path: address.path, tls }
          )
        : text(
            `listening on ${address._tag === "Tcp" ? tcpLabel(address.address, address.port) : address.path}${
              tls ? " (TLS)" : ""
            }`
          ),
    connected: (peer) => (json ? emit({ event: "connected", peer }) : events ? text(`${peer} connected`) : Effect.void),
    message: (peer, message) =>
      typeof message === "string"
        ? json
          ? emit({ event: "message", peer, kind: "text", text: message })
          : text(`${peer} text: ${message}`)
        : json
          ? emit({ event: "message", peer, kind: "bytes", [bytesAs]: bytesText(message, bytesAs) })
          : text(`${peer} bytes: ${bytesText(message, bytesAs)}`),
    disconnected: (peer, closed) =>
      json
        ? emit(
            isCleanClose(closed)
              ? { event: "disconnected", peer, reason: closed.reason }
              : { event: "disconnected", peer, reason: closed.reason, error: closedReason(closed) }
          )
        : events
          ? text(isCleanClose(closed) ? `${peer} disconnected` : `${peer} disconnected: ${closedReason(closed)}`)
          : Effect.void,
    sent: (peer, messages) => (json ? emit({ event: "sent", peer, messages }) : Effect.void)
  }
}

/**
 * What the `stocking` command prints: one line per event on stdout, as text
 * for people or as JSON objects (`--json`) for scripts, and one line per
 * error on stderr.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as fx from "../internal/fx.js"
import type { Address } from "../internal/model.js"
import type { Closed } from "../internal/stockingError.js"
import type { Message } from "../internal/wire.js"
import type { BytesFormat } from "./args.js"
import * as Status from "./status.js"

/**
 * Where events go.
 *
 * @since 0.1.0
 * @category models
 */
export interface Output {
  readonly listening: (address: Address, tls: boolean) => Effect.Effect<void>
  readonly connected: (peer: string) => Effect.Effect<void>
  readonly message: (peer: string, message: Message) => Effect.Effect<void>
  readonly disconnected: (peer: string, closed: Closed) => Effect.Effect<void>
  readonly sent: (peer: string, messages: number) => Effect.Effect<void>
}

/**
 * Writes one line to stdout at once, whatever stdout holds already (for the
 * last words of the program; events go through `printLine`).
 *
 * @since 0.1.0
 * @category output
 */
export const writeLine = (line: string): void => {
  Status.clearForOutput()
  process.stdout.write(`${line}\n`)
}

// Fibers waiting for stdout to drain: one 'drain' listener for all of them.
let drainWaiters: Array<() => void> = []
let drainListening = false
const releaseDrainWaiters = (): void => {
  const waiters = drainWaiters
  drainWaiters = []
  for (const wake of waiters) wake()
}

/**
 * Completes once stdout has room (at once unless it is past its high-water
 * mark): a slow reader of stdout slows the program down rather than make
 * it buffer without bound.
 *
 * @since 0.1.0
 * @category output
 */
export const stdoutReady: Effect.Effect<void> = fx.async<void>((resume) => {
  const stdout = process.stdout
  if (!stdout.writableNeedDrain || stdout.destroyed) return resume(Effect.void)
  if (!drainListening) {
    drainListening = true
    stdout.on("drain", releaseDrainWaiters)
    stdout.on("close", releaseDrainWaiters)
  }
  const wake = () => resume(Effect.void)
  drainWaiters.push(wake)
  return Effect.sync(() => {
    drainWaiters = drainWaiters.filter((waiter) => waiter !== wake)
  })
})

/**
 * Writes one line to stdout once stdout has room (see `stdoutReady`).
 *
 * @since 0.1.0
 * @category output
 */
export const printLine = (line: string): Effect.Effect<void> =>
  Effect.suspend(() => {
    // The usual case, stdout keeping up: one write, no waiting.
    if (!process.stdout.writableNeedDrain) {
      writeLine(line)
      return Effect.void
    }
    return Effect.andThen(
      stdoutReady,
      Effect.sync(() => writeLine(line))
    )
  })

const escapes: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" }

/**
 * The characters no output of the CLI carries raw, readable or JSON (the
 * table in docs/CLI.md): C0 controls, DEL and C1 controls (a
 * terminal acts on them: escape sequences, CSI U+009B, NEL U+0085), the
 * bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E,
 * U+2066-U+2069: they reorder what follows on the line), the line and
 * paragraph separators U+2028 and U+2029, and lone surrogates (no character
 * at all: a terminal would show U+FFFD and lose what the peer sent).
 */
const ESCAPED_CLASSES =
  "[\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]" +
  "|[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]"

/** What the readable output escapes: the classes, and the backslash that starts an escape. */
const READABLE_ESCAPED = new RegExp(`\\\\|${ESCAPED_CLASSES}`, "g")

/** What `JSON.stringify` leaves raw among the classes (it escapes C0, lone surrogates, `"` and `\\` itself). */
const JSON_ESCAPED = new RegExp(ESCAPED_CLASSES, "g")

const hex4 = (char: string): string => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`

/**
 * Makes peer text safe to print on one line of a terminal, and reversible:
 * backslash, line breaks and tabs become `\\`, `\n`, `\r`, `\t`; the other
 * characters of the escaped classes (C0, DEL, C1, bidirectional controls,
 * line and paragraph separators, lone surrogates) become `\xHH` (up to
 * U+00FF) or `\uHHHH`. Anything else is printed as it is.
 *
 * @since 0.1.0
 * @category output
 */
export const escapeText = (text: string): string =>
  text.replace(READABLE_ESCAPED, (char) => {
    const known = escapes[char]
    if (known !== undefined) return known
    const code = char.charCodeAt(0)
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : hex4(char)
  })

/**
 * `JSON.stringify`, with every character of the escaped classes written as
 * `\uHHHH`: still JSON that parses back to the same value, but nothing a
 * terminal acts on (JSON itself lets DEL, C1, the bidirectional controls
 * and U+2028 / U+2029 through raw).
 *
 * @since 0.1.0
 * @category output
 */
export const jsonLine = (value: object): string => JSON.stringify(value).replace(JSON_ESCAPED, hex4)

/**
 * Writes one `stocking: ...` line to stderr.
 *
 * @since 0.1.0
 * @category output
 */
export const writeError = (message: string): void => {
  // One line, whatever an OS or OpenSSL message ends with or holds.
  process.stderr.write(`stocking: ${message.trim().replace(JSON_ESCAPED, escapeText)}\n`)
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
export const peerLabel = (stocking: { readonly id: number; readonly remoteAddress: Option.Option<Address> }): string =>
  Option.match(stocking.remoteAddress, {
    onNone: () => `local#${stocking.id}`,
    onSome: (address) => (address._tag === "Tcp" ? tcpLabel(address.address, address.port) : address.path)
  })

/** An error's message as one line: escaped, and without the line break OpenSSL ends its messages with. */
const causeText = (cause: unknown): string =>
  escapeText(
    (cause instanceof Error ? cause.message : typeof cause === "string" ? cause : JSON.stringify(cause)).trim()
  )

const codeOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined

/**
 * A socket error in words: a reset or a TLS alert from the peer says so;
 * anything else is `socket error: MESSAGE`.
 *
 * @since 0.1.0
 * @category output
 */
export const describeSocketError = (error: unknown): string => {
  const code = codeOf(error)
  if (code === "ECONNRESET") return `the peer reset the connection (${causeText(error)})`
  if (code === "EPIPE") return `the peer closed the connection while messages were being sent (${causeText(error)})`
  if (code !== undefined && /^ERR_SSL_|^ERR_TLS_|^ERR_STOCKING_TLS_/.test(code)) {
    const reason =
      typeof error === "object" && error !== null && "reason" in error && typeof error.reason === "string"
        ? error.reason
        : causeText(error)
    return `TLS error: ${escapeText(reason)} (${code})`
  }
  return `socket error: ${causeText(error)}`
}

/**
 * Why a connection closed, in words, without naming the peer: `closed by
 * the peer`, `the peer broke the wire format: ...`.
 *
 * @since 0.1.0
 * @category output
 */
export const closedReason = (closed: Closed): string => {
  const cause = closed.cause === undefined ? "" : `: ${causeText(closed.cause)}`
  switch (closed.reason) {
    case "ClosedLocally":
      return "closed on this side"
    case "ClosedByPeer":
      return closed.cause === undefined ? "closed by the peer" : `closed by the peer in the middle of a message${cause}`
    case "SocketError":
      return closed.cause === undefined ? "socket error" : describeSocketError(closed.cause)
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
export const describeClosed = (peer: string, closed: Closed): string => {
  const reason = closedReason(closed)
  return reason.startsWith("closed") ? `connection to ${peer} ${reason}` : `connection to ${peer} failed: ${reason}`
}

/**
 * `N messages may not have been delivered`: what a sender can say about
 * its messages once the connection failed (the wire format has no
 * acknowledgements, so a message handed to the OS is not known to have
 * reached the peer's reader).
 *
 * @since 0.1.0
 * @category output
 */
export const undeliveredText = (messages: number): string =>
  `${messages.toLocaleString("en-US")} ${messages === 1 ? "message" : "messages"} may not have been delivered`

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
  const emit = (value: object) => printLine(jsonLine(value))
  const text = printLine
  return {
    listening: (address, tls) =>
      json
        ? emit(
            address._tag === "Tcp"
              ? { event: "listening", host: address.address, port: address.port, tls }
              : { event: "listening", path: address.path, tls }
          )
        : text(
            `listening on ${address._tag === "Tcp" ? tcpLabel(address.address, address.port) : escapeText(address.path)}${
              tls ? " (TLS)" : ""
            }`
          ),
    connected: (peer) =>
      json ? emit({ event: "connected", peer }) : events ? text(`${escapeText(peer)} connected`) : Effect.void,
    message: (peer, message) =>
      typeof message === "string"
        ? json
          ? emit({ event: "message", peer, kind: "text", text: message })
          : text(`${escapeText(peer)} text: ${escapeText(message)}`)
        : json
          ? emit({ event: "message", peer, kind: "bytes", [bytesAs]: bytesText(message, bytesAs) })
          : text(`${escapeText(peer)} bytes: ${bytesText(message, bytesAs)}`),
    disconnected: (peer, closed) =>
      json
        ? emit(
            closed.isClean
              ? { event: "disconnected", peer, reason: closed.reason }
              : { event: "disconnected", peer, reason: closed.reason, error: closedReason(closed) }
          )
        : events
          ? text(
              closed.isClean
                ? `${escapeText(peer)} disconnected`
                : `${escapeText(peer)} disconnected: ${closedReason(closed)}`
            )
          : Effect.void,
    sent: (peer, messages) => (json ? emit({ event: "sent", peer, messages }) : Effect.void)
  }
}

/**
 * What the `stocking` commands share: their errors, the backend and TLS
 * settings made from the arguments, and connecting and closing with a line
 * on the status display.
 *
 * @since 0.1.0
 */
import type * as ConfigError from "effect/ConfigError"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as fs from "node:fs"
import * as Auto from "../Backend/Auto.js"
import type * as Backend from "../Backend/Backend.js"
import * as Poll from "../Backend/Poll.js"
import * as Select from "../Backend/Select.js"
import * as Framing from "../Framing.js"
import type { Message } from "../Framing.js"
import type * as Server from "../Server.js"
import * as Stocking from "../Stocking.js"
import type * as Args from "./args.js"
import * as Output from "./output.js"
import * as Status from "./status.js"

/**
 * A failure of the command that is not the library's own error: an
 * unreadable file, a bad input line.
 *
 * @since 0.1.0
 * @category errors
 */
export class CliError extends Data.TaggedError("CliError")<{ readonly reason: string }> {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return this.reason
  }
}

/**
 * A connection that ended badly, with the peer's name for the message: why
 * it closed, or the socket error that came while it was closing, and how
 * many messages written on it may not have been delivered.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConnectionError extends Data.TaggedError("ConnectionError")<{
  readonly peer: string
  readonly closed: Stocking.Closed
  /** An error the socket reported once the Stocking was already closing (it keeps its first reason). */
  readonly socketError?: unknown
  /** Messages written on the connection that cannot be known to have been delivered. */
  readonly undelivered?: number | undefined
}> {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    const why =
      this.socketError !== undefined && this.closed.isClean
        ? `connection to ${this.peer} failed: ${Output.describeSocketError(this.socketError)}`
        : Output.describeClosed(this.peer, this.closed)
    return this.undelivered === undefined || this.undelivered === 0
      ? why
      : `${why}; ${Output.undeliveredText(this.undelivered)}`
  }
}

/**
 * Every way a command can fail.
 *
 * @since 0.1.0
 * @category errors
 */
export type CommandError =
  CliError | ConnectionError | Stocking.ConnectError | Server.ServerError | ConfigError.ConfigError

/**
 * How long a graceful close may take (flush, end, wait for the peer's end).
 *
 * @since 0.1.0
 * @category constants
 */
export const CLOSE_TIMEOUT = Duration.seconds(5)

/**
 * The `Backend` layer for `--backend`; without it, `Auto.layerConfig`
 * (which honours `STOCKING_BACKEND`).
 *
 * @since 0.1.0
 * @category layers
 */
export const backendLayer = (choice: Args.BackendChoice): Layer.Layer<Backend.Backend, ConfigError.ConfigError> =>
  choice === "poll"
    ? Poll.layer
    : choice === "select"
      ? Select.layer()
      : choice === "auto"
        ? Auto.layer
        : Auto.layerConfig

const readFile = (option: string, file: string): Effect.Effect<Buffer, CliError> =>
  Effect.try({
    try: () => fs.readFileSync(file),
    catch: (cause) =>
      new CliError({
        reason: `cannot read ${option} ${file}: ${cause instanceof Error ? cause.message : String(cause)}`
      })
  })

const readOptional = (option: string, file: string | undefined): Effect.Effect<Buffer | undefined, CliError> =>
  file === undefined ? Effect.succeed(undefined) : readFile(option, file)

export const clientTls = (
  files: Args.TlsFiles | undefined
): Effect.Effect<Stocking.TlsOptions | undefined, CliError> =>
  files === undefined
    ? Effect.succeed(undefined)
    : Effect.gen(function* () {
        const ca = yield* readOptional("--ca", files.ca)
        const cert = yield* readOptional("--cert", files.cert)
        const key = yield* readOptional("--key", files.key)
        return {
          ...(ca === undefined ? {} : { ca }),
          ...(cert === undefined ? {} : { cert }),
          ...(key === undefined ? {} : { key }),
          ...(files.servername === undefined ? {} : { servername: files.servername })
        }
      })

export const serverTls = (files: Args.TlsFiles | undefined): Effect.Effect<Server.TlsOptions | undefined, CliError> =>
  files === undefined
    ? Effect.succeed(undefined)
    : Effect.gen(function* () {
        const cert = yield* readFile("--cert", files.cert ?? "")
        const key = yield* readFile("--key", files.key ?? "")
        const ca = yield* readOptional("--ca", files.ca)
        return ca === undefined ? { cert, key } : { cert, key, ca, requestCert: true, rejectUnauthorized: true }
      })

export const limits = (common: Args.Common) => ({
  closeTimeout: CLOSE_TIMEOUT,
  ...(common.maxMessageSize === undefined ? {} : { maxMessageSize: common.maxMessageSize })
})

/**
 * Waits until everything written has been handed to the OS, or the Stocking
 * has closed and dropped it (the close is reported elsewhere).
 */
export const awaitFlushed = (stocking: Stocking.Stocking): Effect.Effect<void> => Effect.ignore(stocking.sent)

/**
 * Records the first error the Stocking's socket reports, and returns it on
 * demand. A Stocking reports the first reason it closed for, so an error
 * that arrives once it is closing is not in `closed`: a reset from a peer
 * that refused a message, or a TLS alert from a server that rejected the
 * client's certificate, while our end of stream is on its way. A sender
 * must not take that for a clean close.
 */
export const watchSocketErrors = (stocking: Stocking.Stocking): (() => unknown) => {
  let first: unknown = undefined
  stocking.socket.on("error", (error: unknown) => {
    if (first === undefined) first = error
  })
  return () => first
}

/**
 * After a sender's graceful close: fails, saying how many messages may not
 * have been delivered, unless the connection closed cleanly, no socket error
 * came while it closed, and nothing written was dropped.
 */
export const checkDelivered = (
  stocking: Stocking.Stocking,
  peer: string,
  socketError: () => unknown,
  written: number
): Effect.Effect<Stocking.Closed, ConnectionError> =>
  Effect.gen(function* () {
    const closed = yield* stocking.closed
    // After the close, `sent` fails if anything written was dropped before it reached the OS.
    const allSent = yield* Effect.isSuccess(stocking.sent)
    const error = socketError()
    if (closed.isClean && error === undefined && allSent) return closed
    return yield* Effect.fail(new ConnectionError({ peer, closed, socketError: error, undelivered: written }))
  })

/**
 * Fails unless `message` fits in the largest message allowed (`--max-message-size`,
 * or the default): a peer with the same limit would refuse it and drop the connection.
 */
export const checkSize = (
  message: Message,
  maxMessageSize: number | undefined,
  what: string,
  consequence: string
): Effect.Effect<void, CliError> => {
  const max = maxMessageSize ?? Framing.DEFAULT_MAX_MESSAGE_SIZE
  const size = typeof message === "string" ? Buffer.byteLength(message) : message.length
  if (size <= max) return Effect.void
  const limit = `--max-message-size ${max}${maxMessageSize === undefined ? " (the default)" : ""}`
  return Effect.fail(new CliError({ reason: `${what} is ${size} bytes, more than ${limit}: ${consequence}` }))
}

export const describeTarget = (target: Args.Target): string =>
  "path" in target
    ? target.path
    : target.host.includes(":")
      ? `[${target.host}]:${target.port}`
      : `${target.host}:${target.port}`

/** Connects within `--connect-timeout`, with a status line while it waits. */
export const connectTo = (
  command: Args.Common & Args.Client
): Effect.Effect<Stocking.Stocking, CommandError, Scope.Scope> =>
  Effect.gen(function* () {
    yield* Status.start(command.status)
    const tls = yield* clientTls(command.tls)
    const connecting = Stocking.make({
      ...command.target,
      ...limits(command),
      ...(tls === undefined ? {} : { tls }),
      ...(command.connectTimeout > 0 ? { connectTimeout: Duration.seconds(command.connectTimeout) } : {})
    })
    return yield* Status.during(
      `connecting to ${describeTarget(command.target)}${tls === undefined ? "" : " (TLS)"}...`,
      connecting
    )
  })

/** Closes gracefully, saying so on the status line while the peer takes its time. */
export const closeWithStatus = (stocking: Stocking.Stocking): Effect.Effect<void> =>
  Status.during(`closing: waiting for the peer to close (at most ${Duration.format(CLOSE_TIMEOUT)})...`, stocking.close)

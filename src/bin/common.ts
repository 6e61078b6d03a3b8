/**
 * What the `stocking` commands share: the line they run on (its Stocking,
 * Server and backends, seen through `Line`), their errors, the TLS settings
 * made from the arguments, and connecting and closing with a line on the
 * status display.
 *
 * Like everything in `src/bin/` but the two entries (`stocking.ts` here,
 * `src/effect4/bin/stocking.ts`), it is one copy for both Effect lines: it
 * uses only what Effect 3 and Effect 4 name alike, and the rest through
 * the seam (`src/internal/fx.ts`).
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as fs from "node:fs"
import type { Duplex } from "node:stream"
import type { ConnectionOptions, TlsOptions as ServerTlsOptions } from "node:tls"
import { DEFAULT_MAX_MESSAGE_SIZE } from "../internal/framing.js"
import * as fx from "../internal/fx.js"
import type { Address } from "../internal/model.js"
import type { Closed, ConnectError, NotReady } from "../internal/stockingError.js"
import type { Message } from "../internal/wire.js"
import type * as Args from "./args.js"
import * as Output from "./output.js"
import * as Status from "./status.js"

// ---------------------------------------------------------------------------
// The line
// ---------------------------------------------------------------------------

/**
 * What the commands use of a Stocking; each line's `Stocking` is one.
 *
 * @since 0.2.0
 * @category models
 */
export interface Connection {
  readonly id: number
  readonly remoteAddress: Option.Option<Address>
  readonly socket: Duplex
  readonly forEach: <X, R>(
    f: (message: Message) => Effect.Effect<void, X, R>
  ) => Effect.Effect<void, NotReady | Closed | X, R>
  readonly write: (message: Message) => Effect.Effect<void, NotReady | Closed>
  readonly writeAll: (messages: Iterable<Message>) => Effect.Effect<void, NotReady | Closed>
  readonly sent: Effect.Effect<void, Closed>
  readonly close: Effect.Effect<void>
  readonly closed: Effect.Effect<Closed>
}

/**
 * What the commands use of a Server; each line's `Server` is one.
 *
 * @since 0.2.0
 * @category models
 */
export interface Listener {
  readonly address: Address
  readonly serve: <X, R>(
    handler: (connection: Connection) => Effect.Effect<void, X, R>
  ) => Effect.Effect<never, never, R>
}

/**
 * A server that could not listen (each line's `Server.ServerError`).
 *
 * @since 0.2.0
 * @category errors
 */
export interface ListenError {
  readonly _tag: "ServerError"
  readonly reason: string
  readonly message: string
}

/**
 * The limits both commands set.
 *
 * @since 0.2.0
 * @category models
 */
export interface Limits {
  readonly closeTimeout: Duration.Duration
  readonly maxMessageSize?: number
}

/**
 * What `connect` and `send` pass to the line's `Stocking.make`.
 *
 * @since 0.2.0
 * @category models
 */
export type ConnectOptions = Args.Target &
  Limits & {
    readonly tls?: Omit<ConnectionOptions, "host" | "port" | "path" | "socket">
    readonly connectTimeout?: Duration.Duration
  }

/**
 * What `serve` passes to the line's `Server.make`.
 *
 * @since 0.2.0
 * @category models
 */
export type ListenOptions = Args.Listen & Limits & { readonly tls?: ServerTlsOptions }

/**
 * One Effect line, as the commands see it: its `Stocking.make`, its
 * `Server.make`, the `Backend`
 * layer for `--backend` (`R`: the line's Backend service; `EC`: its
 * `ConfigError`), how a `ConfigError` reads, and a logger to stderr.
 *
 * @since 0.2.0
 * @category models
 */
export interface Line<R, EC extends { readonly _tag: "ConfigError" }> {
  readonly connect: (options: ConnectOptions) => Effect.Effect<Connection, ConnectError, Scope.Scope | R>
  readonly listen: (options: ListenOptions) => Effect.Effect<Listener, ListenError, Scope.Scope | R>
  /** The `Backend` layer for `--backend`; without it, the one `STOCKING_BACKEND` names. */
  readonly backend: (choice: Args.BackendChoice) => Layer.Layer<R, EC>
  /** A `ConfigError` in one line of words. */
  readonly describeConfigError: (error: EC) => string
  /** The logger the commands run with: the library's warnings go to stderr, so stdout stays clean for --json. */
  readonly logger: Layer.Layer<never>
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

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
  readonly closed: Closed
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
 * Every way a command can fail (`EC`: the line's `ConfigError`).
 *
 * @since 0.1.0
 * @category errors
 */
export type CommandError<EC = never> = CliError | ConnectionError | ConnectError | ListenError | EC

// ---------------------------------------------------------------------------
// Settings from the arguments
// ---------------------------------------------------------------------------

/**
 * Seconds a graceful close may take (flush, end, wait for the peer's end).
 *
 * @since 0.2.0
 * @category constants
 */
export const CLOSE_TIMEOUT_SECONDS = 5

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

/**
 * A client's TLS options from `--ca`, `--cert`, `--key`, `--servername`.
 *
 * @since 0.1.0
 * @category settings
 */
export const clientTls = (files: Args.TlsFiles | undefined): Effect.Effect<ConnectOptions["tls"], CliError> =>
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

/**
 * A server's TLS options from `--cert`, `--key` and `--ca` (which requires
 * client certificates).
 *
 * @since 0.1.0
 * @category settings
 */
export const serverTls = (files: Args.TlsFiles | undefined): Effect.Effect<ListenOptions["tls"], CliError> =>
  files === undefined
    ? Effect.succeed(undefined)
    : Effect.gen(function* () {
        const cert = yield* readFile("--cert", files.cert ?? "")
        const key = yield* readFile("--key", files.key ?? "")
        const ca = yield* readOptional("--ca", files.ca)
        return ca === undefined ? { cert, key } : { cert, key, ca, requestCert: true, rejectUnauthorized: true }
      })

/**
 * The close timeout, and `--max-message-size` when given.
 *
 * @since 0.1.0
 * @category settings
 */
export const limits = (common: Args.Common): Limits => ({
  closeTimeout: Duration.seconds(CLOSE_TIMEOUT_SECONDS),
  ...(common.maxMessageSize === undefined ? {} : { maxMessageSize: common.maxMessageSize })
})

// ---------------------------------------------------------------------------
// Sending and closing
// ---------------------------------------------------------------------------

/**
 * Waits until everything written has been handed to the OS, or the Stocking
 * has closed and dropped it (the close is reported elsewhere).
 *
 * @since 0.1.0
 * @category sending
 */
export const awaitFlushed = (connection: Connection): Effect.Effect<void> => Effect.ignore(connection.sent)

/**
 * Records the first error the Stocking's socket reports, and returns it on
 * demand. A Stocking reports the first reason it closed for, so an error
 * that arrives once it is closing is not in `closed`: a reset from a peer
 * that refused a message, or a TLS alert from a server that rejected the
 * client's certificate, while our end of stream is on its way. A sender
 * must not take that for a clean close.
 *
 * @since 0.1.0
 * @category sending
 */
export const watchSocketErrors = (connection: Connection): (() => unknown) => {
  let first: unknown = undefined
  connection.socket.on("error", (error: unknown) => {
    if (first === undefined) first = error
  })
  // The error the socket was destroyed with is known before its `error` event: a close that completes on that
  // error may resume the command while the event is still on its way to the listener above (Effect 4 does).
  return () => first ?? connection.socket.errored ?? undefined
}

/** How long, at most, a sender waits after its close for the socket to have closed. */
const SOCKET_CLOSE_WAIT_MS = 1000

/**
 * Completes once the socket has closed and told its listeners so (its
 * `error` event, if any, comes before `close`), or after
 * `SOCKET_CLOSE_WAIT_MS`.
 */
const socketSettled = (socket: Duplex): Effect.Effect<void> =>
  Effect.raceFirst(
    fx.async<void>((resume) => {
      const done = () => resume(Effect.void)
      // Closed: its `error` and `close` events may still be queued (`process.nextTick`), and run before this.
      if (socket.closed) {
        const timer = setImmediate(done)
        return Effect.sync(() => clearImmediate(timer))
      }
      socket.once("close", done)
      return Effect.sync(() => socket.off("close", done))
    }),
    Effect.sleep(SOCKET_CLOSE_WAIT_MS)
  )

/**
 * After a sender's graceful close: fails, saying how many messages may not
 * have been delivered, unless the connection closed cleanly, no socket error
 * came while it closed, and nothing written was dropped. It first lets the
 * socket settle: a Stocking's `close` may complete on the peer's end before
 * the socket has reported the TLS alert or the reset that came with it
 * (Effect 4 resumes the closing fiber at once).
 *
 * @since 0.1.0
 * @category sending
 */
export const checkDelivered = (
  connection: Connection,
  peer: string,
  socketError: () => unknown,
  written: number
): Effect.Effect<Closed, ConnectionError> =>
  Effect.gen(function* () {
    const closed = yield* connection.closed
    yield* socketSettled(connection.socket)
    // After the close, `sent` fails if anything written was dropped before it reached the OS.
    const allSent = yield* Effect.isSuccess(connection.sent)
    const error = socketError()
    if (closed.isClean && error === undefined && allSent) return closed
    return yield* Effect.fail(new ConnectionError({ peer, closed, socketError: error, undelivered: written }))
  })

/**
 * Fails unless `message` fits in the largest message allowed (`--max-message-size`,
 * or the default): a peer with the same limit would refuse it and drop the connection.
 *
 * @since 0.1.0
 * @category sending
 */
export const checkSize = (
  message: Message,
  maxMessageSize: number | undefined,
  what: string,
  consequence: string
): Effect.Effect<void, CliError> => {
  const max = maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE
  const size = typeof message === "string" ? Buffer.byteLength(message) : message.length
  if (size <= max) return Effect.void
  const limit = `--max-message-size ${max}${maxMessageSize === undefined ? " (the default)" : ""}`
  return Effect.fail(new CliError({ reason: `${what} is ${size} bytes, more than ${limit}: ${consequence}` }))
}

/**
 * A client's target as it is printed: `host:port` (`[v6]:port`) or the path.
 *
 * @since 0.1.0
 * @category output
 */
export const describeTarget = (target: Args.Target): string =>
  "path" in target
    ? target.path
    : target.host.includes(":")
      ? `[${target.host}]:${target.port}`
      : `${target.host}:${target.port}`

/**
 * Connects within `--connect-timeout`, with a status line while it waits.
 *
 * @since 0.1.0
 * @category connecting
 */
export const connectTo = <R>(
  connect: (options: ConnectOptions) => Effect.Effect<Connection, ConnectError, Scope.Scope | R>,
  command: Args.Common & Args.Client
): Effect.Effect<Connection, CliError | ConnectError, Scope.Scope | R> =>
  Effect.gen(function* () {
    yield* Status.start(command.status)
    const tls = yield* clientTls(command.tls)
    const connecting = connect({
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

/**
 * Closes gracefully, saying so on the status line while the peer takes its time.
 *
 * @since 0.1.0
 * @category connecting
 */
export const closeWithStatus = (connection: Connection): Effect.Effect<void> =>
  Status.during(`closing: waiting for the peer to close (at most ${CLOSE_TIMEOUT_SECONDS}s)...`, connection.close)

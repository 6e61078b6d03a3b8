/**
 * The `stocking` commands as Effects: `serve`, `connect` and `send`. Each
 * runs in a scope that owns its sockets, so interrupting it (SIGINT) closes
 * everything gracefully.
 *
 * @since 0.1.0
 */
import type * as ConfigError from "effect/ConfigError"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import * as readline from "node:readline"
import * as Auto from "../Backend/Auto.js"
import type * as Backend from "../Backend/Backend.js"
import * as Poll from "../Backend/Poll.js"
import * as Select from "../Backend/Select.js"
import type { Message } from "../Framing.js"
import * as Server from "../Server.js"
import * as Stocking from "../Stocking.js"
import type * as Args from "./args.js"
import { parseHex } from "./args.js"
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
 * A connection that ended badly, with the peer's name for the message.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConnectionError extends Data.TaggedError("ConnectionError")<{
  readonly peer: string
  readonly closed: Stocking.Closed
}> {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return Output.describeClosed(this.peer, this.closed)
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

const clientTls = (files: Args.TlsFiles | undefined): Effect.Effect<Stocking.TlsOptions | undefined, CliError> =>
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

const serverTls = (files: Args.TlsFiles | undefined): Effect.Effect<Server.TlsOptions | undefined, CliError> =>
  files === undefined
    ? Effect.succeed(undefined)
    : Effect.gen(function* () {
        const cert = yield* readFile("--cert", files.cert ?? "")
        const key = yield* readFile("--key", files.key ?? "")
        const ca = yield* readOptional("--ca", files.ca)
        return ca === undefined ? { cert, key } : { cert, key, ca, requestCert: true, rejectUnauthorized: true }
      })

const limits = (common: Args.Common) => ({
  closeTimeout: CLOSE_TIMEOUT,
  ...(common.maxMessageSize === undefined ? {} : { maxMessageSize: common.maxMessageSize })
})

/**
 * Waits until everything written has been handed to the OS, or the Stocking
 * has closed and dropped it (the close is reported elsewhere).
 */
const awaitFlushed = (stocking: Stocking.Stocking): Effect.Effect<void> => Effect.ignore(stocking.sent)

/** Fails with the reason the Stocking closed, unless it closed cleanly. */
const checkClosed = (stocking: Stocking.Stocking, peer: string): Effect.Effect<Stocking.Closed, ConnectionError> =>
  Effect.flatMap(stocking.closed, (closed) =>
    Output.isCleanClose(closed) ? Effect.succeed(closed) : Effect.fail(new ConnectionError({ peer, closed }))
  )

const describeTarget = (target: Args.Target): string =>
  "path" in target
    ? target.path
    : target.host.includes(":")
      ? `[${target.host}]:${target.port}`
      : `${target.host}:${target.port}`

/** Connects within `--connect-timeout`, with a status line while it waits. */
const connectTo = (command: Args.Common & Args.Client): Effect.Effect<Stocking.Stocking, CommandError, Scope.Scope> =>
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
const closeWithStatus = (stocking: Stocking.Stocking): Effect.Effect<void> =>
  Status.during(`closing: waiting for the peer to close (at most ${Duration.format(CLOSE_TIMEOUT)})...`, stocking.close)

const formatBytes = (bytes: number): string =>
  bytes < 1024
    ? `${bytes} B`
    : bytes < 1024 * 1024
      ? `${(bytes / 1024).toFixed(1)} KiB`
      : `${(bytes / 1024 / 1024).toFixed(1)} MiB`

/** Seconds of input after which `connect` shows its progress on the status line. */
const PROGRESS_AFTER = 1

// ---------------------------------------------------------------------------
// serve
// ---------------------------------------------------------------------------

/**
 * `stocking serve`: listens, prints every message (echoing it with
 * `--echo`), and runs until interrupted.
 *
 * @since 0.1.0
 * @category commands
 */
export const serve = (
  command: Extract<Args.Command, { _tag: "Serve" }>
): Effect.Effect<never, CommandError, Scope.Scope> =>
  Effect.gen(function* () {
    const out = Output.make({ json: command.json, bytesAs: command.bytesAs, events: true })
    const tls = yield* serverTls(command.tls)
    const server = yield* Server.make({
      ...command.listen,
      ...limits(command),
      ...(tls === undefined ? {} : { tls })
    })
    yield* out.listening(server.address, tls !== undefined)
    return yield* server.serve((stocking) =>
      Effect.gen(function* () {
        const peer = Output.peerLabel(stocking)
        yield* out.connected(peer)
        yield* stocking.messages.pipe(
          Stream.runForEach((message) =>
            command.echo
              ? Effect.zipRight(out.message(peer, message), stocking.write(message))
              : out.message(peer, message)
          ),
          Effect.ignore
        )
        yield* out.disconnected(peer, yield* stocking.closed)
      })
    )
  }).pipe(Effect.provide(backendLayer(command.backend)))

// ---------------------------------------------------------------------------
// connect
// ---------------------------------------------------------------------------

/** Lines of stdin, without their line ends. */
const stdinLines: Stream.Stream<string, CliError> = Stream.unwrapScoped(
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false })),
      (lines) => Effect.sync(() => lines.close())
    ),
    (lines) =>
      Stream.fromAsyncIterable(
        lines,
        (cause) =>
          new CliError({ reason: `cannot read stdin: ${cause instanceof Error ? cause.message : String(cause)}` })
      )
  )
)

/**
 * `stocking connect`: sends stdin's lines, prints what arrives. At the end
 * of input: waits until everything is handed to the OS, then prints what
 * arrives until the peer closes or `linger` seconds pass with nothing
 * arriving, then closes gracefully.
 *
 * @since 0.1.0
 * @category commands
 */
export const connect = (
  command: Extract<Args.Command, { _tag: "Connect" }>
): Effect.Effect<void, CommandError, Scope.Scope> =>
  Effect.gen(function* () {
    const out = Output.make({ json: command.json, bytesAs: command.bytesAs, events: false })
    const stocking = yield* connectTo(command)
    const peer = Output.peerLabel(stocking)
    yield* out.connected(peer)

    // Every arrival is printed, and wakes the linger timer.
    const arrivals = yield* Queue.sliding<void>(1)
    const reader = yield* stocking.messages.pipe(
      Stream.runForEach((message) => Effect.zipRight(out.message(peer, message), Queue.offer(arrivals, undefined))),
      Effect.forkScoped
    )
    // The reader ends when the connection does: before the end of input, that is an error.
    const peerClosed = Effect.zipRight(
      Fiber.await(reader),
      Effect.flatMap(stocking.closed, (closed) => Effect.fail(new ConnectionError({ peer, closed })))
    )

    let lineNumber = 0
    let bytesSent = 0
    const toMessage = (line: string): Effect.Effect<Message, CliError> => {
      lineNumber++
      bytesSent += command.bytes ? line.length >> 1 : Buffer.byteLength(line)
      if (!command.bytes) return Effect.succeed(line)
      const bytes = parseHex(line)
      return bytes === undefined
        ? Effect.fail(new CliError({ reason: `--bytes: input line ${lineNumber} is not hex: ${JSON.stringify(line)}` }))
        : Effect.succeed(bytes)
    }
    const sendLines = stdinLines.pipe(
      Stream.mapEffect(toMessage),
      Stream.runForEach((message) =>
        Effect.catchTag(stocking.write(message), "Closed", (closed) =>
          Effect.fail(new ConnectionError({ peer, closed }))
        )
      ),
      // Not ready is impossible without a handshake.
      Effect.catchTag("NotReady", (error) => Effect.die(error))
    )
    // Progress for long input from a file or a pipe (typing at a terminal needs none).
    const started = Date.now()
    const progress = () =>
      Date.now() - started < PROGRESS_AFTER * 1000
        ? undefined
        : `sending: ${lineNumber.toLocaleString("en-US")} messages, ${formatBytes(bytesSent)}`
    if (!process.stdin.isTTY) yield* Status.set(progress)
    yield* Effect.raceFirst(sendLines, peerClosed)
    yield* Status.set(undefined)

    // End of input: flush, then linger while messages keep arriving, unless the peer closes first.
    const linger = Duration.millis(command.linger * 1000)
    const quiet = Effect.gen(function* () {
      yield* Queue.takeAll(arrivals)
      while (Option.isSome(yield* Effect.timeoutOption(Queue.take(arrivals), linger))) {
        // Something arrived: wait another linger period.
      }
    })
    yield* Effect.raceFirst(
      Effect.zipRight(
        Status.during(`end of input: sending what is queued...`, awaitFlushed(stocking)),
        command.linger > 0
          ? Status.during(`end of input: waiting for replies (--linger ${command.linger})...`, quiet)
          : Effect.void
      ),
      Fiber.await(reader)
    )
    yield* closeWithStatus(stocking)
    yield* Fiber.await(reader)
    yield* out.disconnected(peer, yield* checkClosed(stocking, peer))
  }).pipe(Effect.provide(backendLayer(command.backend)))

// ---------------------------------------------------------------------------
// send
// ---------------------------------------------------------------------------

/**
 * `stocking send`: sends the messages, waits until they are handed to the
 * OS, and closes gracefully.
 *
 * @since 0.1.0
 * @category commands
 */
export const send = (
  command: Extract<Args.Command, { _tag: "Send" }>
): Effect.Effect<void, CommandError, Scope.Scope> =>
  Effect.gen(function* () {
    const out = Output.make({ json: command.json, bytesAs: "hex", events: false })
    const stocking = yield* connectTo(command)
    const peer = Output.peerLabel(stocking)
    yield* out.connected(peer)
    // Read (and drop) whatever arrives, so a peer answering us cannot stall our sending.
    yield* stocking.messages.pipe(Stream.runDrain, Effect.ignore, Effect.forkScoped)
    yield* stocking.writeAll(command.messages).pipe(
      Effect.catchTags({
        Closed: (closed) => Effect.fail(new ConnectionError({ peer, closed })),
        NotReady: (error) => Effect.die(error)
      })
    )
    yield* Status.during("sending...", awaitFlushed(stocking))
    yield* closeWithStatus(stocking)
    yield* checkClosed(stocking, peer)
    yield* out.sent(peer, command.messages.length)
  }).pipe(Effect.provide(backendLayer(command.backend)))

/**
 * The `stocking` commands as Effects: `serve`, `connect` and `send`, for
 * either Effect line (`Line` gives its Stocking and Server). Each runs in a
 * scope that owns its sockets, so interrupting it (SIGINT) closes
 * everything gracefully. What they share (errors, TLS settings, connecting
 * and closing) is in `common.ts`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Scope from "effect/Scope"
import * as readline from "node:readline"
import type { Closed, NotReady } from "../internal/stockingError.js"
import type { Message } from "../internal/wire.js"
import type * as Args from "./args.js"
import { parseHex } from "./args.js"
import {
  awaitFlushed,
  checkDelivered,
  checkSize,
  CliError,
  closeWithStatus,
  type CommandError,
  type Connection,
  ConnectionError,
  connectTo,
  type Line,
  limits,
  serverTls,
  watchSocketErrors
} from "./common.js"
import * as Output from "./output.js"
import * as Status from "./status.js"

const formatBytes = (bytes: number): string =>
  bytes < 1024
    ? `${bytes} B`
    : bytes < 1024 * 1024
      ? `${(bytes / 1024).toFixed(1)} KiB`
      : `${(bytes / 1024 / 1024).toFixed(1)} MiB`

/** Seconds of input after which `connect` shows its progress on the status line. */
const PROGRESS_AFTER = 1

/** A `write` that fails with the connection's `ConnectionError` once it has closed. */
const writing = (
  effect: Effect.Effect<void, Closed | NotReady>,
  failed: (closed: Closed) => ConnectionError
): Effect.Effect<void, ConnectionError> =>
  effect.pipe(
    Effect.catchTags({
      Closed: (closed: Closed) => Effect.fail(failed(closed)),
      // Not ready is impossible without a handshake.
      NotReady: (error: NotReady) => Effect.die(error)
    })
  )

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
export const serve = <R, EC extends { readonly _tag: "ConfigError" }>(
  line: Line<R, EC>,
  command: Extract<Args.Command, { _tag: "Serve" }>
): Effect.Effect<never, CommandError, Scope.Scope | R> =>
  Effect.gen(function* () {
    const out = Output.make({ json: command.json, bytesAs: command.bytesAs, events: true })
    const tls = yield* serverTls(command.tls)
    const server = yield* line.listen({
      ...command.listen,
      ...limits(command),
      ...(tls === undefined ? {} : { tls })
    })
    yield* out.listening(server.address, tls !== undefined)
    return yield* server.serve((connection) =>
      Effect.gen(function* () {
        const peer = Output.peerLabel(connection)
        yield* out.connected(peer)
        yield* connection
          .forEach((message) =>
            command.echo
              ? Effect.andThen(out.message(peer, message), connection.write(message))
              : out.message(peer, message)
          )
          .pipe(Effect.ignore)
        yield* out.disconnected(peer, yield* connection.closed)
      })
    )
  })

// ---------------------------------------------------------------------------
// connect
// ---------------------------------------------------------------------------

/**
 * Runs `f` on each line of stdin (without its line end), one at a time,
 * until the end of input.
 */
const forEachStdinLine = <E, R>(f: (line: string) => Effect.Effect<void, E, R>): Effect.Effect<void, E | CliError, R> =>
  Effect.scoped(
    Effect.gen(function* () {
      const lines = yield* Effect.acquireRelease(
        Effect.sync(() => readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false })),
        (lines) => Effect.sync(() => lines.close())
      )
      const iterator = lines[Symbol.asyncIterator]()
      while (true) {
        const next = yield* Effect.tryPromise({
          try: () => iterator.next(),
          catch: (cause) =>
            new CliError({ reason: `cannot read stdin: ${cause instanceof Error ? cause.message : String(cause)}` })
        })
        if (next.done === true) return
        yield* f(next.value)
      }
    })
  )

/**
 * Waits until nothing has arrived for `seconds` (`lastArrival`: when the
 * last message arrived, in `Date.now()` milliseconds), counting from now
 * at the earliest.
 */
const quietFor = (seconds: number, lastArrival: () => number): Effect.Effect<void> =>
  Effect.gen(function* () {
    const from = Date.now()
    while (true) {
      const left = Math.max(from, lastArrival()) + seconds * 1000 - Date.now()
      if (left <= 0) return
      yield* Effect.sleep(left)
    }
  })

/**
 * `stocking connect`: sends stdin's lines, prints what arrives. At the end
 * of input: waits until everything is handed to the OS, then prints what
 * arrives until the peer closes or `linger` seconds pass with nothing
 * arriving, then closes gracefully.
 *
 * @since 0.1.0
 * @category commands
 */
export const connect = <R, EC extends { readonly _tag: "ConfigError" }>(
  line: Line<R, EC>,
  command: Extract<Args.Command, { _tag: "Connect" }>
): Effect.Effect<void, CommandError, Scope.Scope | R> =>
  Effect.gen(function* () {
    const out = Output.make({ json: command.json, bytesAs: command.bytesAs, events: false })
    const connection: Connection = yield* connectTo(line.connect, command)
    const peer = Output.peerLabel(connection)
    const socketError = watchSocketErrors(connection)
    // Messages written so far: those a failed connection may not have delivered.
    let written = 0
    const failed = (closed: Closed) =>
      new ConnectionError({ peer, closed, socketError: socketError(), undelivered: written })
    yield* out.connected(peer)

    // Every arrival is printed, and puts off the end of the linger.
    let lastArrival = 0
    const reader = yield* connection
      .forEach((message) =>
        Effect.andThen(
          out.message(peer, message),
          Effect.sync(() => {
            lastArrival = Date.now()
          })
        )
      )
      .pipe(Effect.forkScoped)
    // The reader ends when the connection does: before the end of input, that is an error.
    const peerClosed = Effect.andThen(
      Fiber.await(reader),
      Effect.flatMap(connection.closed, (closed) => Effect.fail(failed(closed)))
    )

    let lineNumber = 0
    let bytesSent = 0
    const toMessage = (line: string): Effect.Effect<Message, CliError> => {
      lineNumber++
      bytesSent += command.bytes ? line.length >> 1 : Buffer.byteLength(line)
      const bytes = command.bytes ? parseHex(line) : line
      if (bytes === undefined) {
        return Effect.fail(
          new CliError({ reason: `--bytes: input line ${lineNumber} is not hex: ${JSON.stringify(line)}` })
        )
      }
      return Effect.as(
        checkSize(bytes, command.maxMessageSize, `input line ${lineNumber}`, "it and the lines after it were not sent"),
        bytes
      )
    }
    const sendLines = forEachStdinLine((line) =>
      Effect.flatMap(toMessage(line), (message) =>
        Effect.andThen(
          writing(connection.write(message), failed),
          Effect.sync(() => {
            written++
          })
        )
      )
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
    yield* Effect.raceFirst(
      Effect.andThen(
        Status.during(`end of input: sending what is queued...`, awaitFlushed(connection)),
        command.linger > 0
          ? Status.during(
              `end of input: waiting for replies (--linger ${command.linger})...`,
              quietFor(command.linger, () => lastArrival)
            )
          : Effect.void
      ),
      Effect.asVoid(Fiber.await(reader))
    )
    yield* closeWithStatus(connection)
    yield* Fiber.await(reader)
    yield* out.disconnected(peer, yield* checkDelivered(connection, peer, socketError, written))
  })

// ---------------------------------------------------------------------------
// send
// ---------------------------------------------------------------------------

/**
 * `stocking send`: checks every message against `--max-message-size`, sends
 * them, waits until they are handed to the OS, and closes gracefully. A
 * connection that fails, or a socket error while it closes, is an error
 * saying how many messages may not have been delivered.
 *
 * @since 0.1.0
 * @category commands
 */
export const send = <R, EC extends { readonly _tag: "ConfigError" }>(
  line: Line<R, EC>,
  command: Extract<Args.Command, { _tag: "Send" }>
): Effect.Effect<void, CommandError, Scope.Scope | R> =>
  Effect.gen(function* () {
    const out = Output.make({ json: command.json, bytesAs: "hex", events: false })
    const count = command.messages.length
    // All or nothing: a message the peer would refuse stops the command before anything is sent.
    yield* Effect.forEach(
      command.messages,
      (message, i) => checkSize(message, command.maxMessageSize, `message ${i + 1}`, "nothing was sent"),
      { discard: true }
    )
    const connection: Connection = yield* connectTo(line.connect, command)
    const peer = Output.peerLabel(connection)
    const socketError = watchSocketErrors(connection)
    yield* out.connected(peer)
    // Read (and drop) whatever arrives, so a peer answering us cannot stall our sending.
    yield* connection.forEach(() => Effect.void).pipe(Effect.ignore, Effect.forkScoped)
    yield* writing(
      connection.writeAll(command.messages),
      (closed) => new ConnectionError({ peer, closed, socketError: socketError(), undelivered: count })
    )
    yield* Status.during("sending...", awaitFlushed(connection))
    yield* closeWithStatus(connection)
    yield* checkDelivered(connection, peer, socketError, count)
    yield* out.sent(peer, count)
  })

/**
 * Runs a command on `line`, with the line's backend (`--backend`) and
 * logger, in a scope of its own.
 *
 * @since 0.2.0
 * @category commands
 */
export const run = <R, EC extends { readonly _tag: "ConfigError" }>(
  line: Line<R, EC>,
  command: Extract<Args.Command, { _tag: "Serve" | "Connect" | "Send" }>
): Effect.Effect<void, CommandError<EC>> =>
  (command._tag === "Serve"
    ? serve(line, command)
    : command._tag === "Connect"
      ? connect(line, command)
      : send(line, command)
  ).pipe(Effect.scoped, Effect.provide(line.backend(command.backend)), Effect.provide(line.logger))

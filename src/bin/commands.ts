/**
 * The `stocking` commands as Effects: `serve`, `connect` and `send`. Each
 * runs in a scope that owns its sockets, so interrupting it (SIGINT) closes
 * everything gracefully. What they share (errors, TLS and backend settings,
 * connecting and closing) is in `common.ts`.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as readline from "node:readline"
import type { Message } from "../Framing.js"
import * as Server from "../Server.js"
import type { Closed } from "../Stocking.js"
import type * as Args from "./args.js"
import { parseHex } from "./args.js"
import {
  awaitFlushed,
  backendLayer,
  checkDelivered,
  checkSize,
  CliError,
  closeWithStatus,
  type CommandError,
  ConnectionError,
  connectTo,
  limits,
  serverTls,
  watchSocketErrors
} from "./common.js"
import * as Output from "./output.js"
import * as Status from "./status.js"

export { backendLayer, CLOSE_TIMEOUT, CliError, ConnectionError } from "./common.js"
export type { CommandError } from "./common.js"

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
    const socketError = watchSocketErrors(stocking)
    // Messages written so far: those a failed connection may not have delivered.
    let written = 0
    const failed = (closed: Closed) =>
      new ConnectionError({ peer, closed, socketError: socketError(), undelivered: written })
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
      Effect.flatMap(stocking.closed, (closed) => Effect.fail(failed(closed)))
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
    const sendLines = stdinLines.pipe(
      Stream.mapEffect(toMessage),
      Stream.runForEach((message) =>
        stocking.write(message).pipe(
          Effect.catchTags({
            Closed: (closed) => Effect.fail(failed(closed)),
            // Not ready is impossible without a handshake.
            NotReady: (error) => Effect.die(error)
          }),
          Effect.zipRight(
            Effect.sync(() => {
              written++
            })
          )
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
    yield* out.disconnected(peer, yield* checkDelivered(stocking, peer, socketError, written))
  }).pipe(Effect.provide(backendLayer(command.backend)))

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
export const send = (
  command: Extract<Args.Command, { _tag: "Send" }>
): Effect.Effect<void, CommandError, Scope.Scope> =>
  Effect.gen(function* () {
    const out = Output.make({ json: command.json, bytesAs: "hex", events: false })
    const count = command.messages.length
    // All or nothing: a message the peer would refuse stops the command before anything is sent.
    yield* Effect.forEach(
      command.messages,
      (message, i) => checkSize(message, command.maxMessageSize, `message ${i + 1}`, "nothing was sent"),
      { discard: true }
    )
    const stocking = yield* connectTo(command)
    const peer = Output.peerLabel(stocking)
    const socketError = watchSocketErrors(stocking)
    yield* out.connected(peer)
    // Read (and drop) whatever arrives, so a peer answering us cannot stall our sending.
    yield* stocking.messages.pipe(Stream.runDrain, Effect.ignore, Effect.forkScoped)
    yield* stocking.writeAll(command.messages).pipe(
      Effect.catchTags({
        Closed: (closed) =>
          Effect.fail(new ConnectionError({ peer, closed, socketError: socketError(), undelivered: count })),
        NotReady: (error) => Effect.die(error)
      })
    )
    yield* Status.during("sending...", awaitFlushed(stocking))
    yield* closeWithStatus(stocking)
    yield* checkDelivered(stocking, peer, socketError, count)
    yield* out.sent(peer, count)
  }).pipe(Effect.provide(backendLayer(command.backend)))

#!/usr/bin/env node
/**
 * The `stocking` command: a server that prints (and echoes) whole messages,
 * a client that sends stdin's lines, and a one-shot sender, over TCP, TLS or
 * Unix sockets in the Stockings wire format. Run `stocking --help`.
 *
 * Exit status: 0 on success (and after SIGINT / SIGTERM once everything is
 * closed), 1 when something fails, 2 on bad usage. Errors are one line on
 * stderr.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Args from "./args.js"
import type * as Commands from "./commands.js"

/** Exit codes. */
const OK = 0
const FAILED = 1
const USAGE = 2

/** Sets the exit code, and exits once stdout and stderr have taken everything written. */
const exit = (code: number): void => {
  process.exitCode = code
  let pending = 2
  const done = () => {
    if (--pending === 0) process.exit(code)
  }
  process.stdout.write("", done)
  process.stderr.write("", done)
}

// A reader that went away (`stocking serve | head -1`) ends the program quietly.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(OK)
})

const describeError = (error: Commands.CommandError): string => {
  switch (error._tag) {
    case "ConfigError":
      return `invalid configuration: ${String(error).replace(/^\((.*)\)$/s, "$1")}`
    default:
      return error.message
  }
}

/** Runs a command: the library is loaded only now, so `--help` and usage errors answer at once. */
const run = async (command: Exclude<Args.Command, { _tag: "Help" }>): Promise<void> => {
  const [Cause, Effect, Exit, Fiber, Logger, Commands, Output] = await Promise.all([
    import("effect/Cause"),
    import("effect/Effect"),
    import("effect/Exit"),
    import("effect/Fiber"),
    import("effect/Logger"),
    import("./commands.js"),
    import("./output.js")
  ])
  const program = (
    command._tag === "Serve"
      ? Commands.serve(command)
      : command._tag === "Connect"
        ? Commands.connect(command)
        : Commands.send(command)
  ).pipe(
    Effect.scoped,
    // The library's logs (warnings) go to stderr, so stdout stays clean for --json.
    Effect.provide(Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger)))
  )

  const fiber = Effect.runFork(program)
  let signalled = false
  const onSignal = () => {
    // A second signal does not wait for the graceful close.
    if (signalled) process.exit(130)
    signalled = true
    Effect.runFork(Fiber.interrupt(fiber))
  }
  process.on("SIGINT", onSignal)
  process.on("SIGTERM", onSignal)

  fiber.addObserver((result) => {
    if (Exit.isSuccess(result) || Cause.isInterruptedOnly(result.cause)) return exit(OK)
    const failure = Cause.failureOption(result.cause)
    if (failure._tag === "Some") {
      const message = describeError(failure.value)
      if (command.json) Output.writeLine(JSON.stringify({ event: "error", message }))
      Output.writeError(message)
      return exit(FAILED)
    }
    const defect = Cause.squash(result.cause)
    Output.writeError(`unexpected error: ${defect instanceof Error ? defect.message : String(defect)}`)
    if (process.env.STOCKING_DEBUG) process.stderr.write(`${Cause.pretty(result.cause)}\n`)
    return exit(FAILED)
  })
}

const main = (argv: ReadonlyArray<string>): void => {
  const parsed = Args.parse(argv)
  if (Either.isLeft(parsed)) {
    const error = parsed.left
    const help = `stocking ${error.command === undefined ? "" : `${error.command} `}--help`
    process.stderr.write(`stocking: ${error.message} (see \`${help}\`)\n`)
    return exit(USAGE)
  }
  const command = parsed.right
  if (command._tag === "Help") {
    process.stdout.write(`${command.text}\n`)
    return exit(OK)
  }
  run(command).catch((error: unknown) => {
    process.stderr.write(`stocking: could not start: ${error instanceof Error ? error.message : String(error)}\n`)
    exit(FAILED)
  })
}

main(process.argv.slice(2))

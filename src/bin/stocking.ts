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
import * as fs from "node:fs"
import * as Args from "./args.js"
import type * as Commands from "./commands.js"

/** Exit codes. */
const OK = 0
const FAILED = 1
const USAGE = 2

/** Calls `done` once stdout and stderr have taken everything written to them. */
const flushed = (done: () => void): void => {
  let pending = 2
  const one = () => {
    if (--pending === 0) done()
  }
  process.stdout.write("", one)
  process.stderr.write("", one)
}

/** Sets the exit code, and exits once stdout and stderr have taken everything written. */
const exit = (code: number): void => {
  process.exitCode = code
  flushed(() => process.exit(code))
}

// A reader that went away (`stocking serve | head -1`) ends the program quietly.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(OK)
})

const describeError = (error: Commands.CommandError, command: Args.Command): string => {
  switch (error._tag) {
    case "ConfigError":
      return `invalid configuration: ${String(error).replace(/^\((.*)\)$/s, "$1")}`
    case "ConnectError":
      return error.reason === "Timeout" && "connectTimeout" in command
        ? `could not connect to ${error.address}: no answer within ${command.connectTimeout} s (--connect-timeout)`
        : error.message
    case "ServerError":
      // The library's advice, in the CLI's words.
      return error.reason === "StaleSocket"
        ? error.message.replace("set removeStale: true", "pass --remove-stale")
        : error.message
    default:
      return error.message
  }
}

/**
 * Runs a command on `NodeRuntime.runMain`, which interrupts it on SIGINT or
 * SIGTERM (the scope then closes everything gracefully; a second signal
 * ends the process at once). The library is loaded only now, so `--help`
 * and usage errors answer at once.
 */
const run = async (command: Exclude<Args.Command, { _tag: "Help" | "Version" }>): Promise<void> => {
  const [Cause, Effect, Exit, Logger, NodeRuntime, Commands, Output] = await Promise.all([
    import("effect/Cause"),
    import("effect/Effect"),
    import("effect/Exit"),
    import("effect/Logger"),
    import("@effect/platform-node/NodeRuntime"),
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
    Effect.as(OK),
    // Expected failures are one line on stderr (and an error event with --json); defects say they are unexpected.
    Effect.catchAllCause((cause) =>
      Effect.sync(() => {
        const failure = Cause.failureOption(cause)
        if (failure._tag === "Some") {
          const message = describeError(failure.value, command)
          if (command.json) Output.writeLine(Output.jsonLine({ event: "error", message }))
          Output.writeError(message)
          return FAILED
        }
        const defect = Cause.squash(cause)
        Output.writeError(`unexpected error: ${defect instanceof Error ? defect.message : String(defect)}`)
        if (process.env.STOCKING_DEBUG) process.stderr.write(`${Cause.pretty(cause)}\n`)
        return FAILED
      })
    ),
    // The library's logs (warnings) go to stderr, so stdout stays clean for --json.
    Effect.provide(Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger)))
  )
  NodeRuntime.runMain(program, {
    disableErrorReporting: true,
    disablePrettyLogger: true,
    // Interrupted (SIGINT, SIGTERM) once everything is closed: a normal end.
    teardown: (result, onExit) => {
      const code = Exit.isSuccess(result)
        ? typeof result.value === "number"
          ? result.value
          : OK
        : Cause.isInterruptedOnly(result.cause)
          ? OK
          : FAILED
      process.exitCode = code
      flushed(() => {
        onExit(code)
        process.exit(code)
      })
    }
  })
}

/** The package's version, from its package.json (two levels up from both src/bin and dist/bin). */
const version = (): string => {
  const text = fs.readFileSync(new URL("../../package.json", import.meta.url), "utf8")
  return (JSON.parse(text) as { readonly version: string }).version
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
  if (command._tag === "Version") {
    process.stdout.write(`${version()}\n`)
    return exit(OK)
  }
  run(command).catch((error: unknown) => {
    process.stderr.write(`stocking: could not start: ${error instanceof Error ? error.message : String(error)}\n`)
    exit(FAILED)
  })
}

main(process.argv.slice(2))

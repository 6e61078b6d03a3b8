/**
 * Runs a `stocking` command on a line, for both Effect lines: on its own
 * fiber (`Effect.runFork`), interrupted on SIGINT or SIGTERM (the scope then
 * closes everything gracefully; a second signal ends the process at once,
 * as Node.js does), with expected failures as one line on stderr and the
 * exit status set. It needs no platform package.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as fx from "../internal/fx.js"
import type * as Args from "./args.js"
import * as Commands from "./commands.js"
import type { CommandError, Line } from "./common.js"
import { exit, ExitCode, type Runnable } from "./main.js"
import * as Output from "./output.js"

const describeError = <R, EC extends { readonly _tag: "ConfigError" }>(
  line: Line<R, EC>,
  error: CommandError<EC>,
  command: Args.Command
): string => {
  switch (error._tag) {
    case "ConfigError":
      return `invalid configuration: ${line.describeConfigError(error)}`
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
 * The runner of `line`'s commands: runs one, and exits with its status.
 *
 * @since 0.2.0
 * @category running
 */
export const runner =
  <R, EC extends { readonly _tag: "ConfigError" }>(line: Line<R, EC>) =>
  (command: Runnable): void => {
    const program = Commands.run(line, command).pipe(
      Effect.as<number>(ExitCode.OK),
      // Expected failures are one line on stderr (and an error event with --json).
      fx.catchAll((error: CommandError<EC>) =>
        Effect.sync(() => {
          const message = describeError(line, error, command)
          if (command.json) Output.writeLine(Output.jsonLine({ event: "error", message }))
          Output.writeError(message)
          return ExitCode.FAILED
        })
      ),
      // Defects say they are unexpected.
      fx.catchAllDefect((defect) =>
        Effect.sync(() => {
          Output.writeError(`unexpected error: ${defect instanceof Error ? defect.message : String(defect)}`)
          if (process.env.STOCKING_DEBUG && defect instanceof Error) process.stderr.write(`${defect.stack}\n`)
          return ExitCode.FAILED
        })
      )
    )
    const fiber = Effect.runFork(program)
    // The fiber alone does not keep Node.js running while it waits.
    const keepAlive = setInterval(() => {}, 2 ** 30)
    const interrupt = () => {
      // A second signal finds no handler: Node.js ends the process at once.
      process.removeListener("SIGINT", interrupt)
      process.removeListener("SIGTERM", interrupt)
      Effect.runFork(Fiber.interrupt(fiber))
    }
    process.on("SIGINT", interrupt)
    process.on("SIGTERM", interrupt)
    fiber.addObserver((result) => {
      clearInterval(keepAlive)
      process.removeListener("SIGINT", interrupt)
      process.removeListener("SIGTERM", interrupt)
      // Interrupted (SIGINT, SIGTERM) once everything is closed: a normal end.
      exit(Exit.isSuccess(result) ? result.value : fx.isInterruptedOnly(result.cause) ? ExitCode.OK : ExitCode.FAILED)
    })
  }

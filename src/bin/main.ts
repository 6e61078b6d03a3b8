/**
 * The `stocking` command's start, for both Effect lines, Effect-free: it
 * parses the arguments, answers `--help`, `--version` and bad usage at
 * once, and only then loads the line's commands (`load`), so that nothing
 * of Effect is loaded for them.
 *
 * Exit status: 0 on success (and after SIGINT / SIGTERM once everything is
 * closed), 1 when something fails, 2 on bad usage. Errors are one line on
 * stderr.
 *
 * @since 0.2.0
 */
import * as fs from "node:fs"
import * as Args from "./args.js"

/**
 * Exit codes.
 *
 * @since 0.2.0
 * @category constants
 */
export const ExitCode = { OK: 0, FAILED: 1, USAGE: 2 } as const

/** Calls `done` once stdout and stderr have taken everything written to them. */
const flushed = (done: () => void): void => {
  let pending = 2
  const one = () => {
    if (--pending === 0) done()
  }
  process.stdout.write("", one)
  process.stderr.write("", one)
}

/**
 * Sets the exit code, and exits once stdout and stderr have taken everything written.
 *
 * @since 0.2.0
 * @category running
 */
export const exit = (code: number): void => {
  process.exitCode = code
  flushed(() => process.exit(code))
}

/**
 * A command that runs on a line (not `--help` or `--version`).
 *
 * @since 0.2.0
 * @category models
 */
export type Runnable = Exclude<Args.Command, { _tag: "Help" | "Version" }>

/** The package's version, from its package.json (two levels up from both src/bin and dist/bin). */
const version = (): string => {
  const text = fs.readFileSync(new URL("../../package.json", import.meta.url), "utf8")
  return (JSON.parse(text) as { readonly version: string }).version
}

/**
 * Runs the command line `argv` (the arguments after the program's name).
 * `load` loads the line's runner, which runs a command and exits.
 *
 * @since 0.2.0
 * @category running
 */
export const main = (argv: ReadonlyArray<string>, load: () => Promise<(command: Runnable) => void>): void => {
  // A reader that went away (`stocking serve | head -1`) ends the program quietly.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(ExitCode.OK)
  })
  const command = Args.parse(argv)
  if (command._tag === "UsageError") {
    const help = `stocking ${command.command === undefined ? "" : `${command.command} `}--help`
    process.stderr.write(`stocking: ${command.message} (see \`${help}\`)\n`)
    return exit(ExitCode.USAGE)
  }
  if (command._tag === "Help") {
    process.stdout.write(`${command.text}\n`)
    return exit(ExitCode.OK)
  }
  if (command._tag === "Version") {
    process.stdout.write(`${version()}\n`)
    return exit(ExitCode.OK)
  }
  load()
    .then((run) => run(command))
    .catch((error: unknown) => {
      process.stderr.write(`stocking: could not start: ${error instanceof Error ? error.message : String(error)}\n`)
      exit(ExitCode.FAILED)
    })
}

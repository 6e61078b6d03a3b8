#!/usr/bin/env node
/**
 * The `stocking` command on Effect 3: a server that prints (and echoes)
 * whole messages, a client that sends stdin's lines, and a one-shot sender,
 * over TCP, TLS or Unix sockets in the Stockings wire format. Run
 * `stocking --help`.
 *
 * The CLI is one copy for both Effect lines (`main.ts`, `args.ts`,
 * `commands.ts`, ...); this entry only gives it the Effect 3 line's
 * Stocking, Server, backends and logger (`src/effect4/bin/stocking.ts`
 * gives it Effect 4's). They are loaded once the arguments are parsed, so
 * `--help` and usage errors answer at once.
 *
 * @since 0.1.0
 */
import { main } from "./main.js"

main(process.argv.slice(2), async () => {
  const [Logger, Auto, Poll, Select, Server, Stocking, Run] = await Promise.all([
    import("effect/Logger"),
    import("../Backend/Auto.js"),
    import("../Backend/Poll.js"),
    import("../Backend/Select.js"),
    import("../Server.js"),
    import("../Stocking.js"),
    import("./run.js")
  ])
  return Run.runner({
    connect: Stocking.make,
    listen: Server.make,
    backend: (choice) =>
      choice === "poll"
        ? Poll.layer
        : choice === "select"
          ? Select.layer()
          : choice === "auto"
            ? Auto.layer
            : Auto.layerConfig,
    // `(Invalid data at X: ...)` without its parentheses.
    describeConfigError: (error) => String(error).replace(/^\((.*)\)$/s, "$1"),
    logger: Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger))
  })
})

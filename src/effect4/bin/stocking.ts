#!/usr/bin/env node
/**
 * The `stocking` command on Effect 4 (see `src/bin/stocking.ts`, its
 * Effect 3 twin): the one CLI of `src/bin/`, given the Effect 4 line's
 * Stocking, Server, backends and logger. It needs no platform package: the
 * runner (`src/bin/run.ts`) forks the command and handles the signals
 * itself.
 *
 * @since 0.2.0
 */
import "../internal/line.js"
import { main } from "../../bin/main.js"

main(process.argv.slice(2), async () => {
  const [Logger, Auto, Poll, Select, Stocking, Run] = await Promise.all([
    import("effect/Logger"),
    import("../Backend/Auto.js"),
    import("../Backend/Poll.js"),
    import("../Backend/Select.js"),
    import("../Stocking.js"),
    import("../../bin/run.js")
  ])
  return Run.runner({
    name: "4",
    connect: Stocking.make,
    // The Effect 4 Server is not in this build yet: `stocking serve` says so.
    listen: undefined,
    backend: (choice) =>
      choice === "poll"
        ? Poll.layer
        : choice === "select"
          ? Select.layer()
          : choice === "auto"
            ? Auto.layer
            : Auto.layerConfig,
    describeConfigError: (error) => error.message,
    logger: Logger.layer([Logger.withConsoleError(Logger.formatLogFmt)])
  })
})

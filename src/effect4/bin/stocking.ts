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
  const [Logger, Auto, Poll, Select, Server, Stocking, Run] = await Promise.all([
    import("effect/Logger"),
    import("../Backend/Auto.js"),
    import("../Backend/Poll.js"),
    import("../Backend/Select.js"),
    import("../Server.js"),
    import("../Stocking.js"),
    import("../../bin/run.js")
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
    // `Invalid data at X: ...`, as on Effect 3, from the schema's `...\n  at ["X"]`.
    describeConfigError: (error) => {
      const text = error.cause.message
      const at = /^([\s\S]*?)\n\s*at (\[.*\])$/.exec(text)
      const path = at === null ? undefined : (JSON.parse(at[2]!) as ReadonlyArray<unknown>).join(".")
      return at === null ? text.replace(/\n\s*/g, "; ") : `Invalid data at ${path}: ${at[1]!.replace(/\n\s*/g, "; ")}`
    },
    logger: Logger.layer([Logger.withConsoleError(Logger.formatLogFmt)])
  })
})

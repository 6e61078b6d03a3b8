#!/usr/bin/env node
/**
 * The `stocking` command as installed (package.json's `bin`): runs the CLI
 * of the Effect line that the project has installed. The CLI modules load
 * Effect, so this one is Effect-free and picks one before anything of
 * Effect is loaded: `effect` 4 runs `dist/effect4/bin/stocking.js` where
 * the package has it, and otherwise says so and exits 1; any other
 * `effect` (or none found) runs the Effect 3 CLI, `./stocking.js`.
 *
 * @since 0.2.0
 */
import * as fs from "node:fs"
import { installedEffectVersion } from "../internal/line.js"

const version = installedEffectVersion(import.meta.url)

if (version?.startsWith("4.")) {
  const effect4 = new URL("../effect4/bin/stocking.js", import.meta.url)
  if (fs.existsSync(effect4)) {
    await import(effect4.href)
  } else {
    process.stderr.write(
      `stocking: effect ${version} is installed, and this version of effect-stockings has no Effect 4 build of ` +
        `the stocking command yet. Run the Effect 3 one with npx, from here or anywhere: ` +
        `npx -p effect-stockings -p effect@^3.22 -p @effect/platform-node@^0.108 stocking --help\n`
    )
    process.exitCode = 1
  }
} else {
  await import("./stocking.js")
}

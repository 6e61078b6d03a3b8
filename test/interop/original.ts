/**
 * Where the original Python Stockings is, for both lines' interop suites
 * (`test/Interop.test.ts`, `test/effect4/Interop.test.ts`): at
 * `STOCKINGS_PY`, by default `../shared/reference/python-stockings` from the
 * repository's root (where this workplace keeps it; it is GPL-3.0, so it is
 * only ever run as a separate process, never copied in). Without it, or
 * without `python3`, the suites skip and say why.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

/** The original's folder (holding `Stockings/`). */
export const libDir = path.resolve(root, process.env.STOCKINGS_PY ?? "../shared/reference/python-stockings")

/** The peer script that runs the original (`test/interop/peer.py`). */
export const peerScript = path.join(root, "test", "interop", "peer.py")

/** The interpreter to run the peer with, or why the suite skips. */
export type Found = { readonly ok: true; readonly python: string } | { readonly ok: false; readonly reason: string }

export const find = (): Found => {
  if (!fs.existsSync(path.join(libDir, "Stockings", "__init__.py")))
    return { ok: false, reason: `no Python Stockings at ${libDir} (set STOCKINGS_PY to its folder)` }
  // The interpreter's own path: through a version manager's shim, each start would cost several times more.
  const probe = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" })
  if (probe.error !== undefined || probe.status !== 0) return { ok: false, reason: "python3 is not on PATH" }
  const python = probe.stdout.trim()
  return { ok: true, python: python === "" ? "python3" : python }
}

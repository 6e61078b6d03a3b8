/**
 * Unix domain socket paths: the platform's limit on their length, what is
 * found at a path that could not be bound or connected to (a live server, a
 * stale socket file, something else, nothing, no directory), and the words
 * that say so.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as fx from "./fx.js"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"

/**
 * The longest socket path the platform takes, in bytes: `sun_path` less its
 * closing NUL (108 bytes on Linux, 104 on macOS and the BSDs). Node does not
 * check it: a longer path is cut short, the socket is bound to the shorter
 * name, and that file is left behind after the server closes. `undefined`
 * on Windows, whose named pipes are not files.
 *
 * @internal
 */
export const PATH_LIMIT: number | undefined =
  process.platform === "win32" ? undefined : process.platform === "linux" || process.platform === "android" ? 107 : 103

/** Whether `socketPath` names a file (not a Windows named pipe, nor a Linux abstract socket). */
export const isFilePath = (socketPath: string): boolean => process.platform !== "win32" && !socketPath.startsWith("\0")

/**
 * Why `socketPath` cannot name a socket on this platform, or `undefined` if
 * it can: its length in bytes against the limit.
 *
 * @internal
 */
export const tooLong = (socketPath: string): string | undefined => {
  if (PATH_LIMIT === undefined || !isFilePath(socketPath)) return undefined
  const length = Buffer.byteLength(socketPath)
  return length <= PATH_LIMIT
    ? undefined
    : `the socket path is ${length} bytes long, and ${process.platform} takes at most ${PATH_LIMIT} bytes ` +
        `(a longer one would be cut short): use a shorter path`
}

/**
 * Why the directory of `socketPath` cannot hold it, or `undefined` if it
 * can: it does not exist (which `listen` reports as `EACCES`), or it is not
 * a directory.
 *
 * @internal
 */
export const missingDirectory = (socketPath: string): string | undefined => {
  if (!isFilePath(socketPath)) return undefined
  const directory = path.dirname(socketPath)
  try {
    return fs.statSync(directory).isDirectory() ? undefined : `${directory} is not a directory`
  } catch (error) {
    return codeOf(error) === "ENOENT" || codeOf(error) === "ENOTDIR"
      ? `the directory ${directory} does not exist: create it first`
      : undefined
  }
}

/**
 * What is at a socket path.
 *
 * - `Live`: a server accepted a connection there.
 * - `Stale`: a socket file no server listens on (connecting is refused),
 *   as a server that stopped without closing leaves behind.
 * - `NotASocket`: something else (a regular file, a directory, ...).
 * - `Nothing`: no file.
 * - `Unknown`: connecting failed otherwise (`cause`).
 *
 * @internal
 */
export type Found =
  | { readonly _tag: "Live" }
  | { readonly _tag: "Stale" }
  | { readonly _tag: "NotASocket"; readonly kind: string }
  | { readonly _tag: "Nothing" }
  | { readonly _tag: "Unknown"; readonly cause: unknown }

const kindOf = (stats: fs.Stats): string =>
  stats.isFile()
    ? "a regular file"
    : stats.isDirectory()
      ? "a directory"
      : stats.isSymbolicLink()
        ? "a symbolic link"
        : stats.isFIFO()
          ? "a named pipe"
          : "not a regular file either"

/**
 * Looks at what is at `socketPath`: its type, then, for a socket file, a
 * connection (closed at once) to tell a live server from a stale file. A
 * server with a full backlog (`EAGAIN`), or one that does not answer
 * within a second, counts as live: a file is only ever called stale when
 * connecting to it was refused.
 *
 * @internal
 */
export const probe = (socketPath: string): Effect.Effect<Found> =>
  Effect.suspend(() => {
    let stats: fs.Stats
    try {
      stats = fs.lstatSync(socketPath)
    } catch (error) {
      return Effect.succeed<Found>(codeOf(error) === "ENOENT" ? { _tag: "Nothing" } : { _tag: "Unknown", cause: error })
    }
    if (!stats.isSocket()) return Effect.succeed<Found>({ _tag: "NotASocket", kind: kindOf(stats) })
    return fx.async<Found>((resume) => {
      const socket = net.createConnection({ path: socketPath })
      const done = (found: Found) => {
        clearTimeout(timer)
        socket.destroy()
        resume(Effect.succeed(found))
      }
      const timer = setTimeout(() => done({ _tag: "Live" }), 1000)
      socket.once("connect", () => done({ _tag: "Live" }))
      socket.once("error", (error) => {
        const code = codeOf(error)
        done(
          code === "ECONNREFUSED"
            ? { _tag: "Stale" }
            : code === "EAGAIN"
              ? { _tag: "Live" }
              : code === "ENOENT"
                ? { _tag: "Nothing" }
                : { _tag: "Unknown", cause: error }
        )
      })
      return Effect.sync(() => {
        clearTimeout(timer)
        socket.destroy()
      })
    })
  })

/** Words for what was found, for a server that wanted the path for itself. */
export const describeForListen = (found: Found): string => {
  switch (found._tag) {
    case "Live":
      return "another server is listening there (it accepted a connection): stop it, or choose another path"
    case "Stale":
      return (
        "a socket file is there, but no server is listening on it (one that stopped without closing left it): " +
        "remove it, or set removeStale: true to replace it"
      )
    case "NotASocket":
      return `the file there is not a socket (${found.kind}), and is never replaced: remove it, or choose another path`
    case "Nothing":
      return "the path was in use, then free: try again"
    case "Unknown":
      return `the path is in use, and what is there could not be told (${messageOf(found.cause)})`
  }
}

/**
 * A failed connect to `socketPath`, in words that say what was there and
 * what was expected (a socket file with a server listening on it), or
 * `undefined` when the error says enough.
 *
 * @internal
 */
export const describeConnectFailure = (socketPath: string, error: unknown): string | undefined => {
  if (!isFilePath(socketPath)) return undefined
  const code = codeOf(error)
  const original = messageOf(error)
  if (code === "ENOENT") {
    const directory = missingDirectory(socketPath)
    return directory !== undefined
      ? `${directory.replace(/: create it first$/, "")} (${original})`
      : `no socket file there (${original}): is the server running, and listening on this path?`
  }
  if (code === "ECONNREFUSED") {
    let stats: fs.Stats | undefined
    try {
      stats = fs.lstatSync(socketPath)
    } catch {
      stats = undefined
    }
    return stats !== undefined && !stats.isSocket()
      ? `the file there is not a socket (${kindOf(stats)}) (${original})`
      : `a socket file is there, but no server is listening on it (${original}): a server that stopped without ` +
          "closing leaves one behind"
  }
  if (code === "EACCES") return `no permission to connect to the socket file (${original})`
  return undefined
}

const codeOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error))

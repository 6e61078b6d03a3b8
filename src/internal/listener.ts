/**
 * What both lines' servers share: the listen error, the defaults of the
 * limits, where to listen, and listening itself (a `node:net` or `node:tls`
 * server bound to a TCP port or a Unix socket path, closed with its scope).
 * Each line's binding (`src/internal/server.ts`, `src/effect4/internal/server.ts`)
 * accepts connections on it and wraps them in Stockings; each line's
 * `Server` module re-exports these values with their documentation.
 *
 * Line-neutral: it uses only what both lines of Effect have under the same
 * name and meaning, and `fx.ts` for the rest.
 *
 * @internal
 */
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import * as tls from "node:tls"
import * as fx from "./fx.js"
import type * as model from "./model.js"
import * as unix from "./unix.js"

/** `Server.ListenTarget`. @internal */
export type ListenTarget =
  | { readonly port: number; readonly host?: string | undefined; readonly backlog?: number | undefined }
  | {
      readonly path: string
      readonly backlog?: number | undefined
      readonly removeStale?: boolean | undefined
      readonly mode?: number | undefined
    }

/** `Server.ServerError`. @internal */
export class ServerError extends Data.TaggedError("ServerError")<{
  readonly reason: "Listen" | "AddressInUse" | "StaleSocket" | "NotASocket" | "NoDirectory" | "PathTooLong"
  /** The address asked for, as `host:port` or a socket path. */
  readonly address: string
  readonly cause: unknown
}> {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    const cause = this.cause instanceof Error ? this.cause.message : String(this.cause)
    return `could not listen on ${this.address}: ${cause}`
  }
}

/** `Server.DEFAULT_MAX_CONNECTIONS`. @internal */
export const DEFAULT_MAX_CONNECTIONS = 10_000

/** `Server.DEFAULT_MAX_TOTAL_BYTES`. @internal */
export const DEFAULT_MAX_TOTAL_BYTES = 512 * 1024 * 1024

/** `Server.CONNECTION_ALLOWANCE`. @internal */
export const CONNECTION_ALLOWANCE = 16 * 1024

/** `Server.DEFAULT_BACKLOG`. @internal */
export const DEFAULT_BACKLOG = 4096

/** `Server.DEFAULT_TLS_HANDSHAKE_TIMEOUT`. @internal */
export const DEFAULT_TLS_HANDSHAKE_TIMEOUT: Duration.Duration = Duration.seconds(5)

/**
 * Why `maxConnections` or `mode` cannot be used, or `undefined` if they can:
 * a programming error, like a negative port, which the server makes a defect.
 *
 * @internal
 */
export const checkLimits = (maxConnections: number, mode: number | undefined): RangeError | undefined => {
  if (!(Number.isSafeInteger(maxConnections) && maxConnections >= 1)) {
    return new RangeError(`maxConnections must be a positive integer, got ${maxConnections}`)
  }
  if (mode !== undefined && !(Number.isInteger(mode) && mode >= 0 && mode <= 0o777)) {
    return new RangeError(`mode must be a file mode from 0 to 0o777 (511), got ${mode} (write it in octal: 0o600)`)
  }
  return undefined
}

const describe = (target: ListenTarget): string =>
  "path" in target ? target.path : `${target.host ?? "127.0.0.1"}:${target.port}`

const MAX_TIMER = 2 ** 31 - 1

/**
 * Node's own TLS handshake limit (`handshakeTimeout`, default 120 s) closes a
 * peer that has not finished its TLS handshake in time, whatever it sent.
 */
const tlsHandshakeTimeout = (
  secure: tls.TlsOptions,
  timeout: fx.DurationInput | undefined,
  stockingTimeout: fx.DurationInput | undefined
): number => {
  let millis =
    timeout !== undefined
      ? Duration.toMillis(fx.decodeDuration(timeout))
      : // 0 is Node's "its own default": ours instead.
        secure.handshakeTimeout || Duration.toMillis(DEFAULT_TLS_HANDSHAKE_TIMEOUT)
  // The Stocking handshake comes after the TLS one: a `handshakeTimeout` shorter than this bounds the TLS handshake too.
  if (stockingTimeout !== undefined) millis = Math.min(millis, Duration.toMillis(fx.decodeDuration(stockingTimeout)))
  // Node takes 0 for its default and warns past 2^31 - 1 ms: "infinite" is the longest it allows.
  return Math.min(MAX_TIMER, Math.max(1, Math.ceil(millis)))
}

/** A listen failure, as a `ServerError` of `reason`. */
const listenError = (target: ListenTarget, reason: ServerError["reason"], cause: unknown): ServerError =>
  new ServerError({ reason, address: describe(target), cause })

/**
 * `server.listen` once: `undefined` once it listens, or the listen error,
 * leaving the server ready for another try.
 */
const tryBind = (
  server: net.Server,
  where: { readonly path: string } | { readonly port: number; readonly host: string },
  backlog: number
): Effect.Effect<Error | undefined> =>
  fx.async<Error | undefined>((resume) => {
    const onError = (cause: Error) => {
      server.off("listening", onListening)
      resume(Effect.succeed(cause))
    }
    const onListening = () => {
      server.off("error", onError)
      resume(Effect.succeed(undefined))
    }
    server.once("error", onError)
    server.once("listening", onListening)
    server.listen({ ...where, backlog })
    return Effect.sync(() => {
      server.off("error", onError)
      server.off("listening", onListening)
    })
  })

/** `tryBind`, failing with the listen error as a `Listen` `ServerError`. */
const bind = (
  server: net.Server,
  target: ListenTarget,
  where: { readonly path: string } | { readonly port: number; readonly host: string },
  backlog: number
): Effect.Effect<void, ServerError> =>
  Effect.flatMap(tryBind(server, where, backlog), (cause) =>
    cause === undefined ? Effect.void : Effect.fail(listenError(target, "Listen", cause))
  )

const isAddressInUse = (cause: Error): boolean => "code" in cause && cause.code === "EADDRINUSE"

/** Runs `f`, failing with its exception as a `Listen` error. */
const attempt = <A>(target: ListenTarget, f: () => A): Effect.Effect<A, ServerError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(f())
    } catch (cause) {
      return Effect.fail(listenError(target, "Listen", cause))
    }
  })

type PathTarget = Extract<ListenTarget, { path: string }>

/**
 * Gives the socket file at `temporary` the name `socketPath`, as `bind`
 * would have: never over a live server or a file that is not a socket, and
 * over a stale socket file only with `removeStale`. A hard link fails when
 * the name is taken, so there is no window between the check and the move.
 */
const placeSocket = (target: PathTarget, temporary: string): Effect.Effect<void, ServerError> =>
  Effect.gen(function* () {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.linkSync(temporary, target.path)
        return
      } catch (error) {
        if (!(error instanceof Error && "code" in error && error.code === "EEXIST")) {
          return yield* Effect.fail(listenError(target, "Listen", error))
        }
      }
      const found = yield* unix.probe(target.path)
      if (found._tag === "Stale" && target.removeStale === true) fs.rmSync(target.path, { force: true })
      else if (found._tag !== "Nothing") return yield* Effect.fail(foundError(target, found))
    }
    return yield* Effect.fail(foundError(target, { _tag: "Live" }))
  })

const foundError = (target: ListenTarget, found: unix.Found): ServerError =>
  listenError(
    target,
    found._tag === "Live"
      ? "AddressInUse"
      : found._tag === "Stale"
        ? "StaleSocket"
        : found._tag === "NotASocket"
          ? "NotASocket"
          : "Listen",
    new Error(unix.describeForListen(found), found._tag === "Unknown" ? { cause: found.cause } : undefined)
  )

/**
 * Listens on a Unix socket path. Before anything is created: a path over
 * the platform's limit, or in a directory that does not exist, fails. When
 * the path is taken, what is there decides: a live server or a file that is
 * not a socket fails, a stale socket file fails or, with `removeStale`, is
 * removed and the path bound again. Returns how to remove the socket file
 * once the server has closed (Node removes the one it bound itself).
 *
 * With `mode`, the socket must not be reachable under its name before it
 * has that mode: a chmod after `listen` leaves a window in which anyone the
 * umask lets in can connect, and a connection accepted then stays. Setting
 * the process's umask around `listen` would close it, but the umask is the
 * whole process's (every thread creating a file meanwhile gets it) and
 * worker threads cannot set it. So the socket is bound in a fresh directory
 * only its owner can enter (`mkdtemp` makes it 0700, next to the path, on
 * the same file system), given its mode there, and then linked to its name
 * (`placeSocket`): from the first moment it can be reached by name, it has
 * its mode.
 */
const listenUnix = (server: net.Server, target: PathTarget, backlog: number): Effect.Effect<() => void, ServerError> =>
  Effect.gen(function* () {
    const socketPath = target.path
    if (!unix.isFilePath(socketPath)) {
      yield* bind(server, target, { path: socketPath }, backlog)
      return () => {}
    }
    const tooLong = unix.tooLong(socketPath)
    if (tooLong !== undefined) return yield* Effect.fail(listenError(target, "PathTooLong", new Error(tooLong)))
    const noDirectory = unix.missingDirectory(socketPath)
    if (noDirectory !== undefined) {
      return yield* Effect.fail(listenError(target, "NoDirectory", new Error(noDirectory)))
    }
    if (target.mode === undefined) {
      for (let attempt = 0; attempt < 2; attempt++) {
        const cause = yield* tryBind(server, { path: socketPath }, backlog)
        if (cause === undefined) return () => {}
        if (!isAddressInUse(cause)) return yield* Effect.fail(listenError(target, "Listen", cause))
        const found = yield* unix.probe(socketPath)
        if (found._tag === "Stale" && target.removeStale === true) fs.rmSync(socketPath, { force: true })
        else if (found._tag !== "Nothing") return yield* Effect.fail(foundError(target, found))
      }
      return yield* Effect.fail(foundError(target, { _tag: "Live" }))
    }
    const mode = target.mode
    const directory = yield* attempt(target, () => fs.mkdtempSync(path.join(path.dirname(socketPath), ".stocking-")))
    const temporary = path.join(directory, "s")
    return yield* Effect.gen(function* () {
      const temporaryTooLong = unix.tooLong(temporary)
      if (temporaryTooLong !== undefined) {
        const reason = `with mode, the socket is first bound in ${directory}, and ${temporaryTooLong.replace(/^the socket path/, "that path")}`
        return yield* Effect.fail(listenError(target, "PathTooLong", new Error(reason)))
      }
      yield* bind(server, target, { path: temporary }, backlog)
      yield* attempt(target, () => fs.chmodSync(temporary, mode))
      yield* placeSocket(target, temporary)
      const placed = fs.statSync(socketPath)
      // Removes the socket file once the server has closed, unless another has taken its name since.
      return () => {
        try {
          const now = fs.lstatSync(socketPath)
          if (now.ino === placed.ino && now.dev === placed.dev) fs.rmSync(socketPath, { force: true })
        } catch {
          // Gone already.
        }
      }
    }).pipe(Effect.ensuring(Effect.sync(() => fs.rmSync(directory, { recursive: true, force: true }))))
  })

const closeServer = (server: net.Server): Effect.Effect<void> =>
  fx.async<void>((resume) => {
    server.close(() => resume(Effect.void))
  })

/**
 * A server listening on `target`: plain TCP or Unix with `secure`
 * undefined, else TLS (with the TLS handshake limit). Node closes a
 * connection beyond `maxConnections` as soon as it is accepted. Released
 * with the scope: stops listening, waits for the connections Node still
 * holds to close (the binding closes them first), and removes the socket
 * file it created.
 *
 * @internal
 */
export const listen = (
  target: ListenTarget,
  secure: tls.TlsOptions | undefined,
  handshakeTimeout: fx.DurationInput | undefined,
  stockingHandshakeTimeout: fx.DurationInput | undefined,
  maxConnections: number
): Effect.Effect<net.Server, ServerError, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.suspend(() => {
        const server =
          secure === undefined
            ? net.createServer({ allowHalfOpen: true })
            : // No half-open TLS: with it, the TCP socket under a failed TLS handshake is never closed.
              tls.createServer({
                ...secure,
                allowHalfOpen: false,
                handshakeTimeout: tlsHandshakeTimeout(secure, handshakeTimeout, stockingHandshakeTimeout)
              })
        // Node closes a connection beyond this at once, before anything else sees it.
        server.maxConnections = maxConnections
        const backlog = target.backlog ?? DEFAULT_BACKLOG
        const listening: Effect.Effect<() => void, ServerError> =
          "path" in target
            ? listenUnix(server, target, backlog)
            : Effect.as(
                bind(server, target, { port: target.port, host: target.host ?? "127.0.0.1" }, backlog),
                () => {}
              )
        return Effect.map(
          Effect.onError(listening, () => Effect.sync(() => server.close())),
          (removeSocketFile) => ({ server, removeSocketFile })
        )
      }),
      ({ removeSocketFile, server }) => Effect.ensuring(closeServer(server), Effect.sync(removeSocketFile))
    ),
    ({ server }) => server
  )

/**
 * Where `server` listens: the path asked for (with `mode`, the socket was
 * bound under another name and then given this one), or the TCP address
 * bound (for port 0, with the port the OS picked).
 *
 * @internal
 */
export const boundAddress = (server: net.Server, target: ListenTarget): model.Address => {
  if ("path" in target) return { _tag: "Unix", path: target.path }
  const address = server.address()
  if (typeof address === "string") return { _tag: "Unix", path: address }
  return { _tag: "Tcp", address: address!.address, port: address!.port, family: address!.family }
}

/**
 * Server options without where to listen, TLS and the server's limits:
 * the Stocking settings every accepted connection gets.
 *
 * @internal
 */
export const settingsOf = <S extends object>(options: S): Omit<S, ServerKeys> => {
  const settings: Record<string, unknown> = { ...(options as Record<string, unknown>) }
  for (const key of serverKeys) delete settings[key]
  return settings as Omit<S, ServerKeys>
}

const serverKeys = [
  "backlog",
  "maxConnections",
  "maxTotalBytes",
  "host",
  "mode",
  "path",
  "port",
  "removeStale",
  "tls",
  "tlsHandshakeTimeout"
] as const

type ServerKeys = (typeof serverKeys)[number]

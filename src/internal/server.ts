/**
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberSet from "effect/FiberSet"
import * as Mailbox from "effect/Mailbox"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import * as tls from "node:tls"
import * as Server from "./serverApi.js"
import * as Auto from "./auto.js"
import type * as Backend from "./backend.js"
import * as BackendTag from "./backendTag.js"
import * as Poll from "./poll.js"

import type * as Stocking from "../Stocking.js"
import { Closed } from "./stockingError.js"
import { Budget } from "./budget.js"
import * as stocking from "./stocking.js"
import * as unix from "./unix.js"

/** @internal */
export const DEFAULT_BACKLOG = 4096

/** @internal */
export const DEFAULT_TLS_HANDSHAKE_TIMEOUT = Duration.seconds(5)

const describe = (target: Server.ListenTarget): string =>
  "path" in target ? target.path : `${target.host ?? "127.0.0.1"}:${target.port}`

const MAX_TIMER = 2 ** 31 - 1

/**
 * Node's own TLS handshake limit (`handshakeTimeout`, default 120 s) closes a
 * peer that has not finished its TLS handshake in time, whatever it sent.
 */
const tlsHandshakeTimeout = (
  secure: tls.TlsOptions,
  timeout: Duration.DurationInput | undefined,
  stockingTimeout: Duration.DurationInput | undefined
): number => {
  let millis =
    timeout !== undefined
      ? Duration.toMillis(Duration.decode(timeout))
      : // 0 is Node's "its own default": ours instead.
        secure.handshakeTimeout || Duration.toMillis(DEFAULT_TLS_HANDSHAKE_TIMEOUT)
  // The Stocking handshake comes after the TLS one: a `handshakeTimeout` shorter than this bounds the TLS handshake too.
  if (stockingTimeout !== undefined) millis = Math.min(millis, Duration.toMillis(Duration.decode(stockingTimeout)))
  // Node takes 0 for its default and warns past 2^31 - 1 ms: "infinite" is the longest it allows.
  return Math.min(MAX_TIMER, Math.max(1, Math.ceil(millis)))
}

/** A listen failure, as a `ServerError` of `reason`. */
const listenError = (
  target: Server.ListenTarget,
  reason: Server.ServerError["reason"],
  cause: unknown
): Server.ServerError => new Server.ServerError({ reason, address: describe(target), cause })

/** `server.listen` once; fails with the listen error, leaving the server ready for another try. */
const bind = (
  server: net.Server,
  where: { readonly path: string } | { readonly port: number; readonly host: string },
  backlog: number
): Effect.Effect<void, Error> =>
  Effect.async<void, Error>((resume) => {
    const onError = (cause: Error) => {
      server.off("listening", onListening)
      resume(Effect.fail(cause))
    }
    const onListening = () => {
      server.off("error", onError)
      resume(Effect.void)
    }
    server.once("error", onError)
    server.once("listening", onListening)
    server.listen({ ...where, backlog })
    return Effect.sync(() => {
      server.off("error", onError)
      server.off("listening", onListening)
    })
  })

const isAddressInUse = (cause: Error): boolean => "code" in cause && cause.code === "EADDRINUSE"

/**
 * Gives the socket file at `temporary` the name `socketPath`, as `bind`
 * would have: never over a live server or a file that is not a socket, and
 * over a stale socket file only with `removeStale`. A hard link fails when
 * the name is taken, so there is no window between the check and the move.
 */
const placeSocket = (
  target: Extract<Server.ListenTarget, { path: string }>,
  temporary: string
): Effect.Effect<void, Server.ServerError> =>
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

const foundError = (target: Server.ListenTarget, found: unix.Found): Server.ServerError =>
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
const listenUnix = (
  server: net.Server,
  target: Extract<Server.ListenTarget, { path: string }>,
  backlog: number
): Effect.Effect<() => void, Server.ServerError> =>
  Effect.gen(function* () {
    const socketPath = target.path
    if (!unix.isFilePath(socketPath)) {
      yield* Effect.mapError(bind(server, { path: socketPath }, backlog), (cause) =>
        listenError(target, "Listen", cause)
      )
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
        const bound = yield* Effect.either(bind(server, { path: socketPath }, backlog))
        if (bound._tag === "Right") return () => {}
        if (!isAddressInUse(bound.left)) return yield* Effect.fail(listenError(target, "Listen", bound.left))
        const found = yield* unix.probe(socketPath)
        if (found._tag === "Stale" && target.removeStale === true) fs.rmSync(socketPath, { force: true })
        else if (found._tag !== "Nothing") return yield* Effect.fail(foundError(target, found))
      }
      return yield* Effect.fail(foundError(target, { _tag: "Live" }))
    }
    const mode = target.mode
    const directory = yield* Effect.try({
      try: () => fs.mkdtempSync(path.join(path.dirname(socketPath), ".stocking-")),
      catch: (cause) => listenError(target, "Listen", cause)
    })
    const temporary = path.join(directory, "s")
    return yield* Effect.gen(function* () {
      const temporaryTooLong = unix.tooLong(temporary)
      if (temporaryTooLong !== undefined) {
        const reason = `with mode, the socket is first bound in ${directory}, and ${temporaryTooLong.replace(/^the socket path/, "that path")}`
        return yield* Effect.fail(listenError(target, "PathTooLong", new Error(reason)))
      }
      yield* Effect.mapError(bind(server, { path: temporary }, backlog), (cause) =>
        listenError(target, "Listen", cause)
      )
      yield* Effect.try({
        try: () => fs.chmodSync(temporary, mode),
        catch: (cause) => listenError(target, "Listen", cause)
      })
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
  Effect.async<void>((resume) => {
    server.close(() => resume(Effect.void))
  })

const listen = (
  target: Server.ListenTarget,
  secure: tls.TlsOptions | undefined,
  handshakeTimeout: Duration.DurationInput | undefined,
  stockingHandshakeTimeout: Duration.DurationInput | undefined,
  maxConnections: number
): Effect.Effect<net.Server, Server.ServerError, Scope.Scope> =>
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
        const listening =
          "path" in target
            ? listenUnix(server, target, backlog)
            : Effect.as(
                Effect.mapError(
                  bind(server, { port: target.port, host: target.host ?? "127.0.0.1" }, backlog),
                  (cause) => listenError(target, "Listen", cause)
                ),
                () => {}
              )
        return Effect.map(
          Effect.tapErrorCause(listening, () => Effect.sync(() => server.close())),
          (removeSocketFile) => ({ server, removeSocketFile })
        )
      }),
      ({ removeSocketFile, server }) => Effect.zipRight(closeServer(server), Effect.sync(removeSocketFile))
    ),
    ({ server }) => server
  )

const boundAddress = (server: net.Server, target: Server.ListenTarget): Stocking.Address => {
  // The path asked for: with `mode`, the socket was bound under another name and then given this one.
  if ("path" in target) return { _tag: "Unix", path: target.path }
  const address = server.address()
  if (typeof address === "string") return { _tag: "Unix", path: address }
  return { _tag: "Tcp", address: address!.address, port: address!.port, family: address!.family }
}

/** The Stocking settings inside server options: everything but where to listen and TLS. */
const settingsOf = <I, O, E, EH, RH>(options: Server.Options<I, O, E, EH, RH>): Stocking.Settings<I, O, E, EH, RH> => {
  const {
    backlog: _backlog,
    maxConnections: _maxConnections,
    maxTotalBytes: _maxTotalBytes,
    host: _host,
    mode: _mode,
    path: _path,
    port: _port,
    removeStale: _removeStale,
    tls: _tls,
    tlsHandshakeTimeout: _tlsHandshakeTimeout,
    ...settings
  } = options as Server.Options<I, O, E, EH, RH> & {
    host?: unknown
    mode?: unknown
    path?: unknown
    port?: unknown
    removeStale?: unknown
  }
  return settings
}

/**
 * A running `serve`: forks its handler for a connection (open, past its
 * handshake), which runs `release` at the end.
 */
interface Serving<I, O, E> {
  readonly handle: (connection: Stocking.Stocking<I, O, E>, release: Effect.Effect<void>) => void
}

/**
 * The backend a server's connections get when they can be made in the
 * listener's callback, with no Effect run (no handshake to wait for, no
 * tracer to report the accept to): the one provided, or the one `Auto`
 * picks when that needs no configuration. `undefined`: a fiber per
 * connection makes it, as `Stocking.make` does.
 */
const immediateBackend = (
  options: { readonly handshake?: unknown },
  provided: Option.Option<Backend.Backend>,
  tracer: Tracer.Tracer
): Backend.Backend | undefined => {
  if (options.handshake !== undefined || tracer !== nativeTracer) return undefined
  if (Option.isSome(provided)) return provided.value
  return Auto.supportsReadiness() ? Poll.backend : undefined
}

/**
 * A `serve` handler: its failure is logged, its connection closing (or its
 * interruption) is the normal end of a connection.
 */
const guarded = <I, O, E, X, R>(
  handler: (s: Stocking.Stocking<I, O, E>) => Effect.Effect<void, X, R>,
  connection: Stocking.Stocking<I, O, E>
): Effect.Effect<void, never, R> =>
  Effect.catchAllCause(handler(connection), (cause) =>
    Option.exists(Cause.failureOption(cause), (error) => error instanceof Closed) || Cause.isInterruptedOnly(cause)
      ? Effect.void
      : Effect.logWarning("Stocking handler failed; closing its connection", cause).pipe(
          Effect.annotateLogs({ stockingId: connection.id })
        )
  )

/** Effect's own tracer, which records nothing: the one in place unless a program installs another. */
const nativeTracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)

/**
 * The `stocking.accept` span around taking a connection, made only when a
 * tracer that records spans is installed: with Effect's own, a span per
 * connection costs a clock read, the peer's address as a string and the
 * span's objects, for nothing anyone can see.
 */
const acceptSpan = <A, E, R>(effect: Effect.Effect<A, E, R>, socket: net.Socket): Effect.Effect<A, E, R> =>
  Effect.tracerWith((tracer) =>
    tracer === nativeTracer
      ? effect
      : Effect.withSpan(effect, "stocking.accept", {
          attributes: { "net.peer": `${socket.remoteAddress}:${socket.remotePort}` },
          // No stack trace: it would be captured for every connection.
          captureStackTrace: false
        })
  )

/** @internal */
export const make = <I, O, E, EH, RH>(
  options: Server.Options<I, O, E, EH, RH>
): Effect.Effect<Server.Server<I, O, E>, Server.ServerError, Scope.Scope | RH> =>
  Effect.gen(function* () {
    const max = options.maxConnections ?? Server.DEFAULT_MAX_CONNECTIONS
    if (!(Number.isSafeInteger(max) && max >= 1)) {
      // A programming error, like a negative port: a defect that says what was given.
      return yield* Effect.die(new RangeError(`maxConnections must be a positive integer, got ${max}`))
    }
    const mode = "path" in options ? options.mode : undefined
    if (mode !== undefined && !(Number.isInteger(mode) && mode >= 0 && mode <= 0o777)) {
      return yield* Effect.die(
        new RangeError(`mode must be a file mode from 0 to 0o777 (511), got ${mode} (write it in octal: 0o600)`)
      )
    }
    const serverScope = yield* Effect.scope
    const mailbox = yield* Mailbox.make<Stocking.Stocking<I, O, E>>()
    yield* Effect.addFinalizer(() => mailbox.shutdown)
    // Connection fibers live in this set, itself in the server's scope.
    const fibers = yield* FiberSet.make()
    const run = yield* FiberSet.runtime(fibers)<RH>()
    // The runtime the connections' read and send loops are forked with.
    const runtime = yield* Effect.runtime<never>()
    const server = yield* listen(options, options.tls, options.tlsHandshakeTimeout, options.handshakeTimeout, max)
    const settings = settingsOf(options)
    // One byte budget for every connection of this server (see budget.ts).
    const budget = new Budget(options.maxTotalBytes ?? Server.DEFAULT_MAX_TOTAL_BYTES, Server.CONNECTION_ALLOWANCE)

    // The `serve` calls running now. While one runs, a connection goes
    // straight to its handler (`Serving`), not through the Mailbox.
    const serving: Array<Serving<I, O, E>> = []

    /**
     * Hands a connection, open and past its handshake, to a running `serve`,
     * or else to whoever reads `connections`; `release` lets it go.
     */
    const deliver = (connection: Stocking.Stocking<I, O, E>, release: Effect.Effect<void>): void => {
      const direct = serving[0]
      if (direct !== undefined) return direct.handle(connection, release)
      if (!mailbox.unsafeOffer(connection)) {
        run(release)
        return
      }
      // Release the connection once nothing of it is wanted: closed and read
      // to its end, or closed by its user (a `serve` handler's end closes
      // it). A hook on the connection, not a fiber per connection.
      stocking.unsafeOnReleasable(connection, () => run(Effect.zipRight(Effect.yieldNow(), release)))
    }

    /**
     * With a handshake to run, or a tracer to report the accept to, a fiber
     * per connection takes it: the Stocking is made in a scope of its own
     * inside the server's, and delivered once its handshake has succeeded;
     * one that fails it is closed without ever reaching the consumer, and
     * let go at once.
     */
    const accept = (socket: net.Socket): Effect.Effect<void, never, RH> =>
      Effect.gen(function* () {
        const scope = yield* Scope.fork(serverScope, { _tag: "Sequential" })
        const exit = yield* stocking
          .makeWithRole<I, O, E, EH, RH>({ ...settings, socket }, "server", budget)
          .pipe(Scope.extend(scope), (make) => acceptSpan(make, socket), Effect.exit)
        if (Exit.isFailure(exit)) {
          yield* Scope.close(scope, exit)
          return
        }
        const connection = exit.value
        const ready = yield* Effect.exit(connection.ready)
        if (Exit.isFailure(ready)) {
          yield* Scope.close(scope, Exit.void)
          return
        }
        deliver(connection, Scope.close(scope, Exit.void))
      })

    // Otherwise (the common case) a connection is made in the listener's
    // callback, with no Effect run: no fiber of its own, no scope. The
    // releases of those still open; the server's scope runs them (before it
    // stops listening, as it would close their scopes), and refuses
    // connections from then on.
    const unscoped = new Set<Effect.Effect<void>>()
    let closing = false
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        closing = true
        const open = Array.from(unscoped).reverse()
        unscoped.clear()
        return Effect.forEach(open, (release) => release, { discard: true })
      })
    )
    const acceptNow = (socket: net.Socket, backend: Backend.Backend): void => {
      if (closing) {
        socket.destroy()
        return
      }
      const made = stocking.unsafeAccept<I, O, E, EH, RH>({ ...settings, socket }, socket, budget, runtime, backend)
      if (made === undefined) return
      let released = false
      const release: Effect.Effect<void> = Effect.suspend(() => {
        if (released) return Effect.void
        released = true
        unscoped.delete(release)
        return made.release
      })
      unscoped.add(release)
      deliver(made.stocking, release)
    }
    const now = immediateBackend(options, yield* Effect.serviceOption(BackendTag.Backend), yield* Effect.tracer)
    const onSocket =
      now === undefined
        ? (socket: net.Socket) => void run(accept(socket))
        : (socket: net.Socket) => acceptNow(socket, now)

    if (options.tls === undefined) {
      server.on("connection", onSocket)
    } else {
      server.on("secureConnection", onSocket)
      // A client that fails the TLS handshake, or does not finish it within
      // the handshake timeout, never becomes a connection: drop its socket.
      server.on("tlsClientError", (_error, socket) => socket.destroy())
    }

    const connections = Mailbox.toStream(mailbox)
    const serve = <X, R>(handler: (s: Stocking.Stocking<I, O, E>) => Effect.Effect<void, X, R>) =>
      Effect.gen(function* () {
        const handlers = yield* FiberSet.make<void, never>()
        // Forks with this fiber's context (R), log annotations and tracer, as a child of it would have.
        const runHandler = yield* FiberSet.runtime(handlers)<R>()
        const entry: Serving<I, O, E> = {
          // The handler's fiber releases the connection once the handler and the close are done.
          handle: (connection, release) =>
            void runHandler(Effect.ensuring(guarded(handler, connection), Effect.zipRight(connection.close, release)))
        }
        serving.push(entry)
        // Before `handlers` closes: no connection is handed to this `serve` once it has begun to stop.
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            const index = serving.indexOf(entry)
            if (index >= 0) serving.splice(index, 1)
          })
        )
        // Connections accepted while no `serve` ran wait in the Mailbox.
        yield* Stream.runForEach(connections, (connection) =>
          FiberSet.run(handlers, Effect.ensuring(guarded(handler, connection), connection.close))
        )
        return yield* Effect.never
      }).pipe(Effect.scoped)

    const address = boundAddress(server, options)
    return { address, port: address._tag === "Tcp" ? address.port : 0, connections, serve }
  })

/**
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberSet from "effect/FiberSet"
import * as Mailbox from "effect/Mailbox"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import * as net from "node:net"
import * as Server from "./serverApi.js"
import * as Auto from "./auto.js"
import type * as Backend from "./backend.js"
import * as BackendTag from "./backendTag.js"
import * as Poll from "./poll.js"

import type * as Stocking from "../Stocking.js"
import { Closed } from "./stockingError.js"
import { Budget } from "./budget.js"
import * as stocking from "./stocking.js"
import * as listener from "./listener.js"

/** @internal */
export const DEFAULT_BACKLOG = listener.DEFAULT_BACKLOG

/** @internal */
export const DEFAULT_TLS_HANDSHAKE_TIMEOUT = listener.DEFAULT_TLS_HANDSHAKE_TIMEOUT

/** The Stocking settings inside server options: everything but where to listen and TLS. */
const settingsOf = <I, O, E, EH, RH>(options: Server.Options<I, O, E, EH, RH>): Stocking.Settings<I, O, E, EH, RH> =>
  listener.settingsOf(options) as Stocking.Settings<I, O, E, EH, RH>

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
    const invalid = listener.checkLimits(max, "path" in options ? options.mode : undefined)
    // A programming error, like a negative port: a defect that says what was given.
    if (invalid !== undefined) return yield* Effect.die(invalid)
    const serverScope = yield* Effect.scope
    const mailbox = yield* Mailbox.make<Stocking.Stocking<I, O, E>>()
    yield* Effect.addFinalizer(() => mailbox.shutdown)
    // Connection fibers live in this set, itself in the server's scope.
    const fibers = yield* FiberSet.make()
    const run = yield* FiberSet.runtime(fibers)<RH>()
    // The runtime the connections' read and send loops are forked with.
    const runtime = yield* Effect.runtime<never>()
    const server = yield* listener.listen(
      options,
      options.tls,
      options.tlsHandshakeTimeout,
      options.handshakeTimeout,
      max
    )
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

    const address = listener.boundAddress(server, options)
    return { address, port: address._tag === "Tcp" ? address.port : 0, connections, serve }
  })

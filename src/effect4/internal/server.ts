/**
 * The Effect 4 line's server: listens (`listener.ts`, shared with the
 * Effect 3 line), wraps each accepted socket in a Stocking in a scope of its
 * own, and hands it, once past its handshake, to `serve` or `connections`.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberSet from "effect/FiberSet"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as net from "node:net"
import { Budget } from "../../internal/budget.js"
import * as fx from "../../internal/fx.js"
import * as listener from "../../internal/listener.js"
import { Closed } from "../../internal/stockingError.js"
import type * as Server from "../Server.js"
import type * as Stocking from "../Stocking.js"
import * as stocking from "./stocking.js"

/**
 * A `serve` handler: its failure is logged, its connection closing (or its
 * interruption) is the normal end of a connection.
 */
const guarded = <I, O, E, X, R>(
  handler: (s: Stocking.Stocking<I, O, E>) => Effect.Effect<void, X, R>,
  connection: Stocking.Stocking<I, O, E>
): Effect.Effect<void, never, R> =>
  Effect.catchCause(handler(connection), (cause) =>
    Option.exists(Cause.findErrorOption(cause), (error) => error instanceof Closed) || Cause.hasInterruptsOnly(cause)
      ? Effect.void
      : Effect.logWarning("Stocking handler failed; closing its connection", cause).pipe(
          Effect.annotateLogs({ stockingId: connection.id })
        )
  )

/** @internal */
export const make = <I, O, E, EH, RH>(
  options: Server.Options<I, O, E, EH, RH>
): Effect.Effect<Server.Server<I, O, E>, listener.ServerError, Scope.Scope | RH> =>
  Effect.gen(function* () {
    const max = options.maxConnections ?? listener.DEFAULT_MAX_CONNECTIONS
    const invalid = listener.checkLimits(max, "path" in options ? options.mode : undefined)
    // A programming error, like a negative port: a defect that says what was given.
    if (invalid !== undefined) return yield* Effect.die(invalid)
    const serverScope = yield* Effect.scope

    // The server's scope closes, in this order (the reverse of the
    // registrations below): no connection is accepted any more, the fibers
    // making connections are interrupted, every connection is closed
    // gracefully (all at once), the sockets still open are destroyed, the
    // server stops listening, and `connections` ends.

    // Connections not yet taken by `connections` or `serve`.
    const queue = yield* Queue.unbounded<Stocking.Stocking<I, O, E>, Cause.Done>()
    yield* Effect.addFinalizer(() => Queue.end(queue))
    const server = yield* listener.listen(
      options,
      options.tls,
      options.tlsHandshakeTimeout,
      options.handshakeTimeout,
      max
    )
    // Every socket accepted and not yet closed (under TLS, the TCP socket,
    // from its first byte): none is left for the server to wait on.
    const sockets = new Set<net.Socket>()
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        for (const socket of sockets) socket.destroy()
        sockets.clear()
      })
    )
    // Each connection's scope is a child of this one.
    const connectionScopes = yield* Scope.fork(serverScope, "parallel")
    // The fibers that make connections and release them.
    const fibers = yield* FiberSet.make<void, never>()
    const run = yield* FiberSet.runtime(fibers)<RH>()
    let closing = false
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        closing = true
      })
    )

    const settings = listener.settingsOf(options)
    // One byte budget for every connection of this server (see budget.ts).
    const budget = new Budget(options.maxTotalBytes ?? listener.DEFAULT_MAX_TOTAL_BYTES, listener.CONNECTION_ALLOWANCE)

    /**
     * Makes the Stocking over `socket` in a scope of its own (in a
     * `stocking.accept` span), and delivers it once its handshake has
     * succeeded; one that fails it is closed without ever reaching a
     * consumer. A delivered connection's scope is
     * closed once nothing of it is wanted: closed and read to its end, or
     * closed by its user (`serve` closes it when its handler ends).
     */
    const accept = (socket: net.Socket): Effect.Effect<void, never, RH> =>
      Effect.gen(function* () {
        const scope = yield* Scope.fork(connectionScopes, "sequential")
        const made = yield* stocking.makeWithRole<I, O, E, EH, RH>({ ...settings, socket }, "server", budget).pipe(
          Effect.tap((connection) => connection.ready),
          Effect.withSpan(
            "stocking.accept",
            { attributes: { "net.peer": `${socket.remoteAddress}:${socket.remotePort}` } },
            // No stack trace: it would be captured for every connection.
            { captureStackTrace: false }
          ),
          Scope.provide(scope),
          Effect.exit
        )
        if (Exit.isFailure(made)) return yield* Scope.close(scope, Exit.void)
        const connection = made.value
        // Before it is delivered: its consumer may let it go at once (and the hook then runs at once).
        stocking.unsafeOnReleasable(connection, () => {
          run(Effect.andThen(fx.yieldNow, Scope.close(scope, Exit.void)))
        })
        if (!Queue.offerUnsafe(queue, connection)) yield* Scope.close(scope, Exit.void)
      })

    const track = (socket: net.Socket): void => {
      if (closing) {
        socket.destroy()
        return
      }
      sockets.add(socket)
      socket.once("close", () => sockets.delete(socket))
    }
    const onSocket = (socket: net.Socket): void => {
      if (closing || socket.destroyed) socket.destroy()
      else run(accept(socket))
    }
    // Under TLS, "connection" is the TCP socket, before its TLS handshake.
    server.on("connection", track)
    if (options.tls === undefined) {
      server.on("connection", onSocket)
    } else {
      server.on("secureConnection", onSocket)
      // A client that fails the TLS handshake, or does not finish it within
      // the handshake timeout, never becomes a connection: drop its socket.
      server.on("tlsClientError", (_error, socket) => socket.destroy())
    }

    const connections: Stream.Stream<Stocking.Stocking<I, O, E>> = Stream.fromQueue(queue)

    const serve = <X, R>(
      handler: (s: Stocking.Stocking<I, O, E>) => Effect.Effect<void, X, R>
    ): Effect.Effect<never, never, R> =>
      Effect.scoped(
        Effect.gen(function* () {
          // Each handler in a fiber of its own, interrupted when `serve` is.
          const handlers = yield* FiberSet.make<void, never>()
          yield* Stream.runForEach(connections, (connection) =>
            FiberSet.run(handlers, Effect.ensuring(guarded(handler, connection), connection.close))
          )
          // The server has closed: nothing more will come.
          return yield* Effect.never
        })
      )

    const address = listener.boundAddress(server, options)
    return { address, port: address._tag === "Tcp" ? address.port : 0, connections, serve }
  })

/**
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberSet from "effect/FiberSet"
import * as Mailbox from "effect/Mailbox"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as net from "node:net"
import * as tls from "node:tls"
import * as Server from "./serverApi.js"

import type * as Stocking from "../Stocking.js"
import { Closed } from "./stockingError.js"
import { Budget } from "./budget.js"
import * as stocking from "./stocking.js"

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

const listen = (
  target: Server.ListenTarget,
  secure: tls.TlsOptions | undefined,
  handshakeTimeout: Duration.DurationInput | undefined,
  stockingHandshakeTimeout: Duration.DurationInput | undefined,
  maxConnections: number
): Effect.Effect<net.Server, Server.ServerError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<net.Server, Server.ServerError>((resume) => {
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
      const onError = (cause: Error) => {
        server.close()
        resume(Effect.fail(new Server.ServerError({ reason: "Listen", address: describe(target), cause })))
      }
      server.once("error", onError)
      const onListening = () => {
        server.off("error", onError)
        resume(Effect.succeed(server))
      }
      const backlog = target.backlog ?? DEFAULT_BACKLOG
      if ("path" in target) server.listen({ path: target.path, backlog }, onListening)
      else server.listen({ port: target.port, host: target.host ?? "127.0.0.1", backlog }, onListening)
      return Effect.sync(() => server.close())
    }),
    (server) =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
      })
  )

const boundAddress = (server: net.Server): Server.BoundAddress => {
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
    path: _path,
    port: _port,
    tls: _tls,
    tlsHandshakeTimeout: _tlsHandshakeTimeout,
    ...settings
  } = options as Server.Options<I, O, E, EH, RH> & { host?: unknown; path?: unknown; port?: unknown }
  return settings
}

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
    const serverScope = yield* Effect.scope
    const mailbox = yield* Mailbox.make<Stocking.Stocking<I, O, E>>()
    yield* Effect.addFinalizer(() => mailbox.shutdown)
    // Connection fibers live in this set, itself in the server's scope.
    const fibers = yield* FiberSet.make()
    const run = yield* FiberSet.runtime(fibers)<RH>()
    const server = yield* listen(options, options.tls, options.tlsHandshakeTimeout, options.handshakeTimeout, max)
    const settings = settingsOf(options)
    // One byte budget for every connection of this server (see budget.ts).
    const budget = new Budget(options.maxTotalBytes ?? Server.DEFAULT_MAX_TOTAL_BYTES, Server.CONNECTION_ALLOWANCE)

    const accept = (socket: net.Socket): Effect.Effect<void, never, RH> =>
      Effect.gen(function* () {
        const scope = yield* Scope.fork(serverScope, { _tag: "Sequential" })
        const exit = yield* stocking.makeWithRole<I, O, E, EH, RH>({ ...settings, socket }, "server", budget).pipe(
          Scope.extend(scope),
          // No stack trace: it would be captured for every connection, tracer or not.
          Effect.withSpan("stocking.accept", {
            attributes: { "net.peer": `${socket.remoteAddress}:${socket.remotePort}` },
            captureStackTrace: false
          }),
          Effect.exit
        )
        if (Exit.isFailure(exit)) {
          yield* Scope.close(scope, exit)
          return
        }
        const connection = exit.value
        // Delivered once its handshake has succeeded; one that fails it is
        // closed without ever reaching the consumer, and let go at once.
        const ready = yield* Effect.exit(connection.ready)
        if (Exit.isFailure(ready) || !mailbox.unsafeOffer(connection)) {
          yield* Scope.close(scope, Exit.void)
          return
        }
        // Release the connection's scope once nothing of it is wanted: closed
        // and read to its end, or closed by its user (a `serve` handler's end
        // closes it). A hook on the connection, not a fiber per connection.
        stocking.unsafeOnReleasable(connection, () =>
          run(Effect.zipRight(Effect.yieldNow(), Scope.close(scope, Exit.void)))
        )
      })

    if (options.tls === undefined) {
      server.on("connection", (socket: net.Socket) => run(accept(socket)))
    } else {
      server.on("secureConnection", (socket: tls.TLSSocket) => run(accept(socket)))
      // A client that fails the TLS handshake, or does not finish it within
      // the handshake timeout, never becomes a connection: drop its socket.
      server.on("tlsClientError", (_error, socket) => socket.destroy())
    }

    const connections = Mailbox.toStream(mailbox)
    const serve = <X, R>(handler: (s: Stocking.Stocking<I, O, E>) => Effect.Effect<void, X, R>) =>
      Effect.flatMap(FiberSet.make<void, never>(), (handlers) =>
        Stream.runForEach(connections, (connection) =>
          FiberSet.run(
            handlers,
            handler(connection).pipe(
              Effect.catchAllCause((cause) =>
                // A handler ending because its connection closed is the normal end of a connection.
                Option.exists(Cause.failureOption(cause), (error) => error instanceof Closed) ||
                Cause.isInterruptedOnly(cause)
                  ? Effect.void
                  : Effect.logWarning("Stocking handler failed; closing its connection", cause).pipe(
                      Effect.annotateLogs({ stockingId: connection.id })
                    )
              ),
              Effect.ensuring(connection.close)
            )
          )
        )
      ).pipe(Effect.zipRight(Effect.never), Effect.scoped)

    const address = boundAddress(server)
    return { address, port: address._tag === "Tcp" ? address.port : 0, connections, serve }
  })

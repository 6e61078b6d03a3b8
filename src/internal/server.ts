/**
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberSet from "effect/FiberSet"
import * as Mailbox from "effect/Mailbox"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as net from "node:net"
import * as tls from "node:tls"
import type * as Server from "../Server.js"
import { ServerError } from "../Server.js"
import type * as Stocking from "../Stocking.js"
import { Closed } from "../Stocking.js"
import * as stocking from "./stocking.js"

const describe = (target: Server.ListenTarget): string =>
  "path" in target ? target.path : `${target.host ?? "127.0.0.1"}:${target.port}`

const listen = (
  target: Server.ListenTarget,
  secure: tls.TlsOptions | undefined
): Effect.Effect<net.Server, ServerError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<net.Server, ServerError>((resume) => {
      const server =
        secure === undefined
          ? net.createServer({ allowHalfOpen: true })
          : // No half-open TLS: with it, the TCP socket under a failed TLS handshake is never closed.
            tls.createServer({ ...secure, allowHalfOpen: false })
      const onError = (cause: Error) => {
        server.close()
        resume(Effect.fail(new ServerError({ reason: "Listen", address: describe(target), cause })))
      }
      server.once("error", onError)
      const onListening = () => {
        server.off("error", onError)
        resume(Effect.succeed(server))
      }
      if ("path" in target) server.listen({ path: target.path, backlog: target.backlog }, onListening)
      else server.listen({ port: target.port, host: target.host ?? "127.0.0.1", backlog: target.backlog }, onListening)
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
    host: _host,
    path: _path,
    port: _port,
    tls: _tls,
    ...settings
  } = options as Server.Options<I, O, E, EH, RH> & { host?: unknown; path?: unknown; port?: unknown }
  return settings
}

/** @internal */
export const make = <I, O, E, EH, RH>(
  options: Server.Options<I, O, E, EH, RH>
): Effect.Effect<Server.Server<I, O, E>, ServerError, Scope.Scope | RH> =>
  Effect.gen(function* () {
    const serverScope = yield* Effect.scope
    const mailbox = yield* Mailbox.make<Stocking.Stocking<I, O, E>>()
    yield* Effect.addFinalizer(() => mailbox.shutdown)
    // Connection fibers live in this set, itself in the server's scope.
    const fibers = yield* FiberSet.make()
    const run = yield* FiberSet.runtime(fibers)<RH>()
    const server = yield* listen(options, options.tls)
    const settings = settingsOf(options)

    const accept = (socket: net.Socket): Effect.Effect<void, never, RH> =>
      Effect.gen(function* () {
        const scope = yield* Scope.fork(serverScope, { _tag: "Sequential" })
        const exit = yield* stocking.makeWithRole<I, O, E, EH, RH>({ ...settings, socket }, "server").pipe(
          Scope.extend(scope),
          Effect.withSpan("stocking.accept", {
            attributes: { "net.peer": `${socket.remoteAddress}:${socket.remotePort}` }
          }),
          Effect.exit
        )
        if (Exit.isFailure(exit)) {
          yield* Scope.close(scope, exit)
          return
        }
        const connection = exit.value
        // Delivered once its handshake has succeeded; one that fails it is
        // closed without ever reaching the consumer.
        const ready = yield* Effect.exit(connection.ready)
        if (Exit.isSuccess(ready)) mailbox.unsafeOffer(connection)
        // Release the connection's scope once it closes, whoever closes it: a
        // hook on the connection, not a fiber per connection waiting for it.
        stocking.unsafeOnClosing(connection, () =>
          run(Effect.zipRight(Effect.yieldNow(), Scope.close(scope, Exit.void)))
        )
      })

    if (options.tls === undefined) {
      server.on("connection", (socket: net.Socket) => run(accept(socket)))
    } else {
      server.on("secureConnection", (socket: tls.TLSSocket) => run(accept(socket)))
      // A client that fails the TLS handshake never becomes a connection: drop its socket.
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

    return { address: boundAddress(server), connections, serve }
  })

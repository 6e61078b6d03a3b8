/**
 * Shared helpers of the Effect 3 bench: everything in bench/common.ts (no
 * Effect in it), and the library-side socket pairs.
 */
import { Deferred, Effect } from "effect"
import * as net from "node:net"
import { Backend, Stocking } from "../src/node.js"

export * from "./common.js"

// ---------------------------------------------------------------------------
// Library pairs
// ---------------------------------------------------------------------------

/** A plain listening socket for the library side, closed with the scope; accepted sockets in arrival order. */
export const rawListener = (backlog = 4096) =>
  Effect.gen(function* () {
    const sockets: Array<net.Socket> = []
    const waiting: Array<Deferred.Deferred<net.Socket>> = []
    const server = yield* Effect.acquireRelease(
      Effect.async<net.Server>((resume) => {
        const server = net.createServer({ allowHalfOpen: true }, (socket) => {
          const waiter = waiting.shift()
          if (waiter) Deferred.unsafeDone(waiter, Effect.succeed(socket))
          else sockets.push(socket)
        })
        server.listen({ port: 0, host: "127.0.0.1", backlog }, () => resume(Effect.succeed(server)))
      }),
      (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
    )
    const port = (server.address() as net.AddressInfo).port
    const accepted = Effect.suspend(() => {
      const socket = sockets.shift()
      if (socket) return Effect.succeed(socket)
      const d = Deferred.unsafeMake<net.Socket>(undefined as never)
      waiting.push(d)
      return Deferred.await(d)
    })
    return { port, accepted }
  })

/**
 * Two Stockings over one loopback connection, both with `backend`: `client`
 * connected by address, `server` wrapping the accepted socket. Lives in the scope.
 */
export const stockingPair = (
  backend: Backend.Backend,
  listener?: { port: number; accepted: Effect.Effect<net.Socket> }
) =>
  Effect.gen(function* () {
    const { port, accepted } = listener ?? (yield* rawListener())
    const client = yield* Stocking.make({ host: "127.0.0.1", port }).pipe(
      Effect.provideService(Backend.Backend, backend)
    )
    const socket = yield* accepted
    const server = yield* Stocking.make({ socket }).pipe(Effect.provideService(Backend.Backend, backend))
    return { client, server }
  })

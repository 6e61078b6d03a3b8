import { Deferred, Effect, Option, Scope } from "effect"
import * as net from "node:net"
import type { Framing } from "../../src/index.js"
import { Backend, Poll, Select, Stocking } from "../../src/node.js"

/** Both backends; the select one with a short interval so tests stay quick. */
export const backends: ReadonlyArray<readonly [name: string, backend: Backend.Backend]> = [
  ["poll", Poll.backend],
  ["select", Select.make("5 millis")]
]

/** A plain TCP server on 127.0.0.1, port 0, closed with the scope; accepted sockets come through `accepted`. */
export const rawServer = Effect.gen(function* () {
  const sockets: Array<net.Socket> = []
  const waiting: Array<Deferred.Deferred<net.Socket>> = []
  const all = new Set<net.Socket>()
  const server = yield* Effect.acquireRelease(
    Effect.async<net.Server>((resume) => {
      const server = net.createServer((socket) => {
        all.add(socket)
        const waiter = waiting.shift()
        if (waiter) Deferred.unsafeDone(waiter, Effect.succeed(socket))
        else sockets.push(socket)
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.async<void>((resume) => {
        // Sockets nobody took over would keep the server from closing.
        for (const socket of all) socket.destroy()
        server.close(() => resume(Effect.void))
      })
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
 * A plain client socket connected to `port`, destroyed with the scope. A
 * Stocking that refuses what it sends resets the connection: the reset is
 * the expected answer, not a crash of the test run.
 */
export const rawClient = (port: number) =>
  Effect.acquireRelease(
    Effect.async<net.Socket>((resume) => {
      const socket = net.createConnection({ port, host: "127.0.0.1" }, () => resume(Effect.succeed(socket)))
      socket.on("error", () => {})
    }),
    (socket) => Effect.sync(() => socket.destroy())
  )

/** Collects everything a raw socket receives. */
export const collect = (socket: net.Socket) => {
  const chunks: Array<Buffer> = []
  socket.on("data", (chunk: Buffer) => chunks.push(chunk))
  return {
    chunks,
    bytes: () => Buffer.concat(chunks),
    decoded: (decoder: Framing.Decoder) => decoder.push(Buffer.concat(chunks))
  }
}

export interface PairOptions<I, O, E> {
  readonly client?: Stocking.Settings<I, O, E, any, never>
  readonly server?: Stocking.Settings<I, O, E, any, never>
}

/**
 * Two Stockings over one loopback connection: `client` connected by address
 * with `clientBackend`, `server` wrapping the accepted socket with `serverBackend`.
 */
export const pair = <I = Framing.Message, O = Framing.Message, E = never>(
  clientBackend: Backend.Backend,
  serverBackend: Backend.Backend,
  options: PairOptions<I, O, E> = {}
) =>
  Effect.gen(function* () {
    const { port, accepted } = yield* rawServer
    const client = yield* Stocking.make<I, O, E, any, never>({ host: "127.0.0.1", port, ...options.client }).pipe(
      Effect.provideService(Backend.Backend, clientBackend)
    )
    const socket = yield* accepted
    const server = yield* Stocking.make<I, O, E, any, never>({ socket, ...options.server }).pipe(
      Effect.provideService(Backend.Backend, serverBackend)
    )
    return { client, server, port }
  })

/** A scope of its own, for tests that close a Stocking's scope by hand. */
export const withOwnScope = Effect.gen(function* () {
  const scope = yield* Scope.make()
  return scope
})

export const some = <A>(o: Option.Option<A>): A => Option.getOrThrow(o)

/** A Stocking with the given backend in context. */
export const stockingWith = (
  backend: Backend.Backend,
  options: Stocking.Options<Framing.Message, Framing.Message, never, unknown, never>
) => Stocking.make(options).pipe(Effect.provideService(Backend.Backend, backend))

/**
 * A plain socket (`peer`) connected to a Stocking (`stocking`) that wraps the accepted end: for tests that put
 * exact bytes on the wire, or read them off it.
 */
export const rawPeer = (
  backend: Backend.Backend,
  settings: Stocking.Settings<Framing.Message, Framing.Message, never, unknown, never> = {}
) =>
  Effect.gen(function* () {
    const { port, accepted } = yield* rawServer
    const peer = yield* rawClient(port)
    const stocking = yield* stockingWith(backend, { socket: yield* accepted, ...settings })
    return { peer, stocking, port }
  })

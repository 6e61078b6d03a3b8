/**
 * Connections made the way users make them: the server side from `Server.make` (through `serve`, `connections`
 * or `Server.layerServe`), the client side from `Stocking.make`, over TCP, a Unix socket or TLS, on a given
 * backend. Plus raw peers (plain `node:net` / `node:tls` sockets writing the wire format by hand) for tests that
 * must close or reset a connection in ways a Stocking never does.
 */
import { Deferred, Effect, Layer, Queue, Stream } from "effect"
import type { Duration, Scope } from "effect"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import * as tls from "node:tls"
import { Framing } from "../../src/index.js"
import { Backend, Server, Stocking } from "../../src/node.js"
import { makeCerts } from "./certs.js"

export type Transport = "tcp" | "unix" | "tls"

/** How the server side is obtained: `server.serve`, `server.connections`, or `Server.layerServe`. */
export type Via = "serve" | "connections" | "layerServe"

export const transports: ReadonlyArray<Transport> = ["tcp", "unix", "tls"]
export const vias: ReadonlyArray<Via> = ["serve", "connections"]

/** What `Server.make` takes besides where to listen and TLS. */
export type ServerSettings = Omit<Stocking.Settings, "connectTimeout" | "retry" | "tls"> & {
  readonly maxConnections?: number | undefined
  readonly maxTotalBytes?: number | undefined
  readonly tlsHandshakeTimeout?: Duration.DurationInput | undefined
}

/** What `Stocking.make` takes besides the target and TLS (both set by the helper). */
export type ClientSettings = Omit<Stocking.Settings, "tls">

export interface Certs {
  readonly ca: Buffer
  readonly cert: Buffer
  readonly key: Buffer
}

let cachedCerts: Certs | undefined

/** A throwaway CA and server certificate, made once per test file (openssl runs a few times). */
export const testCerts: Effect.Effect<Certs> = Effect.suspend(() =>
  cachedCerts !== undefined
    ? Effect.succeed(cachedCerts)
    : Effect.map(Effect.scoped(makeCerts), ({ ca, cert, key }) => (cachedCerts = { ca, cert, key }))
)

/** A temp dir, removed with the scope. */
export const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "stockings-srv-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

/** A TCP port that was free a moment ago (for `Server.layerServe`, which does not tell its port). */
export const freePort: Effect.Effect<number> = Effect.async<number>((resume) => {
  const probe = net.createServer()
  probe.listen(0, "127.0.0.1", () => {
    const port = (probe.address() as net.AddressInfo).port
    probe.close(() => resume(Effect.succeed(port)))
  })
})

export type Address = { readonly _tag: "Tcp"; readonly port: number } | { readonly _tag: "Unix"; readonly path: string }

export interface ListenOptions {
  readonly transport: Transport
  readonly via: Via
  readonly server?: ServerSettings | undefined
  /**
   * What runs for each connection. Default: the connection is handed out through `accepted`, and (with `serve`
   * and `layerServe`) the handler then stays alive until `release` or the end of the scope, so the connection's
   * scope is not released under the test. With `connections`, each delivered connection runs it in a fiber of the
   * test's scope, and is closed when it ends.
   */
  readonly handler?: ((stocking: Stocking.Stocking) => Effect.Effect<void, unknown>) | undefined
}

export interface Listening {
  readonly transport: Transport
  readonly via: Via
  readonly address: Address
  /** With TLS, the certificates the server uses (for raw TLS peers). */
  readonly certs: Certs | undefined
  /** A client, made by `Stocking.make` in the current scope with the same backend. */
  readonly connect: (settings?: ClientSettings) => Effect.Effect<Stocking.Stocking, Stocking.ConnectError, Scope.Scope>
  /** The server side of the next connection, in the order they were delivered (default handler only). */
  readonly accepted: Effect.Effect<Stocking.Stocking>
  /** Lets every default `serve` handler return (their connections then close). */
  readonly release: Effect.Effect<void>
}

/** A server made by `Server.make` (or `Server.layerServe`) in the current scope, with `backend` in context. */
export const listen = (
  backend: Backend.Backend,
  options: ListenOptions
): Effect.Effect<Listening, Server.ServerError, Scope.Scope> =>
  Effect.gen(function* () {
    const { transport, via } = options
    const certs = transport === "tls" ? yield* testCerts : undefined
    const queue = yield* Queue.unbounded<Stocking.Stocking>()
    const released = yield* Deferred.make<void>()
    const handler =
      options.handler ??
      ((stocking: Stocking.Stocking) => Effect.zipRight(Queue.offer(queue, stocking), Deferred.await(released)))
    const settings = options.server ?? {}
    const secure = certs === undefined ? {} : { tls: { key: certs.key, cert: certs.cert } }
    const fixed: Address | undefined =
      transport === "unix"
        ? { _tag: "Unix", path: path.join(yield* tempDir, "s.sock") }
        : via === "layerServe"
          ? { _tag: "Tcp", port: yield* freePort }
          : undefined
    const target =
      fixed === undefined
        ? { port: 0, host: "127.0.0.1" }
        : fixed._tag === "Unix"
          ? { path: fixed.path }
          : { port: fixed.port, host: "127.0.0.1" }
    const serverOptions: Server.Options = { ...target, ...settings, ...secure }
    let address: Address
    if (via === "layerServe") {
      yield* Layer.build(
        Server.layerServe(serverOptions, handler).pipe(Layer.provide(Layer.succeed(Backend.Backend, backend)))
      )
      address = fixed!
    } else {
      const server = yield* Server.make(serverOptions).pipe(Effect.provideService(Backend.Backend, backend))
      address = server.address._tag === "Tcp" ? { _tag: "Tcp", port: server.address.port } : server.address
      if (via === "serve") {
        yield* Effect.forkScoped(server.serve(handler))
      } else {
        yield* Effect.forkScoped(
          server.connections.pipe(
            Stream.runForEach((stocking): Effect.Effect<unknown, never, Scope.Scope> =>
              options.handler === undefined
                ? Queue.offer(queue, stocking)
                : Effect.forkScoped(Effect.ensuring(Effect.ignore(options.handler(stocking)), stocking.close))
            )
          )
        )
      }
    }
    const clientTarget = address._tag === "Unix" ? { path: address.path } : { host: "127.0.0.1", port: address.port }
    const clientTls = certs === undefined ? {} : { tls: { ca: certs.ca } }
    const listening: Listening = {
      transport,
      via,
      address,
      certs,
      connect: (clientSettings = {}) =>
        Stocking.make({ ...clientTarget, ...clientSettings, ...clientTls }).pipe(
          Effect.provideService(Backend.Backend, backend)
        ),
      accepted: Queue.take(queue),
      release: Effect.asVoid(Deferred.succeed(released, undefined))
    }
    return listening
  })

export interface ServerPairOptions extends Omit<ListenOptions, "handler"> {
  readonly client?: ClientSettings | undefined
}

/**
 * A client Stocking (`Stocking.make`) and the server-side Stocking of the same connection (from `Server.make`,
 * through `serve`, `connections` or `layerServe`), both in the current scope, both with `backend`.
 */
export const serverPair = (backend: Backend.Backend, options: ServerPairOptions) =>
  Effect.gen(function* () {
    const listening = yield* listen(backend, options)
    const { client, server } = yield* connectPair(listening, options.client)
    return { client, server, listening }
  })

/** One more connection to `listening`: the client and its server side (connect, then take the next accepted). */
export const connectPair = (listening: Listening, settings?: ClientSettings) =>
  Effect.gen(function* () {
    const client = yield* listening.connect(settings)
    const server = yield* listening.accepted.pipe(
      Effect.timeoutFail({
        duration: "10 seconds",
        onTimeout: () => new Error(`no server-side connection delivered (${listening.via}, ${listening.transport})`)
      }),
      Effect.orDie
    )
    return { client, server }
  })

// ---------------------------------------------------------------------------
// Raw peers
// ---------------------------------------------------------------------------

export interface RawPeer {
  /** What to write frames to: the TCP or Unix socket, or the TLS socket over it. */
  readonly socket: net.Socket
  /** The TCP socket underneath (the one to reset); `undefined` over a Unix socket. */
  readonly tcp: net.Socket | undefined
}

/** A plain socket (TLS over TCP for a TLS server) connected to `listening`, destroyed with the scope. */
export const rawPeer = (listening: Listening): Effect.Effect<RawPeer, Error, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<RawPeer, Error>((resume) => {
      const address = listening.address
      const raw =
        address._tag === "Unix"
          ? net.createConnection({ path: address.path })
          : net.createConnection({ port: address.port, host: "127.0.0.1" })
      raw.on("error", () => {})
      const certs = listening.certs
      if (certs === undefined) {
        raw.once("connect", () =>
          resume(Effect.succeed({ socket: raw, tcp: address._tag === "Tcp" ? raw : undefined }))
        )
        return
      }
      const secure = tls.connect({ socket: raw, ca: certs.ca, servername: "localhost" })
      secure.on("error", (cause) => resume(Effect.fail(cause)))
      secure.once("secureConnect", () => resume(Effect.succeed({ socket: secure, tcp: raw })))
    }),
    (peer) =>
      Effect.sync(() => {
        peer.socket.destroy()
        peer.tcp?.destroy()
      })
  )

/** Writes `messages` in the wire format, as one buffer. */
export const writeFrames = (socket: net.Socket, messages: ReadonlyArray<Framing.Message>): void => {
  socket.write(Framing.encodeAll(messages))
}

/** Resets the peer's TCP connection (RST); there is no such thing over a Unix socket. */
export const resetPeer = (peer: RawPeer): void => {
  if (peer.tcp === undefined) throw new Error("a Unix socket cannot be reset")
  peer.tcp.resetAndDestroy()
}

// ---------------------------------------------------------------------------
// How a read ended
// ---------------------------------------------------------------------------

/** A close that ends a read cleanly: the peer's end of stream with nothing wrong, or our own close. */
export const isCleanClose = (error: unknown): boolean => error instanceof Stocking.Closed && error.isClean

/** `Closed` with reason `ClosedByPeer` and no cause: the peer ended its stream after whole messages. */
export const isPeerEnd = (error: unknown): boolean =>
  error instanceof Stocking.Closed && error.reason === "ClosedByPeer" && error.cause === undefined

export const describeError = (error: unknown): string =>
  error instanceof Stocking.Closed
    ? `Closed(${error.reason}${error.cause === undefined ? "" : `, cause: ${String(error.cause)}`})`
    : String(error)

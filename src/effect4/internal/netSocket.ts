/**
 * Effect 4's `Socket` and `SocketServer` (`effect/socket`) over `node:net`,
 * without `@effect/platform-node` (whose 4.x needs Node.js 22.19; this line
 * runs on 20.19). What `effect/rpc`'s socket protocols need and no more: a
 * client connection per reader acquisition, a server that hands each
 * accepted connection to a handler, Node's own backpressure both ways, no
 * TLS upgrade.
 *
 * The reader follows `Socket`'s contract: `pull` gives the bytes received
 * since the last pull as one batch (never empty), and fails with a
 * `SocketError` once the connection has ended (a `SocketCloseError`, code
 * 1000 for an orderly end, 1006 for one with an error) or when the reader's
 * scope closes while a pull waits. Reading pauses the connection once
 * `highWaterMark` bytes wait unpulled, and resumes it when they are pulled.
 *
 * @internal
 */
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Latch from "effect/Latch"
import * as NetAddress from "effect/net/NetAddress"
import * as Scope from "effect/Scope"
import * as Socket from "effect/socket/Socket"
import * as SocketServer from "effect/socket/SocketServer"
import * as net from "node:net"
import type { Duplex } from "node:stream"

/** Bytes received and not yet pulled before the connection is paused. @internal */
export const DEFAULT_HIGH_WATER_MARK = 64 * 1024

/** @internal */
export interface DuplexOptions {
  /** Unpulled bytes at which reading pauses. Default `DEFAULT_HIGH_WATER_MARK`. */
  readonly highWaterMark?: number | undefined
}

/** Where a client connects: a TCP `host` (default `localhost`) and `port`, or a Unix socket `path`. @internal */
export type ConnectTarget = { readonly host?: string | undefined; readonly port: number } | { readonly path: string }

/** @internal */
export type NetOptions = ConnectTarget &
  DuplexOptions & {
    /** Bounds each connection attempt. Default: no bound. */
    readonly openTimeout?: Duration.Input | undefined
  }

/** Where a server listens: a `port` (0 for a free one) on `host`, or a Unix socket `path`. @internal */
export type ListenTarget =
  | { readonly port: number; readonly host?: string | undefined; readonly backlog?: number | undefined }
  | { readonly path: string; readonly backlog?: number | undefined }

const socketError = (reason: Socket.SocketErrorReason): Socket.SocketError => new Socket.SocketError({ reason })

const closeError = (code: number): Socket.SocketError => socketError(new Socket.SocketCloseError({ code }))

const writeError = (cause: unknown): Socket.SocketError => socketError(new Socket.SocketWriteError({ cause }))

const ignore = (): void => {}

type Resume<A, E> = (effect: Effect.Effect<A, E>) => void

/**
 * A `Socket` over the connection `open` gives. Each acquisition of the
 * reader runs `open` in the reader's scope (so a client connects, lazily,
 * once per reader, and reconnects when a new reader is acquired after the
 * last one failed); closing that scope ends the connection, after what was
 * written has been flushed. The writer writes to the connection of the
 * current reader, waiting for one if there is none yet. A write waits for
 * Node's buffer to drain when it is over its high-water mark.
 *
 * @internal
 */
export const fromDuplex = (
  open: Effect.Effect<Duplex, Socket.SocketError, Scope.Scope>,
  options?: DuplexOptions
): Socket.Socket => {
  const highWaterMark = options?.highWaterMark ?? DEFAULT_HIGH_WATER_MARK
  const latch = Latch.makeUnsafe(false)
  let current: Duplex | undefined = undefined

  const reader: Effect.Effect<Socket.Reader, Socket.SocketError, Scope.Scope> = Effect.gen(function* () {
    const scope = yield* Effect.scope
    const conn = yield* open
    let buffer: Array<Uint8Array> = []
    let buffered = 0
    let paused = false
    let error: Socket.SocketError | undefined = undefined
    let waiter: Resume<NonEmptyReadonlyArray<Uint8Array>, Socket.SocketError> | undefined = undefined

    const takeBuffer = (): NonEmptyReadonlyArray<Uint8Array> => {
      const batch = buffer as unknown as NonEmptyReadonlyArray<Uint8Array>
      buffer = []
      buffered = 0
      if (paused && error === undefined) {
        paused = false
        conn.resume()
      }
      return batch
    }
    const fail = (failure: Socket.SocketError): void => {
      error ??= failure
      const resume = waiter
      if (resume === undefined) return
      waiter = undefined
      resume(buffer.length > 0 ? Effect.succeed(takeBuffer()) : Effect.fail(error))
    }
    const onData = (chunk: Uint8Array): void => {
      buffer.push(chunk)
      buffered += chunk.length
      const resume = waiter
      if (resume !== undefined) {
        waiter = undefined
        resume(Effect.succeed(takeBuffer()))
      } else if (buffered >= highWaterMark && !paused) {
        paused = true
        conn.pause()
      }
    }
    const onEnd = (): void => fail(closeError(1000))
    const onError = (cause: Error): void => fail(socketError(new Socket.SocketReadError({ cause })))
    const onClose = (hadError: boolean): void => fail(closeError(hadError ? 1006 : 1000))

    yield* Scope.addFinalizer(
      scope,
      Effect.sync(() => {
        // A pull still waiting (in another fiber) fails now, as the reader contract asks.
        fail(closeError(1006))
        conn.off("data", onData)
        conn.off("end", onEnd)
        conn.off("close", onClose)
        conn.off("error", onError)
        // Errors after this point (a reset while flushing) have nobody to tell.
        conn.on("error", ignore)
        if (current === conn) {
          current = undefined
          Latch.closeUnsafe(latch)
        }
        // Flush what was written, then close; an ended or broken connection is destroyed at once.
        if (conn.writable && "destroySoon" in conn && typeof conn.destroySoon === "function") conn.destroySoon()
        else conn.destroy()
      })
    )
    conn.on("error", onError)
    conn.on("end", onEnd)
    conn.on("close", onClose)
    conn.on("data", onData)
    if (conn.destroyed) fail(closeError(1006))
    current = conn
    Latch.openUnsafe(latch)
    const pull: Effect.Effect<NonEmptyReadonlyArray<Uint8Array>, Socket.SocketError> = Effect.callback((resume) => {
      if (buffer.length > 0) return resume(Effect.succeed(takeBuffer()))
      if (error !== undefined) return resume(Effect.fail(error))
      waiter = resume
      return Effect.sync(() => {
        if (waiter === resume) waiter = undefined
      })
    })
    return { pull, upgrade: Socket.SocketUpgradeError.unsupported }
  })

  const drained = (conn: Duplex): Effect.Effect<void, Socket.SocketError> =>
    Effect.callback((resume) => {
      const cleanup = () => {
        conn.off("drain", onDrain)
        conn.off("close", onClose)
      }
      const onDrain = () => {
        cleanup()
        resume(Effect.void)
      }
      const onClose = () => {
        cleanup()
        resume(Effect.fail(writeError(new Error("the connection closed before its buffered writes were sent"))))
      }
      conn.on("drain", onDrain)
      conn.on("close", onClose)
      return Effect.sync(cleanup)
    })

  const closedForWrites = (conn: Duplex): Socket.SocketError | undefined =>
    conn.destroyed || conn.writableEnded ? writeError(new Error("write to a closed connection")) : undefined

  const write = (chunk: Uint8Array | string | Socket.CloseEvent): Effect.Effect<void, Socket.SocketError> =>
    Effect.suspend(() => {
      const conn = current
      if (conn === undefined) return Latch.whenOpen(latch, write(chunk))
      if (Socket.isCloseEvent(chunk)) {
        // 1000: an orderly end after what was written; any other code: at once.
        if (chunk.code === 1000) conn.end()
        else conn.destroy()
        return Effect.void
      }
      const closed = closedForWrites(conn)
      if (closed !== undefined) return Effect.fail(closed)
      return conn.write(chunk) ? Effect.void : drained(conn)
    })

  const writeAll = (chunks: NonEmptyReadonlyArray<Uint8Array | string>): Effect.Effect<void, Socket.SocketError> =>
    Effect.suspend(() => {
      const conn = current
      if (conn === undefined) return Latch.whenOpen(latch, writeAll(chunks))
      const closed = closedForWrites(conn)
      if (closed !== undefined) return Effect.fail(closed)
      conn.cork()
      for (let i = 0; i < chunks.length; i++) conn.write(chunks[i]!)
      conn.uncork()
      return conn.writableNeedDrain ? drained(conn) : Effect.void
    })

  const writer = Effect.acquireRelease(Effect.succeed<Socket.Writer>({ write, writeAll }), () =>
    Effect.sync(() => {
      if (current !== undefined && !current.writableEnded) current.end()
    })
  )

  return Socket.make({ reader, writer })
}

/**
 * A client `Socket` that connects with `node:net` (no-delay on) each time
 * its reader is acquired: a failed connection fails the reader with a
 * `SocketOpenError` (kind `Timeout` past `openTimeout`).
 *
 * @internal
 */
export const makeNet = (options: NetOptions): Socket.Socket => {
  const target: net.NetConnectOpts =
    "path" in options ? { path: options.path } : { host: options.host ?? "localhost", port: options.port }
  const connect: Effect.Effect<Duplex, Socket.SocketError> = Effect.callback((resume) => {
    const conn = net.createConnection(target)
    const onConnect = () => {
      conn.off("error", onError)
      conn.setNoDelay(true)
      resume(Effect.succeed(conn))
    }
    const onError = (cause: Error) => {
      conn.off("connect", onConnect)
      resume(Effect.fail(socketError(new Socket.SocketOpenError({ kind: "Unknown", cause }))))
    }
    conn.once("connect", onConnect)
    conn.once("error", onError)
    return Effect.sync(() => {
      conn.off("connect", onConnect)
      conn.off("error", onError)
      conn.on("error", ignore)
      conn.destroy()
    })
  })
  const timeout = options.openTimeout
  const open =
    timeout === undefined
      ? connect
      : Effect.timeoutOrElse(connect, {
          duration: timeout,
          orElse: () =>
            Effect.fail(
              socketError(
                new Socket.SocketOpenError({
                  kind: "Timeout",
                  cause: new Error(`no connection after ${Duration.format(Duration.fromInputUnsafe(timeout))}`)
                })
              )
            )
        })
  return fromDuplex(open, options)
}

const describeTarget = (target: ListenTarget): string =>
  "path" in target ? target.path : `${target.host ?? "127.0.0.1"}:${target.port}`

const serverError = (cause: unknown): SocketServer.SocketServerError =>
  new SocketServer.SocketServerError({ reason: new SocketServer.SocketServerOpenError({ cause }) })

/**
 * A `SocketServer` listening with `node:net` (no-delay on every connection),
 * for as long as the scope is open; closing the scope stops listening and
 * destroys the connections still open. Connections accepted before `run`
 * wait for it. `run` hands each connection to the handler in a fiber of its
 * own, and ends that connection when the handler's scope closes.
 *
 * @internal
 */
export const makeNetServer = (
  target: ListenTarget
): Effect.Effect<SocketServer.SocketServer["Service"], SocketServer.SocketServerError, Scope.Scope> =>
  Effect.gen(function* () {
    const server = net.createServer({ noDelay: true })
    const live = new Set<net.Socket>()
    const waiting: Array<net.Socket> = []
    let accept: ((conn: net.Socket) => void) | undefined = undefined
    server.on("connection", (conn) => {
      // Until a reader listens, an error on the connection (a reset) must not go unhandled.
      conn.on("error", ignore)
      live.add(conn)
      conn.once("close", () => live.delete(conn))
      if (accept !== undefined) accept(conn)
      else waiting.push(conn)
    })
    yield* Effect.acquireRelease(
      Effect.callback<void, SocketServer.SocketServerError>((resume) => {
        const onError = (cause: Error) => {
          resume(Effect.fail(serverError(new Error(`could not listen on ${describeTarget(target)}: ${cause.message}`))))
        }
        server.once("error", onError)
        const listen: net.ListenOptions =
          "path" in target
            ? { path: target.path, backlog: target.backlog }
            : { port: target.port, host: target.host ?? "127.0.0.1", backlog: target.backlog }
        server.listen(listen, () => {
          server.off("error", onError)
          resume(Effect.void)
        })
      }),
      () =>
        Effect.callback<void>((resume) => {
          for (const conn of live) conn.destroy()
          live.clear()
          if (!server.listening) return resume(Effect.void)
          server.close(() => resume(Effect.void))
        })
    )
    const bound = server.address()
    const address: NetAddress.SocketAddress =
      typeof bound === "string" || bound === null
        ? NetAddress.socketAddressFromInputUnsafe({ path: "path" in target ? target.path : String(bound) })
        : NetAddress.socketAddressFromInputUnsafe({ address: bound.address, port: bound.port })

    const run = <R, E, _>(
      handler: (socket: Socket.Socket) => Effect.Effect<_, E, R>
    ): Effect.Effect<never, SocketServer.SocketServerError, R> =>
      Effect.scoped(
        Effect.gen(function* () {
          const fibers = yield* FiberSet.make<unknown, unknown>()
          const runFork = yield* FiberSet.runtime(fibers)<R>()
          const serve = (conn: net.Socket): void => {
            const socket = fromDuplex(Effect.succeed(conn))
            runFork(
              handler(socket).pipe(
                Effect.scoped,
                // Whatever the handler did, the connection ends with it (after flushing what was written).
                Effect.ensuring(Effect.sync(() => (conn.writable ? conn.destroySoon() : conn.destroy())))
              )
            )
          }
          accept = serve
          yield* Effect.addFinalizer(() =>
            Effect.sync(() => {
              if (accept === serve) accept = undefined
            })
          )
          for (const conn of waiting.splice(0)) serve(conn)
          return yield* Effect.never
        })
      )

    return SocketServer.SocketServer.of({ address, run })
  })

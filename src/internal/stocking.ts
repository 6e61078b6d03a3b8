/**
 * The Stocking value and `make`: connects, builds the `Connection` (its
 * state machine in `lifecycle.ts`, its sides in `inbound.ts` and
 * `outbound.ts`) with the backend chosen for its socket and the handles its
 * loops run in (`loops.ts`), forks the handshake in the Stocking's scope,
 * and hands out the Effects users call.
 *
 * @internal
 */
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Fiber from "effect/Fiber"
import * as Runtime from "effect/Runtime"
import * as Scope from "effect/Scope"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import * as Auto from "./auto.js"
import type * as Backend from "./backend.js"
import * as BackendTag from "./backendTag.js"
import * as Codec from "./codec.js"
import type * as Metrics from "../Metrics.js"
import type * as Stocking from "../Stocking.js"
import type { Closed, ConnectError, NotReady } from "./stockingError.js"
import type { Budget } from "./budget.js"
import { connect, type SocketLike } from "./connect.js"
import { Connection } from "./lifecycle.js"
import * as Loops from "./loops.js"
import * as MetricsInternal from "./metrics.js"
import { END, Reader } from "./reader.js"
import * as core from "./stockingCore.js"
import type { PooledReads } from "./reads.js"

/** @internal */
/** The Effect 3 line's way to run a connection's loops (`loops.ts`): forked on the scheduler's next turn. */
const runnerOf = (runtime: Runtime.Runtime<never>): Loops.Runner => {
  const runFork = Runtime.runFork(runtime)
  return {
    fork: (body) => runFork(body, { immediate: false }),
    interrupt: (fiber) => Fiber.interrupt(fiber as Fiber.RuntimeFiber<void>)
  }
}

export const TypeId: typeof core.TypeId = core.TypeId

// ---------------------------------------------------------------------------
// make
// ---------------------------------------------------------------------------

/** @internal */
export const make = <I, O, E, EH, RH>(
  options: Stocking.Options<I, O, E, EH, RH>
): Effect.Effect<Stocking.Stocking<I, O, E>, ConnectError, Scope.Scope | RH> =>
  makeWithRole(options, "socket" in options ? "wrapped" : "client")

/** @internal */
export const makeWithRole = <I, O, E, EH, RH>(
  options: Stocking.Options<I, O, E, EH, RH>,
  role: Metrics.Role,
  budget?: Budget | undefined
): Effect.Effect<Stocking.Stocking<I, O, E>, ConnectError, Scope.Scope | RH> =>
  Effect.gen(function* () {
    const provided = yield* Effect.serviceOption(BackendTag.Backend)
    const scope = yield* Effect.scope
    // Captured here, outside the uninterruptible section below: the loops' fibers run with it, interruptible.
    const runtime = yield* Effect.runtime<never>()
    // Uninterruptible from the moment the socket is ours until its finalizer
    // is in the scope, so nothing can slip out in between. The connect itself
    // stays interruptible: its timeout and its caller can cancel it.
    return yield* Effect.uninterruptible(
      Effect.flatMap(Effect.interruptible(connect(options)), ({ reads, socket, watchRejection }) =>
        Effect.gen(function* () {
          // Per connection: `Auto`'s backend, or the default, picks from the socket (see auto.ts).
          const backend = Option.isSome(provided) ? forSocket(provided.value, socket) : yield* Auto.forSocket(socket)
          const { conn, release, remoteAddress, stocking } = build(
            options,
            role,
            budget,
            runtime,
            backend,
            socket,
            reads
          )
          // A TLS 1.3 server that rejected our certificate without an alert: a TLS error, not a clean close.
          watchRejection?.((error) => {
            // The socket reports it as well, for whoever watches it once the Stocking is closing.
            socket.destroy(error)
            conn.abort(conn.closedError("SocketError", error))
          })
          if (options.handshake === undefined) {
            conn.ready()
          } else {
            yield* runHandshake(conn, options.handshake(makeRaw(conn, remoteAddress)), options.handshakeTimeout).pipe(
              Effect.interruptible,
              Effect.forkIn(scope)
            )
          }
          yield* Scope.addFinalizer(scope, release)
          return stocking
        }).pipe(Effect.onError(() => Effect.sync(() => socket.destroy())))
      )
    )
  })

/**
 * A Stocking over a socket a server has just accepted, made at once, with
 * no Effect run: for a server with no `handshake` (it is open as soon as it
 * is made), which already knows its runtime and backend. `release` is what
 * `makeWithRole` puts in the Stocking's scope; the caller runs it (once) when
 * the connection is done. `undefined` if the socket is gone already (or
 * the Stocking could not be made): the connection is dropped.
 *
 * @internal
 */
export const unsafeAccept = <I, O, E, EH, RH>(
  options: Stocking.Options<I, O, E, EH, RH>,
  socket: SocketLike,
  budget: Budget,
  runtime: Runtime.Runtime<never>,
  backend: Backend.Backend
): { readonly stocking: Stocking.Stocking<I, O, E>; readonly release: Effect.Effect<void> } | undefined => {
  if (socket.destroyed) return undefined
  try {
    const { conn, release, stocking } = build(
      options,
      "server",
      budget,
      runtime,
      forSocket(backend, socket),
      socket,
      undefined
    )
    conn.ready()
    return { stocking, release }
  } catch {
    // As `makeWithRole` failing for the server: the connection is dropped.
    socket.destroy()
    return undefined
  }
}

/** The Connection and the Stocking over a connected socket, and the connection's finalizer (see `stockingCore.ts`). */
const build = <I, O, E, EH, RH>(
  options: Stocking.Options<I, O, E, EH, RH>,
  role: Metrics.Role,
  budget: Budget | undefined,
  runtime: Runtime.Runtime<never>,
  backend: Backend.Backend,
  socket: SocketLike,
  reads: PooledReads | undefined
) => {
  const built = core.build(options, MetricsInternal.meter(role), budget, runnerOf(runtime), backend, socket, reads)
  return {
    ...built,
    stocking: new StockingImpl<I, O, E>(built.conn, built.remoteAddress, backend.name, options.codec)
  }
}

/**
 * Calls `f` once when nothing of the Stocking is still wanted: it is closed
 * and its readers have taken everything it received, or its user closed it
 * (see `Connection.onReleasable`). For the server, which releases each
 * connection's scope then, without a fiber per connection waiting for it.
 *
 * @internal
 */
export const unsafeOnReleasable = <I, O, E>(stocking: Stocking.Stocking<I, O, E>, f: () => void): void =>
  (stocking as unknown as StockingImpl<I, O, E>).onReleasable(f)

const { forSocket, makeRaw, runHandshake } = core

/**
 * The Stocking itself. A class rather than an object of prebuilt Effects: an
 * idle connection should cost little, so each Effect is built on first use
 * (and kept), and the stream only when asked for.
 */
class StockingImpl<I, O, E> extends core.StockingCore<I, O, E> implements Stocking.Stocking<I, O, E> {
  private cachedReader: Reader<O, E, Chunk.Chunk<O>> | undefined = undefined

  constructor(
    conn: Connection,
    remoteAddress: Option.Option<Stocking.Address>,
    backend: Backend.Name,
    codec: Codec.Codec<I, O, E> | undefined
  ) {
    super(conn, remoteAddress, backend, codec, Codec.identity)
  }

  private get reader(): Reader<O, E, Chunk.Chunk<O>> {
    return (this.cachedReader ??= new Reader(this.conn, this.decode, Chunk.unsafeFromArray, Chunk.empty<O>()))
  }

  get read(): Effect.Effect<Option.Option<O>, NotReady | Closed | E> {
    return this.reader.read
  }

  get take(): Effect.Effect<O, NotReady | Closed | E> {
    return this.reader.take
  }

  get takeAll(): Effect.Effect<Chunk.Chunk<O>, NotReady | Closed | E> {
    return this.reader.takeAll
  }

  get takeBatch(): Effect.Effect<Chunk.NonEmptyChunk<O>, NotReady | Closed | E> {
    return this.reader.takeBatch as Effect.Effect<Chunk.NonEmptyChunk<O>, NotReady | Closed | E>
  }

  // The stream as a hand-written channel loop: per chunk, a quarter cheaper
  // than `Stream.repeatEffectChunkOption`, which matters when messages come
  // one at a time (request/response).
  get messages(): Stream.Stream<O, NotReady | Closed | E> {
    const pull = this.reader.pull()
    const emitAll: Channel.Channel<
      Chunk.Chunk<O>,
      unknown,
      NotReady | Closed | E,
      unknown,
      void,
      unknown
    > = Channel.flatMap(Channel.fromEffect(pull), (chunk) =>
      chunk === END ? Channel.void : Channel.flatMap(Channel.write(chunk), () => emitAll)
    )
    return Stream.fromChannel(emitAll)
  }

  readonly forEach = <X, R>(
    f: (message: O) => Effect.Effect<void, X, R>
  ): Effect.Effect<void, NotReady | Closed | E | X, R> => this.reader.forEach(f)

  readonly forEachChunk = <X, R>(
    f: (chunk: Chunk.Chunk<O>) => Effect.Effect<void, X, R>
  ): Effect.Effect<void, NotReady | Closed | E | X, R> => this.reader.forEachChunk(f)

  get sink(): Sink.Sink<void, I, never, NotReady | Closed | E> {
    return Sink.fromChannel(this.sinkChannel)
  }

  /**
   * The sink's loop: each chunk is one `writeAll`. Without a codec, a chunk
   * that fits is queued as it is read, with no Effect run for it (the
   * queue's step is synchronous when it admits at once, see `queue.ts`):
   * a stream of small chunks costs the sink little more than reading them.
   */
  private get sinkChannel(): Channel.Channel<never, Chunk.Chunk<I>, NotReady | Closed | E, never, void, unknown> {
    const loop: Channel.Channel<
      never,
      Chunk.Chunk<I>,
      NotReady | Closed | E,
      never,
      void,
      unknown
    > = Channel.readWithCause({
      onInput: (chunk: Chunk.Chunk<I>) => {
        const queued = this.offerChunk(Chunk.toReadonlyArray(chunk))
        // `Effect.void` when the chunk was queued at once: nothing to run, the next chunk is read now.
        return queued === Effect.void ? loop : Channel.zipRight(Channel.fromEffect(queued), loop)
      },
      onFailure: Channel.failCause,
      onDone: () => Channel.void
    })
    return loop
  }
}

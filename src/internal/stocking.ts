/**
 * The Stocking value and `make`: connects, builds the `Connection` (its
 * state machine in `lifecycle.ts`, its sides in `inbound.ts` and
 * `outbound.ts`) with the backend chosen for its socket and the handles its
 * loops run in (`loops.ts`), forks the handshake in the Stocking's scope,
 * and hands out the Effects users call.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Fiber from "effect/Fiber"
import * as Runtime from "effect/Runtime"
import * as Scope from "effect/Scope"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import type { Duplex } from "node:stream"
import * as Auto from "./auto.js"
import type * as Backend from "./backend.js"
import * as BackendTag from "./backendTag.js"
import * as Codec from "./codec.js"
import type * as Framing from "../Framing.js"
import type * as Metrics from "../Metrics.js"
import type * as Stocking from "../Stocking.js"
import type { Closed, ConnectError, NotReady } from "./stockingError.js"
import type { Budget } from "./budget.js"
import { addressOf, connect, describeAddress, type SocketLike } from "./connect.js"
import { Connection } from "./lifecycle.js"
import * as Loops from "./loops.js"
import * as MetricsInternal from "./metrics.js"
import { notReady, pollInbox, Reader } from "./reader.js"
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

export const TypeId: typeof Stocking.TypeId = Symbol.for("effect-stockings/Stocking") as typeof Stocking.TypeId

const DEFAULT_CLOSE_TIMEOUT = Duration.seconds(10)

let nextId = 1

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

/**
 * The Connection and the Stocking over a connected socket, and the
 * connection's finalizer: the graceful close (the backend flushes what is
 * queued), then the socket is let go, then any loop still running is
 * interrupted (none starts once closing). No fiber yet for the read and send loops:
 * they are forked when they have work.
 */
const build = <I, O, E, EH, RH>(
  options: Stocking.Options<I, O, E, EH, RH>,
  role: Metrics.Role,
  budget: Budget | undefined,
  runtime: Runtime.Runtime<never>,
  backend: Backend.Backend,
  socket: SocketLike,
  reads: PooledReads | undefined
) => {
  socket.setNoDelay?.(true)
  const remoteAddress = addressOf(socket, options)
  // No fiber yet for the read and send loops: they are started when they have work.
  const loops = Loops.make(runnerOf(runtime))
  const conn = new Connection(
    nextId++,
    socket,
    reads,
    options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT,
    describeAddress(remoteAddress),
    budget === undefined ? options : { ...options, budget },
    MetricsInternal.meter(role),
    backend,
    loops
  )
  // Built when the connection is released, not held from its start for its whole life (nor its `Closed`).
  const release = Effect.suspend(() =>
    Effect.ensuring(
      conn.gracefulClose(conn.closedError("ClosedLocally")),
      Effect.zipRight(
        Effect.sync(() => {
          conn.detach()
          socket.destroy()
        }),
        Loops.interrupt(loops)
      )
    )
  )
  return {
    conn,
    release,
    remoteAddress,
    stocking: new StockingImpl<I, O, E>(conn, remoteAddress, backend.name, options.codec)
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
  (stocking as StockingImpl<I, O, E>).onReleasable(f)

/** The backend in context, or the one it picks for this socket (`Auto`'s picks per socket). */
const forSocket = (backend: Backend.Backend, socket: Duplex): Backend.Backend =>
  backend.forSocket === undefined ? backend : backend.forSocket(socket)

const runHandshake = <EH, RH>(
  conn: Connection,
  handshake: Effect.Effect<boolean, EH, RH>,
  timeout: Duration.DurationInput | undefined
): Effect.Effect<void, never, RH> => {
  const bounded =
    timeout === undefined
      ? handshake
      : Effect.timeoutFail(handshake, {
          duration: timeout,
          onTimeout: () => new Cause.TimeoutException(`handshake did not finish within ${Duration.format(timeout)}`)
        })
  const traced = Effect.withSpan(bounded, "stocking.handshake", {
    attributes: { "stocking.id": conn.id, "net.peer": conn.peer }
  })
  return Effect.matchCauseEffect(traced, {
    onSuccess: (accepted) => {
      if (accepted && conn.closedWith === undefined) return Effect.sync(() => conn.ready())
      return conn.gracefulClose(conn.closedError("HandshakeFailed", accepted ? undefined : "handshake returned false"))
    },
    onFailure: (cause) =>
      Cause.isInterruptedOnly(cause)
        ? Effect.void
        : conn.gracefulClose(conn.closedError("HandshakeFailed", Cause.squash(cause)))
  })
}

const makeRaw = (conn: Connection, remoteAddress: Option.Option<Stocking.Address>): Stocking.Raw => ({
  id: conn.id,
  remoteAddress,
  read: Effect.suspend(() => pollInbox(conn)),
  take: conn.inbound.queue.take(),
  write: (message) => Effect.suspend(() => conn.outbound.unsafeOffer(message))
})

/**
 * The Stocking itself. A class rather than an object of prebuilt Effects: an
 * idle connection should cost little, so each Effect is built on first use
 * (and kept), and the stream only when asked for.
 */
class StockingImpl<I, O, E> implements Stocking.Stocking<I, O, E> {
  readonly [TypeId]: typeof TypeId = TypeId
  readonly id: number
  private readonly decode: ((message: Framing.Message) => Effect.Effect<O, E>) | undefined
  private readonly encode: ((value: I) => Effect.Effect<Framing.Message, E>) | undefined
  private cachedReader: Reader<O, E> | undefined = undefined

  constructor(
    private readonly conn: Connection,
    readonly remoteAddress: Option.Option<Stocking.Address>,
    readonly backend: Backend.Name,
    codec: Codec.Codec<I, O, E> | undefined
  ) {
    this.id = conn.id
    const identity = codec === undefined || codec === (Codec.identity as unknown)
    this.decode = identity ? undefined : codec.decode
    this.encode = identity ? undefined : codec.encode
  }

  onReleasable(f: () => void): void {
    this.conn.onReleasable(f)
  }

  get socket(): Duplex {
    return this.conn.socket
  }

  private get reader(): Reader<O, E> {
    return (this.cachedReader ??= new Reader(this.conn, this.decode))
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
    return this.reader.takeBatch
  }

  get messages(): Stream.Stream<O, NotReady | Closed | E> {
    return this.reader.messages
  }

  readonly forEach = <X, R>(
    f: (message: O) => Effect.Effect<void, X, R>
  ): Effect.Effect<void, NotReady | Closed | E | X, R> => this.reader.forEach(f)

  readonly forEachChunk = <X, R>(
    f: (chunk: Chunk.Chunk<O>) => Effect.Effect<void, X, R>
  ): Effect.Effect<void, NotReady | Closed | E | X, R> => this.reader.forEachChunk(f)

  // Called only inside a suspended Effect: `unsafeOffer` queues at call time.
  private writeOne(value: I): Effect.Effect<void, Closed | E> {
    const outbound = this.conn.outbound
    const encode = this.encode
    if (encode === undefined) return outbound.unsafeOffer(value as Framing.Message)
    return Effect.flatMap(encode(value), (message) => outbound.unsafeOffer(message))
  }

  // Bound (users pass `stocking.write` around); one suspend per write: the
  // hot path of a program sending small messages.
  readonly write = (value: I): Effect.Effect<void, NotReady | Closed | E> =>
    Effect.suspend((): Effect.Effect<void, NotReady | Closed | E> =>
      this.conn.isOpen ? this.writeOne(value) : Effect.fail(notReady(this.conn, "write"))
    )

  // All or none: the values are encoded first, then queued in one step once there is room for all of them.
  readonly writeAll = (values: Iterable<I>): Effect.Effect<void, NotReady | Closed | E> =>
    Effect.suspend((): Effect.Effect<void, NotReady | Closed | E> => {
      const conn = this.conn
      if (!conn.isOpen) return Effect.fail(notReady(conn, "write"))
      const all = Array.isArray(values) ? (values as ReadonlyArray<I>) : Array.from(values)
      const encode = this.encode
      if (encode === undefined) {
        return conn.outbound.unsafeOfferAll(all as ReadonlyArray<unknown> as ReadonlyArray<Framing.Message>)
      }
      return Effect.flatMap(Effect.forEach(all, encode), (messages) =>
        Effect.suspend(() => conn.outbound.unsafeOfferAll(messages))
      )
    })

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
        const conn = this.conn
        if (this.encode === undefined && conn.isOpen) {
          // A one-message chunk (a stream of single events) as `write` queues it: no batch arrays.
          const queued =
            chunk.length === 1
              ? conn.outbound.unsafeOffer(Chunk.unsafeHead(chunk) as unknown as Framing.Message)
              : conn.outbound.unsafeOfferAll(
                  Chunk.toReadonlyArray(chunk) as ReadonlyArray<unknown> as ReadonlyArray<Framing.Message>
                )
          // `Effect.void` when the chunk was queued at once: nothing to run, the next chunk is read now.
          return queued === Effect.void ? loop : Channel.zipRight(Channel.fromEffect(queued), loop)
        }
        return Channel.zipRight(Channel.fromEffect(this.writeAll(Chunk.toReadonlyArray(chunk))), loop)
      },
      onFailure: Channel.failCause,
      onDone: () => Channel.void
    })
    return loop
  }

  get flushed(): Effect.Effect<void, Closed> {
    return this.conn.outbound.flushed
  }

  get sent(): Effect.Effect<void, Closed> {
    return this.conn.outbound.sent
  }

  get ready(): Effect.Effect<void, Closed> {
    return this.conn.awaitState((state) =>
      state._tag === "Handshaking"
        ? undefined
        : state._tag === "Open" || state.opened
          ? Effect.void
          : Effect.fail(state.reason)
    )
  }

  get isActive(): Effect.Effect<boolean> {
    return Effect.sync(() => this.conn.closedWith === undefined)
  }

  get handshakeComplete(): Effect.Effect<boolean> {
    return Effect.sync(() => this.conn.opened)
  }

  get writeDataQueued(): Effect.Effect<boolean> {
    return Effect.sync(() => this.conn.outbound.writeDataQueued)
  }

  get close(): Effect.Effect<void> {
    return Effect.suspend(() => this.conn.close())
  }

  get abort(): Effect.Effect<void> {
    return Effect.sync(() => this.conn.abort(this.conn.closedError("ClosedLocally", "aborted"), true))
  }

  get closed(): Effect.Effect<Closed> {
    return this.conn.awaitState((state) =>
      state._tag === "Closing" || state._tag === "Closed" ? Effect.succeed(state.reason) : undefined
    )
  }
}

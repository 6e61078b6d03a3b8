/**
 * The Effect 4 line's Stocking: `make` over the shared core
 * (`internal/stockingCore.ts`: the connection, its finalizer, the
 * handshake, the members both lines share) and the members that speak
 * Effect 4's API: batch reads as arrays, `messages` as a `Stream`, `sink`.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import type * as Backend from "../../internal/backend.js"
import type { Budget } from "../../internal/budget.js"
import { identity } from "../../internal/codec.js"
import { connect, type SocketLike } from "../../internal/connect.js"
import type { Connection } from "../../internal/lifecycle.js"
import type * as Loops from "../../internal/loops.js"
import { END, Reader } from "../../internal/reader.js"
import type { PooledReads } from "../../internal/reads.js"
import type { Closed, ConnectError, NotReady } from "../../internal/stockingError.js"
import * as core from "../../internal/stockingCore.js"
import type * as Stocking from "../Stocking.js"
import * as Auto from "../Backend/Auto.js"
import * as BackendService from "../Backend/Backend.js"
import * as Metrics from "./metrics.js"

/**
 * How the Effect 4 line runs a connection's loops (`loops.ts`): in the
 * context of the fiber that made the Stocking, from the scheduler's next
 * turn (Effect 4's `runForkWith` starts a fiber at once, inside the socket
 * callback or the write that asked for it; the yield moves its work out).
 */
const runnerOf = (context: Context.Context<never>): Loops.Runner => {
  const runFork = Effect.runForkWith(context)
  return {
    fork: (body) => runFork(Effect.andThen(Effect.yieldNow, body)),
    interrupt: (fiber) => Fiber.interrupt(fiber as Fiber.Fiber<void>)
  }
}

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
    const provided = yield* Effect.serviceOption(BackendService.Backend)
    const scope = yield* Effect.scope
    // Captured here, outside the uninterruptible section below: the loops' fibers run with it, interruptible.
    const context = yield* Effect.context<never>()
    // Uninterruptible from the moment the socket is ours until its finalizer
    // is in the scope, so nothing can slip out in between. The connect itself
    // stays interruptible: its timeout and its caller can cancel it.
    return yield* Effect.uninterruptible(
      Effect.flatMap(Effect.interruptible(connect(options)), ({ reads, socket, watchRejection }) =>
        Effect.gen(function* () {
          const backend = Option.isSome(provided)
            ? core.forSocket(provided.value, socket)
            : yield* Auto.forSocket(socket)
          const { conn, release, remoteAddress, stocking } = build(
            options,
            role,
            budget,
            context,
            backend,
            socket,
            reads
          )
          // A TLS 1.3 server that rejected our certificate without an alert: a TLS error, not a clean close.
          watchRejection?.((error) => {
            socket.destroy(error)
            conn.abort(conn.closedError("SocketError", error))
          })
          if (options.handshake === undefined) {
            conn.ready()
          } else {
            yield* core
              .runHandshake(conn, options.handshake(core.makeRaw(conn, remoteAddress)), options.handshakeTimeout)
              .pipe(Effect.interruptible, Effect.forkIn(scope))
          }
          yield* Scope.addFinalizer(scope, release)
          return stocking
        }).pipe(Effect.onError(() => Effect.sync(() => socket.destroy())))
      )
    )
  })

const build = <I, O, E, EH, RH>(
  options: Stocking.Options<I, O, E, EH, RH>,
  role: Metrics.Role,
  budget: Budget | undefined,
  context: Context.Context<never>,
  backend: Backend.Backend,
  socket: SocketLike,
  reads: PooledReads | undefined
) => {
  const built = core.build(options, Metrics.meter(role, context), budget, runnerOf(context), backend, socket, reads)
  return {
    ...built,
    stocking: new StockingImpl<I, O, E>(built.conn, built.remoteAddress, backend.name, options.codec)
  }
}

/**
 * Calls `f` once when nothing of the Stocking is still wanted: it is closed
 * and its readers have taken everything it received, or its user closed it.
 * For the server, which releases each connection's scope then.
 *
 * @internal
 */
export const unsafeOnReleasable = <I, O, E>(stocking: Stocking.Stocking<I, O, E>, f: () => void): void =>
  (stocking as unknown as StockingImpl<I, O, E>).onReleasable(f)

const toArray = <O>(items: Array<O>): ReadonlyArray<O> => items
const EMPTY: ReadonlyArray<never> = []

class StockingImpl<I, O, E> extends core.StockingCore<I, O, E> implements Stocking.Stocking<I, O, E> {
  private cachedReader: Reader<O, E, ReadonlyArray<O>> | undefined = undefined

  constructor(
    conn: Connection,
    remoteAddress: Option.Option<Stocking.Address>,
    backend: Backend.Name,
    codec: core.Conversions<I, O, E> | undefined
  ) {
    // The identity codec (the shared one, both lines' `Codec.identity`) is skipped, not run per message.
    super(conn, remoteAddress, backend, codec, identity)
  }

  private get reader(): Reader<O, E, ReadonlyArray<O>> {
    return (this.cachedReader ??= new Reader(this.conn, this.decode, toArray, EMPTY))
  }

  get read(): Effect.Effect<Option.Option<O>, NotReady | Closed | E> {
    return this.reader.read
  }

  get take(): Effect.Effect<O, NotReady | Closed | E> {
    return this.reader.take
  }

  get takeAll(): Effect.Effect<ReadonlyArray<O>, NotReady | Closed | E> {
    return this.reader.takeAll
  }

  get takeBatch(): Effect.Effect<readonly [O, ...Array<O>], NotReady | Closed | E> {
    return this.reader.takeBatch as Effect.Effect<readonly [O, ...Array<O>], NotReady | Closed | E>
  }

  get messages(): Stream.Stream<O, NotReady | Closed | E> {
    const pull: Effect.Effect<readonly [O, ...Array<O>], NotReady | Closed | E | Cause.Done> = Effect.flatMap(
      this.reader.pull(),
      (batch) => (batch === END ? Cause.done() : Effect.succeed(batch as readonly [O, ...Array<O>]))
    )
    return Stream.fromPull(Effect.succeed(pull))
  }

  readonly forEach = <X, R>(
    f: (message: O) => Effect.Effect<void, X, R>
  ): Effect.Effect<void, NotReady | Closed | E | X, R> => this.reader.forEach(f)

  readonly forEachArray = <X, R>(
    f: (messages: ReadonlyArray<O>) => Effect.Effect<void, X, R>
  ): Effect.Effect<void, NotReady | Closed | E | X, R> => this.reader.forEachChunk(f)

  get sink(): Sink.Sink<void, I, never, NotReady | Closed | E> {
    return Sink.forEachArray((items: ReadonlyArray<I>) => this.offerChunk(items))
  }
}

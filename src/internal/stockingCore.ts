/**
 * What a Stocking is on both lines of Effect: the connection built over a
 * socket, with its finalizer; the handshake's run; the frame-level access
 * the handshake gets; and the Stocking's members that are the same on both
 * lines (writing, the state, closing). Each line's Stocking extends
 * `StockingCore` with what speaks its own API: the batch reads (a `Chunk`
 * or an array), `messages` (its `Stream`), `sink` (its `Sink`).
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { Duplex } from "node:stream"
import type * as Backend from "./backend.js"
import type { Budget } from "./budget.js"
import { addressOf, describeAddress, type SocketLike } from "./connect.js"
import * as fx from "./fx.js"
import { Connection, type Limits } from "./lifecycle.js"
import * as Loops from "./loops.js"
import type { Meter } from "./meter.js"
import type * as model from "./model.js"
import { notReady, pollInbox } from "./reader.js"
import type { PooledReads } from "./reads.js"
import type { Closed, NotReady } from "./stockingError.js"
import type * as Framing from "./wire.js"

/** `Stocking.TypeId`, the same symbol on both lines. @internal */
export const TypeId: unique symbol = Symbol.for("effect-stockings/Stocking")

/** @internal */
export type TypeId = typeof TypeId

const DEFAULT_CLOSE_TIMEOUT = Duration.seconds(10)

let nextId = 1

/** What `build` needs of a Stocking's options (both lines' `Settings` have these). @internal */
export type BuildOptions = model.Target &
  Omit<Limits, "budget"> & {
    readonly closeTimeout?: fx.DurationInput | undefined
  }

/** A codec as the core sees it (both lines' `Codec` have these). @internal */
export interface Conversions<I, O, E> {
  readonly encode: (value: I) => Effect.Effect<Framing.Message, E>
  readonly decode: (message: Framing.Message) => Effect.Effect<O, E>
}

/**
 * The Connection over a connected socket, and the connection's finalizer:
 * the graceful close (the backend flushes what is queued), then the socket
 * is let go, then any loop still running is interrupted (none starts once
 * closing). No fiber yet for the read and send loops: they are forked when
 * they have work.
 *
 * @internal
 */
export const build = (
  options: BuildOptions,
  meter: Meter,
  budget: Budget | undefined,
  runner: Loops.Runner,
  backend: Backend.Backend,
  socket: SocketLike,
  reads: PooledReads | undefined
) => {
  socket.setNoDelay?.(true)
  const remoteAddress = addressOf(socket, options)
  const loops = Loops.make(runner)
  const conn = new Connection(
    nextId++,
    socket,
    reads,
    options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT,
    describeAddress(remoteAddress),
    budget === undefined ? options : { ...options, budget },
    meter,
    backend,
    loops
  )
  // Built when the connection is released, not held from its start for its whole life (nor its `Closed`).
  const release = Effect.suspend(() =>
    Effect.ensuring(
      conn.gracefulClose(conn.closedError("ClosedLocally")),
      Effect.andThen(
        Effect.sync(() => {
          conn.detach()
          socket.destroy()
        }),
        Loops.interrupt(loops)
      )
    )
  )
  return { conn, release, remoteAddress }
}

/** The backend in context, or the one it picks for this socket (`Auto`'s picks per socket). @internal */
export const forSocket = (backend: Backend.Backend, socket: Duplex): Backend.Backend =>
  backend.forSocket === undefined ? backend : backend.forSocket(socket)

/** The handshake timed out. @internal */
export class HandshakeTimeout extends Error {
  override readonly name = "HandshakeTimeout"
}

const hasInterruptsOnly: <E>(cause: Cause.Cause<E>) => boolean = (() => {
  const members = Cause as unknown as Readonly<Record<string, unknown>>
  return (members["hasInterruptsOnly"] ?? members["isInterruptedOnly"]) as <E>(cause: Cause.Cause<E>) => boolean
})()

/**
 * Runs the handshake: `true` opens the connection; `false`, a failure or
 * the timeout closes it (`HandshakeFailed`). An interruption (the scope
 * closing) leaves the close to the finalizer.
 *
 * @internal
 */
export const runHandshake = <EH, RH>(
  conn: Connection,
  handshake: Effect.Effect<boolean, EH, RH>,
  timeout: fx.DurationInput | undefined
): Effect.Effect<void, never, RH> => {
  const bounded =
    timeout === undefined
      ? handshake
      : fx.timeoutFail(
          handshake,
          timeout,
          () => new HandshakeTimeout(`handshake did not finish within ${Duration.format(fx.decodeDuration(timeout))}`)
        )
  const traced = Effect.withSpan(bounded, "stocking.handshake", {
    attributes: { "stocking.id": conn.id, "net.peer": conn.peer }
  })
  return Effect.matchCauseEffect(traced, {
    onSuccess: (accepted) => {
      if (accepted && conn.closedWith === undefined) return Effect.sync(() => conn.ready())
      return conn.gracefulClose(conn.closedError("HandshakeFailed", accepted ? undefined : "handshake returned false"))
    },
    onFailure: (cause) =>
      hasInterruptsOnly(cause)
        ? Effect.void
        : conn.gracefulClose(conn.closedError("HandshakeFailed", Cause.squash(cause)))
  })
}

/** `Stocking.Raw`: frame-level access for the handshake. @internal */
export interface Raw {
  readonly id: number
  readonly remoteAddress: Option.Option<model.Address>
  readonly read: Effect.Effect<Option.Option<Framing.Message>, Closed>
  readonly take: Effect.Effect<Framing.Message, Closed>
  readonly write: (message: Framing.Message) => Effect.Effect<void, Closed>
}

/** @internal */
export const makeRaw = (conn: Connection, remoteAddress: Option.Option<model.Address>): Raw => ({
  id: conn.id,
  remoteAddress,
  read: Effect.suspend(() => pollInbox(conn)),
  take: conn.inbound.queue.take(),
  write: (message) => Effect.suspend(() => conn.outbound.unsafeOffer(message))
})

/**
 * The members of a Stocking that are the same on both lines. A class
 * rather than an object of prebuilt Effects: an idle connection should cost
 * little, so each Effect is built on first use (and kept).
 *
 * @internal
 */
export class StockingCore<I, O, E> {
  readonly [TypeId]: TypeId = TypeId
  readonly id: number
  protected readonly decode: ((message: Framing.Message) => Effect.Effect<O, E>) | undefined
  protected readonly encode: ((value: I) => Effect.Effect<Framing.Message, E>) | undefined

  constructor(
    protected readonly conn: Connection,
    readonly remoteAddress: Option.Option<model.Address>,
    readonly backend: Backend.Name,
    codec: Conversions<I, O, E> | undefined,
    identity: unknown
  ) {
    this.id = conn.id
    const none = codec === undefined || codec === identity
    this.decode = none ? undefined : codec.decode
    this.encode = none ? undefined : codec.encode
  }

  onReleasable(f: () => void): void {
    this.conn.onReleasable(f)
  }

  get socket(): Duplex {
    return this.conn.socket
  }

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

  /**
   * Queues a sink's chunk (its items as an array): without a codec, a chunk
   * that fits is queued at once, and `Effect.void` (that very value) is
   * returned, so that the sink's loop can read the next chunk without
   * running an Effect. A one-item chunk is queued as `write` queues it.
   */
  protected offerChunk(items: ReadonlyArray<I>): Effect.Effect<void, NotReady | Closed | E> {
    const conn = this.conn
    if (this.encode === undefined && conn.isOpen) {
      return items.length === 1
        ? conn.outbound.unsafeOffer(items[0] as unknown as Framing.Message)
        : conn.outbound.unsafeOfferAll(items as ReadonlyArray<unknown> as ReadonlyArray<Framing.Message>)
    }
    return this.writeAll(items)
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

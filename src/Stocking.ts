/**
 * A Stocking wraps a connected socket so that each side writes and reads
 * whole messages. It is a scoped resource: acquiring one takes over the
 * socket and forks its read loop, its send loop and the handshake into the
 * scope; closing the scope flushes what was written, ends the connection and
 * releases the socket and every fiber.
 *
 * Its errors, options and layers are declared in the `StockingError`,
 * `StockingOptions` and `StockingLayer` modules; this one re-exports them.
 *
 * @since 0.1.0
 */
import type * as Chunk from "effect/Chunk"
import type * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import type * as Sink from "effect/Sink"
import type * as Stream from "effect/Stream"
import type { Duplex } from "node:stream"
import type { Message } from "./Framing.js"
import type * as Backend from "./Backend/Backend.js"
import * as internal from "./internal/stocking.js"
import * as tagInternal from "./internal/tag.js"
import type { Closed, ConnectError, NotReady } from "./StockingError.js"
import type { Options } from "./StockingOptions.js"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = internal.TypeId

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

// ---------------------------------------------------------------------------
// Errors, options and layers, declared in their own modules
// ---------------------------------------------------------------------------

export { Closed, ConnectError, NotReady } from "./StockingError.js"
export type { ClosedReason, StockingError } from "./StockingError.js"
export { optionsFromConfig } from "./StockingOptions.js"
export type { ConfigSettings, Options, Settings, Target, TlsOptions } from "./StockingOptions.js"
export { layer, layerAs, layerConfig, Tag } from "./StockingLayer.js"
export type { TagClass } from "./StockingLayer.js"

// ---------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------

/**
 * The peer's address, as `getpeername` gives it.
 *
 * @since 0.1.0
 * @category models
 */
export type Address =
  | { readonly _tag: "Tcp"; readonly address: string; readonly port: number; readonly family: string }
  | { readonly _tag: "Unix"; readonly path: string }

/**
 * Frame-level access for the handshake (the original's `_read` / `_write`):
 * messages as they are on the wire, with no codec and no readiness check.
 *
 * @since 0.1.0
 * @category models
 */
export interface Raw {
  readonly id: number
  readonly remoteAddress: Option.Option<Address>
  /** The next message if one has arrived whole, else `None`. */
  readonly read: Effect.Effect<Option.Option<Message>, Closed>
  /** Waits for the next message. */
  readonly take: Effect.Effect<Message, Closed>
  /** Queues one message. */
  readonly write: (message: Message) => Effect.Effect<void, Closed>
}

/**
 * A connection that sends and receives whole messages.
 *
 * `I` is what `write` takes, `O` what reads give and `E` the codec's error:
 * with the default identity codec, both are `string | Uint8Array` and the
 * kind survives the trip.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stocking<in I = Message, out O = Message, out E = never> {
  readonly [TypeId]: TypeId
  /** Unique in this process (the original's `fileno()`). */
  readonly id: number
  /** The peer's address; `None` where the socket has none (an anonymous Unix peer). */
  readonly remoteAddress: Option.Option<Address>
  /** The underlying socket. The Stocking owns it: do not read from or write to it. */
  readonly socket: Duplex
  /** The backend driving the send loop. */
  readonly backend: Backend.Name
  /**
   * The next message if one has arrived whole, else `None` (the original's
   * `read()` returning None). Fails with `NotReady` before the handshake,
   * with `Closed` once closed and every earlier message has been read, or
   * with the codec's error (the message is then consumed).
   */
  readonly read: Effect.Effect<Option.Option<O>, NotReady | Closed | E>
  /** Waits for the next message. Errors as `read`. */
  readonly take: Effect.Effect<O, NotReady | Closed | E>
  /**
   * Every message that has arrived whole, in order, as one chunk, without
   * waiting: empty when none has. One Effect for the lot, however many.
   * Errors as `read`: `Closed` once closed and every earlier message has
   * been taken. With a codec, a message that fails to decode ends the chunk
   * early; the failure comes on the next call, and the messages after it
   * stay queued.
   *
   * @since 0.1.0
   * @example
   * import { Chunk, Effect } from "effect"
   * import { Stocking } from "effect-stockings/node"
   *
   * const drainNow = Effect.gen(function* () {
   *   const stocking = yield* Stocking.make({ host: "localhost", port: 4000 })
   *   const waiting = yield* stocking.takeAll // Chunk<Message>, maybe empty
   *   return Chunk.size(waiting)
   * })
   */
  readonly takeAll: Effect.Effect<Chunk.Chunk<O>, NotReady | Closed | E>
  /**
   * Waits until at least one message has arrived, then takes every message
   * that has, in order, as one chunk: the batch read. Under load one call
   * returns hundreds of messages for the cost of one `take`. Errors as
   * `takeAll`.
   *
   * @since 0.1.0
   * @example
   * import { Chunk, Effect } from "effect"
   * import { Stocking } from "effect-stockings/node"
   *
   * const countForever = Effect.gen(function* () {
   *   const stocking = yield* Stocking.make({ host: "localhost", port: 4000 })
   *   let count = 0
   *   while (true) {
   *     const batch = yield* stocking.takeBatch // never empty
   *     count += Chunk.size(batch)
   *   }
   * })
   */
  readonly takeBatch: Effect.Effect<Chunk.NonEmptyChunk<O>, NotReady | Closed | E>
  /**
   * Runs `f` on every message, in order, one at a time: a `take` loop with
   * `messages`' ending. It succeeds once the connection has closed cleanly
   * (here or by the peer) after the last message, and fails with `Closed`
   * when it ends otherwise, or with `f`'s error. The cheap way to handle
   * messages one by one (a request/response handler): no Stream in between.
   *
   * @since 0.1.0
   * @example
   * import { Effect } from "effect"
   * import { Server } from "effect-stockings/node"
   *
   * // An echo server: each connection writes back what it receives.
   * const echo = Effect.gen(function* () {
   *   const server = yield* Server.make({ port: 4000 })
   *   yield* server.serve((stocking) => stocking.forEach(stocking.write))
   * })
   */
  readonly forEach: <X, R>(
    f: (message: O) => Effect.Effect<void, X, R>
  ) => Effect.Effect<void, NotReady | Closed | E | X, R>
  /**
   * Runs `f` on each batch of messages as it arrives: one call per wake-up
   * with everything that has arrived by then (`takeBatch`), never an Effect
   * per message. Ends as `forEach`. The fast way to consume many messages,
   * and the one that keeps large messages cheap: a handler that goes through
   * the chunk with a plain loop lets each payload be collected young (see
   * the README's Read section).
   *
   * @since 0.1.0
   * @example
   * import { Effect } from "effect"
   * import { Stocking } from "effect-stockings/node"
   *
   * const totalBytes = Effect.gen(function* () {
   *   const stocking = yield* Stocking.make({ host: "localhost", port: 4000 })
   *   let bytes = 0
   *   yield* stocking.forEachChunk((chunk) =>
   *     Effect.sync(() => {
   *       for (const message of chunk) bytes += message.length
   *     })
   *   )
   *   return bytes // once the peer has closed
   * })
   */
  readonly forEachChunk: <X, R>(
    f: (chunk: Chunk.Chunk<O>) => Effect.Effect<void, X, R>
  ) => Effect.Effect<void, NotReady | Closed | E | X, R>
  /**
   * Every message, as a stream. It ends when the connection is closed
   * cleanly (here or by the peer) after the last message, and fails with
   * `Closed` when it ends otherwise (socket, protocol or handshake failure).
   */
  readonly messages: Stream.Stream<O, NotReady | Closed | E>
  /**
   * Queues one message to be sent whole. Succeeds once the message is
   * queued, not once it reaches the peer; suspends while the outbound queue
   * is full (`maxQueuedMessages` / `maxQueuedBytes`), so a fast writer cannot
   * outrun a slow peer without bound. Fails with `NotReady` before the
   * handshake, `Closed` once closed, or the codec's error (nothing is sent).
   *
   * Exactly once, even when interrupted: a `write` whose Exit is a success
   * queued its message; one that was interrupted (by `Effect.timeout`, a
   * race, its scope) did not, so retrying it cannot send the message
   * twice. A writer admitted from a wait for room queues its message in the
   * same step as it completes.
   *
   * Bytes are not copied: a `Uint8Array` belongs to the Stocking until it
   * has been sent (`sent` completes). Changing it before then may change
   * what the peer receives; copy it first if you must reuse it sooner.
   */
  readonly write: (value: I) => Effect.Effect<void, NotReady | Closed | E>
  /**
   * Queues many messages, in order, all or none: in one step when they fit
   * (an empty queue takes any batch), else once there is room for all of
   * them. With a codec every value is encoded first; an encoding failure
   * queues nothing. Interrupted, it queued nothing; succeeded, it queued
   * everything (see `write`).
   */
  readonly writeAll: (values: Iterable<I>) => Effect.Effect<void, NotReady | Closed | E>
  /**
   * A `Sink` that writes every element it is given, in order, one queue
   * step per chunk (as `writeAll`: each chunk all or none), and waits while
   * the outbound queue is full. `Stream.run(stream, stocking.sink)` is the fast way to send a
   * stream. The Stocking stays open when the stream ends.
   *
   * It takes chunks of any size as they come: a chunk that fits is queued
   * as it is read, at about what `writeAll` costs per message. The rest is
   * the stream's own cost per chunk, which is Effect's: a stream of
   * one-message chunks (what mapping over single events gives) costs about
   * six times as much per message as the same messages in large chunks,
   * whatever consumes it (`Stream.rechunk` before the sink saves a sixth of
   * it). Messages that come as arrays are cheapest sent with `writeAll`.
   */
  readonly sink: Sink.Sink<void, I, never, NotReady | Closed | E>
  /**
   * Completes once every message accepted so far (by `write`, `writeAll` or
   * `sink`) has been handed to the socket. Fails with `Closed` if the
   * connection closed abortively first and some of them were dropped.
   */
  readonly flushed: Effect.Effect<void, Closed>
  /**
   * As `flushed`, and then until the socket has handed those bytes to the
   * operating system: nothing written so far is held in memory any more, and
   * written buffers may be reused.
   */
  readonly sent: Effect.Effect<void, Closed>
  /** Completes when the handshake has; fails with `Closed` (`HandshakeFailed`, ...) if it never will. */
  readonly ready: Effect.Effect<void, Closed>
  /** True while the Stocking is open (the original's `active`). */
  readonly isActive: Effect.Effect<boolean>
  /** True once the handshake has succeeded. */
  readonly handshakeComplete: Effect.Effect<boolean>
  /** True while anything accepted by `write` has not yet been handed to the OS. */
  readonly writeDataQueued: Effect.Effect<boolean>
  /**
   * Closes gracefully: refuses new writes, sends everything already queued,
   * ends the connection and waits (up to `closeTimeout`) for the peer to
   * end its side, then releases the socket. Safe to call more than once.
   */
  readonly close: Effect.Effect<void>
  /** Closes at once, dropping whatever is still queued. */
  readonly abort: Effect.Effect<void>
  /** Waits until the Stocking is closed and tells why. */
  readonly closed: Effect.Effect<Closed>
}

/**
 * The Stocking service, for programs that get their connection from a
 * Layer (see `layer`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Stocking } from "effect-stockings/node"
 *
 * const program = Effect.gen(function* () {
 *   const stocking = yield* Stocking.Stocking
 *   yield* stocking.ready
 *   yield* stocking.write("ping")
 *   return yield* stocking.take
 * }).pipe(Effect.provide(Stocking.layer({ host: "127.0.0.1", port: 1234 })))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export const Stocking: Context.Tag<Stocking, Stocking> = tagInternal.Stocking

/**
 * Tells whether a value is a `Stocking`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Stocking } from "effect-stockings/node"
 *
 * const closeIfStocking = (u: unknown): Effect.Effect<void> =>
 *   Stocking.isStocking(u) ? u.close : Effect.void
 * ```
 *
 * @since 0.1.0
 * @category refinements
 */
export const isStocking = (u: unknown): u is Stocking<unknown, unknown, unknown> =>
  typeof u === "object" && u !== null && TypeId in u

// ---------------------------------------------------------------------------
// Constructors
// ---------------------------------------------------------------------------

/**
 * Makes a Stocking in the current scope: connects (or takes over the given
 * socket, turning no-delay on), then forks the read loop, the send loop and
 * the handshake. Does not wait for the handshake: use `ready`.
 *
 * The send loop is the `Backend` in context, or `Auto`'s choice.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Stocking } from "effect-stockings/node"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const stocking = yield* Stocking.make({ host: "127.0.0.1", port: 1234 })
 *     yield* stocking.write("Test Message")
 *     const reply = yield* stocking.take
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: <I = Message, O = Message, E = never, EH = never, RH = never>(
  options: Options<I, O, E, EH, RH>
) => Effect.Effect<Stocking<I, O, E>, ConnectError, Scope.Scope | RH> = internal.make

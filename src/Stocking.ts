/**
 * A Stocking wraps a connected socket so that each side writes and reads
 * whole messages. It is a scoped resource: acquiring one takes over the
 * socket and starts its handshake; its read and send loops run in fibers of
 * the connection only while they have work. Closing the scope flushes what
 * was written, ends the connection and releases the socket and every fiber.
 *
 * This module holds the service, its errors, its options and its layers.
 *
 * @since 0.1.0
 */
import "./internal/line3.js"
import type * as Chunk from "effect/Chunk"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type * as Sink from "effect/Sink"
import type * as Stream from "effect/Stream"
import type { Duplex } from "node:stream"
import type * as Backend from "./Backend/Backend.js"
import type * as Codec from "./Codec.js"
import type { FramingError, Message } from "./Framing.js"
import * as configInternal from "./internal/config.js"
import type * as model from "./internal/model.js"
import * as internal from "./internal/stocking.js"
import * as errorInternal from "./internal/stockingError.js"
import * as tagInternal from "./internal/tag.js"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: typeof internal.TypeId = internal.TypeId

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/**
 * `read`, `take` or `write` was called before the handshake completed (the
 * original's `Stockings.NotReady`). Wait on `ready` first.
 *
 * @since 0.1.0
 * @category errors
 */
export const NotReady: typeof errorInternal.NotReady = errorInternal.NotReady

/**
 * The type of a `NotReady` error.
 *
 * @since 0.1.0
 * @category errors
 */
export type NotReady = errorInternal.NotReady

/**
 * Why a Stocking is closed.
 *
 * - `ClosedLocally`: `close`, `abort` or the end of its scope, on this side.
 * - `ClosedByPeer`: the peer ended the connection. If it ended in the middle
 *   of a message, `cause` is the `FramingError` (`Truncated`) saying how much
 *   had arrived.
 * - `SocketError`: the socket failed (reset, timeout, ...); `cause` is the
 *   error.
 * - `HandshakeFailed`: the handshake returned `false`, failed or timed out;
 *   `cause` says which.
 * - `ProtocolError`: the peer broke the wire format; `cause` is the
 *   `FramingError`.
 * - `IdleTimeout`: nothing moved for `idleTimeout`.
 *
 * @since 0.1.0
 * @category errors
 */
export type ClosedReason = model.ClosedReason

/**
 * The Stocking is closed, or closed while the operation waited. Messages
 * that arrived whole before the close are still delivered by `read`,
 * `take` and `messages`; after them, reads fail with this. `isClean` tells
 * the ordinary end (closed here, or by the peer between messages) from the
 * others.
 *
 * It carries no stack trace (`stack` is its first line only): every
 * connection makes one or more when it closes, and where that happens (a
 * socket event, a finalizer) says nothing the `reason` and `cause` do not,
 * while capturing a trace costs more than the rest of the error.
 *
 * @since 0.1.0
 * @category errors
 */
export const Closed: typeof errorInternal.Closed = errorInternal.Closed

/**
 * The type of a `Closed` error.
 *
 * @since 0.1.0
 * @category errors
 */
export type Closed = errorInternal.Closed

/**
 * Connecting failed: the address refused or was unreachable (`Failed`), did
 * not answer within `connectTimeout` (`Timeout`), or the TLS handshake failed,
 * for instance an unknown CA, a certificate for another host, or a server
 * that closed the connection during the handshake (`Tls`); after every retry
 * the `retry` schedule allowed. `NotConnected`: the socket given to `make`
 * was already destroyed. `PathTooLong`: a Unix socket path longer than the
 * platform takes (107 bytes on Linux, 103 on macOS), refused before trying
 * (Node would cut it short and connect elsewhere); the message gives both
 * lengths. For a Unix socket path, a `Failed` message says what was there
 * instead of a listening server: no file, no directory, a stale socket file.
 *
 * @since 0.1.0
 * @category errors
 */
export const ConnectError: typeof errorInternal.ConnectError = errorInternal.ConnectError

/**
 * The type of a `ConnectError` error.
 *
 * @since 0.1.0
 * @category errors
 */
export type ConnectError = errorInternal.ConnectError

/**
 * Every error a Stocking's operations can fail with, besides the codec's own.
 *
 * @since 0.1.0
 * @category errors
 */
export type StockingError = NotReady | Closed | ConnectError | FramingError

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

/**
 * Where the Stocking's connection comes from: a socket that is already
 * connected (the original's way), or an address to connect to.
 *
 * @since 0.1.0
 * @category options
 */
export type Target = model.Target

/**
 * Everything but the target.
 *
 * @since 0.1.0
 * @category options
 */
export interface Settings<I = Message, O = Message, E = never, EH = never, RH = never> {
  /** Turns written values into messages and messages into values. Default: `Codec.identity`. */
  readonly codec?: Codec.Codec<I, O, E> | undefined
  /**
   * Runs in its own fiber when the Stocking starts, with frame-level access.
   * `true` makes the Stocking ready; `false` or a failure closes it with
   * `HandshakeFailed`. Default: ready at once.
   */
  readonly handshake?: ((raw: Raw) => Effect.Effect<boolean, EH, RH>) | undefined
  /** Closes the Stocking (`HandshakeFailed`) if the handshake takes longer. Default: no limit. */
  readonly handshakeTimeout?: Duration.DurationInput | undefined
  /** Largest message accepted from the peer, in bytes. Default 16 MiB. */
  readonly maxMessageSize?: number | undefined
  /** Messages held for the reader before the socket is paused. Default 4096. */
  readonly maxBufferedMessages?: number | undefined
  /** Bytes of messages held for the reader before the socket is paused. Default 32 MiB. */
  readonly maxBufferedBytes?: number | undefined
  /** Messages queued for sending before `write` suspends. Default 4096. */
  readonly maxQueuedMessages?: number | undefined
  /** Bytes of messages queued for sending before `write` suspends. Default 8 MiB. */
  readonly maxQueuedBytes?: number | undefined
  /** How long a graceful close waits for queued messages to go out and the peer to end. Default 10 seconds. */
  readonly closeTimeout?: Duration.DurationInput | undefined
  /** Gives up connecting after this long (per attempt). Default: the OS's own timeout. */
  readonly connectTimeout?: Duration.DurationInput | undefined
  /** Retries a failed connect on this schedule (a server that is still starting). Default: no retry. */
  readonly retry?: Schedule.Schedule<unknown, ConnectError> | undefined
  /**
   * Connect over TLS (`node:tls`). The server's certificate is verified
   * against `ca` (default: the system's CAs) and the host name, unless you
   * set `rejectUnauthorized: false`. `true` means TLS with the defaults.
   * A failed verification is a `ConnectError` with reason `Tls`.
   */
  readonly tls?: TlsOptions | true | undefined
  /**
   * Closes the Stocking (reason `IdleTimeout`) when no bytes have moved in
   * either direction for this long. Default: never.
   */
  readonly idleTimeout?: Duration.DurationInput | undefined
}

/**
 * TLS client options, passed to `tls.connect`: `ca`, `cert` and `key` for
 * client certificates, `servername` (default: the host), and so on.
 *
 * @since 0.1.0
 * @category options
 */
export type TlsOptions = model.TlsOptions

/**
 * Options for `make`: a target plus settings.
 *
 * @since 0.1.0
 * @category options
 */
export type Options<I = Message, O = Message, E = never, EH = never, RH = never> = Target & Settings<I, O, E, EH, RH>

/**
 * What `layerConfig` takes: the settings given in code (a codec, a
 * handshake, and defaults for anything the environment may set), and the
 * prefix of the variables (default `STOCKING`).
 *
 * @since 0.1.0
 * @category options
 */
export type ConfigSettings<I = Message, O = Message, E = never, EH = never, RH = never> = configInternal.ClientSettings<
  I,
  O,
  E,
  EH,
  RH
>

/**
 * Reads `make`'s options through Effect `Config`, under `prefix` (default
 * `STOCKING`; with the environment provider, `STOCKING_PORT` and so on).
 * A variable that is set wins over the same setting given in code; one that
 * is not leaves the code's value, or the library's default.
 *
 * - `STOCKING_HOST` (default `localhost`) and `STOCKING_PORT`, or
 *   `STOCKING_PATH` for a Unix socket: where to connect (required, here or
 *   in code).
 * - `STOCKING_TLS`: `true` for TLS with the system's CAs.
 * - `STOCKING_TLS_CA`, `STOCKING_TLS_CERT`, `STOCKING_TLS_KEY`: PEM files,
 *   each implying TLS; `STOCKING_TLS_SERVERNAME`.
 * - `STOCKING_CONNECT_TIMEOUT`, `STOCKING_HANDSHAKE_TIMEOUT`,
 *   `STOCKING_IDLE_TIMEOUT`, `STOCKING_CLOSE_TIMEOUT`: durations
 *   (`5 seconds`, `500 millis`).
 * - `STOCKING_MAX_MESSAGE_SIZE`, `STOCKING_MAX_BUFFERED_MESSAGES`,
 *   `STOCKING_MAX_BUFFERED_BYTES`, `STOCKING_MAX_QUEUED_MESSAGES`,
 *   `STOCKING_MAX_QUEUED_BYTES`: whole numbers, 1 or more.
 *
 * A missing target, a bad number or duration, or a TLS file that cannot be
 * read fails with a `ConfigError` that names the variable.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Stocking } from "effect-stockings/node"
 *
 * // STOCKING_HOST=db.internal STOCKING_PORT=7000 STOCKING_TLS_CA=/etc/app/ca.pem
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const options = yield* Stocking.optionsFromConfig({ closeTimeout: "2 seconds" })
 *     const stocking = yield* Stocking.make(options)
 *     yield* stocking.write("hello")
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 * @category config
 */
export const optionsFromConfig: <I = Message, O = Message, E = never, EH = never, RH = never>(
  settings?: ConfigSettings<I, O, E, EH, RH>
) => Effect.Effect<Options<I, O, E, EH, RH>, ConfigError.ConfigError> = configInternal.clientOptions

// ---------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------

/**
 * A socket address: a TCP one (as `getpeername` or `getsockname` gives it),
 * or a Unix socket path. A Stocking's `remoteAddress` is its peer's; a
 * server's `address` is where it listens.
 *
 * @since 0.1.0
 * @category models
 */
export type Address = model.Address

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
export const Stocking: Context.Tag<Stocking, Stocking> = Context.GenericTag<Stocking>("effect-stockings/Stocking")

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
 * socket, turning no-delay on) and forks the handshake; the read loop and
 * the send loop run in fibers of the connection only while they have work.
 * Does not wait for the handshake: use `ready`.
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

// ---------------------------------------------------------------------------
// Layers
// ---------------------------------------------------------------------------

/**
 * A Layer providing the `Stocking` service (identity codec): the connection
 * lives as long as the Layer.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Stocking } from "effect-stockings/node"
 *
 * const StockingLive = Stocking.layer({ path: "/tmp/app.sock", closeTimeout: "2 seconds" })
 * const program = Effect.flatMap(Stocking.Stocking, (stocking) => stocking.write("hi")).pipe(
 *   Effect.provide(StockingLive)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <EH = never, RH = never>(
  options: Options<Message, Message, never, EH, RH>
): Layer.Layer<Stocking, ConnectError, RH> => Layer.scoped(Stocking, make(options))

/**
 * A Layer providing a Stocking with a typed codec under a tag you declared
 * by hand. `Tag` does the same in one declaration, with the type inferred
 * from the codec.
 *
 * @example
 * ```ts
 * import { Context, Schema } from "effect"
 * import type { ParseResult } from "effect"
 * import { Codec } from "effect-stockings"
 * import { Stocking } from "effect-stockings/node"
 *
 * const Status = Schema.Struct({ user: Schema.String, status: Schema.String })
 * class StatusLink extends Context.Tag("StatusLink")<
 *   StatusLink,
 *   Stocking.Stocking<typeof Status.Type, typeof Status.Type, ParseResult.ParseError>
 * >() {}
 *
 * const StatusLinkLive = Stocking.layerAs(StatusLink, { port: 1234, codec: Codec.json(Status) })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerAs = <Id, I, O, E, EH = never, RH = never>(
  tag: Context.Tag<Id, Stocking<I, O, E>>,
  options: Options<I, O, E, EH, RH>
): Layer.Layer<Id, ConnectError, RH> => Layer.scoped(tag, make(options))

/**
 * A Layer providing the `Stocking` service (identity codec), its options
 * read through `Config` as `optionsFromConfig` does.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Stocking } from "effect-stockings/node"
 *
 * // Reads STOCKING_HOST, STOCKING_PORT (or STOCKING_PATH), STOCKING_TLS_CA, ...
 * const StockingLive = Stocking.layerConfig()
 * const program = Effect.flatMap(Stocking.Stocking, (stocking) => stocking.write("hi")).pipe(
 *   Effect.provide(StockingLive)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = <EH = never, RH = never>(
  settings?: ConfigSettings<Message, Message, never, EH, RH>
): Layer.Layer<Stocking, ConnectError | ConfigError.ConfigError, RH> =>
  Layer.scoped(Stocking, Effect.flatMap(configInternal.clientOptions(settings), make))

/**
 * A Tag class for a Stocking with a codec, made by `Tag`: the service's type
 * comes from the codec, and the class carries its own layers.
 *
 * @since 0.1.0
 * @category models
 */
export interface TagClass<Self, Id extends string, I, O, E> extends Context.TagClass<Self, Id, Stocking<I, O, E>> {
  /** The codec every Stocking made for this tag uses. */
  readonly codec: Codec.Codec<I, O, E>
  /** Connects with these options (and the tag's codec); the connection lives as long as the Layer. */
  readonly layer: <EH = never, RH = never>(
    options: Target & Omit<Settings<I, O, E, EH, RH>, "codec">
  ) => Layer.Layer<Self, ConnectError, RH>
  /** As `layer`, with the options read through `Config` (see `optionsFromConfig`). */
  readonly layerConfig: <EH = never, RH = never>(
    settings?: Omit<ConfigSettings<I, O, E, EH, RH>, "codec">
  ) => Layer.Layer<Self, ConnectError | ConfigError.ConfigError, RH>
}

/**
 * Declares a service holding a Stocking with a codec, in one class: the
 * service's type (`Stocking<I, O, E>`) is inferred from the codec, and the
 * class has `layer` and `layerConfig`. Written the way
 * `Context.Reference<Self>()(key, options)` is.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Codec } from "effect-stockings"
 * import { Stocking } from "effect-stockings/node"
 *
 * const Request = Schema.Struct({ id: Schema.Number })
 * const Response = Schema.Struct({ id: Schema.Number, name: Schema.String })
 *
 * class TodoClient extends Stocking.Tag<TodoClient>()("TodoClient", {
 *   codec: Codec.jsonPair(Request, Response)
 * }) {}
 *
 * const program = Effect.gen(function* () {
 *   const client = yield* TodoClient // Stocking<{ id }, { id, name }, ParseError>
 *   yield* client.write({ id: 1 })
 *   const todo = yield* client.take
 *   return todo.name
 * }).pipe(Effect.provide(TodoClient.layer({ host: "127.0.0.1", port: 7000 })))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export const Tag =
  <Self>() =>
  <const Id extends string, I = Message, O = Message, E = never>(
    id: Id,
    options: { readonly codec?: Codec.Codec<I, O, E> | undefined } = {}
  ): TagClass<Self, Id, I, O, E> =>
    tagInternal.makeTagClass<
      Self,
      Id,
      Stocking<I, O, E>,
      I,
      O,
      E,
      Options<I, O, E>,
      ConfigSettings<I, O, E>,
      ConnectError
    >(id, options.codec, make, configInternal.clientOptions)

/**
 * A Stocking wraps a connected socket so that each side writes and reads
 * whole messages: `write(message)` sends one, and the peer's `read` gives
 * nothing until it has arrived whole. Text stays text and bytes stay bytes.
 * Messages arrive exactly once, in the order written.
 *
 * This is the Effect 4 line. It runs the same core as the Effect 3 line
 * (`effect-stockings/Stocking`), so the two behave alike and talk to each
 * other, and to the Python original; its API follows Effect 4's
 * conventions: batches are arrays, the service is a `Context.Service`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Stocking } from "effect-stockings/effect4/node"
 *
 * const program = Effect.gen(function* () {
 *   const stocking = yield* Stocking.make({ host: "127.0.0.1", port: 9000 })
 *   yield* stocking.write("hello")
 *   const reply = yield* stocking.take
 *   yield* Effect.log(reply)
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.2.0
 */
import "./internal/line.js"
import type * as Config from "effect/Config"
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
import type * as model from "../internal/model.js"
import * as errorInternal from "../internal/stockingError.js"
import * as core from "../internal/stockingCore.js"
import type * as wire from "../internal/wire.js"
import type * as Backend from "./Backend/Backend.js"
import * as configInternal from "./internal/config.js"
import * as internal from "./internal/stocking.js"

/**
 * @since 0.2.0
 * @category type ids
 */
export const TypeId: typeof core.TypeId = core.TypeId

/**
 * @since 0.2.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * A message: text (sent as UTF-8) or bytes.
 *
 * @since 0.2.0
 * @category models
 */
export type Message = wire.Message

/**
 * A read or write before the handshake completed.
 *
 * @since 0.2.0
 * @category errors
 */
export const NotReady: typeof errorInternal.NotReady = errorInternal.NotReady

/**
 * @since 0.2.0
 * @category errors
 */
export type NotReady = errorInternal.NotReady

/**
 * Why a Stocking is closed: `ClosedLocally`, `ClosedByPeer`, `SocketError`,
 * `HandshakeFailed`, `ProtocolError` or `IdleTimeout` (as on the Effect 3
 * line).
 *
 * @since 0.2.0
 * @category errors
 */
export type ClosedReason = model.ClosedReason

/**
 * The Stocking is closed, or closed while the operation waited. Messages
 * that arrived whole before the close are still delivered by reads first.
 * `isClean` tells the ordinary end from the others.
 *
 * @since 0.2.0
 * @category errors
 */
export const Closed: typeof errorInternal.Closed = errorInternal.Closed

/**
 * @since 0.2.0
 * @category errors
 */
export type Closed = errorInternal.Closed

/**
 * Connecting failed (refused, timed out, TLS, a path too long).
 *
 * @since 0.2.0
 * @category errors
 */
export const ConnectError: typeof errorInternal.ConnectError = errorInternal.ConnectError

/**
 * @since 0.2.0
 * @category errors
 */
export type ConnectError = errorInternal.ConnectError

/**
 * Where a Stocking connects: a connected socket (any `Duplex`), a host and
 * port, or a Unix socket path.
 *
 * @since 0.2.0
 * @category options
 */
export type Target = model.Target

/**
 * TLS client options, passed to `tls.connect`.
 *
 * @since 0.2.0
 * @category options
 */
export type TlsOptions = model.TlsOptions

/**
 * A peer's or a server's address.
 *
 * @since 0.2.0
 * @category models
 */
export type Address = model.Address

/**
 * Frame-level access for the handshake: messages as they are on the wire,
 * with no codec and no readiness check.
 *
 * @since 0.2.0
 * @category models
 */
export interface Raw extends core.Raw {}

/**
 * Turns written values into messages and messages into values (a `Codec`
 * from `effect-stockings/effect4/Codec` is one).
 *
 * @since 0.2.0
 * @category options
 */
export interface Conversions<in I, out O, out E> {
  readonly encode: (value: I) => Effect.Effect<Message, E>
  readonly decode: (message: Message) => Effect.Effect<O, E>
}

/**
 * Everything but the target; the defaults are the Effect 3 line's.
 *
 * @since 0.2.0
 * @category options
 */
export interface Settings<I = Message, O = Message, E = never, EH = never, RH = never> {
  /** Turns written values into messages and messages into values. Default: none (messages as they are). */
  readonly codec?: Conversions<I, O, E> | undefined
  /** Runs when the Stocking starts: `true` opens it; `false` or a failure closes it (`HandshakeFailed`). */
  readonly handshake?: ((raw: Raw) => Effect.Effect<boolean, EH, RH>) | undefined
  /** Closes the Stocking (`HandshakeFailed`) if the handshake takes longer. Default: no limit. */
  readonly handshakeTimeout?: Duration.Input | undefined
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
  readonly closeTimeout?: Duration.Input | undefined
  /** Gives up connecting after this long (per attempt). */
  readonly connectTimeout?: Duration.Input | undefined
  /** Retries a failed connect on this schedule. */
  readonly retry?: Schedule.Schedule<unknown, ConnectError> | undefined
  /** Connect over TLS; `true` means TLS with the defaults. */
  readonly tls?: TlsOptions | true | undefined
  /** Closes the Stocking (`IdleTimeout`) when nothing has moved for this long. */
  readonly idleTimeout?: Duration.Input | undefined
}

/**
 * Options for `make`: a target plus settings.
 *
 * @since 0.2.0
 * @category options
 */
export type Options<I = Message, O = Message, E = never, EH = never, RH = never> = Target & Settings<I, O, E, EH, RH>

/**
 * A connection that sends and receives whole messages. The members mean
 * what they mean on the Effect 3 line; batches are arrays.
 *
 * @since 0.2.0
 * @category models
 */
export interface Stocking<in I = Message, out O = Message, out E = never> {
  readonly [TypeId]: TypeId
  /** Unique in this process (the original's `fileno()`). */
  readonly id: number
  /** The peer's address; `None` where the socket has none. */
  readonly remoteAddress: Option.Option<Address>
  /** The underlying socket. The Stocking owns it: do not read from or write to it. */
  readonly socket: Duplex
  /** The backend sending for this Stocking. */
  readonly backend: Backend.Name
  /** The next message if one has arrived whole, else `None`; fails once closed and drained. */
  readonly read: Effect.Effect<Option.Option<O>, NotReady | Closed | E>
  /** Waits for the next message. */
  readonly take: Effect.Effect<O, NotReady | Closed | E>
  /** Every message that has arrived, possibly none, without waiting. */
  readonly takeAll: Effect.Effect<ReadonlyArray<O>, NotReady | Closed | E>
  /** Waits for at least one message, and takes every one that has arrived. */
  readonly takeBatch: Effect.Effect<readonly [O, ...Array<O>], NotReady | Closed | E>
  /** Runs `f` on each message until the peer's clean end (or fails with the close). */
  readonly forEach: <X, R>(
    f: (message: O) => Effect.Effect<void, X, R>
  ) => Effect.Effect<void, NotReady | Closed | E | X, R>
  /** As `forEach`, with everything that has arrived at once, as an array. */
  readonly forEachArray: <X, R>(
    f: (messages: ReadonlyArray<O>) => Effect.Effect<void, X, R>
  ) => Effect.Effect<void, NotReady | Closed | E | X, R>
  /** The messages, ending at the peer's clean end. */
  readonly messages: Stream.Stream<O, NotReady | Closed | E>
  /** Queues one message; suspends while the outbound queue is full. */
  readonly write: (value: I) => Effect.Effect<void, NotReady | Closed | E>
  /** Queues every message, all or none, in order. */
  readonly writeAll: (values: Iterable<I>) => Effect.Effect<void, NotReady | Closed | E>
  /** Writes everything a stream gives. */
  readonly sink: Sink.Sink<void, I, never, NotReady | Closed | E>
  /** Completes once everything written so far has been handed to the OS. */
  readonly flushed: Effect.Effect<void, Closed>
  /** Completes once everything written so far has left the OS's buffer for the peer. */
  readonly sent: Effect.Effect<void, Closed>
  /** Completes once the handshake has succeeded. */
  readonly ready: Effect.Effect<void, Closed>
  readonly isActive: Effect.Effect<boolean>
  readonly handshakeComplete: Effect.Effect<boolean>
  /** Whether messages are queued and not yet handed to the OS. */
  readonly writeDataQueued: Effect.Effect<boolean>
  /** Closes gracefully: what is queued goes out, then the connection ends. */
  readonly close: Effect.Effect<void>
  /** Closes at once, dropping what is queued. */
  readonly abort: Effect.Effect<void>
  /** Completes with the `Closed` once the Stocking is closing. */
  readonly closed: Effect.Effect<Closed>
}

/**
 * The `Stocking` service, for programs that take their connection from
 * context.
 *
 * @since 0.2.0
 * @category services
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Stocking } from "effect-stockings/effect4/node"
 *
 * const greet = Effect.gen(function* () {
 *   const stocking = yield* Stocking.Stocking
 *   yield* stocking.write("hello")
 * })
 *
 * const program = greet.pipe(Effect.provide(Stocking.layer({ port: 9000 })))
 * ```
 */
export const Stocking: Context.Service<Stocking, Stocking> = Context.Service<Stocking>("effect-stockings/Stocking")

/**
 * Tells whether a value is a `Stocking`.
 *
 * @since 0.2.0
 * @category refinements
 * @example
 * ```ts
 * import { Stocking } from "effect-stockings/effect4/node"
 *
 * Stocking.isStocking({ id: 1 }) // false
 * ```
 */
export const isStocking = (u: unknown): u is Stocking<unknown, unknown, unknown> =>
  typeof u === "object" && u !== null && TypeId in u

/**
 * Connects (or wraps the socket given), and returns the Stocking, closed
 * gracefully when the scope closes.
 *
 * @since 0.2.0
 * @category constructors
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Stocking } from "effect-stockings/effect4/node"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const stocking = yield* Stocking.make({ port: 9000 })
 *     yield* stocking.write("ping")
 *     return yield* stocking.take
 *   })
 * )
 * ```
 */
export const make: <I = Message, O = Message, E = never, EH = never, RH = never>(
  options: Options<I, O, E, EH, RH>
) => Effect.Effect<Stocking<I, O, E>, ConnectError, Scope.Scope | RH> = internal.make

/**
 * The `Stocking` service as a Layer: connects when built, closes when released.
 *
 * @since 0.2.0
 * @category layers
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Stocking } from "effect-stockings/effect4/node"
 *
 * const program = Effect.gen(function* () {
 *   const stocking = yield* Stocking.Stocking
 *   yield* stocking.write("hello")
 * }).pipe(Effect.provide(Stocking.layer({ port: 9000 })))
 * ```
 */
export const layer = <EH = never, RH = never>(
  options: Options<Message, Message, never, EH, RH>
): Layer.Layer<Stocking, ConnectError, RH> => Layer.effect(Stocking, make(options))

/**
 * What `optionsFromConfig` and `layerConfig` take: the settings given in
 * code (a codec, a handshake, defaults, even a target), and the prefix of
 * the variables (default `STOCKING`: `STOCKING_HOST`, `STOCKING_PORT`,
 * `STOCKING_PATH`, `STOCKING_TLS`, the limits...). A variable that is set
 * wins over the code's value.
 *
 * @since 0.2.0
 * @category options
 */
export type ConfigSettings<I = Message, O = Message, E = never, EH = never, RH = never> = configInternal.ClientSettings<
  Settings<I, O, E, EH, RH>
>

/**
 * A Stocking's options read through `Config` (the variables are those of
 * the Effect 3 line, with the same messages for bad values).
 *
 * @since 0.2.0
 * @category config
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Stocking } from "effect-stockings/effect4/node"
 *
 * // STOCKING_HOST=db.internal STOCKING_PORT=7000 node app.js
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const options = yield* Stocking.optionsFromConfig({ closeTimeout: "2 seconds" })
 *     const stocking = yield* Stocking.make(options)
 *     yield* stocking.write("hello")
 *   })
 * )
 * ```
 */
export const optionsFromConfig = <I = Message, O = Message, E = never, EH = never, RH = never>(
  settings?: ConfigSettings<I, O, E, EH, RH>
): Effect.Effect<Options<I, O, E, EH, RH>, Config.ConfigError> =>
  configInternal.clientOptions<Settings<I, O, E, EH, RH>>(settings)

/**
 * As `layer`, with the options read through `Config` (see `optionsFromConfig`).
 *
 * @since 0.2.0
 * @category layers
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Stocking } from "effect-stockings/effect4/node"
 *
 * // STOCKING_HOST=db.internal STOCKING_PORT=7000 node app.js
 * const program = Effect.gen(function* () {
 *   const stocking = yield* Stocking.Stocking
 *   yield* stocking.write("hello")
 * }).pipe(Effect.provide(Stocking.layerConfig()))
 * ```
 */
export const layerConfig = <EH = never, RH = never>(
  settings?: ConfigSettings<Message, Message, never, EH, RH>
): Layer.Layer<Stocking, ConnectError | Config.ConfigError, RH> =>
  Layer.effect(Stocking, Effect.flatMap(optionsFromConfig(settings), make))

type OmitCodec<T> = T extends unknown ? Omit<T, "codec"> : never

/**
 * A service class for a Stocking with a codec, made by `Tag`: an Effect 4
 * `Context.Service` class whose service is typed by the codec, with its own
 * `layer` and `layerConfig`.
 *
 * @since 0.2.0
 * @category services
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Codec } from "effect-stockings/effect4"
 * import { Stocking } from "effect-stockings/effect4/node"
 *
 * const Ping = Schema.Struct({ n: Schema.Number })
 * class PingClient extends Stocking.Tag<PingClient>()("PingClient", { codec: Codec.json(Ping) }) {}
 *
 * const tag: Stocking.TagClass<PingClient, "PingClient", { readonly n: number }, { readonly n: number }, Schema.SchemaError> =
 *   PingClient
 * ```
 */
export interface TagClass<Self, Id extends string, I, O, E> extends Context.ServiceClass<Self, Id, Stocking<I, O, E>> {
  /** The codec the class was declared with. */
  readonly codec: Conversions<I, O, E> | undefined
  /** The service as a Layer: connects when built, closes when released. */
  readonly layer: <EH = never, RH = never>(
    options: OmitCodec<Options<I, O, E, EH, RH>>
  ) => Layer.Layer<Self, ConnectError, RH>
  /** As `layer`, with the options read through `Config` (see `optionsFromConfig`). */
  readonly layerConfig: <EH = never, RH = never>(
    settings?: Omit<ConfigSettings<I, O, E, EH, RH>, "codec">
  ) => Layer.Layer<Self, ConnectError | Config.ConfigError, RH>
}

/**
 * Declares a typed Stocking service in one line: the codec types what
 * `write` takes, what reads give and the codec's error.
 *
 * @since 0.2.0
 * @category services
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Codec } from "effect-stockings/effect4"
 * import { Stocking } from "effect-stockings/effect4/node"
 *
 * const Request = Schema.Struct({ id: Schema.Number })
 * const Response = Schema.Struct({ id: Schema.Number, title: Schema.String })
 * class TodoClient extends Stocking.Tag<TodoClient>()("TodoClient", { codec: Codec.jsonPair(Request, Response) }) {}
 *
 * const title = Effect.gen(function* () {
 *   const client = yield* TodoClient
 *   yield* client.write({ id: 1 })
 *   return (yield* client.take).title
 * }).pipe(Effect.provide(TodoClient.layer({ host: "127.0.0.1", port: 1234 })))
 * ```
 */
export const Tag =
  <Self>() =>
  <const Id extends string, I = Message, O = Message, E = never>(
    id: Id,
    options: { readonly codec?: Conversions<I, O, E> | undefined } = {}
  ): TagClass<Self, Id, I, O, E> => {
    const service = Context.Service<Self, Stocking<I, O, E>>()(id)
    const codec = options.codec
    const withCodec = <T extends object>(settings: T) =>
      (codec === undefined ? settings : { ...settings, codec }) as unknown as Options<I, O, E, never, never>
    const layer = <EH, RH>(settings: OmitCodec<Options<I, O, E, EH, RH>>): Layer.Layer<Self, ConnectError, RH> =>
      Layer.effect(service, make(withCodec(settings) as Options<I, O, E, EH, RH>))
    const layerConfig = <EH, RH>(
      settings?: Omit<ConfigSettings<I, O, E, EH, RH>, "codec">
    ): Layer.Layer<Self, ConnectError | Config.ConfigError, RH> =>
      Layer.effect(
        service,
        Effect.flatMap(
          optionsFromConfig<I, O, E, EH, RH>(withCodec(settings ?? {}) as ConfigSettings<I, O, E, EH, RH>),
          make
        )
      )
    return Object.assign(service, { codec, layer, layerConfig })
  }

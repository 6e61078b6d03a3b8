import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as configInternal from "./internal/config.js"
import * as internal from "./internal/stocking.js"
import * as errorInternal from "./internal/stockingError.js"
import * as tagInternal from "./internal/tag.js"
/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId = internal.TypeId
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
export const NotReady = errorInternal.NotReady
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
export const Closed = errorInternal.Closed
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
export const ConnectError = errorInternal.ConnectError
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
export const optionsFromConfig = configInternal.clientOptions
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
export const Stocking = Context.GenericTag("effect-stockings/Stocking")
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
export const isStocking = (u) => typeof u === "object" && u !== null && TypeId in u
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
export const make = internal.make
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
export const layer = (options) => Layer.scoped(Stocking, make(options))
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
export const layerAs = (tag, options) => Layer.scoped(tag, make(options))
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
export const layerConfig = (settings) =>
  Layer.scoped(Stocking, Effect.flatMap(configInternal.clientOptions(settings), make))
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
  () =>
  (id, options = {}) =>
    tagInternal.makeTagClass(id, options.codec, make, configInternal.clientOptions)

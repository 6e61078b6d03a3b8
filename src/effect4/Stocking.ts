/**
 * TEMPORARY STAND-IN for the lead's Effect 4 `Stocking` module (being
 * written on `main`): only what the Effect 4 `Server` and its tests need.
 * Replace it with the real module (take `main`'s file on merge).
 *
 * @since 0.2.0
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type { Duplex } from "node:stream"
import type * as model from "../internal/model.js"
import type { Closed, NotReady } from "../internal/stockingError.js"
import type { Message } from "../internal/wire.js"

/**
 * A socket address.
 *
 * @since 0.2.0
 * @category models
 */
export type Address = model.Address

/**
 * Stand-in: what the server passes to every accepted Stocking.
 *
 * @since 0.2.0
 * @category options
 */
export interface Settings<I = Message, O = Message, E = never, EH = never, RH = never> {
  readonly codec?:
    | {
        readonly encode: (value: I) => Effect.Effect<Message, E>
        readonly decode: (message: Message) => Effect.Effect<O, E>
      }
    | undefined
  readonly handshake?: ((raw: unknown) => Effect.Effect<boolean, EH, RH>) | undefined
  readonly handshakeTimeout?: Duration.Input | undefined
  readonly maxMessageSize?: number | undefined
  readonly maxBufferedMessages?: number | undefined
  readonly maxBufferedBytes?: number | undefined
  readonly maxQueuedMessages?: number | undefined
  readonly maxQueuedBytes?: number | undefined
  readonly closeTimeout?: Duration.Input | undefined
  readonly connectTimeout?: Duration.Input | undefined
  readonly retry?: unknown
  readonly tls?: unknown
  readonly idleTimeout?: Duration.Input | undefined
}

/**
 * Stand-in: the members the server and its tests use.
 *
 * @since 0.2.0
 * @category models
 */
export interface Stocking<in I = Message, out O = Message, out E = never> {
  readonly id: number
  readonly socket: Duplex
  readonly take: Effect.Effect<O, NotReady | Closed | E>
  readonly messages: Stream.Stream<O, NotReady | Closed | E>
  readonly write: (value: I) => Effect.Effect<void, NotReady | Closed | E>
  readonly writeAll: (values: Iterable<I>) => Effect.Effect<void, NotReady | Closed | E>
  readonly ready: Effect.Effect<void, Closed>
  readonly close: Effect.Effect<void>
  readonly closed: Effect.Effect<Closed>
}

/**
 * Layers that hold a Stocking for as long as they live: `layer` for the
 * `Stocking` service, `layerAs` for a tag declared by hand, `layerConfig`
 * with the options read through Effect `Config`, and `Tag`, which declares a
 * service typed by its codec together with its layers. The `Stocking`
 * module re-exports each of them.
 *
 * @since 0.1.0
 */
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Codec from "./Codec.js"
import type { Message } from "./Framing.js"
import * as configInternal from "./internal/config.js"
import { make } from "./internal/stocking.js"
import * as tagInternal from "./internal/tag.js"
import type { Stocking } from "./Stocking.js"
import type { ConnectError } from "./StockingError.js"
import type { ConfigSettings, Options, Settings, Target } from "./StockingOptions.js"

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
): Layer.Layer<Stocking, ConnectError, RH> => Layer.scoped(tagInternal.Stocking, make(options))

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
  Layer.scoped(tagInternal.Stocking, Effect.flatMap(configInternal.clientOptions(settings), make))

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
  ): TagClass<Self, Id, I, O, E> => {
    const tag = Context.Tag(id)<Self, Stocking<I, O, E>>()
    const codec = (options.codec ?? Codec.identity) as Codec.Codec<I, O, E>
    const layer = <EH, RH>(
      settings: Target & Omit<Settings<I, O, E, EH, RH>, "codec">
    ): Layer.Layer<Self, ConnectError, RH> => Layer.scoped(tag, make<I, O, E, EH, RH>({ ...settings, codec }))
    const layerConfig = <EH, RH>(
      settings: Omit<ConfigSettings<I, O, E, EH, RH>, "codec"> = {}
    ): Layer.Layer<Self, ConnectError | ConfigError.ConfigError, RH> =>
      Layer.scoped(
        tag,
        Effect.flatMap(configInternal.clientOptions<I, O, E, EH, RH>({ ...settings, codec }), (o) => make(o))
      )
    return Object.assign(tag, { codec, layer, layerConfig })
  }

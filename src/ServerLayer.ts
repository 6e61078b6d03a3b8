/**
 * Layers that listen for as long as they live: `layer` for the `Server`
 * service, `layerServe` that also serves every connection, `layerConfig`
 * with the options read through Effect `Config`, and `Tag`, which declares a
 * server service typed by its codec together with its layers. The `Server`
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
import { make } from "./internal/server.js"
import * as tagInternal from "./internal/tag.js"
import type { ConfigSettings, Options, Server, ServerError } from "./Server.js"
import type * as Stocking from "./Stocking.js"

/**
 * A Layer providing the `Server` service (identity codec): it listens as
 * long as the Layer lives.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Server } from "effect-stockings/node"
 *
 * const program = Effect.gen(function* () {
 *   const server = yield* Server.Server
 *   yield* Effect.log(`listening on port ${server.port}`)
 *   yield* server.serve((stocking) => stocking.messages.pipe(Stream.runForEach(stocking.write)))
 * }).pipe(Effect.provide(Server.layer({ port: 0 })))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <EH = never, RH = never>(
  options: Options<Message, Message, never, EH, RH>
): Layer.Layer<Server, ServerError, RH> => Layer.scoped(tagInternal.Server, make(options))

/**
 * A Layer that listens and serves every connection with `handler` for as
 * long as it lives (`serve`, forked into the Layer's scope): the usual
 * shape of a service. It provides nothing; launch it with `Layer.launch`
 * or merge it into your application's layer.
 *
 * @example
 * ```ts
 * import { NodeRuntime } from "@effect/platform-node"
 * import { Layer, Stream } from "effect"
 * import { Server } from "effect-stockings/node"
 *
 * const EchoLive = Server.layerServe({ port: 7000 }, (stocking) =>
 *   stocking.messages.pipe(Stream.runForEach(stocking.write))
 * )
 *
 * NodeRuntime.runMain(Layer.launch(EchoLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerServe = <I = Message, O = Message, E = never, EH = never, RH = never, X = never, R = never>(
  options: Options<I, O, E, EH, RH>,
  handler: (stocking: Stocking.Stocking<I, O, E>) => Effect.Effect<void, X, R>
): Layer.Layer<never, ServerError, RH | R> =>
  Layer.scopedDiscard(Effect.flatMap(make(options), (server) => Effect.forkScoped(server.serve(handler))))

/**
 * A Layer providing the `Server` service (identity codec), its options read
 * through `Config` as `optionsFromConfig` does.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Server } from "effect-stockings/node"
 *
 * // STOCKING_SERVER_PORT=7000
 * const program = Effect.flatMap(Server.Server, (server) => Effect.log(`listening on ${server.port}`)).pipe(
 *   Effect.provide(Server.layerConfig())
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = <EH = never, RH = never>(
  settings?: ConfigSettings<Message, Message, never, EH, RH>
): Layer.Layer<Server, ServerError | ConfigError.ConfigError, RH> =>
  Layer.scoped(tagInternal.Server, Effect.flatMap(configInternal.serverOptions(settings), make))

/** `Omit` for each member of a union (the listen targets stay apart). */
type OmitCodec<T> = T extends unknown ? Omit<T, "codec"> : never

/**
 * A Tag class for a server with a codec, made by `Tag`.
 *
 * @since 0.1.0
 * @category models
 */
export interface TagClass<Self, Id extends string, I, O, E> extends Context.TagClass<Self, Id, Server<I, O, E>> {
  /** The codec every accepted Stocking uses. */
  readonly codec: Codec.Codec<I, O, E>
  /** Listens with these options (and the tag's codec) as long as the Layer lives. */
  readonly layer: <EH = never, RH = never>(
    options: OmitCodec<Options<I, O, E, EH, RH>>
  ) => Layer.Layer<Self, ServerError, RH>
  /** As `layer`, with the options read through `Config` (see `optionsFromConfig`). */
  readonly layerConfig: <EH = never, RH = never>(
    settings?: Omit<ConfigSettings<I, O, E, EH, RH>, "codec">
  ) => Layer.Layer<Self, ServerError | ConfigError.ConfigError, RH>
}

/**
 * Declares a service holding a server with a codec, in one class: the
 * service's type (`Server<I, O, E>`) is inferred from the codec, and the
 * class has `layer` and `layerConfig`.
 *
 * @example
 * ```ts
 * import { Effect, Schema, Stream } from "effect"
 * import { Codec } from "effect-stockings"
 * import { Server } from "effect-stockings/node"
 *
 * const Ping = Schema.Struct({ n: Schema.Number })
 *
 * class PingServer extends Server.Tag<PingServer>()("PingServer", { codec: Codec.json(Ping) }) {}
 *
 * const program = Effect.gen(function* () {
 *   const server = yield* PingServer
 *   yield* server.serve((stocking) =>
 *     stocking.messages.pipe(Stream.runForEach(({ n }) => stocking.write({ n: n + 1 })))
 *   )
 * }).pipe(Effect.provide(PingServer.layer({ port: 7000 })))
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
    const tag = Context.Tag(id)<Self, Server<I, O, E>>()
    const codec = (options.codec ?? Codec.identity) as Codec.Codec<I, O, E>
    const layer = <EH, RH>(settings: OmitCodec<Options<I, O, E, EH, RH>>): Layer.Layer<Self, ServerError, RH> =>
      Layer.scoped(tag, make<I, O, E, EH, RH>({ ...settings, codec } as Options<I, O, E, EH, RH>))
    const layerConfig = <EH, RH>(
      settings: Omit<ConfigSettings<I, O, E, EH, RH>, "codec"> = {} as Omit<ConfigSettings<I, O, E, EH, RH>, "codec">
    ): Layer.Layer<Self, ServerError | ConfigError.ConfigError, RH> =>
      Layer.scoped(
        tag,
        Effect.flatMap(
          configInternal.serverOptions<I, O, E, EH, RH>({ ...settings, codec } as ConfigSettings<I, O, E, EH, RH>),
          (o) => make(o)
        )
      )
    return Object.assign(tag, { codec, layer, layerConfig })
  }

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
 * shape of a service. Launch it with `Layer.launch` or merge it into your
 * application's layer.
 *
 * It provides the `Server` it serves with, so that a program listening on
 * port 0 learns the port (`port`, `address`). Its connections are the
 * handler's: do not `serve` or take `connections` from it again. With a
 * codec it provides nothing; declare the server with `Tag`, whose
 * `layerServe` provides the typed server.
 *
 * @example
 * ```ts
 * import { NodeRuntime } from "@effect/platform-node"
 * import { Effect, Layer, Stream } from "effect"
 * import { Server } from "effect-stockings/node"
 *
 * const EchoLive = Server.layerServe({ port: 7000 }, (stocking) =>
 *   stocking.messages.pipe(Stream.runForEach(stocking.write))
 * )
 *
 * NodeRuntime.runMain(Layer.launch(EchoLive))
 *
 * // On a free port: the program reads the one the OS picked.
 * const OnFreePort = Server.layerServe({ port: 0 }, (stocking) => stocking.messages.pipe(Stream.runForEach(stocking.write)))
 * const program = Effect.flatMap(Server.Server, (server) => Effect.log(`listening on ${server.port}`)).pipe(
 *   Effect.provide(OnFreePort)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerServe = <I = Message, O = Message, E = never, EH = never, RH = never, X = never, R = never>(
  options: Options<I, O, E, EH, RH>,
  handler: (stocking: Stocking.Stocking<I, O, E>) => Effect.Effect<void, X, R>
): Layer.Layer<ServedServer<I, O, E>, ServerError, RH | R> =>
  serveAs(
    tagInternal.Server as Context.Tag<unknown, unknown> as Context.Tag<ServedServer<I, O, E>, Server<I, O, E>>,
    options,
    handler
  )

/** What `layerServe` provides: the `Server` service when the server has the identity codec's types, else nothing. */
type ServedServer<I, O, E> = [I, O, E] extends [Message, Message, never]
  ? [Message, Message, never] extends [I, O, E]
    ? Server
    : never
  : never

/** Listens with `options`, serves with `handler` in the Layer's scope, and provides the server under `tag`. */
const serveAs = <Self, I, O, E, EH, RH, X, R>(
  tag: Context.Tag<Self, Server<I, O, E>>,
  options: Options<I, O, E, EH, RH>,
  handler: (stocking: Stocking.Stocking<I, O, E>) => Effect.Effect<void, X, R>
): Layer.Layer<Self, ServerError, RH | R> =>
  Layer.scoped(
    tag,
    Effect.tap(make(options), (server) => Effect.forkScoped(server.serve(handler)))
  )

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
  /**
   * Listens with these options (and the tag's codec) and serves every
   * connection with `handler` as long as the Layer lives, providing the
   * server it serves with (see `layerServe`).
   */
  readonly layerServe: <EH = never, RH = never, X = never, R = never>(
    options: OmitCodec<Options<I, O, E, EH, RH>>,
    handler: (stocking: Stocking.Stocking<I, O, E>) => Effect.Effect<void, X, R>
  ) => Layer.Layer<Self, ServerError, RH | R>
}

/**
 * Declares a service holding a server with a codec, in one class: the
 * service's type (`Server<I, O, E>`) is inferred from the codec, and the
 * class has `layer`, `layerConfig` and `layerServe`.
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
    const layerServe = <EH, RH, X, R>(
      settings: OmitCodec<Options<I, O, E, EH, RH>>,
      handler: (stocking: Stocking.Stocking<I, O, E>) => Effect.Effect<void, X, R>
    ): Layer.Layer<Self, ServerError, RH | R> =>
      serveAs(tag, { ...settings, codec } as Options<I, O, E, EH, RH>, handler)
    return Object.assign(tag, { codec, layer, layerConfig, layerServe })
  }

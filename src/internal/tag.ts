/**
 * What `Stocking.Tag` and `Server.Tag` make, written once: a Tag class whose
 * service type comes from a codec, carrying that codec and its two layers.
 *
 * @internal
 */
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as Codec from "../Codec.js"
import * as codec_ from "./codec.js"

/**
 * A Tag class `Id` for a `Service` made by `make`, with `codec` (the
 * identity codec when none is given) and two layers: `layer` takes the
 * options in code, `layerConfig` reads them through `Config` with
 * `fromConfig`; both add the codec and provide the class for as long as they
 * live. The public `Tag`s give the result its typed interface.
 *
 * @internal
 */
export const makeTagClass = <Self, Id extends string, Service, I, O, E, Options, Settings, MakeError>(
  id: Id,
  codec: Codec.Codec<I, O, E> | undefined,
  make: (options: Options) => Effect.Effect<Service, MakeError, Scope.Scope>,
  fromConfig: (settings: Settings) => Effect.Effect<Options, ConfigError.ConfigError>
): Context.TagClass<Self, Id, Service> & {
  readonly codec: Codec.Codec<I, O, E>
  readonly layer: (options: object) => Layer.Layer<Self, MakeError>
  readonly layerConfig: (settings?: object) => Layer.Layer<Self, MakeError | ConfigError.ConfigError>
} => {
  const tag = Context.Tag(id)<Self, Service>()
  const withCodec = { codec: (codec ?? codec_.identity) as Codec.Codec<I, O, E> }
  const layer = (options: object) => Layer.scoped(tag, make({ ...options, ...withCodec } as Options))
  const layerConfig = (settings: object = {}) =>
    Layer.scoped(tag, Effect.flatMap(fromConfig({ ...settings, ...withCodec } as Settings), make))
  return Object.assign(tag, { codec: withCodec.codec, layer, layerConfig })
}

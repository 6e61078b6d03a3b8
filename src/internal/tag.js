import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
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
export const makeTagClass = (id, codec, make, fromConfig) => {
  const tag = Context.Tag(id)()
  const withCodec = { codec: codec ?? codec_.identity }
  const layer = (options) => Layer.scoped(tag, make({ ...options, ...withCodec }))
  const layerConfig = (settings = {}) =>
    Layer.scoped(tag, Effect.flatMap(fromConfig({ ...settings, ...withCodec }), make))
  return Object.assign(tag, { codec: withCodec.codec, layer, layerConfig })
}

/**
 * The `Framing` module's channels and stream functions: bytes to whole
 * messages through the incremental decoder, and back. The `Framing` module
 * re-exports them, with their documentation.
 *
 * @internal
 */
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Stream from "effect/Stream"
import * as framing from "./framing.js"
import * as Framing from "./framingApi.js"
/** `Framing.pack`. @internal */
export const pack = () => {
  const loop = Channel.readWith({
    onInput: (input) =>
      Chunk.isEmpty(input) ? loop : Channel.zipRight(Channel.write(Chunk.of(framing.encodeAll(input))), loop),
    onFailure: Channel.fail,
    onDone: Channel.succeed
  })
  return loop
}
/** `Framing.unpack`. @internal */
export const unpack = (options) =>
  Channel.suspend(() => {
    const decoder = Framing.unsafeMakeDecoder(options)
    const loop = Channel.readWith({
      onInput: (input) => {
        let messages = []
        for (const chunk of input) {
          const out = decoder.push(chunk)
          messages = messages.length === 0 ? out : messages.concat(out)
          if (decoder.failure !== undefined) break
        }
        const emitted =
          messages.length === 0 ? loop : Channel.zipRight(Channel.write(Chunk.unsafeFromArray(messages)), loop)
        return decoder.failure === undefined
          ? emitted
          : Channel.zipRight(
              messages.length === 0 ? Channel.void : Channel.write(Chunk.unsafeFromArray(messages)),
              Channel.fail(decoder.failure)
            )
      },
      onFailure: Channel.fail,
      onDone: (done) => {
        const failure = decoder.end()
        return failure === undefined ? Channel.succeed(done) : Channel.fail(failure)
      }
    })
    return loop
  })
/** `Framing.decodeStream`. @internal */
export const decodeStream = (options) => (self) => Stream.pipeThroughChannelOrFail(self, unpack(options))
/** `Framing.encodeStream`. @internal */
export const encodeStream = (self) => Stream.pipeThroughChannelOrFail(self, pack())

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
import type { DecoderOptions, FramingError, Message } from "../Framing.js"
import * as framing from "./framing.js"
import * as Framing from "./framingApi.js"

/** `Framing.pack`. @internal */
export const pack = <IE = never, Done = unknown>(): Channel.Channel<
  Chunk.Chunk<Uint8Array>,
  Chunk.Chunk<Message>,
  IE,
  IE,
  Done,
  Done
> => {
  const loop: Channel.Channel<Chunk.Chunk<Uint8Array>, Chunk.Chunk<Message>, IE, IE, Done, Done> = Channel.readWith({
    onInput: (input: Chunk.Chunk<Message>) =>
      Chunk.isEmpty(input) ? loop : Channel.zipRight(Channel.write(Chunk.of(framing.encodeAll(input))), loop),
    onFailure: Channel.fail,
    onDone: Channel.succeed
  })
  return loop
}

/** `Framing.unpack`. @internal */
export const unpack = <IE = never, Done = unknown>(
  options?: DecoderOptions
): Channel.Channel<Chunk.Chunk<Message>, Chunk.Chunk<Uint8Array>, IE | FramingError, IE, Done, Done> =>
  Channel.suspend(() => {
    const decoder = Framing.unsafeMakeDecoder(options)
    const loop: Channel.Channel<
      Chunk.Chunk<Message>,
      Chunk.Chunk<Uint8Array>,
      IE | FramingError,
      IE,
      Done,
      Done
    > = Channel.readWith({
      onInput: (input: Chunk.Chunk<Uint8Array>) => {
        let messages: Array<Message> = []
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
export const decodeStream =
  (options?: DecoderOptions) =>
  <E, R>(self: Stream.Stream<Uint8Array, E, R>): Stream.Stream<Message, E | FramingError, R> =>
    Stream.pipeThroughChannelOrFail(self, unpack<E>(options))

/** `Framing.encodeStream`. @internal */
export const encodeStream = <E, R>(self: Stream.Stream<Message, E, R>): Stream.Stream<Uint8Array, E, R> =>
  Stream.pipeThroughChannelOrFail(self, pack<E>())

/**
 * The Effect 4 `Framing` module's channels and stream functions: bytes to
 * whole messages through the shared incremental decoder, and back through
 * the shared encoder. Effect 4 streams move `NonEmptyReadonlyArray` batches
 * and read their input through a `Pull`, so decoding is one pull transform,
 * run as a `Channel` (`unpack`) or straight on a stream's pull
 * (`decodeStream`); encoding maps each batch to one buffer. The `Framing`
 * module re-exports these, with their documentation.
 *
 * @internal
 */
import * as Arr from "effect/Array"
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Cause from "effect/Cause"
import * as Channel from "effect/Channel"
import * as Effect from "effect/Effect"
import * as Pull from "effect/Pull"
import * as Stream from "effect/Stream"
import * as framing from "../../internal/framing.js"
import * as Framing from "../../internal/framingApi.js"
import type { FramingError } from "../../internal/framingError.js"
import type { DecoderOptions, Message } from "../../internal/wire.js"

/** One buffer with every frame of a batch. */
const encodeBatch = (messages: NonEmptyReadonlyArray<Message>): NonEmptyReadonlyArray<Uint8Array> => [
  framing.encodeAll(messages)
]

/**
 * Turns a pull of byte batches into a pull of message batches, with a
 * decoder of its own. A pull emits a batch only when the bytes read complete
 * at least one message (it reads on until they do). On invalid framing it
 * emits the messages completed before the fault, then fails with the
 * `FramingError` on the next pull; when its input ends, it fails with
 * `Truncated` if a message was unfinished, else ends as its input did. Once
 * failed or ended it stays so: its input is not pulled again.
 */
const decodePull =
  (options: DecoderOptions | undefined) =>
  <E, Done>(
    upstream: Pull.Pull<NonEmptyReadonlyArray<Uint8Array>, E, Done>
  ): Effect.Effect<Pull.Pull<NonEmptyReadonlyArray<Message>, E | FramingError, Done>> =>
    Effect.sync(() => {
      const decoder = Framing.unsafeMakeDecoder(options)
      let halt: Pull.Pull<never, FramingError, Done> | undefined
      const onBatch = (
        batch: NonEmptyReadonlyArray<Uint8Array>
      ): Pull.Pull<NonEmptyReadonlyArray<Message>, E | FramingError, Done> => {
        let messages: Array<Message> = []
        for (const bytes of batch) {
          const out = decoder.push(bytes)
          if (messages.length === 0) messages = out
          else for (const message of out) messages.push(message)
          if (decoder.failure !== undefined) {
            halt = Effect.fail(decoder.failure)
            break
          }
        }
        if (Arr.isArrayNonEmpty(messages)) return Effect.succeed(messages)
        return halt ?? read
      }
      const onDone = (leftover: Done): Pull.Pull<never, FramingError, Done> => {
        const failure = decoder.end()
        halt = failure === undefined ? Cause.done(leftover) : Effect.fail(failure)
        return halt
      }
      const read: Pull.Pull<NonEmptyReadonlyArray<Message>, E | FramingError, Done> = Pull.matchEffect(upstream, {
        onSuccess: onBatch,
        onFailure: Effect.failCause,
        onDone
      })
      return Effect.suspend(() => halt ?? read)
    })

/** `Framing.pack`. @internal */
export const pack = <IE = never, Done = unknown>(): Channel.Channel<
  NonEmptyReadonlyArray<Uint8Array>,
  IE,
  Done,
  NonEmptyReadonlyArray<Message>,
  IE,
  Done
> => Channel.map(Channel.identity<NonEmptyReadonlyArray<Message>, IE, Done>(), encodeBatch)

/** `Framing.unpack`. @internal */
export const unpack = <IE = never, Done = unknown>(
  options?: DecoderOptions
): Channel.Channel<
  NonEmptyReadonlyArray<Message>,
  IE | FramingError,
  Done,
  NonEmptyReadonlyArray<Uint8Array>,
  IE,
  Done
> => Channel.fromTransform(decodePull(options)<IE, Done>)

/** `Framing.decodeStream`. @internal */
export const decodeStream =
  (options?: DecoderOptions) =>
  <E, R>(self: Stream.Stream<Uint8Array, E, R>): Stream.Stream<Message, E | FramingError, R> =>
    Stream.transformPull(self, decodePull(options)<E, void>)

/** `Framing.encodeStream`. @internal */
export const encodeStream = <E, R>(self: Stream.Stream<Message, E, R>): Stream.Stream<Uint8Array, E, R> =>
  Stream.mapArray(self, encodeBatch)

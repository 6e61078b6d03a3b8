/**
 * Whole Stockings messages over any `effect/socket` `Socket` (TCP through
 * `netSocket.ts`, a WebSocket, a `TransformStream`): writes encode each
 * message as one frame, reads run the bytes the reader pulls through the
 * shared incremental decoder. The evaluation of issue 21 measures it against
 * the Stocking, which drives `node:net` itself (bench/effect4/socket.ts,
 * bench/notes/effect4-socket.md).
 *
 * @internal
 */
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Socket from "effect/socket/Socket"
import { encodeAll } from "../../internal/framing.js"
import * as Framing from "../../internal/framingApi.js"

/** @internal */
export interface SocketMessages {
  /** Sends one message (one frame, one socket write). */
  readonly write: (message: Framing.Message) => Effect.Effect<void, Socket.SocketError>
  /** Sends the messages, encoded into one buffer, in one socket write. */
  readonly writeAll: (messages: ReadonlyArray<Framing.Message>) => Effect.Effect<void, Socket.SocketError>
  /** The next message, waiting for it. */
  readonly take: Effect.Effect<Framing.Message, Socket.SocketError | Framing.FramingError>
  /** Every message decoded and not yet taken (at least one, waiting for it). */
  readonly takeBatch: Effect.Effect<NonEmptyReadonlyArray<Framing.Message>, Socket.SocketError | Framing.FramingError>
}

/** @internal */
export interface SocketMessagesOptions {
  /** Largest message accepted, in payload bytes. Default `Framing.DEFAULT_MAX_MESSAGE_SIZE`. */
  readonly maxMessageSize?: number | undefined
}

/**
 * Acquires the socket's writer and reader (which, for a client socket,
 * connects) in the current scope. Reading fails with the `FramingError`
 * when the peer breaks the framing (and keeps failing), and with the
 * reader's `SocketError` once the messages received before it are taken.
 *
 * @internal
 */
export const make = (
  socket: Socket.Socket,
  options?: SocketMessagesOptions
): Effect.Effect<SocketMessages, Socket.SocketError, Scope.Scope> =>
  Effect.gen(function* () {
    const writer = yield* socket.writer
    const pull = yield* Socket.readerBytes(socket)
    const decoder = Framing.unsafeMakeDecoder({ maxMessageSize: options?.maxMessageSize })
    let pending: Array<Framing.Message> = []
    let next = 0

    // Pulls until at least one message is decoded.
    const fill: Effect.Effect<void, Socket.SocketError | Framing.FramingError> = Effect.suspend(() => {
      if (decoder.failure !== undefined) return Effect.fail(decoder.failure)
      return Effect.flatMap(pull, (chunks) => {
        const messages: Array<Framing.Message> = []
        for (let i = 0; i < chunks.length; i++) {
          const decoded = decoder.push(chunks[i]!)
          for (let j = 0; j < decoded.length; j++) messages.push(decoded[j]!)
        }
        if (decoder.failure !== undefined) return Effect.fail(decoder.failure)
        if (messages.length === 0) return fill
        pending = messages
        next = 0
        return Effect.void
      })
    })

    const takeNow = (): Framing.Message => {
      const message = pending[next++]!
      if (next === pending.length) {
        pending = []
        next = 0
      }
      return message
    }

    const take: SocketMessages["take"] = Effect.suspend(() =>
      next < pending.length ? Effect.succeed(takeNow()) : Effect.map(fill, takeNow)
    )

    const takeAllNow = (): NonEmptyReadonlyArray<Framing.Message> => {
      const batch = (next === 0 ? pending : pending.slice(next)) as unknown as NonEmptyReadonlyArray<Framing.Message>
      pending = []
      next = 0
      return batch
    }

    const takeBatch: SocketMessages["takeBatch"] = Effect.suspend(() =>
      next < pending.length ? Effect.succeed(takeAllNow()) : Effect.map(fill, takeAllNow)
    )

    return {
      write: (message) => Effect.suspend(() => writer.write(Framing.encode(message))),
      writeAll: (messages) =>
        Effect.suspend(() => (messages.length === 0 ? Effect.void : writer.write(encodeAll(messages)))),
      take,
      takeBatch
    }
  })

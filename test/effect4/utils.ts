/**
 * Shared helpers of the Effect 4 line's tests. Each helper is a separate
 * export; add yours as separate functions.
 */
import * as net from "node:net"
import * as tls from "node:tls"
import { DecoderImpl } from "../../src/internal/decoder.js"
import { FramingError } from "../../src/internal/framingError.js"
import { encodeAll } from "../../src/internal/framing.js"
import type { Message } from "../../src/internal/wire.js"

// ---------------------------------------------------------------------------
// A raw client speaking the wire format (Server tests)
// ---------------------------------------------------------------------------

/**
 * A plain `node:net` socket connected to a server, speaking the wire format
 * itself (`framing.ts` to encode, the decoder to decode): a peer that owes
 * nothing to the Stocking under test.
 */
export interface WireClient {
  readonly socket: net.Socket
  /** Every message received so far, in order. */
  readonly received: Array<Message>
  /** Writes these messages, framed, in one socket write. */
  readonly send: (...messages: ReadonlyArray<Message>) => void
  /** Resolves with the next message not yet returned by `next` (in order), rejecting if the stream ends first. */
  readonly next: () => Promise<Message>
  /** Resolves with `count` messages (from where `next` is), rejecting if the stream ends first. */
  readonly take: (count: number) => Promise<Array<Message>>
  /** Ends this side's stream (FIN) after what was sent. */
  readonly end: () => void
  /** Resolves once the server's side ended its stream (or the socket closed): `true` for a clean end, `false` for an error. */
  readonly ended: Promise<boolean>
  /** Resolves once the socket is closed. */
  readonly closed: Promise<void>
  readonly destroy: () => void
}

/**
 * Connects a `WireClient` to `target`: a TCP port on 127.0.0.1 (over TLS
 * with `tls`), or a Unix socket path.
 */
export const wireClient = (
  target: { readonly port: number; readonly tls?: tls.ConnectionOptions | undefined } | { readonly path: string }
): Promise<WireClient> =>
  new Promise((resolve, reject) => {
    const socket: net.Socket =
      "path" in target
        ? net.createConnection({ path: target.path, allowHalfOpen: true })
        : target.tls !== undefined
          ? tls.connect({ ...target.tls, port: target.port, host: "127.0.0.1" })
          : net.createConnection({ port: target.port, host: "127.0.0.1", allowHalfOpen: true })
    const decoder = new DecoderImpl({ maxMessageSize: 64 * 1024 * 1024 }, (fields) => new FramingError(fields))
    const received: Array<Message> = []
    let read = 0
    let waiters: Array<() => void> = []
    let done: "open" | "clean" | "error" = "open"
    const wake = () => {
      const now = waiters
      waiters = []
      for (const waiter of now) waiter()
    }
    socket.on("data", (chunk: Buffer) => {
      for (const message of decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length))) {
        received.push(message)
      }
      wake()
    })
    let resolveEnded: (clean: boolean) => void = () => {}
    const ended = new Promise<boolean>((r) => (resolveEnded = r))
    const finish = (how: "clean" | "error") => {
      if (done !== "open") return
      done = how
      resolveEnded(how === "clean")
      wake()
    }
    socket.on("end", () => finish("clean"))
    socket.on("error", () => finish("error"))
    const closed = new Promise<void>((r) => socket.once("close", () => r()))
    socket.once("close", () => finish("error"))
    const take = (count: number): Promise<Array<Message>> =>
      new Promise((resolveTake, rejectTake) => {
        const check = () => {
          if (received.length - read >= count) {
            const out = received.slice(read, read + count)
            read += count
            resolveTake(out)
          } else if (done !== "open") {
            rejectTake(
              new Error(`the stream ended (${done}) after ${received.length} messages; wanted ${read + count}`)
            )
          } else {
            waiters.push(check)
          }
        }
        check()
      })
    socket.once("path" in target || target.tls === undefined ? "connect" : "secureConnect", () => {
      socket.off("error", reject)
      resolve({
        socket,
        received,
        send: (...messages) => void socket.write(encodeAll(messages)),
        next: () => take(1).then((messages) => messages[0]!),
        take,
        end: () => void socket.end(),
        ended,
        closed,
        destroy: () => void socket.destroy()
      })
    })
    socket.once("error", reject)
  })

/** A message that says who sent it and which it is, `size` bytes or characters long (at least its label's length). */
export const labelled = (sender: number, seq: number, size: number, asText: boolean): Message => {
  const label = `${sender}:${seq};`
  const text = label + "x".repeat(Math.max(0, size - label.length))
  return asText ? text : new TextEncoder().encode(text)
}

/** The sender and sequence number of a `labelled` message. */
export const labelOf = (message: Message): { readonly sender: number; readonly seq: number; readonly size: number } => {
  const text = typeof message === "string" ? message : new TextDecoder().decode(message.subarray(0, 32))
  const match = /^(\d+):(\d+);/.exec(text)
  if (match === null) throw new Error(`not a labelled message: ${text.slice(0, 32)}`)
  return { sender: Number(match[1]), seq: Number(match[2]), size: message.length }
}

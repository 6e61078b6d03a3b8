/**
 * Peers: other ways a Node program frames whole messages over a socket, run
 * as one-way throughput sides in the same interleaved rounds as the library
 * (bench/throughput.ts), with the same lead-in, counter and message counts.
 * Each has its own wire format (none speaks the Stockings headers), so they
 * answer "what would the same program cost with another library", not
 * "how fast is this wire format".
 *
 * - `it-length-prefixed`: `lp.encode` into `stream-to-it`'s sink on the
 *   accepted socket, `lp.decode` over `stream-to-it`'s source on the
 *   connecting one (varint length prefix, async iterables: a promise per
 *   message at each end); each message is read as one `Uint8Array`
 *   (`.subarray()` of the `Uint8ArrayList` it yields).
 * - `@effect/platform` sockets (`NodeSocket.fromDuplex` on the accepted
 *   socket, `NodeSocket.makeNet` to connect) with a hand-written 4-byte
 *   length prefix (`LengthDecoder`):
 *   - `per-message`: `yield* write(frame)` per message (the platform's
 *     `write` waits for the socket's write callback); the reader's `run`
 *     handler decodes each chunk into an unbounded `Queue`, and a fiber
 *     `Queue.take`s one message per Effect, as a `take` loop would.
 *   - `batched`: frames packed by hand into one buffer of up to 1000
 *     messages or 256 KiB (a payload of 64 KiB or more written after its
 *     header, uncopied), one `write` per buffer; the reader's handler loops
 *     over each chunk's messages, no Effect per message (as `forEachChunk`).
 */
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import { Deferred, Effect, Exit, Fiber, Queue } from "effect"
import * as lp from "it-length-prefixed"
import type * as net from "node:net"
import * as toIt from "stream-to-it"
import { closeServer, listen, portOf, socketPair } from "./baseline.js"
import { counter, lead, makePayload, type Measurement } from "./counting.js"

export type PeerKind = "it-lp" | "platform" | "platform-batched"

export const PEER_LABEL: Record<PeerKind, string> = {
  "it-lp": "peer it-length-prefixed",
  platform: "peer @effect/platform per-message",
  "platform-batched": "peer @effect/platform batched"
}

/** Messages per hand-made batch, and the most bytes one holds. */
const BATCH_MESSAGES = 1000
const BATCH_BYTES = 256 * 1024
/** Payloads at least this large go out after their header, uncopied. */
const LARGE = 64 * 1024

const writeLength = (target: Uint8Array, offset: number, length: number): void => {
  target[offset] = length >>> 24
  target[offset + 1] = (length >>> 16) & 0xff
  target[offset + 2] = (length >>> 8) & 0xff
  target[offset + 3] = length & 0xff
}

/** One frame: the 4-byte big-endian length, then the payload (copied). */
export const frame = (payload: Uint8Array): Uint8Array => {
  const out = Buffer.allocUnsafe(4 + payload.length)
  writeLength(out, 0, payload.length)
  out.set(payload, 4)
  return out
}

const header = (length: number): Uint8Array => {
  const out = Buffer.allocUnsafe(4)
  writeLength(out, 0, length)
  return out
}

/**
 * The reading half of the 4-byte length framing, as one would write it by
 * hand: a payload inside one chunk is handed out as a view; one spanning
 * chunks is gathered and copied once, into a buffer of its own length.
 */
export class LengthDecoder {
  private readonly head = new Uint8Array(4)
  private headHave = 0
  private need = -1
  private parts: Array<Uint8Array> = []
  private have = 0

  constructor(private readonly onMessage: (message: Uint8Array) => void) {}

  readonly push = (chunk: Uint8Array): void => {
    const end = chunk.length
    let pos = 0
    while (pos < end) {
      if (this.need < 0) {
        if (this.headHave === 0 && end - pos >= 4) {
          this.need = ((chunk[pos]! << 24) | (chunk[pos + 1]! << 16) | (chunk[pos + 2]! << 8) | chunk[pos + 3]!) >>> 0
          pos += 4
        } else {
          while (this.headHave < 4 && pos < end) this.head[this.headHave++] = chunk[pos++]!
          if (this.headHave < 4) return
          const h = this.head
          this.need = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0
          this.headHave = 0
        }
        if (end - pos >= this.need) {
          const length = this.need
          this.need = -1
          this.onMessage(chunk.subarray(pos, pos + length))
          pos += length
        } else {
          this.parts.push(chunk.subarray(pos))
          this.have = end - pos
          return
        }
      } else {
        const missing = this.need - this.have
        if (end - pos < missing) {
          this.parts.push(chunk.subarray(pos))
          this.have += end - pos
          return
        }
        const out = Buffer.allocUnsafe(this.need)
        let offset = 0
        for (const part of this.parts) {
          out.set(part, offset)
          offset += part.length
        }
        out.set(chunk.subarray(pos, pos + missing), offset)
        this.parts = []
        this.have = 0
        this.need = -1
        pos += missing
        this.onMessage(out)
      }
    }
  }
}

/** `it-length-prefixed` over `stream-to-it`, both ends on plain node:net sockets. */
const itRound = async (size: number, n: number): Promise<Measurement> => {
  const payload = makePayload(size)
  const c = counter(size, n)
  const pair = await socketPair()
  let leadIn!: () => void
  const leadReceived = new Promise<void>((resolve) => (leadIn = resolve))
  async function* messages(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < lead(n); i++) yield payload
    await leadReceived
    c.start()
    for (let i = 0; i < n; i++) yield payload
  }
  const writer = toIt.sink(pair.server)(lp.encode(messages()))
  let received = 0
  for await (const message of lp.decode(toIt.source<Uint8Array>(pair.client))) {
    if (c.onMessage(message.subarray())) leadIn()
    if (++received === c.total) break
  }
  await writer
  await pair.close()
  return c.finish("it-length-prefixed", payload)
}

/** A listening socket, and a promise of its first accepted connection. */
const acceptOne = async (): Promise<{ server: net.Server; accepted: Promise<net.Socket> }> => {
  let accept!: (socket: net.Socket) => void
  const accepted = new Promise<net.Socket>((resolve) => (accept = resolve))
  const server = await listen((socket) => accept(socket))
  return { server, accepted }
}

/** `@effect/platform` sockets, per message or batched by hand. */
const platformRound = (size: number, n: number, batched: boolean): Promise<Measurement> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const payload = makePayload(size)
        const c = counter(size, n)
        const { accepted, server } = yield* Effect.promise(acceptOne)
        yield* Effect.addFinalizer(() => Effect.promise(() => closeServer(server)))
        const leadReceived = yield* Deferred.make<void>()
        const allReceived = yield* Deferred.make<void>()
        let received = 0
        const onMessage = (message: Uint8Array) => {
          if (c.onMessage(message)) Deferred.unsafeDone(leadReceived, Exit.void)
          if (++received === c.total) Deferred.unsafeDone(allReceived, Exit.void)
        }

        // The reading end: connects, and decodes each chunk in the run handler.
        const reading = yield* NodeSocket.makeNet({ host: "127.0.0.1", port: portOf(server), noDelay: true })
        let reader: Effect.Effect<void>
        if (batched) {
          const decoder = new LengthDecoder(onMessage)
          yield* Effect.forkScoped(reading.run(decoder.push))
          reader = Deferred.await(allReceived)
        } else {
          const queue = yield* Queue.unbounded<Uint8Array>()
          const decoder = new LengthDecoder((message) => void queue.unsafeOffer(message))
          yield* Effect.forkScoped(reading.run(decoder.push))
          reader = Effect.gen(function* () {
            for (let i = 0; i < c.total; i++) onMessage(yield* Queue.take(queue))
          })
        }

        // The writing end: the accepted socket; `run` must be running for writes to go out.
        const socket = yield* Effect.promise(() => accepted)
        socket.setNoDelay(true)
        const writing = yield* NodeSocket.fromDuplex(Effect.succeed(socket))
        yield* Effect.forkScoped(writing.run(() => {}))
        const write = yield* writing.writer
        const writeOne = (message: Uint8Array) =>
          message.length >= LARGE
            ? Effect.zipRight(write(header(message.length)), write(message))
            : write(frame(message))
        const writeCount = (count: number) =>
          batched
            ? Effect.gen(function* () {
                let buffer = Buffer.allocUnsafe(BATCH_BYTES)
                let used = 0
                let inBatch = 0
                const flush = function* () {
                  if (used === 0) return
                  const out = buffer.subarray(0, used)
                  buffer = Buffer.allocUnsafe(BATCH_BYTES)
                  used = 0
                  inBatch = 0
                  yield* write(out)
                }
                for (let i = 0; i < count; i++) {
                  if (size >= LARGE) {
                    yield* flush()
                    yield* writeOne(payload)
                    continue
                  }
                  if (used + 4 + size > BATCH_BYTES || inBatch === BATCH_MESSAGES) yield* flush()
                  writeLength(buffer, used, size)
                  buffer.set(payload, used + 4)
                  used += 4 + size
                  inBatch++
                }
                yield* flush()
              })
            : Effect.gen(function* () {
                for (let i = 0; i < count; i++) yield* writeOne(payload)
              })
        const readerFiber = yield* Effect.fork(reader)
        const writerFiber = yield* Effect.fork(
          Effect.gen(function* () {
            yield* writeCount(lead(n))
            yield* Deferred.await(leadReceived)
            c.start()
            yield* writeCount(n)
          })
        )
        yield* Fiber.join(readerFiber)
        yield* Fiber.join(writerFiber)
        return c.finish(PEER_LABEL[batched ? "platform-batched" : "platform"], payload)
      })
    ).pipe(
      Effect.timeoutFail({
        duration: "120 seconds",
        onTimeout: () => new Error(`peer throughput ${size} B timed out`)
      })
    )
  )

/** One round of `kind` at `size` bytes, `n` timed messages. */
export const peerRound = (kind: PeerKind, size: number, n: number): Promise<Measurement> =>
  kind === "it-lp" ? itRound(size, n) : platformRound(size, n, kind === "platform-batched")

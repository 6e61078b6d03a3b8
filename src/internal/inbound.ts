/**
 * The inbound side of a connection: socket chunks, the decoder, the bounded
 * queue readers take from, and pausing the socket while that queue is full.
 *
 * Decoding happens in the socket's own callback: no fiber hop between a
 * chunk arriving and its messages being readable. The read loop runs, in a
 * fiber of its own, only when there is something to wait for or to finish:
 * the queue is full, or the peer has ended its stream (`loops.ts`). A
 * connection whose reader keeps up holds no read fiber.
 *
 * Its states:
 *
 * - **Flowing**: chunks are decoded as they arrive.
 * - **Paused**: the queue is full, or (on a server) the budget has no room
 *   yet for the next message; the socket is paused and chunks that were
 *   already on their way are held, undecoded, until readers make room or
 *   the budget admits the message.
 * - **Ended**: the peer ended its stream; once every held chunk is decoded
 *   the read loop returns and the connection closes.
 * - **Stopped**: the connection is closing; what is queued can still be
 *   taken, and whatever else arrives is dropped.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import { constVoid } from "effect/Function"
import type * as MetricLabel from "effect/MetricLabel"
import * as Framing from "./framingApi.js"
import * as Metrics from "./metrics.js"
import type { Closed } from "../Stocking.js"
import type { Budget } from "./budget.js"
import { Holder } from "./budget.js"
import type { SocketLike } from "./connect.js"
import type { DecoderImpl } from "./decoder.js"
import { sizeOf } from "./outbound.js"
import { MessageQueue } from "./queue.js"
import type { PooledReads } from "./reads.js"

/**
 * Payload buffers are filled completely before anyone sees them, so they
 * need no zeroing. Received bytes are always plain `Uint8Array`s, never
 * Node `Buffer`s, however many reads a payload took.
 */
const allocateUnzeroed = (size: number): Uint8Array => {
  const buffer = Buffer.allocUnsafeSlow(size)
  return new Uint8Array(buffer.buffer, buffer.byteOffset, size)
}

/** A plain view of a chunk, so payloads cut from it are plain views too. */
const plain = (chunk: Uint8Array): Uint8Array =>
  Buffer.isBuffer(chunk) ? new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength) : chunk

/** A socket's native handle that can stop reading by itself. */
type PausableHandle = { readonly pause: () => void }

/**
 * The socket's native handle, if it has a `pause` of its own: Bun's (Node's
 * and Deno's have none). Bun's `socket.pause()`, like Node's, stops only the
 * 'data' events: the socket keeps reading into the stream's buffer, unseen
 * and uncharged here, until that buffer reaches its high-water mark. Node
 * reads 64 KiB at a time, Bun up to 512 KiB, so under Bun a paused
 * connection could hold over half a MiB beyond its charge. Pausing the
 * handle stops the reads; `socket.resume()` resumes it.
 */
const pausableHandle = (socket: SocketLike): PausableHandle | undefined => {
  const handle = (socket as { readonly _handle?: { readonly pause?: unknown } | null })._handle
  return typeof handle?.pause === "function" ? (handle as PausableHandle) : undefined
}

type State = "Flowing" | "Paused" | "Ended" | "Stopped"

/** What the read loop returns when it has nothing left to do for now. */
export const IDLE: unique symbol = Symbol("effect-stockings/Inbound/IDLE")

/** @internal */
export interface InboundLimits {
  readonly maxMessageSize?: number | undefined
  readonly maxMessages: number
  readonly maxBytes: number
  /**
   * A byte budget shared with other connections (a server's): each message
   * is admitted at its header, for its declared length, before its payload
   * is read (see `budget.ts`).
   */
  readonly budget?: Budget | undefined
}

/** @internal */
export class Inbound {
  readonly queue: MessageQueue<Framing.Message, Closed>
  private readonly decoder: DecoderImpl
  private state: State = "Flowing"
  // Chunks that arrived while Paused (or the rest of one cut at a refused header), not yet decoded.
  private held: Array<Uint8Array> = []
  private heldBytes = 0
  /** Declared lengths of the messages admitted during the current `push`, not yet queued. */
  private pushing = 0
  private reportedDepth = 0
  private readonly holder: Holder | undefined
  /** The read loop, waiting for the budget to admit the message the decoder stopped at. */
  private admissionWaiter: ((effect: Effect.Effect<void>) => void) | undefined = undefined
  /** Starts the read loop (set by the connection); a no-op while it runs. */
  startLoop: () => void = constVoid

  constructor(
    private readonly socket: SocketLike,
    private readonly reads: PooledReads | undefined,
    limits: InboundLimits,
    private readonly labels: ReadonlyArray<MetricLabel.MetricLabel>,
    /** Called once when the peer breaks the framing: the connection closes. */
    private readonly onProtocolError: (error: Framing.FramingError) => void
  ) {
    this.decoder = Framing.unsafeMakeDecoder({
      maxMessageSize: limits.maxMessageSize,
      allocate: allocateUnzeroed
    }) as DecoderImpl
    this.holder = limits.budget === undefined ? undefined : new Holder(limits.budget.inbound, this.retry)
    this.queue = new MessageQueue(limits.maxMessages, limits.maxBytes, this.holder)
    if (this.holder !== undefined) this.decoder.admit = this.admit
    if (reads === undefined) {
      socket.on("data", this.onData)
    } else {
      reads.attach(this.onData)
      // No 'data' listener to start the flow: without it 'end' would never be emitted.
      socket.resume()
    }
    socket.on("end", this.onEnd)
  }

  /** True once the peer has ended its stream (whatever the state). */
  endSeen = false

  private readonly onData = (chunk: Uint8Array): void => {
    if (this.state === "Flowing") {
      this.ingest(plain(chunk))
      if (this.state === "Flowing" && this.mustPause()) {
        this.state = "Paused"
        this.socket.pause()
        this.pauseHandle()
        this.wake()
      }
    } else if (this.state === "Paused") {
      this.hold(plain(chunk), false)
    }
  }

  /**
   * Pauses the socket's handle too, where it can be (Bun's, see
   * `pausableHandle`): at once, and again once the stream's own ticks have
   * run, since a chunk delivered to 'data' has the stream resume the handle
   * on the next tick to fill its buffer (`maybeReadMore`).
   */
  private pauseHandle(): void {
    const handle = pausableHandle(this.socket)
    if (handle === undefined) return
    handle.pause()
    setImmediate(() => {
      if (this.state === "Paused" && !this.socket.destroyed) handle.pause()
    })
  }

  private readonly onEnd = (): void => {
    this.endSeen = true
    if (this.state !== "Stopped") this.wake()
  }

  /**
   * Keeps a chunk for later (at the front: the rest of one cut short). Held
   * chunks are not charged to the budget: they are what one socket read
   * brought past the pause (a fixed cost per connection, stated with the
   * worst case in docs/LIMITS.md), and charging them would let connections that
   * wait for room keep the budget from ever emptying, so that a message
   * larger than the budget could never be admitted.
   */
  private hold(chunk: Uint8Array, first: boolean): void {
    if (chunk.length === 0) return
    if (first) this.held.unshift(chunk)
    else this.held.push(chunk)
    this.heldBytes += chunk.length
  }

  /** Charges the message being received, beside what is queued: its declared length, from its header on. */
  private charge(): void {
    if (this.holder !== undefined) this.queue.setExtra(this.decoder.blocked ? 0 : this.decoder.pendingLength)
  }

  /** The decoder asks, at each header: may a message of `length` bytes be read now? */
  private readonly admit = (length: number): boolean => {
    if (!this.queue.tryGrow(this.pushing + length)) return false
    this.pushing += length
    return true
  }

  /** Our turn in the budget's line (`budget.ts`): admit the message the decoder stopped at, if it fits now. */
  private readonly retry = (): void => {
    if (!this.decoder.blocked || this.state === "Stopped") return this.holder!.cancel()
    if (!this.queue.tryGrow(this.decoder.pendingLength)) return
    this.decoder.admitted()
    this.charge()
    const waiter = this.admissionWaiter
    this.admissionWaiter = undefined
    if (waiter !== undefined) waiter(Effect.void)
    else this.wake()
  }

  /** Decodes one chunk into the queue; a framing fault stops everything. */
  private ingest(chunk: Uint8Array): void {
    const decoder = this.decoder
    // The message being received, if any, stays charged (`charge`) until it is queued.
    this.pushing = 0
    const messages = decoder.push(chunk)
    this.pushing = 0
    this.queue.unsafePushAll(messages, sizeOf)
    const read = decoder.blocked ? decoder.consumed : chunk.length
    Metrics.bytesReceived.unsafeUpdate(read, this.labels)
    if (messages.length > 0) Metrics.messagesReceived.unsafeUpdate(messages.length, this.labels)
    this.report(this.queue.size)
    if (read < chunk.length) this.hold(chunk.subarray(read), true)
    this.charge()
    if (decoder.failure !== undefined) this.onProtocolError(decoder.failure)
  }

  /** The queue is full, or the budget has not admitted the next message yet. */
  private mustPause(): boolean {
    return this.queue.isFull || this.decoder.blocked
  }

  /** Waits until `mustPause` may have changed: room in the queue, or the next message admitted. */
  private readonly awaitRoom: Effect.Effect<void> = Effect.suspend(() => {
    if (this.queue.isFull) return this.queue.awaitSpace()
    if (!this.decoder.blocked || this.state === "Stopped") return Effect.void
    return Effect.async<void>((resume) => {
      this.admissionWaiter = resume
      return Effect.sync(() => {
        if (this.admissionWaiter === resume) this.admissionWaiter = undefined
      })
    })
  })

  private wake(): void {
    this.startLoop()
  }

  /**
   * The read loop: while Paused, waits for room, decodes the held chunks and
   * resumes the socket; returns `IDLE` when there is nothing left to do
   * (Flowing), the end (with what a truncated last message looked like, if
   * it was) when the peer has ended its stream, or `undefined` when stopped.
   */
  readLoop(): Effect.Effect<typeof IDLE | { readonly truncated: Framing.FramingError | undefined } | undefined> {
    return Effect.gen(this, function* () {
      while (true) {
        if (this.state === "Stopped") return undefined
        if (this.state === "Paused") {
          yield* this.awaitRoom
          while (this.held.length > 0 && !this.mustPause() && this.state === "Paused") {
            const chunk = this.held.shift()!
            this.heldBytes -= chunk.length
            this.ingest(chunk)
          }
          if (this.state !== "Paused") continue
          if (this.held.length > 0 || this.mustPause()) continue
          this.state = "Flowing"
          this.socket.resume()
        }
        if (this.state === "Flowing" && this.endSeen) {
          this.state = "Ended"
          return { truncated: this.decoder.end() }
        }
        return this.state === "Flowing" ? IDLE : undefined
      }
    })
  }

  /**
   * Stops taking messages: readers get what is queued, then `reason`.
   * The socket keeps reading, and drops, so the peer cannot wedge a close.
   */
  stop(reason: Closed): void {
    if (this.state === "Stopped") return
    this.state = "Stopped"
    this.held = []
    this.heldBytes = 0
    this.queue.end(reason)
    // Only what readers can still take stays charged.
    this.queue.setExtra(0)
    this.report(0)
    const waiter = this.admissionWaiter
    this.admissionWaiter = undefined
    if (waiter !== undefined) waiter(Effect.void)
    // A running read loop waiting for room is woken by the queue's end.
    this.socket.resume()
  }

  /** Whether the read loop has work: the queue is full, or the peer's end is to be handled. */
  get needsLoop(): boolean {
    return this.state === "Paused" || (this.state === "Flowing" && this.endSeen)
  }

  /** Stops delivering chunks and lets go of what is held (the connection is over). */
  detach(): void {
    this.held = []
    this.heldBytes = 0
    this.queue.clear()
    this.holder?.release()
    this.reads?.detach()
    this.socket.off("data", this.onData)
    this.socket.off("end", this.onEnd)
  }

  private report(depth: number): void {
    if (depth !== this.reportedDepth) {
      Metrics.inboundQueued.unsafeModify(depth - this.reportedDepth, this.labels)
      this.reportedDepth = depth
    }
  }
}

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
 * Its states, while the connection is in service:
 *
 * - **Flowing**: chunks are decoded as they arrive.
 * - **Paused**: the queue is full, or (on a server) the budget has no room
 *   yet for the next message; the socket is paused and chunks that were
 *   already on their way are held, undecoded, until readers make room or
 *   the budget admits the message.
 * - **Ended**: the peer ended its stream (the machine's `peerEnded`), and
 *   every held chunk has been decoded: the read loop has returned to close
 *   the connection.
 *
 * Once the connection is closing (the machine's Closing or Closed, see
 * `machine.ts`) the inbound side is stopped, whatever its state: what is
 * queued can still be taken, and whatever else arrives is dropped.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as fx from "./fx.js"
import * as Framing from "./framingApi.js"
import type { Meter } from "./meter.js"
import type { Closed } from "./stockingError.js"
import type { Budget } from "./budget.js"
import { Holder } from "./budget.js"
import type { SocketLike } from "./connect.js"
import type { DecoderImpl } from "./decoder.js"
import type { Loop } from "./loops.js"
import { isClosing, type Life, peerEnded } from "./machine.js"
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

type State = "Flowing" | "Paused" | "Ended"

/** How a truncated last message looked when the peer ended its stream (`undefined` if none was cut short). */
type Truncated = Framing.FramingError | undefined

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
  /** The read loop's body: built on its first start. */
  private body: Effect.Effect<void> | undefined = undefined

  constructor(
    private readonly socket: SocketLike,
    private readonly reads: PooledReads | undefined,
    limits: InboundLimits,
    private readonly meter: Meter,
    /** The connection's state: the inbound side is stopped once it is closing. */
    private readonly life: Life,
    /** Where the read loop runs. */
    private readonly loop: Loop,
    /** Called once when the peer breaks the framing: the connection closes. */
    private readonly onProtocolError: (error: Framing.FramingError) => void,
    /** What the read loop does once the peer's end is reached: close the connection. */
    private readonly atEnd: (truncated: Truncated) => Effect.Effect<void>,
    /** Called when a take leaves the queue ended and empty. */
    onDrained: () => void
  ) {
    this.decoder = Framing.unsafeMakeDecoder({
      maxMessageSize: limits.maxMessageSize,
      allocate: allocateUnzeroed
    }) as DecoderImpl
    this.holder = limits.budget === undefined ? undefined : new Holder(limits.budget.inbound, this.retry)
    this.queue = new MessageQueue(limits.maxMessages, limits.maxBytes, this.holder, undefined, onDrained)
    if (this.holder !== undefined) this.decoder.admit = this.admit
    if (reads === undefined) {
      socket.on("data", this.onData)
    } else {
      reads.attach(this.onData)
      // No 'data' listener to start the flow: without it 'end' would never be emitted.
      socket.resume()
    }
  }

  /** The connection is closing: nothing more is decoded. */
  private get stopped(): boolean {
    return isClosing(this.life.state)
  }

  private readonly onData = (chunk: Uint8Array): void => {
    if (this.stopped) return
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
      if (this.state === "Paused" && !this.stopped && !this.socket.destroyed) handle.pause()
    })
  }

  /** The peer has ended its stream (the connection has recorded it): the read loop finishes what is held, then closes. */
  peerEnded(): void {
    if (!this.stopped) this.wake()
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
    if (!this.decoder.blocked || this.stopped) return this.holder!.cancel()
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
    this.meter.received(messages.length, read)
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
    if (!this.decoder.blocked || this.stopped) return Effect.void
    return fx.async<void>((resume) => {
      this.admissionWaiter = resume
      return Effect.sync(() => {
        if (this.admissionWaiter === resume) this.admissionWaiter = undefined
      })
    })
  })

  /** Starts the read loop, unless it is running. */
  private wake(): void {
    this.loop.start((this.body ??= this.makeBody()), this.again)
  }

  /** The read loop has returned: it may have missed work that came while its fiber was finishing. */
  private readonly again = (): void => {
    if (this.needsLoop) this.wake()
  }

  /** The read loop, then the close at the peer's end if that is where it stopped. */
  private makeBody(): Effect.Effect<void> {
    return Effect.flatMap(this.readLoop(), (end) => (end === undefined ? Effect.void : this.atEnd(end.truncated)))
  }

  /**
   * The read loop: while Paused, waits for room, decodes the held chunks and
   * resumes the socket; returns once Flowing with nothing left to do (or
   * stopped), with `undefined`, or, when the peer has ended its stream and
   * everything before its end is decoded, with what a truncated last message
   * looked like.
   */
  private readLoop(): Effect.Effect<{ readonly truncated: Truncated } | undefined> {
    // The generator takes `this` differently on the two lines of Effect: a plain closure works on both.
    const self = this
    return Effect.gen(function* () {
      while (true) {
        if (self.stopped) return undefined
        if (self.state === "Paused") {
          yield* self.awaitRoom
          while (self.held.length > 0 && !self.mustPause() && !self.stopped) {
            const chunk = self.held.shift()!
            self.heldBytes -= chunk.length
            self.ingest(chunk)
          }
          if (self.stopped || self.held.length > 0 || self.mustPause()) continue
          self.state = "Flowing"
          self.socket.resume()
        }
        if (self.state === "Flowing" && peerEnded(self.life.state)) {
          self.state = "Ended"
          return { truncated: self.decoder.end() }
        }
        return undefined
      }
    })
  }

  /**
   * The connection has left service (called once, by the machine's apply
   * step): readers get what is queued, then `reason`. The socket keeps
   * reading, and drops, so the peer cannot wedge a close.
   */
  stop(reason: Closed): void {
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
  private get needsLoop(): boolean {
    return !this.stopped && (this.state === "Paused" || (this.state === "Flowing" && peerEnded(this.life.state)))
  }

  /** Stops delivering chunks and lets go of what is held (the connection is over). */
  detach(): void {
    this.held = []
    this.heldBytes = 0
    this.queue.clear()
    this.holder?.release()
    this.reads?.detach()
    this.socket.off("data", this.onData)
  }

  private report(depth: number): void {
    if (depth !== this.reportedDepth) {
      this.meter.inboundQueued(depth - this.reportedDepth)
      this.reportedDepth = depth
    }
  }
}

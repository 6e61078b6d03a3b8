/**
 * The baseline: a hand-written, tuned node:net sender and receiver of the
 * Stockings wire format, with no Effect in it. Every library figure is
 * divided by the matching figure of this code, so it has to be as fast as
 * plain Node can be: a weak baseline would make every ratio flattering.
 *
 * - `Sender` encodes frames into ~256 KiB batch buffers (one socket write per
 *   batch), writes large payloads without copying (header in the batch, then
 *   the payload, corked into one writev), flushes the tail of a burst in a
 *   microtask, reuses a batch buffer when the kernel took it synchronously,
 *   and reports backpressure through `write`'s return value.
 * - `Receiver` parses headers itself, hands out views for payloads lying
 *   whole inside one chunk, and reassembles a payload spanning chunks from
 *   the list of its chunks with a single allocation of the payload size.
 * - Where node allows it (sockets made by `net.connect`), reads go straight
 *   into pooled buffers (`reader`), up to 1 MiB per read, rather than one
 *   fresh 64 KiB-at-most chunk per 'data' event.
 */
import * as net from "node:net"

/**
 * The library's default largest message (`Framing.DEFAULT_MAX_MESSAGE_SIZE`), written out: this module has no
 * import from the library, so that the bench's Effect 4 build (bench/line4.ts) compiles it without the Effect 3
 * line's modules. bench/run.ts checks that the two agree.
 */
export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024

const LAST = 0x80
const BYTES = 0x40

/** Batch buffers are cut at this size. */
export const BATCH = 256 * 1024
/** Payloads at least this large are written as they are, after their header. */
export const LARGE = 64 * 1024

/** Writes a header at `offset`; returns the offset past it. Exact up to 2^53 - 1. */
export const writeHeader = (target: Uint8Array, offset: number, bytes: boolean, length: number): number => {
  if (length < 64) {
    target[offset] = (bytes ? BYTES : 0) | length | LAST
    return offset + 1
  }
  if (length < 8192) {
    target[offset] = (bytes ? BYTES : 0) | (length & 0x3f)
    target[offset + 1] = (length >>> 6) | LAST
    return offset + 2
  }
  let rest = Math.floor(length / 64)
  let byte = (bytes ? BYTES : 0) | (length % 64)
  while (rest > 0) {
    target[offset++] = byte
    byte = rest % 128
    rest = Math.floor(rest / 128)
  }
  target[offset++] = byte | LAST
  return offset
}

// ---------------------------------------------------------------------------
// Sender
// ---------------------------------------------------------------------------

/**
 * Frames `Uint8Array` messages onto a socket. `write` returns `false` once the
 * socket is past its high-water mark: wait for `drained()` before writing on.
 */
export class Sender {
  private buffer: Buffer = Buffer.allocUnsafeSlow(BATCH)
  private length = 0
  private scheduled = false
  private blocked = false
  private drainWaiters: Array<() => void> = []

  constructor(readonly socket: net.Socket) {
    socket.on("drain", this.onDrain)
  }

  private readonly onDrain = (): void => {
    this.blocked = false
    const waiters = this.drainWaiters
    if (waiters.length === 0) return
    this.drainWaiters = []
    for (let i = 0; i < waiters.length; i++) waiters[i]!()
  }

  private readonly flushTask = (): void => {
    this.scheduled = false
    if (this.length > 0) this.flush()
  }

  /** True when the caller should wait for `drained()` before writing more. */
  get isBlocked(): boolean {
    return this.blocked
  }

  /** Resolves when the socket's buffer has drained (at once if it is not blocked). */
  drained(): Promise<void> {
    if (!this.blocked) return Promise.resolve()
    return new Promise((resolve) => this.drainWaiters.push(resolve))
  }

  /** Queues one frame. Returns `false` when the socket wants the writer to wait for `drained()`. */
  write(payload: Uint8Array): boolean {
    const n = payload.length
    if (n >= LARGE) {
      // Header into the batch, then the payload uncopied: one writev for both.
      if (this.length + 8 > BATCH) this.flush()
      this.length = writeHeader(this.buffer, this.length, true, n)
      const socket = this.socket
      const chunk = this.buffer.subarray(0, this.length)
      this.length = 0
      socket.cork()
      socket.write(chunk)
      socket.write(payload)
      socket.uncork()
      this.afterWrite()
      return !this.blocked
    }
    if (this.length + n + 8 > BATCH) this.flush()
    const offset = writeHeader(this.buffer, this.length, true, n)
    this.buffer.set(payload, offset)
    this.length = offset + n
    if (!this.scheduled) {
      this.scheduled = true
      queueMicrotask(this.flushTask)
    }
    return !this.blocked
  }

  /** Hands the current batch to the socket now. Returns `false` when the writer should wait for `drained()`. */
  flush(): boolean {
    if (this.length === 0) return !this.blocked
    const chunk = this.buffer.subarray(0, this.length)
    this.length = 0
    this.socket.write(chunk)
    this.afterWrite()
    return !this.blocked
  }

  /**
   * `socket.write` returns false for any chunk above the high-water mark,
   * even one the kernel took at once. What matters is what is still held in
   * user space: block only while a batch or more waits there. A buffer the
   * kernel took synchronously (nothing pending) is reused.
   */
  private afterWrite(): void {
    const pending = this.socket.writableLength
    if (pending > 0) {
      this.buffer = Buffer.allocUnsafeSlow(BATCH)
      if (pending >= BATCH) this.blocked = true
    }
  }
}

// ---------------------------------------------------------------------------
// Receiver
// ---------------------------------------------------------------------------

/** Called once per message: a view (or, for a payload spanning chunks, a fresh buffer) and its kind. */
export type OnMessage = (payload: Uint8Array, text: boolean) => void

/**
 * Parses frames out of a socket's chunks. A payload inside one chunk is
 * handed out as a view of it; one spanning chunks is gathered as a list of
 * chunk views and copied once, into a buffer of exactly its length, when its
 * last byte arrives.
 */
export class Receiver {
  // A payload in progress: its length, kind and the parts received so far.
  private need = -1
  private text = false
  private parts: Array<Uint8Array> = []
  private have = 0
  // A header split across chunks.
  private headerCount = 0
  private headerLength = 0
  private headerScale = 0
  private headerText = false
  failure: string | undefined = undefined

  constructor(
    private readonly onMessage: OnMessage,
    private readonly maxMessageSize: number = DEFAULT_MAX_MESSAGE_SIZE
  ) {}

  /** Takes the next chunk; bound, so it can be passed to `socket.on("data", ...)` or `reader(...)`. */
  readonly push = (chunk: Uint8Array): void => {
    const end = chunk.length
    const ab = chunk.buffer
    const base = chunk.byteOffset
    let pos = 0
    if (this.need >= 0) {
      const missing = this.need - this.have
      if (end < missing) {
        this.parts.push(chunk)
        this.have += end
        return
      }
      // Uninitialised: every byte is about to be overwritten.
      const out = Buffer.allocUnsafe(this.need)
      const parts = this.parts
      let offset = 0
      for (let i = 0; i < parts.length; i++) {
        out.set(parts[i]!, offset)
        offset += parts[i]!.length
      }
      out.set(missing === end ? chunk : new Uint8Array(ab, base, missing), offset)
      this.parts = []
      this.have = 0
      this.need = -1
      this.onMessage(out, this.text)
      pos = missing
    } else if (this.headerCount > 0) {
      pos = this.resumeHeader(chunk)
      if (pos < 0) return
    }
    while (pos < end) {
      let byte = chunk[pos++]!
      let length = byte & 0x3f
      const text = (byte & BYTES) === 0
      if ((byte & LAST) === 0) {
        let scale = 64
        let count = 1
        for (;;) {
          if (pos === end) {
            this.headerCount = count
            this.headerLength = length
            this.headerScale = scale
            this.headerText = text
            return
          }
          byte = chunk[pos++]!
          length += (byte & 0x7f) * scale
          scale *= 128
          count++
          if ((byte & LAST) !== 0) break
          if (count === 8) return this.fail("header too long")
        }
        if (length > this.maxMessageSize) return this.fail("message too large")
      }
      if (end - pos >= length) {
        this.onMessage(new Uint8Array(ab, base + pos, length), text)
        pos += length
      } else {
        this.need = length
        this.text = text
        this.have = end - pos
        this.parts.push(new Uint8Array(ab, base + pos, end - pos))
        return
      }
    }
  }

  /** Finishes a header split across chunks; returns the position after it, or -1 if the chunk ends first. */
  private resumeHeader(chunk: Uint8Array): number {
    const end = chunk.length
    let pos = 0
    let length = this.headerLength
    let scale = this.headerScale
    let count = this.headerCount
    for (;;) {
      if (pos === end) {
        this.headerCount = count
        this.headerLength = length
        this.headerScale = scale
        return -1
      }
      const byte = chunk[pos++]!
      length += (byte & 0x7f) * scale
      scale *= 128
      count++
      if ((byte & LAST) !== 0) break
      if (count === 8) {
        this.fail("header too long")
        return -1
      }
    }
    this.headerCount = 0
    if (length > this.maxMessageSize) {
      this.fail("message too large")
      return -1
    }
    if (end - pos >= length) {
      this.onMessage(new Uint8Array(chunk.buffer, chunk.byteOffset + pos, length), this.headerText)
      return pos + length
    }
    this.need = length
    this.text = this.headerText
    this.have = end - pos
    this.parts.push(new Uint8Array(chunk.buffer, chunk.byteOffset + pos, end - pos))
    return -1
  }

  private fail(reason: string): never {
    this.failure ??= reason
    throw new Error(`baseline receiver: ${reason}`)
  }

  /** True when no message is half received. */
  get idle(): boolean {
    return this.need === -1 && this.headerCount === 0
  }
}

// ---------------------------------------------------------------------------
// Plain sockets
// ---------------------------------------------------------------------------

/** A listening node:net server on 127.0.0.1 (port 0). */
export const listen = (onConnection: (socket: net.Socket) => void, backlog = 4096): Promise<net.Server> =>
  new Promise((resolve, reject) => {
    const server = net.createServer({ noDelay: true }, onConnection)
    server.once("error", reject)
    server.listen({ port: 0, host: "127.0.0.1", backlog }, () => {
      server.off("error", reject)
      resolve(server)
    })
  })

export const portOf = (server: net.Server): number => (server.address() as net.AddressInfo).port

export const closeServer = (server: net.Server): Promise<void> =>
  new Promise((resolve) => server.close(() => resolve()))

/**
 * Reading into buffers of our own instead of node's one-allocation-per-read
 * 'data' chunks (at most 64 KiB each): reads land in a pool of `poolSize`
 * bytes, one after another, so one read can take up to the rest of the pool
 * and no chunk is allocated per read. Chunks handed to `onChunk` are views of
 * the pool that are never overwritten (a fresh pool is taken when less than
 * a quarter is left), so the receiver may keep views of them. Node only
 * offers this (`onread`) for sockets it creates with `net.connect`.
 */
export const reader = (onChunk: (chunk: Uint8Array) => void, poolSize: number): net.OnReadOpts => {
  const minRoom = poolSize >>> 2
  let pool = Buffer.allocUnsafeSlow(poolSize)
  let used = 0
  return {
    buffer: () => {
      if (poolSize - used < minRoom) {
        pool = Buffer.allocUnsafeSlow(poolSize)
        used = 0
      }
      return pool.subarray(used)
    },
    callback: (bytes, buffer) => {
      used += bytes
      onChunk(new Uint8Array(buffer.buffer, buffer.byteOffset, bytes))
      return true
    }
  }
}

/** Pool size for `reader` on a bulk-transfer socket. */
export const BULK_POOL = 1024 * 1024
/** Pool size for `reader` on a request/response socket. */
export const SMALL_POOL = 64 * 1024

/**
 * A connected client socket (no-delay, as the library sets it). With
 * `onChunk`, it reads through `reader` (pool of `poolSize` bytes) instead of
 * 'data' events.
 */
export const connect = (
  port: number,
  onChunk?: (chunk: Uint8Array) => void,
  poolSize: number = SMALL_POOL
): Promise<net.Socket> =>
  new Promise((resolve, reject) => {
    const socket = net.createConnection({
      port,
      host: "127.0.0.1",
      noDelay: true,
      ...(onChunk === undefined ? {} : { onread: reader(onChunk, poolSize) })
    })
    socket.once("error", reject)
    socket.once("connect", () => {
      socket.off("error", reject)
      resolve(socket)
    })
  })

/**
 * A connected pair over loopback: `client` connected to a fresh server,
 * `server` its accepted socket. With `onChunk`, the client reads through
 * `reader` (see `connect`).
 */
export const socketPair = async (
  onChunk?: (chunk: Uint8Array) => void,
  poolSize?: number
): Promise<{ client: net.Socket; server: net.Socket; close: () => Promise<void> }> => {
  let accepted!: (socket: net.Socket) => void
  const serverSide = new Promise<net.Socket>((resolve) => (accepted = resolve))
  const listener = await listen((socket) => accepted(socket))
  const client = await connect(portOf(listener), onChunk, poolSize)
  const server = await serverSide
  server.setNoDelay(true)
  return {
    client,
    server,
    close: async () => {
      client.destroy()
      server.destroy()
      await closeServer(listener)
    }
  }
}

/** Resolves once `socket` has emitted 'close'. */
export const closed = (socket: net.Socket): Promise<void> =>
  socket.destroyed && socket.closed
    ? Promise.resolve()
    : new Promise((resolve) => socket.once("close", () => resolve()))

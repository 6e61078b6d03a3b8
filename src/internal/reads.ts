/**
 * Socket reads into buffers of our own, for the sockets this library opens
 * (Node offers `onread` only to `net.connect`): fewer, larger reads than
 * Node's one fresh chunk of at most 64 KiB per 'data' event.
 *
 * Two modes, switched by what the reads look like:
 *
 * - Small reads land in one scratch buffer shared by every socket and are
 *   copied out at once (what Node's own read path costs). Safe to share:
 *   each read is handed to its callback synchronously, before any other read
 *   can land there. An idle connection holds no read buffer at all.
 * - A read that fills the scratch buffer means bulk traffic: the socket then
 *   reads into a pool of its own, up to `POOL_SIZE` per read, and its chunks
 *   are views of that pool, never copied and never overwritten (a fresh pool
 *   is taken when the rest is too small). A small read sends it back to the
 *   scratch buffer and lets the pool go.
 *
 * @internal
 */
import type * as net from "node:net"

const SCRATCH_SIZE = 64 * 1024
const POOL_SIZE = 1024 * 1024
/** A pool with less room than this is replaced. */
const MIN_ROOM = POOL_SIZE / 4
/** A pool read smaller than this means the bulk transfer is over. */
const SMALL_READ = 16 * 1024

let scratch: Buffer | undefined

const scratchBuffer = (): Buffer => (scratch ??= Buffer.allocUnsafeSlow(SCRATCH_SIZE))

/** @internal */
export class PooledReads {
  private sink: ((chunk: Uint8Array) => void) | undefined = undefined
  // Chunks read before a sink was attached.
  private held: Array<Uint8Array> = []
  private pool: Buffer | undefined = undefined
  private used = 0

  /** The `onread` option for `net.connect`. */
  readonly options: net.OnReadOpts = {
    buffer: () => this.next(),
    callback: (bytes, buffer) => {
      this.onRead(bytes, buffer)
      return true
    }
  }

  /** Delivers every chunk read so far, then each one as it is read. */
  attach(sink: (chunk: Uint8Array) => void): void {
    this.sink = sink
    const held = this.held
    this.held = []
    for (let i = 0; i < held.length; i++) sink(held[i]!)
  }

  /** Stops delivering; later reads are dropped and the pool let go. */
  detach(): void {
    this.sink = undefined
    this.held = []
    this.pool = undefined
  }

  private next(): Uint8Array {
    const pool = this.pool
    if (pool === undefined) return scratchBuffer()
    if (POOL_SIZE - this.used < MIN_ROOM) {
      this.pool = Buffer.allocUnsafeSlow(POOL_SIZE)
      this.used = 0
      return this.pool
    }
    return pool.subarray(this.used)
  }

  private onRead(bytes: number, buffer: Uint8Array): void {
    let chunk: Uint8Array
    if (buffer === scratch) {
      chunk = Buffer.allocUnsafe(bytes)
      chunk.set(buffer.subarray(0, bytes))
      if (bytes === SCRATCH_SIZE) {
        this.pool = Buffer.allocUnsafeSlow(POOL_SIZE)
        this.used = 0
      }
    } else {
      chunk = new Uint8Array(buffer.buffer, buffer.byteOffset, bytes)
      this.used += bytes
      if (bytes < SMALL_READ) this.pool = undefined
    }
    const sink = this.sink
    if (sink !== undefined) sink(chunk)
    else this.held.push(chunk)
  }
}

const SCRATCH_SIZE = 64 * 1024
const POOL_SIZE = 1024 * 1024
/** A pool with less room than this is replaced. */
const MIN_ROOM = POOL_SIZE / 4
/** A pool read smaller than this means the bulk transfer is over. */
const SMALL_READ = 16 * 1024
let scratch
const scratchBuffer = () => (scratch ??= Buffer.allocUnsafeSlow(SCRATCH_SIZE))
/** @internal */
export class PooledReads {
  sink = undefined
  // Chunks read before a sink was attached.
  held = []
  pool = undefined
  used = 0
  /** The `onread` option for `net.connect`. */
  options = {
    buffer: () => this.next(),
    callback: (bytes, buffer) => {
      this.onRead(bytes, buffer)
      return true
    }
  }
  /** Delivers every chunk read so far, then each one as it is read. */
  attach(sink) {
    this.sink = sink
    const held = this.held
    this.held = []
    for (let i = 0; i < held.length; i++) sink(held[i])
  }
  /** Stops delivering; later reads are dropped and the pool let go. */
  detach() {
    this.sink = undefined
    this.held = []
    this.pool = undefined
  }
  next() {
    const pool = this.pool
    if (pool === undefined) return scratchBuffer()
    if (POOL_SIZE - this.used < MIN_ROOM) {
      this.pool = Buffer.allocUnsafeSlow(POOL_SIZE)
      this.used = 0
      return this.pool
    }
    return pool.subarray(this.used)
  }
  onRead(bytes, buffer) {
    let chunk
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

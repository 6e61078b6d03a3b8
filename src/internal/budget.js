/**
 * A server's byte budget (`maxTotalBytes`): what its connections hold, all
 * together, beyond a small allowance each.
 *
 * It is two pools of half the budget each: one for what connections
 * receive (messages queued for readers, the message being received, chunks
 * read but not yet decoded), one for what they send (messages queued by
 * writers, writers admitted and about to queue, bytes in the socket's own
 * buffer). Two pools, not one, so that neither side can starve the other
 * into a deadlock: a handler blocked writing an echo can only be waiting on
 * what its peers have still to read, never on messages received that only
 * blocked handlers would take.
 *
 * Each connection has one `Holder` per pool. A holder's first `allowance`
 * bytes are free; beyond them it is charged. Growth asks the pool
 * (`tryHold`), and is granted when the pool has room, or when nobody else
 * holds anything (so a message larger than the pool cannot wedge it).
 * Holders refused wait in one line, first come first served: a holder
 * asking for little never overtakes one asking for much, so a large message
 * cannot be starved. Bytes a holder already holds (chunks that arrived
 * before its socket paused) are charged whatever the pool says (`hold`).
 *
 * When bytes are released the line is served in a microtask, never inside
 * the call that released them: a flush or a take is never re-entered by
 * another connection's (or its own) admission.
 *
 * @internal
 */
/** @internal */
export class Pool {
  limit
  allowance
  /** Bytes charged, over every holder. */
  used = 0
  /** Holders waiting for room, in the order they asked. */
  line = []
  scheduled = false
  constructor(
    limit,
    /** Bytes each holder may hold without charge. */
    allowance
  ) {
    this.limit = limit
    this.allowance = allowance
  }
  /** Bytes were released: serve the line on the next microtask. */
  released() {
    if (this.line.length > 0 && !this.scheduled) {
      this.scheduled = true
      queueMicrotask(this.serve)
    }
  }
  /**
   * Asks the holder at the head of the line to try again, and the next
   * one when the head got what it asked for (or left), until one is still
   * refused.
   */
  serve = () => {
    this.scheduled = false
    const line = this.line
    while (line.length > 0) {
      const head = line[0]
      head.retry()
      if (line[0] === head) return
    }
  }
  /** Takes `holder` out of the line, and lets the next one try if it was at the head. */
  leave(holder) {
    const index = this.line.indexOf(holder)
    if (index < 0) return
    this.line.splice(index, 1)
    if (index === 0) this.released()
  }
}
/** One connection's share of a pool. @internal */
export class Holder {
  pool
  retry
  /** What this holder is charged now. */
  charge = 0
  waiting = false
  constructor(
    pool,
    /** Called (from a microtask) when this holder is at the head of the line and room may have been made. */
    retry
  ) {
    this.pool = pool
    this.retry = retry
  }
  costOf(held) {
    return Math.max(0, held - this.pool.allowance)
  }
  /**
   * Grows (or shrinks) to hold `held` bytes, if the pool allows: `true`
   * when it did. Refused, the holder joins the line and `retry` is called
   * when its turn may have come.
   */
  tryHold(held) {
    const next = this.costOf(held)
    const more = next - this.charge
    const pool = this.pool
    const line = pool.line
    // Within what it holds (or its allowance), or first in line with room: granted, and out of the line. A
    // holder granted while it waits must leave the line, or the line would stop at it: the pool serves its
    // line only when bytes are released, and one whose holders all wait may release none.
    if (
      more <= 0 ||
      ((line.length === 0 || line[0] === this) && (pool.used + more <= pool.limit || pool.used === this.charge))
    ) {
      this.cancel()
      this.set(next)
      return true
    }
    if (!this.waiting) {
      this.waiting = true
      line.push(this)
    }
    return false
  }
  /** Sets the charge for `held` bytes whatever the pool says: bytes already held, or released. */
  hold(held) {
    this.set(this.costOf(held))
  }
  /** Leaves the line, if waiting in it. */
  cancel() {
    if (!this.waiting) return
    this.waiting = false
    this.pool.leave(this)
  }
  /** Gives everything back and leaves the line (the connection is over). */
  release() {
    this.cancel()
    this.set(0)
  }
  set(next) {
    const previous = this.charge
    if (next === previous) return
    this.charge = next
    this.pool.used += next - previous
    if (next < previous) this.pool.released()
  }
}
/**
 * A server's budget: the pool for what its connections receive and the pool
 * for what they send, each half of `limit`.
 *
 * @internal
 */
export class Budget {
  limit
  allowance
  inbound
  outbound
  constructor(limit, allowance) {
    this.limit = limit
    this.allowance = allowance
    const half = Math.max(1, Math.floor(limit / 2))
    this.inbound = new Pool(half, allowance)
    this.outbound = new Pool(half, allowance)
  }
  /** Bytes charged on both pools. */
  get used() {
    return this.inbound.used + this.outbound.used
  }
}

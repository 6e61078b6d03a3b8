/**
 * A byte budget shared by every connection of a server: what their partial
 * inbound messages and their queues hold, beyond a small allowance each.
 *
 * Each holder (a queue, a decoder's partial message) reports how many bytes
 * it holds; the first `allowance` bytes are its own, the rest is charged to
 * the budget. So a connection exchanging small messages never waits on the
 * budget, whatever others hold, while a connection that grows waits once
 * the budget is spent: its reads pause, its writers suspend. Memory for a
 * whole server is then bounded by
 * `connections x (allowances + socket buffers) + limit`.
 *
 * @internal
 */

/** @internal */
export class Budget {
  /** Bytes charged, over every holder. */
  used = 0
  // Holders waiting for room, told (once) when bytes are released.
  private waiters: Set<() => void> | undefined = undefined

  constructor(
    readonly limit: number,
    /** Bytes each holder may hold without charging the budget. */
    readonly allowance: number
  ) {}

  /** True when nothing more may be charged. */
  get spent(): boolean {
    return this.used >= this.limit
  }

  /** Whether a holder now charged `charged` may grow to hold `held` bytes. */
  allows(charged: number, held: number): boolean {
    const more = Math.max(0, held - this.allowance) - charged
    // With nothing charged anywhere, one step is always allowed: a message larger than the whole budget cannot wedge.
    return more <= 0 || this.used + more <= this.limit || this.used === 0
  }

  /** Moves a holder's charge from `charged` to what `held` bytes cost; returns the new charge. */
  settle(charged: number, held: number): number {
    const next = Math.max(0, held - this.allowance)
    if (next === charged) return charged
    this.used += next - charged
    if (next < charged && this.waiters !== undefined && this.used < this.limit) this.wake()
    return next
  }

  /** Calls `f` once, the next time bytes are released while below the limit. */
  onRoom(f: () => void): void {
    ;(this.waiters ??= new Set()).add(f)
  }

  /** Forgets a holder that no longer waits. */
  offRoom(f: () => void): void {
    this.waiters?.delete(f)
  }

  private wake(): void {
    const waiters = this.waiters!
    this.waiters = undefined
    for (const f of waiters) f()
  }
}

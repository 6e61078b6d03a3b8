/**
 * The floor of the library's API shape: the tuned raw path of baseline.ts
 * (`Sender`, `Receiver`, pooled reads), driven by fibers that run one Effect
 * per message on each end, as a program using `write` and `take` must. What
 * the library costs above the floor is its own; what the floor costs above
 * raw is the price of an Effect per message on Effect 3.
 *
 * Two variants:
 *
 * - `sync`: one `Effect.sync` per message per end (the least an Effect can
 *   be), plus an `Effect.async` wait when the reader finds nothing.
 * - `2-op`: one `Effect.suspend` per message per end, returning a ready
 *   Effect (`Effect.succeed`, `Effect.void`) or a wait: the least an Effect
 *   that can either complete at once or wait costs (two runtime ops), which
 *   is what `write` and `take` are.
 *
 * The idle floor (`idleEnd`, bench/memory.ts): what an idle connected end
 * costs when a fiber waits in a 2-op take loop on it (a reader fed by the
 * socket's 'data' events, its inbox, the suspended fiber), against bare
 * sockets: the least an API whose idle connection keeps a fiber waiting
 * holds. bench/effect4/floor.ts has the same floors on Effect 4.
 *
 * Messages reach the reading fiber through a plain array filled by the
 * socket's read callback, with one waiter slot: no queue bounds, no
 * backpressure on the reading side (the library pays for those).
 */
import { Effect } from "effect"
import type * as net from "node:net"
import { Receiver, type Sender } from "./baseline.js"
import { check } from "./common.js"
import type { FloorKind } from "./line4.js"

export type { FloorKind } from "./line4.js"

/** Messages decoded by a `Receiver`, waiting for the reading fiber. */
export class Inbox {
  private items: Array<Uint8Array> = []
  private head = 0
  private waiter: ((effect: Effect.Effect<void>) => void) | undefined = undefined

  /** For `new Receiver(inbox.push)`. */
  readonly push = (message: Uint8Array): void => {
    this.items.push(message)
    const waiter = this.waiter
    if (waiter !== undefined) {
      this.waiter = undefined
      waiter(Effect.void)
    }
  }

  poll(): Uint8Array | undefined {
    if (this.head === this.items.length) return undefined
    const item = this.items[this.head]!
    this.items[this.head++] = undefined as unknown as Uint8Array
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    }
    return item
  }

  /** Completes once a message is waiting. */
  readonly wait: Effect.Effect<void> = Effect.async<void>((resume) => {
    if (this.head < this.items.length) return resume(Effect.void)
    this.waiter = resume
  })

  /** `take` as the 2-op floor: one suspend, then a ready value or a wait. */
  readonly take2: Effect.Effect<Uint8Array> = Effect.suspend(() => {
    const item = this.poll()
    return item !== undefined ? Effect.succeed(item) : Effect.zipRight(this.wait, this.take2)
  })

  /** The sync floor's read step: one `Effect.sync`; `undefined` means wait (`wait`) and look again. */
  readonly pollSync: Effect.Effect<Uint8Array | undefined> = Effect.sync(() => this.poll())
}

/** Completes once the sender's socket has drained. */
export const drained = (sender: Sender): Effect.Effect<void> => Effect.promise(() => sender.drained())

/** The 2-op floor's write step. */
export const write2 = (sender: Sender, payload: Uint8Array): Effect.Effect<void> =>
  Effect.suspend(() => (sender.write(payload) ? Effect.void : drained(sender)))

/** The sync floor's write step: `false` means wait for `drained`. */
export const writeSync = (sender: Sender, payload: Uint8Array): Effect.Effect<boolean> =>
  Effect.sync(() => sender.write(payload))

/**
 * Writes `count` messages in a loop as the floor of `kind` does (the loop
 * a program around `write` would be).
 */
export const writeMany = (sender: Sender, payload: Uint8Array, count: number, kind: FloorKind) =>
  kind === "sync"
    ? Effect.gen(function* () {
        for (let i = 0; i < count; i++) if (!(yield* writeSync(sender, payload))) yield* drained(sender)
        sender.flush()
      })
    : Effect.gen(function* () {
        for (let i = 0; i < count; i++) yield* write2(sender, payload)
        sender.flush()
      })

/** Takes `count` messages in a loop as the floor of `kind` does, calling `onMessage` on each. */
export const readMany = (inbox: Inbox, count: number, kind: FloorKind, onMessage: (message: Uint8Array) => void) =>
  kind === "sync"
    ? Effect.gen(function* () {
        for (let i = 0; i < count;) {
          const message = yield* inbox.pollSync
          if (message === undefined) yield* inbox.wait
          else {
            onMessage(message)
            i++
          }
        }
      })
    : Effect.gen(function* () {
        for (let i = 0; i < count; i++) onMessage(yield* inbox.take2)
      })

/**
 * The idle floor's end: a `Receiver` fed by the socket's 'data' events into
 * an `Inbox`, and a fiber (`Effect.runFork`) in a 2-op take loop waiting on
 * it. Returns its release: an empty message ends the loop.
 */
export const idleEnd = (socket: net.Socket): (() => void) => {
  const inbox = new Inbox()
  socket.on("data", new Receiver(inbox.push).push)
  Effect.runFork(
    Effect.gen(function* () {
      while ((yield* inbox.take2).length > 0) onIdleMessage()
    })
  )
  return () => inbox.push(END)
}

const END = new Uint8Array(0)
const onIdleMessage = () => check(false, "idle floor: a message arrived on an idle pair")

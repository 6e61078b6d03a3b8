/**
 * The floors of bench/floor.ts on Effect 4: the same tuned raw path
 * (`Sender`, `Receiver`, pooled reads) driven the same way, op for op, so
 * that Effect 4 / Effect 3 of the same floor in the same rounds is the
 * difference between the two runtimes and nothing else.
 *
 * - `sync`: one `Effect.sync` per message per end, plus an `Effect.callback`
 *   wait when the reader finds nothing.
 * - `2-op`: one `Effect.suspend` per message per end, returning a ready
 *   Effect or a wait (what `write` and `take` are).
 *
 * Only Effect 3's names are changed, for Effect 4's: `Effect.async` ->
 * `Effect.callback`, `Effect.zipRight` -> `Effect.andThen`, `Effect.fork` ->
 * `Effect.forkChild`, `Deferred.unsafeDone` -> `Deferred.doneUnsafe`. The
 * rounds are those of bench/throughput.ts and bench/latency.ts (`floorRound`),
 * and the idle floor's end that of bench/floor.ts (`idleEnd`).
 */
import { Deferred, Effect, Exit, Fiber } from "effect"
import type * as net from "node:net"
import { BULK_POOL, Receiver, Sender, SMALL_POOL, socketPair } from "../baseline.js"
import { check, now, summariseTrips, type Trips } from "../common.js"
import { counter, lead, makePayload, type Measurement } from "../counting.js"
import type { FloorKind } from "../line4.js"

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
  readonly wait: Effect.Effect<void> = Effect.callback<void>((resume) => {
    if (this.head < this.items.length) return resume(Effect.void)
    this.waiter = resume
  })

  /** `take` as the 2-op floor: one suspend, then a ready value or a wait. */
  readonly take2: Effect.Effect<Uint8Array> = Effect.suspend(() => {
    const item = this.poll()
    return item !== undefined ? Effect.succeed(item) : Effect.andThen(this.wait, this.take2)
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

/** Writes `count` messages in a loop as the floor of `kind` does. */
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

/** One-way throughput of the floor of `kind` (bench/throughput.ts `floorRound`). */
export const throughputRound = async (size: number, n: number, kind: FloorKind): Promise<Measurement> => {
  const payload = makePayload(size)
  const c = counter(size, n)
  const inbox = new Inbox()
  const pair = await socketPair(new Receiver(inbox.push).push, BULK_POOL)
  const sender = new Sender(pair.server)
  const program = Effect.gen(function* () {
    const leadReceived = yield* Deferred.make<void>()
    const onMessage = (message: Uint8Array) => {
      if (c.onMessage(message)) Deferred.doneUnsafe(leadReceived, Exit.void)
    }
    const reader = yield* Effect.forkChild(readMany(inbox, c.total, kind, onMessage))
    const writer = yield* Effect.forkChild(
      Effect.gen(function* () {
        yield* writeMany(sender, payload, lead(n), kind)
        yield* Deferred.await(leadReceived)
        c.start()
        yield* writeMany(sender, payload, n, kind)
      })
    )
    yield* Fiber.join(reader)
    yield* Fiber.join(writer)
  })
  await Effect.runPromise(program)
  await pair.close()
  return c.finish(`effect4 floor ${kind}`, payload)
}

const SIZE = 64

const floorWrite = (sender: Sender, payload: Uint8Array, kind: FloorKind): Effect.Effect<unknown> =>
  kind === "sync" ? writeSync(sender, payload) : write2(sender, payload)

/** 64 B ping-pong of the floor of `kind` (bench/latency.ts `floorRound`). */
export const latencyRound = async (warmup: number, trips: number, kind: FloorKind): Promise<Trips> => {
  const clientInbox = new Inbox()
  const serverInbox = new Inbox()
  const pair = await socketPair(new Receiver(clientInbox.push).push, SMALL_POOL)
  pair.server.on("data", new Receiver(serverInbox.push).push)
  const clientSender = new Sender(pair.client)
  const serverSender = new Sender(pair.server)
  const total = warmup + trips
  const payload = new Uint8Array(SIZE).fill(1)
  const server = Effect.gen(function* () {
    for (let i = 0; i < total; i++) {
      let message: Uint8Array | undefined
      if (kind === "sync") {
        while ((message = yield* serverInbox.pollSync) === undefined) yield* serverInbox.wait
      } else message = yield* serverInbox.take2
      yield* floorWrite(serverSender, message, kind)
    }
  })
  const client = Effect.gen(function* () {
    const samples = new Float64Array(trips)
    for (let i = 0; i < total; i++) {
      const t0 = now()
      yield* floorWrite(clientSender, payload, kind)
      let pong: Uint8Array | undefined
      if (kind === "sync") {
        while ((pong = yield* clientInbox.pollSync) === undefined) yield* clientInbox.wait
      } else pong = yield* clientInbox.take2
      const t1 = now()
      if (i === 0) check(pong.length === SIZE, "effect4 floor pong size")
      if (i >= warmup) samples[i - warmup] = t1 - t0
    }
    return summariseTrips(samples)
  })
  const result = await Effect.runPromise(Effect.andThen(Effect.forkChild(server), client))
  await pair.close()
  return result
}

/** The idle floor's end (bench/floor.ts `idleEnd`). */
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
const onIdleMessage = () => check(false, "effect4 idle floor: a message arrived on an idle pair")

/**
 * One-way throughput: one writer sends `n` messages of one size; the reader
 * counts them. The clock starts as the writer starts and stops when the last
 * message arrives at the reader. Before that, `lead(n)` untimed messages warm
 * the connection up, and the clock starts only once the reader has all of
 * them (an empty pipe). The connecting end reads and the accepted end
 * writes, on every side but the library rows whose reading end is accepted
 * (`[Server]`, `[Server, maxTotalBytes max]`, `[wrapped socket]`, see `Conn`).
 *
 * Each round runs, one after another on fresh connections:
 *
 * - raw: `Sender.write` in a loop (awaiting `drained()` when it says so); the
 *   reader is a `Receiver` fed by pooled reads (`reader`). No Effect at all.
 *   Also as `raw [accepted socket reads]`: the accepted end reads, through
 *   'data' events, as every connection of a server must (Node offers
 *   `onread` only to sockets it connects); the rows read by an accepted
 *   socket give `x raw (accepted reads)` against it in their note.
 * - floor (sync, 2-op): the same raw path driven by one fiber per end doing
 *   one Effect per message (bench/floor.ts): the least any API with an
 *   Effect per `write` and per `take` can cost.
 * - the library, one row per way of writing and reading:
 *   `write` (one per message), `writeAll` (1000 messages per call), or
 *   `Stream.run(stream, stocking.sink)` over `Stream.fromIterable` rechunked
 *   to 1000 messages (`sink`) or to one message (`sink1`) per chunk, or
 *   rechunked to one message and then to 1000 (`sinkRechunk`, the rechunk
 *   a stream of single events pays before the sink);
 *   `take` in a loop, `takeBatch` in a loop (a plain loop over each batch),
 *   `messages` with `Stream.runForEach` (an Effect per message),
 *   `messages` with `Stream.runForEachChunk`, or `forEachChunk` (a plain
 *   loop over each chunk). The stream consumers end when the writer closes.
 *   Every read path runs twice: read by a Stocking made by `Stocking.make`
 *   (connecting) and by a connection of `Server.make` (default byte
 *   budget); `take` and `forEachChunk` also with the server's budget out of
 *   reach (`maxTotalBytes` at `Number.MAX_SAFE_INTEGER`) and over a wrapped
 *   accepted socket (`Stocking.make({ socket })`: no server, no budget).
 * - peers (bench/peers.ts): `it-length-prefixed` over `stream-to-it`, and
 *   `@effect/platform` sockets with hand-written length framing, per message
 *   and batched by hand. Each library row names the peer it does worst
 *   against (`x peer`, library / that peer, median of per-round ratios) and
 *   says whether that peer beats it.
 *
 * Ratios are per round (same connections' conditions), median over rounds:
 * `x raw` against raw, `x floor` against the sync floor, `x 2-op` against
 * the 2-op floor. At 64 KiB and 1 MiB each row also counts V8's major
 * (mark-compact) collections per GiB received, the pattern large messages
 * fall into when they outlive a young-generation collection.
 */
import { Chunk, Deferred, Effect, Exit, Fiber, Option, Stream } from "effect"
import { Backend, Poll, Select, Server, Stocking } from "../src/node.js"
import { BULK_POOL, Receiver, Sender, socketPair } from "./baseline.js"
import { type FloorKind, Inbox, readMany, writeMany } from "./floor.js"
import { counter, lead, makePayload, type Measurement } from "./counting.js"
import { PEER_LABEL, type PeerKind, peerRound } from "./peers.js"
import {
  againstFloors,
  check,
  formatSize,
  interleave,
  median,
  type Options,
  ratios,
  rawListener,
  round3,
  type Row,
  stockingPair
} from "./util.js"

export type { Measurement } from "./counting.js"

export type ReadMode = "take" | "takeBatch" | "stream" | "chunks" | "forEachChunk"
export type WriteMode = "write" | "writeAll" | "sink" | "sink1" | "sinkRechunk"

/** Each requested round is run as this many shorter ones. */
const SPLIT = 3

/** Messages per `writeAll` call. */
const BATCH = 1000

/**
 * Raw, as above. With `acceptedReads`, the accepted end reads ('data' events, as a server's sockets must: Node
 * offers `onread` only to sockets it connects) and the connecting end writes: the raw side to hold the rows
 * whose reading end is accepted against (`[Server]`, `[wrapped socket]`).
 */
export const baselineRound = async (size: number, n: number, acceptedReads = false): Promise<Measurement> => {
  const payload = makePayload(size)
  const c = counter(size, n)
  let finish!: () => void
  const finished = new Promise<void>((resolve) => (finish = resolve))
  let leadIn!: () => void
  const leadReceived = new Promise<void>((resolve) => (leadIn = resolve))
  let received = 0
  const receiver = new Receiver((message) => {
    if (c.onMessage(message)) leadIn()
    if (++received === c.total) finish()
  })
  const pair = acceptedReads ? await socketPair() : await socketPair(receiver.push, BULK_POOL)
  if (acceptedReads) pair.server.on("data", receiver.push)
  const sender = new Sender(acceptedReads ? pair.client : pair.server)
  const writeCount = async (count: number) => {
    for (let i = 0; i < count; i++) {
      if (!sender.write(payload)) await sender.drained()
    }
    sender.flush()
  }
  const writer = (async () => {
    await writeCount(lead(n))
    await leadReceived
    c.start()
    await writeCount(n)
  })()
  await Promise.all([writer, finished])
  await pair.close()
  return c.finish(acceptedReads ? "baseline (accepted reads)" : "baseline", payload)
}

export const floorRound = async (size: number, n: number, kind: FloorKind): Promise<Measurement> => {
  const payload = makePayload(size)
  const c = counter(size, n)
  const inbox = new Inbox()
  const pair = await socketPair(new Receiver(inbox.push).push, BULK_POOL)
  const sender = new Sender(pair.server)
  const program = Effect.gen(function* () {
    const leadReceived = yield* Deferred.make<void>()
    const onMessage = (message: Uint8Array) => {
      if (c.onMessage(message)) Deferred.unsafeDone(leadReceived, Exit.void)
    }
    const reader = yield* Effect.fork(readMany(inbox, c.total, kind, onMessage))
    const writer = yield* Effect.fork(
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
  return c.finish(`floor ${kind}`, payload)
}

const consume = (
  reading: Stocking.Stocking,
  mode: ReadMode,
  total: number,
  onMessage: (message: Uint8Array | string) => void
): Effect.Effect<void, unknown> => {
  const eachOfChunk = (chunk: Chunk.Chunk<Uint8Array | string>) => {
    for (const message of chunk) onMessage(message)
    return Effect.void
  }
  switch (mode) {
    case "take":
      return Effect.gen(function* () {
        for (let i = 0; i < total; i++) onMessage(yield* reading.take)
      })
    case "takeBatch":
      return Effect.gen(function* () {
        for (let i = 0; i < total;) {
          const batch = yield* reading.takeBatch
          for (const message of batch) onMessage(message)
          i += batch.length
        }
      })
    case "stream":
      return Stream.runForEach(reading.messages, (message) => {
        onMessage(message)
        return Effect.void
      })
    case "chunks":
      return Stream.runForEachChunk(reading.messages, eachOfChunk)
    case "forEachChunk":
      return reading.forEachChunk(eachOfChunk)
  }
}

/**
 * How the reading Stocking was made (the writing one is always the other end):
 *
 * - `connect`: `Stocking.make({ host, port })` (reads through pooled buffers);
 *   the writer wraps the accepted socket.
 * - `wrapped`: `Stocking.make({ socket })` over an accepted socket (reads
 *   through its 'data' events); the writer connects.
 * - `server`: a connection of `Server.make` with the default byte budget
 *   (`maxTotalBytes` 512 MiB, charged beyond 16 KiB per queue); the writer connects.
 * - `serverUnbounded`: the same with `maxTotalBytes` at `Number.MAX_SAFE_INTEGER`,
 *   so the budget is kept but never binds.
 */
export type Conn = "connect" | "wrapped" | "server" | "serverUnbounded"

/** The two ends of one loopback connection, the reading end made as `conn` says. Lives in the scope. */
const pairFor = (backend: Backend.Backend, conn: Conn) =>
  Effect.gen(function* () {
    switch (conn) {
      case "connect": {
        const { client, server } = yield* stockingPair(backend)
        return { reading: client, writing: server }
      }
      case "wrapped": {
        const { port, accepted } = yield* rawListener()
        const writing = yield* Stocking.make({ host: "127.0.0.1", port })
        const socket = yield* accepted
        const reading = yield* Stocking.make({ socket })
        return { reading, writing }
      }
      case "server":
      case "serverUnbounded": {
        const server = yield* Server.make({
          port: 0,
          ...(conn === "serverUnbounded" ? { maxTotalBytes: Number.MAX_SAFE_INTEGER } : {})
        })
        const first = yield* Effect.fork(Stream.runHead(server.connections))
        const writing = yield* Stocking.make({ host: "127.0.0.1", port: server.port })
        const reading = yield* Effect.flatMap(Fiber.join(first), (head) =>
          Option.isSome(head) ? Effect.succeed(head.value) : Effect.die(new Error("server delivered no connection"))
        )
        return { reading, writing }
      }
    }
  }).pipe(Effect.provideService(Backend.Backend, backend))

export const libraryRound = (
  backend: Backend.Backend,
  size: number,
  n: number,
  write: WriteMode,
  read: ReadMode,
  conn: Conn = "connect"
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const { reading, writing } = yield* pairFor(backend, conn)
      const payload = makePayload(size)
      const c = counter(size, n)
      const leadReceived = yield* Deferred.make<void>()
      const onMessage = (message: Uint8Array | string) => {
        if (c.onMessage(message)) Deferred.unsafeDone(leadReceived, Exit.void)
      }
      const batch = Array.from({ length: BATCH }, () => payload)
      // The sink's input, made before the clock starts: one array per count (the lead-in, the timed part).
      const arrays = new Map(
        [lead(n), n].map((count) => [
          count,
          Array.from({ length: write.startsWith("sink") ? count : 0 }, () => payload)
        ])
      )
      const messages = (count: number) => arrays.get(count)!
      const writeCount = (count: number): Effect.Effect<void, unknown> => {
        switch (write) {
          case "write":
            return Effect.gen(function* () {
              for (let i = 0; i < count; i++) yield* writing.write(payload)
            })
          case "writeAll":
            return Effect.gen(function* () {
              for (let i = 0; i < count; i += BATCH) {
                yield* writing.writeAll(count - i >= BATCH ? batch : batch.slice(0, count - i))
              }
            })
          case "sink":
          case "sink1":
            return Stream.run(
              Stream.fromIterable(messages(count)).pipe(Stream.rechunk(write === "sink" ? BATCH : 1)),
              writing.sink
            )
          case "sinkRechunk":
            // A stream of one-message chunks (as `Stream.map` over single events makes), rechunked for the sink.
            return Stream.run(
              Stream.fromIterable(messages(count)).pipe(Stream.rechunk(1), Stream.rechunk(BATCH)),
              writing.sink
            )
        }
      }
      const readerFiber = yield* Effect.fork(consume(reading, read, c.total, onMessage))
      const writerFiber = yield* Effect.fork(
        Effect.gen(function* () {
          yield* writeCount(lead(n))
          yield* Deferred.await(leadReceived)
          c.start()
          yield* writeCount(n)
          // The stream consumers end when the connection does.
          if (read !== "take" && read !== "takeBatch") yield* writing.close
        })
      )
      yield* Fiber.join(readerFiber)
      yield* Fiber.join(writerFiber)
      return c.finish(`library ${write} + ${read} (${conn})`, payload)
    })
  ).pipe(
    Effect.timeoutFail({
      duration: "120 seconds",
      onTimeout: () => new Error(`library throughput ${size} B timed out`)
    })
  )

/** Messages per requested round for each size, full and quick (split into `SPLIT` rounds). */
const COUNTS: Record<number, readonly [full: number, quick: number]> = {
  64: [300_000, 60_000],
  65536: [3_000, 600],
  1048576: [300, 100]
}

const READ_LABEL: Record<ReadMode, string> = {
  take: "take",
  takeBatch: "takeBatch",
  stream: "messages/runForEach",
  chunks: "messages/runForEachChunk",
  forEachChunk: "forEachChunk"
}

const WRITE_LABEL: Record<WriteMode, string> = {
  write: "write",
  writeAll: "writeAll",
  sink: `sink(${BATCH})`,
  sink1: "sink(1)",
  sinkRechunk: `sink(1 -> rechunk ${BATCH})`
}

const CONN_LABEL: Record<Conn, string> = {
  connect: "",
  wrapped: " [wrapped socket]",
  server: " [Server]",
  serverUnbounded: " [Server, maxTotalBytes max]"
}

interface Variant {
  readonly backend: readonly [string, Backend.Backend]
  readonly write: WriteMode
  readonly read: ReadMode
  /** How the reading end was made (default `connect`). */
  readonly conn?: Conn
}

const poll = ["poll", Poll.backend] as const
const select0 = ["select(0)", Select.make(0)] as const

/** The library rows of each size. */
const variants = (size: number): Array<Variant> => {
  // Every read path again with the reading end accepted by `Server.make`; `take` and `forEachChunk`
  // also with the server's budget out of reach, and over a wrapped accepted socket (no server, no budget).
  const serverRows = (batchWrite: WriteMode): Array<Variant> => [
    { backend: poll, write: "write", read: "take", conn: "server" },
    { backend: poll, write: "write", read: "stream", conn: "server" },
    { backend: poll, write: batchWrite, read: "takeBatch", conn: "server" },
    { backend: poll, write: batchWrite, read: "forEachChunk", conn: "server" },
    { backend: poll, write: batchWrite, read: "chunks", conn: "server" },
    { backend: poll, write: "write", read: "take", conn: "serverUnbounded" },
    { backend: poll, write: batchWrite, read: "forEachChunk", conn: "serverUnbounded" },
    { backend: poll, write: "write", read: "take", conn: "wrapped" },
    { backend: poll, write: batchWrite, read: "forEachChunk", conn: "wrapped" }
  ]
  if (size === 64) {
    return [
      { backend: poll, write: "write", read: "take" },
      { backend: poll, write: "write", read: "stream" },
      { backend: poll, write: "writeAll", read: "takeBatch" },
      { backend: poll, write: "writeAll", read: "forEachChunk" },
      { backend: poll, write: "writeAll", read: "chunks" },
      // Against `writeAll + forEachChunk` (same reader), in the note as `x writeAll`.
      { backend: poll, write: "sink", read: "forEachChunk" },
      { backend: poll, write: "sinkRechunk", read: "forEachChunk" },
      { backend: poll, write: "sink1", read: "forEachChunk" },
      { backend: select0, write: "write", read: "take" },
      ...serverRows("writeAll")
    ]
  }
  const large: Array<Variant> = [
    { backend: poll, write: "write", read: "take" },
    { backend: poll, write: "write", read: "takeBatch" },
    { backend: poll, write: "write", read: "forEachChunk" },
    { backend: poll, write: "write", read: "chunks" },
    { backend: poll, write: "write", read: "stream" },
    ...(size === 1048576 ? [{ backend: select0, write: "write", read: "take" } as const] : []),
    ...serverRows("write")
  ]
  return large
}

const rowName = (v: Variant) =>
  `throughput ${v.backend[0]} ${WRITE_LABEL[v.write]} + ${READ_LABEL[v.read]}${CONN_LABEL[v.conn ?? "connect"]}`

const PEERS: ReadonlyArray<PeerKind> = ["it-lp", "platform", "platform-batched"]

/** The Effect 3 row each Effect 4 library row is held against (`x E3`). */
const EFFECT3_COUNTERPART: Variant = { backend: poll, write: "write", read: "take" }

/** The Effect 4 line's library row (bench/effect4/library/rows.ts): `write` + `take`, read by the connecting end. */
const EFFECT4_ROW = "throughput effect4 write + take"

/**
 * The Effect 4 sides of a size (bench/line4.ts), in the same rounds: its floors, and its library row once
 * src/effect4/Stocking.ts is there. At 64 B and 64 KiB (64 B only in quick mode).
 */
const effect4Sides = (options: Options, size: number) => {
  const line = options.effect4
  const sized = line !== undefined && (size === 64 || (size === 65536 && !options.quick))
  const test = (name: string) => options.only === undefined || options.only.test(`${name} ${formatSize(size)}`)
  const library = sized && line.skipLibrary === undefined && test(EFFECT4_ROW)
  const floors = sized && !options.libraryOnly && (library || test("throughput effect4 floor"))
  if (sized && line.skipLibrary !== undefined && test(EFFECT4_ROW)) {
    options.log(`  ${EFFECT4_ROW} ${formatSize(size)}: skipped: ${line.skipLibrary}`)
  }
  return { line, floors, library }
}

export const run = async (options: Options): Promise<Array<Row>> => {
  const rows: Array<Row> = []
  for (const size of [64, 65536, 1048576]) {
    const e4 = effect4Sides(options, size)
    const asked = (v: Variant) => options.only === undefined || options.only.test(`${rowName(v)} ${formatSize(size)}`)
    // The Effect 4 row's counterpart runs with it.
    const wanted = variants(size).filter((v) => asked(v) || (e4.library && rowName(v) === rowName(EFFECT3_COUNTERPART)))
    // The peers run for the Effect 3 library rows asked for (not for a counterpart alone), or when asked for.
    const peersWanted =
      variants(size).some(asked) ||
      PEERS.some((kind) => options.only?.test(`throughput ${PEER_LABEL[kind]} ${formatSize(size)}`) === true)
    const floorsWanted =
      options.only === undefined ||
      options.only.test(`throughput floor ${formatSize(size)}`) ||
      wanted.length > 0 ||
      e4.floors
    if (wanted.length === 0 && !floorsWanted) continue
    const [full, quick] = COUNTS[size]!
    // Three short rounds for each one asked for: on a shared machine the load comes in bursts of
    // about a second, and more, shorter, interleaved rounds give the per-round ratios a steadier median.
    const n = Math.floor((options.quick ? quick : full) / SPLIT)
    const rounds = options.rounds * SPLIT
    const label = `throughput ${formatSize(size)}`
    // Warm-up (not counted) until the JIT has settled: the raw path takes a
    // few rounds to reach its optimised tier; every other side gets one round of half the size.
    const warm = Math.max(1, Math.floor(n / 2))
    const withRaw = !options.libraryOnly
    if (withRaw) {
      for (let i = 0; i < 3; i++) await baselineRound(size, warm)
      for (const kind of ["sync", "2-op"] as const) await floorRound(size, warm, kind)
      if (peersWanted) for (const kind of PEERS) await peerRound(kind, size, warm)
    }
    const libraryRun = (v: Variant, count: number) =>
      Effect.runPromise(libraryRound(v.backend[1], size, count, v.write, v.read, v.conn ?? "connect"))
    for (const v of wanted) await libraryRun(v, warm)
    const line4 = e4.line
    if (line4 !== undefined) {
      // The child's raw path and runtime are as cold as the parent's raw path was: as many warm-up rounds
      // (one in quick mode, whose figures are not read).
      if (e4.floors) {
        for (let i = 0; i < (options.quick ? 1 : 3); i++) {
          for (const kind of ["sync", "2-op"] as const) await line4.throughputFloor(size, warm, kind)
        }
      }
      if (e4.library) await line4.throughputLibrary(size, warm)
    }
    // Sides: raw, floor sync, floor 2-op, raw read by the accepted end, the peers, then the library rows.
    const peers = withRaw && peersWanted ? PEERS : []
    const first = withRaw ? 4 + peers.length : 0
    const sides: Array<() => Promise<Measurement>> = [
      ...(withRaw
        ? [
            () => baselineRound(size, n),
            () => floorRound(size, n, "sync"),
            () => floorRound(size, n, "2-op"),
            () => baselineRound(size, n, true)
          ]
        : []),
      ...peers.map((kind) => () => peerRound(kind, size, n)),
      ...wanted.map((v) => () => libraryRun(v, n)),
      // The Effect 4 sides, in the child: floor sync, floor 2-op, the library row.
      ...(line4 !== undefined && e4.floors
        ? [() => line4.throughputFloor(size, n, "sync"), () => line4.throughputFloor(size, n, "2-op")]
        : []),
      ...(line4 !== undefined && e4.library ? [() => line4.throughputLibrary(size, n)] : [])
    ]
    const e4First = first + wanted.length
    const results = await interleave(rounds, options, label, sides)
    for (const side of results) {
      for (const m of side) {
        check(m.messages === n && m.bytes === n * size, `${label}: received ${m.messages} of ${n} messages`)
        check(m.seconds > 0 && Number.isFinite(m.seconds), `${label}: positive duration`)
      }
    }
    const rates = results.map((side) => side.map((m) => m.messages / m.seconds))
    const raw = withRaw ? rates[0]! : []
    const floorSync = withRaw ? rates[1]! : []
    const floor2 = withRaw ? rates[2]! : []
    const rawAccepted = withRaw ? rates[3]! : []
    const peerRates = peers.map((_, i) => rates[4 + i]!)
    const gib = (n * size) / 2 ** 30
    // The sink rows are compared with `writeAll` into the same reader, round by round.
    const writeAllIndex = wanted.findIndex(
      (v) => v.backend === poll && v.write === "writeAll" && v.read === "forEachChunk" && v.conn === undefined
    )
    // Each library row against every peer of the same rounds: the one it does worst against is named.
    const againstPeers = (own: ReadonlyArray<number>): Pick<Row, "peer"> => {
      let best: { name: string; ratio: number } | undefined
      peers.forEach((kind, i) => {
        const ratio = median(ratios(own, peerRates[i]!))
        if (best === undefined || ratio < best.ratio) best = { name: PEER_LABEL[kind].replace(/^peer /, ""), ratio }
      })
      return best === undefined ? {} : { peer: { name: best.name, ratio: round3(best.ratio) } }
    }
    const describe = (name: string, index: number, variant?: Variant): Row => {
      const own = rates[index]!
      const againstWriteAll =
        variant !== undefined && variant.write.startsWith("sink") && writeAllIndex >= 0
          ? `; x writeAll ${median(ratios(own, rates[first + writeAllIndex]!)).toFixed(3)}`
          : ""
      // Rows read by an accepted socket, also against raw read the same way.
      const againstRawAccepted =
        variant !== undefined && (variant.conn ?? "connect") !== "connect" && withRaw
          ? `; x raw (accepted reads) ${median(ratios(own, rawAccepted)).toFixed(3)}`
          : ""
      const majors = median(results[index]!.map((m) => m.majorGcs))
      return {
        name,
        size,
        unit: "msg/s",
        ...againstFloors(own, raw, floorSync, floor2),
        ...(variant === undefined ? {} : againstPeers(own)),
        better: "higher",
        note:
          `rounds ${results[index]!.map((m) => (m.seconds * 1000).toFixed(0)).join("/")} ms` +
          (size >= 65536 ? `; major GCs per GiB ${(majors / gib).toFixed(1)}` : "") +
          againstWriteAll +
          againstRawAccepted
      }
    }
    const sizeRows: Array<Row> = []
    if (withRaw) {
      sizeRows.push(
        describe("throughput floor sync", 1),
        describe("throughput floor 2-op", 2),
        describe("throughput raw [accepted socket reads]", 3)
      )
      peers.forEach((kind, i) => sizeRows.push(describe(`throughput ${PEER_LABEL[kind]}`, 4 + i)))
    }
    wanted.forEach((v, i) => sizeRows.push(describe(rowName(v), first + i, v)))
    // The Effect 4 rows: `x floor` and `x 2-op` against the Effect 4 floors, `x E3` against the Effect 3 line's
    // same side (the floor of the same kind; `poll write + take` for the library row), round by round.
    const e4FloorSync = e4.floors ? rates[e4First]! : []
    const e4Floor2 = e4.floors ? rates[e4First + 1]! : []
    const counterpart = wanted.findIndex((v) => rowName(v) === rowName(EFFECT3_COUNTERPART))
    const describe4 = (name: string, index: number, effect3: ReadonlyArray<number>): Row => {
      const own = rates[index]!
      return {
        name,
        size,
        unit: "msg/s",
        ...againstFloors(own, raw, e4FloorSync, e4Floor2),
        effect3Ratio: round3(median(ratios(own, effect3))),
        better: "higher",
        note:
          `rounds ${results[index]!.map((m) => (m.seconds * 1000).toFixed(0)).join("/")} ms` +
          (size >= 65536
            ? `; major GCs per GiB ${(median(results[index]!.map((m) => m.majorGcs)) / gib).toFixed(1)}`
            : "")
      }
    }
    if (e4.floors) {
      sizeRows.push(
        describe4("throughput effect4 floor sync", e4First, floorSync),
        describe4("throughput effect4 floor 2-op", e4First + 1, floor2)
      )
    }
    if (e4.library) {
      sizeRows.push(
        describe4(EFFECT4_ROW, e4First + (e4.floors ? 2 : 0), counterpart >= 0 ? rates[first + counterpart]! : [])
      )
    }
    for (const row of sizeRows) {
      options.log(
        `    ${row.name} ${formatSize(size)}: ${row.value.toFixed(0)} msg/s, x raw ${row.ratio}, x floor ${row.floorRatio}, x 2-op ${row.floor2Ratio}` +
          (row.peer === undefined ? "" : `, x ${row.peer.name} ${row.peer.ratio}`) +
          (row.effect3Ratio === undefined ? "" : `, x E3 ${row.effect3Ratio}`) +
          ` (${row.note})`
      )
    }
    rows.push(...sizeRows)
  }
  return rows
}

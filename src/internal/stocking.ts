/**
 * The Stocking machinery: one `Connection` per socket, holding the decoder,
 * the inbound and outbound queues and the close sequence, driven by three
 * fibers in the Stocking's scope (read loop, send loop, handshake).
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as net from "node:net"
import * as tls from "node:tls"
import type { Duplex } from "node:stream"
import * as Auto from "../Backend/Auto.js"
import * as Backend from "../Backend/Backend.js"
import * as Codec from "../Codec.js"
import * as Framing from "../Framing.js"
import * as Metrics from "../Metrics.js"
import type * as Stocking from "../Stocking.js"
import { Closed, ConnectError, NotReady } from "../Stocking.js"
import { writeFrames } from "./batch.js"
import { MessageQueue } from "./queue.js"
import { PooledReads } from "./reads.js"
import { Signal } from "./signal.js"

/** @internal */
export const TypeId: typeof Stocking.TypeId = Symbol.for("effect-stockings/Stocking") as typeof Stocking.TypeId

const DEFAULTS = {
  maxBufferedMessages: 4096,
  maxBufferedBytes: 32 * 1024 * 1024,
  maxQueuedMessages: 4096,
  maxQueuedBytes: 8 * 1024 * 1024,
  closeTimeout: Duration.seconds(10)
}

let nextId = 1

const TRUE = Effect.succeed(true)
const FALSE = Effect.succeed(false)

const sizeOf = (message: Framing.Message): number => message.length

/** Payload buffers are filled completely before anyone sees them: no need to zero them first. */
const allocateUnzeroed = (size: number): Uint8Array => Buffer.allocUnsafeSlow(size)

type SocketLike = Duplex & Partial<Pick<net.Socket, "setNoDelay" | "remoteAddress" | "remotePort" | "remoteFamily">>

const addressOf = (socket: SocketLike, target: Stocking.Target): Option.Option<Stocking.Address> => {
  if (typeof socket.remoteAddress === "string" && typeof socket.remotePort === "number") {
    return Option.some({
      _tag: "Tcp",
      address: socket.remoteAddress,
      port: socket.remotePort,
      family: socket.remoteFamily ?? "IPv4"
    })
  }
  if ("path" in target) return Option.some({ _tag: "Unix", path: target.path })
  return Option.none()
}

const describeAddress = (address: Option.Option<Stocking.Address>): string =>
  Option.match(address, {
    onNone: () => "unknown",
    onSome: (a) => (a._tag === "Tcp" ? `${a.address}:${a.port}` : a.path)
  })

const describeTarget = (target: Stocking.Target): string =>
  "socket" in target
    ? "the given socket"
    : "path" in target
      ? target.path
      : `${target.host ?? "localhost"}:${target.port}`

// ---------------------------------------------------------------------------
// Connecting
// ---------------------------------------------------------------------------

const isTlsFailure = (cause: unknown): boolean => {
  const code = typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : ""
  return /CERT|TLS|SSL|UNABLE_TO_VERIFY|SELF_SIGNED|HOSTNAME/.test(code)
}

/** SNI and the name checked against the certificate: the host, unless it is an IP address or set by hand. */
const serverName = (where: { readonly host?: string }, secure: Stocking.TlsOptions): { servername?: string } => {
  const name = secure.servername ?? (where.host !== undefined && net.isIP(where.host) === 0 ? where.host : undefined)
  return name === undefined ? {} : { servername: name }
}

/**
 * Waits for `socket` to emit `ready` (it is then connected) or `error`. A
 * failed or interrupted wait destroys the socket when `owned`.
 */
const awaitReady = <S extends net.Socket>(
  socket: S,
  ready: "connect" | "secureConnect",
  owned: boolean,
  toError: (cause: Error) => ConnectError
): Effect.Effect<S, ConnectError> =>
  Effect.async<S, ConnectError>((resume) => {
    const onError = (cause: Error) => {
      socket.off(ready, onReady)
      if (owned) socket.destroy()
      resume(Effect.fail(toError(cause)))
    }
    const onReady = () => {
      socket.off("error", onError)
      resume(Effect.succeed(socket))
    }
    socket.once("error", onError)
    socket.once(ready, onReady)
    return Effect.sync(() => {
      socket.off("error", onError)
      socket.off(ready, onReady)
      if (owned) socket.destroy()
    })
  })

/** A socket, and the read buffers it reads into when this library opened it. */
interface Opened {
  readonly socket: SocketLike
  readonly reads: PooledReads | undefined
}

const connectOnce = (
  target: Exclude<Stocking.Target, { socket: Duplex }>,
  secure: Stocking.TlsOptions | undefined
): Effect.Effect<Opened, ConnectError> =>
  Effect.suspend(() => {
    const where = "path" in target ? { path: target.path } : { host: target.host ?? "localhost", port: target.port }
    let socket: net.Socket
    let reads: PooledReads | undefined
    if (secure === undefined) {
      // Plain sockets read through our own buffers (`onread`); TLS sockets decrypt in JS and cannot.
      reads = new PooledReads()
      socket = net.createConnection({ ...where, allowHalfOpen: true, onread: reads.options })
    } else {
      socket = tls.connect(Object.assign({ allowHalfOpen: true }, secure, where, serverName(where, secure)))
    }
    const opened: Opened = { socket, reads }
    return Effect.as(
      awaitReady(socket, secure === undefined ? "connect" : "secureConnect", true, (cause) => {
        const reason = secure !== undefined && isTlsFailure(cause) ? "Tls" : "Failed"
        return new ConnectError({ reason, address: describeTarget(target), cause })
      }),
      opened
    )
  })

const awaitConnected = (socket: Duplex): Effect.Effect<Duplex, ConnectError> => {
  if (socket.destroyed) {
    return Effect.fail(new ConnectError({ reason: "NotConnected", address: "the given socket", cause: "destroyed" }))
  }
  if (!(socket instanceof net.Socket) || !socket.connecting) return Effect.succeed(socket)
  return awaitReady(
    socket,
    "connect",
    false,
    (cause) => new ConnectError({ reason: "Failed", address: "the given socket", cause })
  )
}

type ConnectSettings = Stocking.Target & Pick<Stocking.Settings, "connectTimeout" | "retry" | "tls">
type Limits = Pick<
  Stocking.Settings,
  "maxMessageSize" | "maxBufferedMessages" | "maxBufferedBytes" | "maxQueuedMessages" | "maxQueuedBytes" | "idleTimeout"
>

/** Connects (or waits for a given socket to be connected); a failed or interrupted attempt leaves no socket behind. */
const connect = (options: ConnectSettings): Effect.Effect<Opened, ConnectError> => {
  if ("socket" in options) {
    return Effect.map(awaitConnected(options.socket), (socket) => ({ socket, reads: undefined }))
  }
  let attempt = connectOnce(options, options.tls === true ? {} : options.tls)
  if (options.connectTimeout !== undefined) {
    attempt = Effect.timeoutFail(attempt, {
      duration: options.connectTimeout,
      onTimeout: () => new ConnectError({ reason: "Timeout", address: describeTarget(options) })
    })
  }
  if (options.retry !== undefined) attempt = Effect.retry(attempt, options.retry)
  return Effect.withSpan(attempt, "stocking.connect", {
    attributes: { "net.peer": describeTarget(options), "stocking.tls": options.tls !== undefined }
  })
}

// ---------------------------------------------------------------------------
// The connection
// ---------------------------------------------------------------------------

class Connection {
  readonly inbox: MessageQueue<Framing.Message, Closed>
  readonly outbox: MessageQueue<Framing.Message, Closed>
  readonly decoder: Framing.Decoder
  readonly readySignal = new Signal<void, Closed>()
  readonly closedSignal = new Signal<Closed>()
  readonly closeDone = new Signal<void>()
  readonly sendLoopDone = new Signal<void>()
  handshakeDone = false
  closedWith: Closed | undefined = undefined
  private closing = false

  // Chunks that arrived while the inbound queue was full (the socket paused), not yet decoded.
  private chunks: Array<Uint8Array> = []
  private blocked = false
  private peerEnded = false
  private wakeReader: ((effect: Effect.Effect<void>) => void) | undefined = undefined

  // Metric labels, and the queue depths last reported to the gauges.
  private readonly labels: ReadonlyArray<MetricLabel.MetricLabel>
  private reportedInbound = 0
  private reportedOutbound = 0

  constructor(
    readonly id: number,
    readonly socket: SocketLike,
    private readonly reads: PooledReads | undefined,
    readonly closeTimeout: Duration.DurationInput,
    readonly peer: string,
    settings: Limits,
    role: Metrics.Role
  ) {
    this.labels = Metrics.roleLabel(role)
    Metrics.connectionsOpen.unsafeModify(1, this.labels)
    this.decoder = Framing.unsafeMakeDecoder({ maxMessageSize: settings.maxMessageSize, allocate: allocateUnzeroed })
    this.inbox = new MessageQueue(
      settings.maxBufferedMessages ?? DEFAULTS.maxBufferedMessages,
      settings.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes
    )
    this.outbox = new MessageQueue(
      settings.maxQueuedMessages ?? DEFAULTS.maxQueuedMessages,
      settings.maxQueuedBytes ?? DEFAULTS.maxQueuedBytes
    )
    this.outbox.onItems = this.onOutboxItems
    if (reads === undefined) {
      socket.on("data", this.onData)
    } else {
      reads.attach(this.onData)
      // No 'data' listener to start the flow: without it 'end' would never be emitted.
      socket.resume()
    }
    socket.on("end", this.onEnd)
    socket.on("error", this.onError)
    socket.on("close", this.onClose)
    if (settings.idleTimeout !== undefined && socket instanceof net.Socket) {
      const idle = Duration.decode(settings.idleTimeout)
      socket.setTimeout(Duration.toMillis(idle))
      socket.on("timeout", () =>
        this.shutdown(this.closedError("IdleTimeout", `nothing sent or received for ${Duration.format(idle)}`), false)
      )
    }
  }

  detach(): void {
    this.reads?.detach()
    this.socket.off("data", this.onData)
    this.socket.off("end", this.onEnd)
    this.socket.off("close", this.onClose)
    // The error listener stays: a late error on a destroyed socket must not crash the process.
  }

  // -- socket events --------------------------------------------------------

  // Decoding happens right here, in the socket's own callback: no fiber hop
  // between a chunk arriving and its messages being readable. Only when the
  // inbound queue is full does the read loop fiber take over, to wait for room.
  private readonly onData = (chunk: Uint8Array): void => {
    if (this.closedWith !== undefined) return
    if (this.blocked) {
      this.chunks.push(chunk)
      return
    }
    this.ingest(chunk)
    if (this.closedWith === undefined && this.inbox.isFull) {
      this.blocked = true
      this.socket.pause()
      this.signalReader()
    }
  }

  /** Decodes one chunk into the inbound queue; a framing fault closes the Stocking. */
  private ingest(chunk: Uint8Array): void {
    const messages = this.decoder.push(chunk)
    for (let i = 0; i < messages.length; i++) this.inbox.unsafePush(messages[i]!, sizeOf(messages[i]!))
    Metrics.bytesReceived.unsafeUpdate(chunk.length, this.labels)
    if (messages.length > 0) Metrics.messagesReceived.unsafeUpdate(messages.length, this.labels)
    this.reportInbound(this.inbox.size)
    if (this.decoder.failure !== undefined) {
      this.shutdown(this.closedError("ProtocolError", this.decoder.failure), false)
    }
  }

  private readonly onEnd = (): void => {
    this.peerEnded = true
    this.signalReader()
  }

  private readonly onError = (cause: Error): void => {
    this.shutdown(this.closedError("SocketError", cause), false)
  }

  private readonly onClose = (): void => {
    // A close with no 'end' before it and no error: the peer went away abruptly.
    if (this.closedWith === undefined && !this.peerEnded) {
      this.shutdown(this.closedError("ClosedByPeer", "connection closed without an end of stream"), false)
    }
    this.signalReader()
    this.closeDone.done(Exit.void)
  }

  private signalReader(): void {
    const wake = this.wakeReader
    if (wake !== undefined) {
      this.wakeReader = undefined
      wake(Effect.void)
    }
  }

  closedError(reason: Stocking.ClosedReason, cause?: unknown): Closed {
    return cause === undefined
      ? new Closed({ reason, stockingId: this.id })
      : new Closed({ reason, stockingId: this.id, cause })
  }

  // -- read loop ------------------------------------------------------------

  private readonly awaitSignal: Effect.Effect<void> = Effect.async<void>((resume) => {
    if (this.blocked || this.peerEnded || this.closedWith !== undefined) return resume(Effect.void)
    this.wakeReader = resume
    return Effect.sync(() => {
      this.wakeReader = undefined
    })
  })

  /**
   * The read loop: waits while chunks are decoded in the socket's callback,
   * and steps in when the inbound queue is full (wait for room, decode what
   * arrived meanwhile, resume the socket) and when the peer ends the stream.
   */
  readonly readLoop: Effect.Effect<void> = Effect.gen(this, function* () {
    while (this.closedWith === undefined) {
      yield* this.awaitSignal
      if (this.closedWith !== undefined) return
      if (this.blocked) {
        yield* this.inbox.awaitSpace()
        while (this.chunks.length > 0 && !this.inbox.isFull && this.closedWith === undefined) {
          this.ingest(this.chunks.shift()!)
        }
        if (this.closedWith !== undefined) return
        if (this.chunks.length > 0 || this.inbox.isFull) continue
        this.blocked = false
        this.socket.resume()
      }
      if (this.peerEnded) {
        const truncated = this.decoder.end()
        yield* this.gracefulClose(this.closedError("ClosedByPeer", truncated))
        return
      }
    }
  })

  // -- send side ------------------------------------------------------------

  /** Hands everything queued to the socket; `false` when the socket is past its high-water mark. */
  private flush(): boolean {
    const messages = this.outbox.takeAll()
    const socket = this.socket
    this.reportOutbound(messages.length)
    if (messages.length === 0 || socket.destroyed || !socket.writable) return true
    const bytes = writeFrames(socket, messages)
    Metrics.messagesSent.unsafeUpdate(messages.length, this.labels)
    Metrics.bytesSent.unsafeUpdate(bytes, this.labels)
    return !socket.writableNeedDrain
  }

  // Eager flushing (`Link.flushEagerly`): the waiting send loop, whether a
  // flush is scheduled, and whether the last one carried a batch.
  private eager: ((effect: Effect.Effect<boolean>) => void) | undefined = undefined
  private flushScheduled = false
  private busy = false

  /** Flushes what is queued: `true` if the socket needs draining, `false` if the queue is done, else `undefined`. */
  private flushStep(): boolean | undefined {
    if (this.outbox.size > 0 && !this.flush()) return true
    if (this.outbox.isEnded && this.outbox.size === 0) return false
    return this.socket.writableNeedDrain && !this.socket.destroyed ? true : undefined
  }

  /**
   * A write while flushing eagerly. A message into an idle connection goes to
   * the socket at once, inside the write (one system call, as a hand-written
   * request/response loop would make); whatever follows in the same turn
   * waits for the microtask flush, so a burst still goes out in one batch.
   * The connection counts as idle again once a microtask flush finds at most
   * one message waiting.
   */
  private readonly onOutboxItems = (): void => {
    if (this.eager === undefined || this.flushScheduled) return
    this.flushScheduled = true
    queueMicrotask(this.eagerFlush)
    if (!this.busy && this.outbox.size === 1 && !this.outbox.isEnded && this.socket.writableLength === 0) {
      this.busy = true
      this.flush()
    }
  }

  private readonly eagerFlush = (): void => {
    this.flushScheduled = false
    const resume = this.eager
    if (resume === undefined) return
    this.busy = this.outbox.size > 1
    const settled = this.flushStep()
    if (settled !== undefined) {
      this.eager = undefined
      resume(settled ? TRUE : FALSE)
    }
  }

  readonly link: Backend.Link = {
    awaitQueued: Effect.suspend(() => this.outbox.awaitItems()),
    flush: () => this.flush(),
    flushEagerly: Effect.async<boolean>((resume) => {
      const settled = this.flushStep()
      if (settled !== undefined) return resume(settled ? TRUE : FALSE)
      this.eager = resume
      return Effect.sync(() => {
        this.eager = undefined
      })
    }),
    drained: Effect.async<void>((resume) => {
      const socket = this.socket
      if (!socket.writableNeedDrain || socket.destroyed) return resume(Effect.void)
      const done = () => {
        socket.off("drain", done)
        socket.off("close", done)
        resume(Effect.void)
      }
      socket.on("drain", done)
      socket.on("close", done)
      return Effect.sync(() => {
        socket.off("drain", done)
        socket.off("close", done)
      })
    }),
    isClosing: () => this.outbox.isEnded
  }

  private reportInbound(depth: number): void {
    if (depth !== this.reportedInbound) {
      Metrics.inboundQueued.unsafeModify(depth - this.reportedInbound, this.labels)
      this.reportedInbound = depth
    }
  }

  private reportOutbound(depth: number): void {
    if (depth !== this.reportedOutbound) {
      Metrics.outboundQueued.unsafeModify(depth - this.reportedOutbound, this.labels)
      this.reportedOutbound = depth
    }
  }

  get writeDataQueued(): boolean {
    return this.outbox.size > 0 || (!this.socket.destroyed && this.socket.writableLength > 0)
  }

  // -- closing --------------------------------------------------------------

  /**
   * Marks the Stocking closed (the first reason wins): reads drain what has
   * arrived then fail with `closed`, writes fail at once. A graceful
   * shutdown keeps the queued messages for the send loop; an abortive one
   * drops them and destroys the socket.
   */
  shutdown(closed: Closed, graceful: boolean): boolean {
    if (!graceful) {
      this.outbox.clear()
      this.socket.destroy()
    }
    if (this.closedWith !== undefined) return false
    this.closedWith = closed
    Metrics.connectionsOpen.unsafeModify(-1, this.labels)
    this.reportInbound(0)
    this.reportOutbound(0)
    this.inbox.end(closed)
    this.outbox.end(closed)
    this.chunks = []
    this.closedSignal.done(Exit.succeed(closed))
    if (!this.handshakeDone) this.readySignal.done(Exit.fail(closed))
    // Keep reading (and dropping) so the peer's data cannot wedge the close.
    this.socket.resume()
    this.signalReader()
    return true
  }

  /**
   * The graceful close: stop accepting writes, let the send loop flush what
   * is queued, end our side, and wait for the peer to end its side; all
   * within `closeTimeout`, after which the socket is destroyed regardless.
   * Runs once; later callers wait for the first.
   */
  gracefulClose(closed: Closed): Effect.Effect<void> {
    return Effect.uninterruptible(
      Effect.suspend(() => {
        this.shutdown(closed, true)
        if (this.closing) return this.closeDone.await()
        this.closing = true
        const socket = this.socket
        const sequence = Effect.zipRight(
          this.sendLoopDone.await(),
          Effect.suspend(() => {
            if (socket.destroyed) return Effect.void
            socket.end()
            return this.closeDone.await()
          })
        )
        // The sequence runs interruptibly inside the timeout's own fiber, so
        // the deadline can cut it short while the close itself stays
        // uninterruptible for its caller.
        return Effect.interruptible(sequence).pipe(
          Effect.timeoutOption(this.closeTimeout),
          Effect.withSpan("stocking.close", {
            attributes: { "stocking.id": this.id, "stocking.reason": closed.reason, "net.peer": this.peer }
          }),
          Effect.ensuring(
            Effect.sync(() => {
              socket.destroy()
              this.closeDone.done(Exit.void)
            })
          ),
          Effect.asVoid
        )
      })
    )
  }

  readonly abort: Effect.Effect<void> = Effect.sync(() => {
    this.shutdown(this.closedError("ClosedLocally", "aborted"), false)
    this.closeDone.done(Exit.void)
  })
}

// ---------------------------------------------------------------------------
// make
// ---------------------------------------------------------------------------

/** @internal */
export const make = <I, O, E, EH, RH>(
  options: Stocking.Options<I, O, E, EH, RH>
): Effect.Effect<Stocking.Stocking<I, O, E>, ConnectError, Scope.Scope | RH> =>
  makeWithRole(options, "socket" in options ? "wrapped" : "client")

/** @internal */
export const makeWithRole = <I, O, E, EH, RH>(
  options: Stocking.Options<I, O, E, EH, RH>,
  role: Metrics.Role
): Effect.Effect<Stocking.Stocking<I, O, E>, ConnectError, Scope.Scope | RH> =>
  Effect.gen(function* () {
    const provided = yield* Effect.serviceOption(Backend.Backend)
    const backend = Option.isSome(provided) ? provided.value : yield* defaultBackend
    const scope = yield* Effect.scope
    // Uninterruptible from the moment the socket is ours until its finalizer
    // is in the scope, so nothing can slip out in between. The connect itself
    // stays interruptible: its timeout and its caller can cancel it.
    return yield* Effect.uninterruptible(
      Effect.flatMap(Effect.interruptible(connect(options)), ({ reads, socket }) =>
        Effect.gen(function* () {
          socket.setNoDelay?.(true)
          const id = nextId++
          const remoteAddress = addressOf(socket, options)
          const conn = new Connection(
            id,
            socket,
            reads,
            options.closeTimeout ?? DEFAULTS.closeTimeout,
            describeAddress(remoteAddress),
            options,
            role
          )
          yield* conn.readLoop.pipe(Effect.interruptible, Effect.forkIn(scope))
          yield* backend
            .sendLoop(conn.link)
            .pipe(
              Effect.ensuring(Effect.sync(() => conn.sendLoopDone.done(Exit.void))),
              Effect.interruptible,
              Effect.forkIn(scope)
            )
          if (options.handshake === undefined) {
            conn.handshakeDone = true
            conn.readySignal.done(Exit.void)
          } else {
            yield* runHandshake(conn, options.handshake(makeRaw(conn, remoteAddress)), options.handshakeTimeout).pipe(
              Effect.interruptible,
              Effect.forkIn(scope)
            )
          }
          // One finalizer for the whole connection, added after the fibers so
          // it runs before they are interrupted: the send loop is still alive
          // to flush what is queued. Then the socket is let go.
          yield* Scope.addFinalizer(
            scope,
            Effect.ensuring(
              conn.gracefulClose(conn.closedError("ClosedLocally")),
              Effect.sync(() => {
                conn.detach()
                socket.destroy()
              })
            )
          )
          return new StockingImpl(conn, remoteAddress, backend.name, options.codec)
        }).pipe(Effect.onError(() => Effect.sync(() => socket.destroy())))
      )
    )
  })

/**
 * The backend used when none is in context: `Auto`'s choice. An invalid
 * `STOCKING_SELECT_SEND_INTERVAL` is a deployment defect here (provide
 * `Auto.layer` or `Select.layer` to handle it as a typed `ConfigError`).
 */
const defaultBackend: Effect.Effect<Backend.Backend> = Effect.orDie(Auto.make)

const runHandshake = <EH, RH>(
  conn: Connection,
  handshake: Effect.Effect<boolean, EH, RH>,
  timeout: Duration.DurationInput | undefined
): Effect.Effect<void, never, RH> => {
  const bounded =
    timeout === undefined
      ? handshake
      : Effect.timeoutFail(handshake, {
          duration: timeout,
          onTimeout: () => new Cause.TimeoutException(`handshake did not finish within ${Duration.format(timeout)}`)
        })
  const traced = Effect.withSpan(bounded, "stocking.handshake", {
    attributes: { "stocking.id": conn.id, "net.peer": conn.peer }
  })
  return Effect.matchCauseEffect(traced, {
    onSuccess: (accepted) => {
      if (accepted && conn.closedWith === undefined) {
        conn.handshakeDone = true
        return Effect.sync(() => {
          conn.readySignal.done(Exit.void)
        })
      }
      return conn.gracefulClose(conn.closedError("HandshakeFailed", accepted ? undefined : "handshake returned false"))
    },
    onFailure: (cause) =>
      Cause.isInterruptedOnly(cause)
        ? Effect.void
        : conn.gracefulClose(conn.closedError("HandshakeFailed", Cause.squash(cause)))
  })
}

const makeRaw = (conn: Connection, remoteAddress: Option.Option<Stocking.Address>): Stocking.Raw => ({
  id: conn.id,
  remoteAddress,
  read: Effect.suspend(() => pollInbox(conn)),
  take: conn.inbox.take(),
  write: (message) => Effect.suspend(() => conn.outbox.unsafeOffer(message, sizeOf(message)))
})

const pollInbox = (conn: Connection): Effect.Effect<Option.Option<Framing.Message>, Closed> => {
  const message = conn.inbox.poll()
  if (message !== undefined) return Effect.succeed(Option.some(message))
  const ended = conn.inbox.endedWith
  return ended === undefined ? Effect.succeed(Option.none()) : Effect.fail(ended)
}

/**
 * The Stocking itself. A class rather than an object of prebuilt Effects: an
 * idle connection should cost little, so each Effect is built on first use
 * (and kept), and the stream only when asked for.
 */
class StockingImpl<I, O, E> implements Stocking.Stocking<I, O, E> {
  readonly [TypeId]: typeof TypeId = TypeId
  readonly id: number
  private readonly decode: ((message: Framing.Message) => Effect.Effect<O, E>) | undefined
  private readonly encode: ((value: I) => Effect.Effect<Framing.Message, E>) | undefined
  // A decode failure found after some good messages of a batch: those are
  // emitted first, and the failure ends the stream on the next pull.
  private deferredFailure: { readonly error: E } | undefined = undefined
  private cachedRead: Effect.Effect<Option.Option<O>, NotReady | Closed | E> | undefined = undefined
  private cachedTake: Effect.Effect<O, NotReady | Closed | E> | undefined = undefined

  constructor(
    private readonly conn: Connection,
    readonly remoteAddress: Option.Option<Stocking.Address>,
    readonly backend: Backend.Name,
    codec: Codec.Codec<I, O, E> | undefined
  ) {
    this.id = conn.id
    const identity = codec === undefined || codec === (Codec.identity as unknown)
    this.decode = identity ? undefined : codec.decode
    this.encode = identity ? undefined : codec.encode
  }

  get socket(): Duplex {
    return this.conn.socket
  }

  /** Closed before the handshake completed: say why, not just "not ready". */
  private notReady(operation: "read" | "write"): NotReady | Closed {
    return this.conn.closedWith ?? new NotReady({ stockingId: this.conn.id, operation })
  }

  get read(): Effect.Effect<Option.Option<O>, NotReady | Closed | E> {
    if (this.cachedRead !== undefined) return this.cachedRead
    const conn = this.conn
    const decode = this.decode
    const readMessage: Effect.Effect<Option.Option<Framing.Message>, NotReady | Closed> = Effect.suspend(() =>
      conn.handshakeDone ? pollInbox(conn) : Effect.fail(this.notReady("read"))
    )
    return (this.cachedRead =
      decode === undefined
        ? (readMessage as Effect.Effect<Option.Option<O>, NotReady | Closed>)
        : Effect.flatMap(readMessage, (message) =>
            Option.isNone(message) ? Effect.succeedNone : Effect.asSome(decode(message.value))
          ))
  }

  get take(): Effect.Effect<O, NotReady | Closed | E> {
    if (this.cachedTake !== undefined) return this.cachedTake
    const conn = this.conn
    // One step when a message is waiting (the common case under load); else the queue's own waiting take.
    const takeMessage: Effect.Effect<Framing.Message, NotReady | Closed> = Effect.suspend(() => {
      if (!conn.handshakeDone) return Effect.fail(this.notReady("read"))
      const message = conn.inbox.poll()
      return message !== undefined ? Effect.succeed(message) : conn.inbox.take()
    })
    const decode = this.decode
    return (this.cachedTake =
      decode === undefined ? (takeMessage as Effect.Effect<O, NotReady | Closed>) : Effect.flatMap(takeMessage, decode))
  }

  /** Everything queued, as one chunk, once there is something; `undefined` at a clean end of stream. */
  private pull(): Effect.Effect<Chunk.Chunk<O> | undefined, NotReady | Closed | E> {
    return Effect.suspend((): Effect.Effect<Chunk.Chunk<O> | undefined, NotReady | Closed | E> => {
      const conn = this.conn
      const failure = this.deferredFailure
      if (failure !== undefined) {
        this.deferredFailure = undefined
        return Effect.fail(failure.error)
      }
      if (!conn.handshakeDone) return Effect.fail(this.notReady("read"))
      return Effect.flatMap(
        conn.inbox.awaitItems(),
        (hasItems): Effect.Effect<Chunk.Chunk<O> | undefined, Closed | E> => {
          if (!hasItems) {
            const closed = conn.inbox.endedWith!
            const clean =
              closed.reason === "ClosedLocally" || (closed.reason === "ClosedByPeer" && closed.cause === undefined)
            return clean ? Effect.succeed(undefined) : Effect.fail(closed)
          }
          const messages = conn.inbox.takeAll()
          const decode = this.decode
          if (decode === undefined) return Effect.succeed(Chunk.unsafeFromArray(messages as Array<O>))
          return decodeBatch(conn, messages, decode, (error) => {
            this.deferredFailure = { error }
          })
        }
      )
    })
  }

  // The stream as a hand-written channel loop: per chunk, a quarter cheaper
  // than `Stream.repeatEffectChunkOption`, which matters when messages come
  // one at a time (request/response).
  get messages(): Stream.Stream<O, NotReady | Closed | E> {
    const pull = this.pull()
    const emitAll: Channel.Channel<
      Chunk.Chunk<O>,
      unknown,
      NotReady | Closed | E,
      unknown,
      void,
      unknown
    > = Channel.flatMap(Channel.fromEffect(pull), (chunk) =>
      chunk === undefined ? Channel.void : Channel.flatMap(Channel.write(chunk), () => emitAll)
    )
    return Stream.fromChannel(emitAll)
  }

  // Called only inside a suspended Effect: `unsafeOffer` queues at call time.
  private writeOne(value: I): Effect.Effect<void, Closed | E> {
    const outbox = this.conn.outbox
    const encode = this.encode
    if (encode === undefined) return outbox.unsafeOffer(value as Framing.Message, sizeOf(value as Framing.Message))
    return Effect.flatMap(encode(value), (message) => outbox.unsafeOffer(message, sizeOf(message)))
  }

  // Bound (users pass `stocking.write` around); one suspend per write: the
  // hot path of a program sending small messages.
  readonly write = (value: I): Effect.Effect<void, NotReady | Closed | E> =>
    Effect.suspend((): Effect.Effect<void, NotReady | Closed | E> =>
      this.conn.handshakeDone ? this.writeOne(value) : Effect.fail(this.notReady("write"))
    )

  // Without a codec, as many as fit go into the queue in one step; the rest one by one, suspending as `write` does.
  readonly writeAll = (values: Iterable<I>): Effect.Effect<void, NotReady | Closed | E> =>
    Effect.suspend((): Effect.Effect<void, NotReady | Closed | E> => {
      const conn = this.conn
      if (!conn.handshakeDone) return Effect.fail(this.notReady("write"))
      const all = Array.from(values)
      const first = this.encode === undefined ? conn.outbox.pushWhileRoom(all as Array<Framing.Message>, sizeOf) : 0
      return first === all.length
        ? Effect.void
        : Effect.forEach(all.slice(first), (value) => this.writeOne(value), { discard: true })
    })

  get ready(): Effect.Effect<void, Closed> {
    return this.conn.readySignal.await()
  }

  get isActive(): Effect.Effect<boolean> {
    return Effect.sync(() => this.conn.closedWith === undefined)
  }

  get handshakeComplete(): Effect.Effect<boolean> {
    return Effect.sync(() => this.conn.handshakeDone)
  }

  get writeDataQueued(): Effect.Effect<boolean> {
    return Effect.sync(() => this.conn.writeDataQueued)
  }

  get close(): Effect.Effect<void> {
    return Effect.suspend(() => this.conn.gracefulClose(this.conn.closedError("ClosedLocally")))
  }

  get abort(): Effect.Effect<void> {
    return this.conn.abort
  }

  get closed(): Effect.Effect<Closed> {
    return this.conn.closedSignal.await()
  }
}

/**
 * Decodes a batch in order. When message `k` fails, the values decoded
 * before it are still returned, the failure is handed to `onFailure` for the
 * next pull, and the messages after it go back to the front of the inbound
 * queue: nothing that arrived is lost or decoded twice.
 */
const decodeBatch = <O, E>(
  conn: Connection,
  messages: Array<Framing.Message>,
  decode: (message: Framing.Message) => Effect.Effect<O, E>,
  onFailure: (error: E) => void
): Effect.Effect<Chunk.Chunk<O>, E> =>
  Effect.suspend(() => {
    const out: Array<O> = []
    let index = 0
    return Effect.whileLoop({
      while: () => index < messages.length,
      body: () => decode(messages[index]!),
      step: (value) => {
        out.push(value)
        index++
      }
    }).pipe(
      Effect.catchAll((error) => {
        conn.inbox.unshiftAll(messages.slice(index + 1), sizeOf)
        if (out.length === 0) return Effect.fail(error)
        onFailure(error)
        return Effect.void
      }),
      Effect.map(() => Chunk.unsafeFromArray(out))
    )
  })

/**
 * Connecting: a TCP, Unix or TLS connection opened by the library (with its
 * timeout and retry), or a socket the caller gives, waited for until it is
 * connected. A failed or interrupted attempt leaves no socket behind.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as fx from "./fx.js"
import * as Option from "effect/Option"
import * as net from "node:net"
import type { Duplex } from "node:stream"
import * as tls from "node:tls"
import type * as Schedule from "effect/Schedule"
import type * as model from "./model.js"
import { ConnectError } from "./stockingError.js"
import { PooledReads } from "./reads.js"
import * as unix from "./unix.js"

/** @internal */
export type SocketLike = Duplex &
  Partial<Pick<net.Socket, "setNoDelay" | "remoteAddress" | "remotePort" | "remoteFamily" | "setTimeout">>

/** @internal */
export const addressOf = (socket: SocketLike, target: model.Target): Option.Option<model.Address> => {
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

/** @internal */
export const describeAddress = (address: Option.Option<model.Address>): string =>
  Option.match(address, {
    onNone: () => "unknown",
    onSome: (a) => (a._tag === "Tcp" ? `${a.address}:${a.port}` : a.path)
  })

/**
 * Ends a connection with a reset (RST) instead of an end of stream (FIN),
 * where the socket is plain TCP: the peer then gets an error (`ECONNRESET`)
 * rather than what looks like a clean close, so a sender learns that what it
 * sent was refused. A TLS or Unix socket, which has no reset, is destroyed.
 *
 * @internal
 */
export const resetSocket = (socket: SocketLike): void => {
  if (
    socket instanceof net.Socket &&
    !(socket instanceof tls.TLSSocket) &&
    !socket.destroyed &&
    typeof socket.resetAndDestroy === "function"
  ) {
    try {
      socket.resetAndDestroy()
      return
    } catch {
      // Not a TCP handle (a Unix socket): destroyed below.
    }
  }
  socket.destroy()
}

const describeTarget = (target: model.Target): string =>
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

/**
 * A TLS connect that failed: `Tls` when the TLS handshake failed (an alert,
 * a certificate that does not verify, or the server closing the connection
 * during the handshake, as a server rejecting the client's certificate does
 * under TLS 1.2), `Failed` when TCP did not connect.
 */
const tlsFailure = (target: model.Target, cause: Error, tcpConnected: boolean): ConnectError => {
  const address = describeTarget(target)
  if (isTlsFailure(cause)) return new ConnectError({ reason: "Tls", address, cause })
  if (!tcpConnected) return connectFailure(target, cause)
  const closed = new Error(
    `the server closed the connection during the TLS handshake (${cause.message}): it may have rejected the ` +
      "client certificate, or not speak TLS",
    { cause }
  )
  return new ConnectError({ reason: "Tls", address, cause: Object.assign(closed, { code: codeOf(cause) }) })
}

/** A connect that failed before any TLS: for a Unix socket path, in words that say what was there. */
const connectFailure = (target: model.Target, cause: Error): ConnectError => {
  const address = describeTarget(target)
  const described = "path" in target ? unix.describeConnectFailure(target.path, cause) : undefined
  return new ConnectError({
    reason: "Failed",
    address,
    cause: described === undefined ? cause : Object.assign(new Error(described, { cause }), { code: codeOf(cause) })
  })
}

const codeOf = (cause: unknown): string | undefined =>
  typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : undefined

/** SNI and the name checked against the certificate: the host, unless it is an IP address or set by hand. */
const serverName = (where: { readonly host?: string }, secure: model.TlsOptions): { servername?: string } => {
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
  fx.async<S, ConnectError>((resume) => {
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
export interface Opened {
  readonly socket: SocketLike
  readonly reads: PooledReads | undefined
  /**
   * For a TLS client that presented a certificate: call once the connection
   * listens to the socket; `onRejected` is called if the server turns out to
   * have rejected the certificate (see `watchCertificateRejection`).
   */
  readonly watchRejection?: ((onRejected: (error: Error) => void) => void) | undefined
}

/**
 * The code of the error a TLS client gets when the server closed right
 * after a TLS 1.3 handshake without a word (see `watchCertificateRejection`).
 *
 * @internal
 */
export const CERTIFICATE_REJECTED = "ERR_STOCKING_TLS_CERT_REJECTED"

/**
 * Under TLS 1.3 a client's handshake completes before the server has
 * checked the client's certificate. A server that rejects it either sends
 * an alert, which arrives as a socket error (OpenSSL's own check: no
 * certificate at all, or a Python server), or, as Node's TLS server does
 * for a certificate it cannot verify (it checks it after the handshake, in
 * JavaScript, and destroys the socket), closes the connection with no
 * alert: the client would see a clean close. A server that accepted the
 * connection sends its session tickets right after the handshake, before
 * anything else (OpenSSL, and so Node and Python, sends two by default):
 * so an end of stream before any ticket or data, on a TLS 1.3 connection
 * whose client presented a certificate, is taken for the rejection. (A
 * server with tickets turned off that closes without a word looks the
 * same.) Listens from the start, so that no ticket is missed; `arm` is
 * called once the connection listens to the socket, when a data listener
 * can no longer take data from it.
 */
const watchCertificateRejection = (socket: tls.TLSSocket): ((onRejected: (error: Error) => void) => void) => {
  let heard = false
  const onSession = () => {
    heard = true
    socket.off("session", onSession)
  }
  socket.on("session", onSession)
  return (onRejected) => {
    if (heard || socket.getProtocol() !== "TLSv1.3") {
      socket.off("session", onSession)
      return
    }
    const stop = () => {
      socket.off("session", onHeard)
      socket.off("data", onHeard)
      socket.off("end", onEnd)
    }
    const onHeard = () => {
      heard = true
      stop()
    }
    const onEnd = () => {
      stop()
      if (heard) return
      const error = Object.assign(
        new Error(
          "the server closed the connection right after the TLS 1.3 handshake, before its session tickets or any " +
            "data: it most likely rejected the client certificate (Node's TLS server, for one, closes this way, " +
            "with no TLS alert)"
        ),
        { code: CERTIFICATE_REJECTED }
      )
      onRejected(error)
    }
    socket.off("session", onSession)
    socket.on("session", onHeard)
    socket.on("data", onHeard)
    // Before the connection's own listener, which would take the end for a clean close.
    socket.prependListener("end", onEnd)
  }
}

const connectOnce = (
  target: Exclude<model.Target, { socket: Duplex }>,
  secure: model.TlsOptions | undefined
): Effect.Effect<Opened, ConnectError> =>
  Effect.suspend(() => {
    const where = "path" in target ? { path: target.path } : { host: target.host ?? "localhost", port: target.port }
    let socket: net.Socket
    let reads: PooledReads | undefined
    let watchRejection: Opened["watchRejection"]
    // Set once TCP is connected: a failure after it, before `secureConnect`, is the TLS handshake's.
    let tcpConnected = false
    if (secure === undefined) {
      // Plain sockets read through our own buffers (`onread`); TLS sockets decrypt in JS and cannot.
      reads = new PooledReads()
      socket = net.createConnection({ ...where, allowHalfOpen: true, onread: reads.options })
    } else {
      const tlsSocket = tls.connect(Object.assign({ allowHalfOpen: true }, secure, where, serverName(where, secure)))
      tlsSocket.once("connect", () => {
        tcpConnected = true
      })
      if (secure.cert !== undefined || secure.pfx !== undefined) watchRejection = watchCertificateRejection(tlsSocket)
      socket = tlsSocket
    }
    const opened: Opened = { socket, reads, watchRejection }
    return Effect.as(
      awaitReady(socket, secure === undefined ? "connect" : "secureConnect", true, (cause) =>
        secure === undefined ? connectFailure(target, cause) : tlsFailure(target, cause, tcpConnected)
      ),
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

/** @internal */
export type ConnectSettings = model.Target & {
  readonly connectTimeout?: fx.DurationInput | undefined
  readonly retry?: Schedule.Schedule<unknown, ConnectError> | undefined
  readonly tls?: model.TlsOptions | true | undefined
}

/** Connects (or waits for a given socket to be connected); a failed or interrupted attempt leaves no socket behind. */
export const connect = (options: ConnectSettings): Effect.Effect<Opened, ConnectError> => {
  if ("socket" in options) {
    return Effect.map(awaitConnected(options.socket), (socket) => ({ socket, reads: undefined }))
  }
  if ("path" in options) {
    // Node would cut a longer path short, and connect to whatever is at the shorter one.
    const tooLong = unix.tooLong(options.path)
    if (tooLong !== undefined) {
      return Effect.fail(new ConnectError({ reason: "PathTooLong", address: options.path, cause: new Error(tooLong) }))
    }
  }
  let attempt = connectOnce(options, options.tls === true ? {} : options.tls)
  if (options.connectTimeout !== undefined) {
    attempt = fx.timeoutFail(
      attempt,
      options.connectTimeout,
      () => new ConnectError({ reason: "Timeout", address: describeTarget(options) })
    )
  }
  if (options.retry !== undefined) attempt = Effect.retry(attempt, options.retry)
  return Effect.withSpan(attempt, "stocking.connect", {
    attributes: { "net.peer": describeTarget(options), "stocking.tls": options.tls !== undefined }
  })
}

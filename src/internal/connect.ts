/**
 * Connecting: a TCP, Unix or TLS connection opened by the library (with its
 * timeout and retry), or a socket the caller gives, waited for until it is
 * connected. A failed or interrupted attempt leaves no socket behind.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as net from "node:net"
import type { Duplex } from "node:stream"
import * as tls from "node:tls"
import type * as Stocking from "../Stocking.js"
import { ConnectError } from "../Stocking.js"
import { PooledReads } from "./reads.js"

/** @internal */
export type SocketLike = Duplex &
  Partial<Pick<net.Socket, "setNoDelay" | "remoteAddress" | "remotePort" | "remoteFamily" | "setTimeout">>

/** @internal */
export const addressOf = (socket: SocketLike, target: Stocking.Target): Option.Option<Stocking.Address> => {
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
export const describeAddress = (address: Option.Option<Stocking.Address>): string =>
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
export interface Opened {
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

/** @internal */
export type ConnectSettings = Stocking.Target & Pick<Stocking.Settings, "connectTimeout" | "retry" | "tls">

/** Connects (or waits for a given socket to be connected); a failed or interrupted attempt leaves no socket behind. */
export const connect = (options: ConnectSettings): Effect.Effect<Opened, ConnectError> => {
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

/**
 * The plain data both lines' public modules share (each re-exports it with
 * its documentation: `Stocking.ClosedReason`, `Stocking.Target`,
 * `Stocking.Address`, `Stocking.TlsOptions`), declared here so that the
 * shared machinery imports no public module.
 *
 * @internal
 */
import type { Duplex } from "node:stream"
import type { ConnectionOptions } from "node:tls"

/** `Stocking.ClosedReason`. @internal */
export type ClosedReason =
  "ClosedLocally" | "ClosedByPeer" | "SocketError" | "HandshakeFailed" | "ProtocolError" | "IdleTimeout"

/** `Stocking.Target`. @internal */
export type Target =
  | {
      /** A connected socket (or any `Duplex`); the Stocking takes it over. */
      readonly socket: Duplex
    }
  | {
      readonly host?: string | undefined
      readonly port: number
    }
  | {
      /** A Unix domain socket path. */
      readonly path: string
    }

/** `Stocking.Address`. @internal */
export type Address =
  | { readonly _tag: "Tcp"; readonly address: string; readonly port: number; readonly family: string }
  | { readonly _tag: "Unix"; readonly path: string }

/** `Stocking.TlsOptions`. @internal */
export type TlsOptions = Omit<ConnectionOptions, "host" | "port" | "path" | "socket">

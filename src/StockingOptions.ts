/**
 * What `Stocking.make` takes: where to connect (`Target`), how the
 * connection behaves (`Settings`, `TlsOptions`), both together (`Options`),
 * and the same read through Effect `Config` (`ConfigSettings`,
 * `optionsFromConfig`). The `Stocking` module re-exports each of them.
 *
 * @since 0.1.0
 */
import type * as ConfigError from "effect/ConfigError"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Schedule from "effect/Schedule"
import type { Duplex } from "node:stream"
import type * as Codec from "./Codec.js"
import type { Message } from "./Framing.js"
import * as configInternal from "./internal/config.js"
import type { Raw } from "./Stocking.js"
import type { ConnectError } from "./StockingError.js"

/**
 * Where the Stocking's connection comes from: a socket that is already
 * connected (the original's way), or an address to connect to.
 *
 * @since 0.1.0
 * @category options
 */
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

/**
 * Everything but the target.
 *
 * @since 0.1.0
 * @category options
 */
export interface Settings<I = Message, O = Message, E = never, EH = never, RH = never> {
  /** Turns written values into messages and messages into values. Default: `Codec.identity`. */
  readonly codec?: Codec.Codec<I, O, E> | undefined
  /**
   * Runs in its own fiber when the Stocking starts, with frame-level access.
   * `true` makes the Stocking ready; `false` or a failure closes it with
   * `HandshakeFailed`. Default: ready at once.
   */
  readonly handshake?: ((raw: Raw) => Effect.Effect<boolean, EH, RH>) | undefined
  /** Closes the Stocking (`HandshakeFailed`) if the handshake takes longer. Default: no limit. */
  readonly handshakeTimeout?: Duration.DurationInput | undefined
  /** Largest message accepted from the peer, in bytes. Default 16 MiB. */
  readonly maxMessageSize?: number | undefined
  /** Messages held for the reader before the socket is paused. Default 4096. */
  readonly maxBufferedMessages?: number | undefined
  /** Bytes of messages held for the reader before the socket is paused. Default 32 MiB. */
  readonly maxBufferedBytes?: number | undefined
  /** Messages queued for sending before `write` suspends. Default 4096. */
  readonly maxQueuedMessages?: number | undefined
  /** Bytes of messages queued for sending before `write` suspends. Default 8 MiB. */
  readonly maxQueuedBytes?: number | undefined
  /** How long a graceful close waits for queued messages to go out and the peer to end. Default 10 seconds. */
  readonly closeTimeout?: Duration.DurationInput | undefined
  /** Gives up connecting after this long (per attempt). Default: the OS's own timeout. */
  readonly connectTimeout?: Duration.DurationInput | undefined
  /** Retries a failed connect on this schedule (a server that is still starting). Default: no retry. */
  readonly retry?: Schedule.Schedule<unknown, ConnectError> | undefined
  /**
   * Connect over TLS (`node:tls`). The server's certificate is verified
   * against `ca` (default: the system's CAs) and the host name, unless you
   * set `rejectUnauthorized: false`. `true` means TLS with the defaults.
   * A failed verification is a `ConnectError` with reason `Tls`.
   */
  readonly tls?: TlsOptions | true | undefined
  /**
   * Closes the Stocking (reason `IdleTimeout`) when no bytes have moved in
   * either direction for this long. Default: never.
   */
  readonly idleTimeout?: Duration.DurationInput | undefined
}

/**
 * TLS client options, passed to `tls.connect`: `ca`, `cert` and `key` for
 * client certificates, `servername` (default: the host), and so on.
 *
 * @since 0.1.0
 * @category options
 */
export type TlsOptions = Omit<import("node:tls").ConnectionOptions, "host" | "port" | "path" | "socket">

/**
 * Options for `make`: a target plus settings.
 *
 * @since 0.1.0
 * @category options
 */
export type Options<I = Message, O = Message, E = never, EH = never, RH = never> = Target & Settings<I, O, E, EH, RH>

/**
 * What `layerConfig` takes: the settings given in code (a codec, a
 * handshake, and defaults for anything the environment may set), and the
 * prefix of the variables (default `STOCKING`).
 *
 * @since 0.1.0
 * @category options
 */
export type ConfigSettings<I = Message, O = Message, E = never, EH = never, RH = never> = configInternal.ClientSettings<
  I,
  O,
  E,
  EH,
  RH
>

/**
 * Reads `make`'s options through Effect `Config`, under `prefix` (default
 * `STOCKING`; with the environment provider, `STOCKING_PORT` and so on).
 * A variable that is set wins over the same setting given in code; one that
 * is not leaves the code's value, or the library's default.
 *
 * - `STOCKING_HOST` (default `localhost`) and `STOCKING_PORT`, or
 *   `STOCKING_PATH` for a Unix socket: where to connect (required, here or
 *   in code).
 * - `STOCKING_TLS`: `true` for TLS with the system's CAs.
 * - `STOCKING_TLS_CA`, `STOCKING_TLS_CERT`, `STOCKING_TLS_KEY`: PEM files,
 *   each implying TLS; `STOCKING_TLS_SERVERNAME`.
 * - `STOCKING_CONNECT_TIMEOUT`, `STOCKING_HANDSHAKE_TIMEOUT`,
 *   `STOCKING_IDLE_TIMEOUT`, `STOCKING_CLOSE_TIMEOUT`: durations
 *   (`5 seconds`, `500 millis`).
 * - `STOCKING_MAX_MESSAGE_SIZE`, `STOCKING_MAX_BUFFERED_MESSAGES`,
 *   `STOCKING_MAX_BUFFERED_BYTES`, `STOCKING_MAX_QUEUED_MESSAGES`,
 *   `STOCKING_MAX_QUEUED_BYTES`: whole numbers, 1 or more.
 *
 * A missing target, a bad number or duration, or a TLS file that cannot be
 * read fails with a `ConfigError` that names the variable.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Stocking } from "effect-stockings/node"
 *
 * // STOCKING_HOST=db.internal STOCKING_PORT=7000 STOCKING_TLS_CA=/etc/app/ca.pem
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const options = yield* Stocking.optionsFromConfig({ closeTimeout: "2 seconds" })
 *     const stocking = yield* Stocking.make(options)
 *     yield* stocking.write("hello")
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 * @category config
 */
export const optionsFromConfig: <I = Message, O = Message, E = never, EH = never, RH = never>(
  settings?: ConfigSettings<I, O, E, EH, RH>
) => Effect.Effect<Options<I, O, E, EH, RH>, ConfigError.ConfigError> = configInternal.clientOptions

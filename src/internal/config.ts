/**
 * Stocking and Server options read through Effect `Config`: the variables
 * under a prefix (`STOCKING_PORT`, `STOCKING_SERVER_TLS_CERT`, ...), merged
 * over the settings given in code, TLS files read once the names are known.
 * How each variable parses and how they are merged is `configParse.ts`,
 * shared with the Effect 4 line; this file reads them through `Config`.
 *
 * @internal
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as Server from "../Server.js"
import type * as Stocking from "../Stocking.js"
import * as Parse from "./configParse.js"

/** @internal */
export const DEFAULT_CLIENT_PREFIX = Parse.DEFAULT_CLIENT_PREFIX

/** @internal */
export const DEFAULT_SERVER_PREFIX = Parse.DEFAULT_SERVER_PREFIX

const configError = (problem: Parse.Problem): ConfigError.ConfigError =>
  problem.missing
    ? ConfigError.MissingData([...problem.path], problem.message)
    : ConfigError.InvalidData([...problem.path], problem.message)

const fromOutcome = <A>(outcome: Parse.Outcome<A>): Either.Either<A, ConfigError.ConfigError> =>
  outcome._tag === "Valid" ? Either.right(outcome.value) : Either.left(configError(outcome))

/** A whole number from `min` to `max`; see `Parse.wholeNumber`. */
const wholeNumber = (name: string, min: number, max?: number): Config.Config<number> =>
  Config.mapOrFail(Config.string(name), (text) => fromOutcome(Parse.wholeNumber(text, min, max)))

const optional = <A>(config: Config.Config<A>): Config.Config<A | undefined> =>
  Config.map(Config.option(config), Option.getOrUndefined)

/** A file mode in octal; see `Parse.octalMode`. */
const octalMode = (name: string): Config.Config<number> =>
  Config.mapOrFail(Config.string(name), (text) => fromOutcome(Parse.octalMode(text)))

const limitsConfig: Config.Config<Parse.Limits<Duration.Duration>> = Config.all({
  maxMessageSize: optional(wholeNumber("MAX_MESSAGE_SIZE", 1)),
  maxBufferedMessages: optional(wholeNumber("MAX_BUFFERED_MESSAGES", 1)),
  maxBufferedBytes: optional(wholeNumber("MAX_BUFFERED_BYTES", 1)),
  maxQueuedMessages: optional(wholeNumber("MAX_QUEUED_MESSAGES", 1)),
  maxQueuedBytes: optional(wholeNumber("MAX_QUEUED_BYTES", 1)),
  handshakeTimeout: optional(Config.duration("HANDSHAKE_TIMEOUT")),
  idleTimeout: optional(Config.duration("IDLE_TIMEOUT")),
  closeTimeout: optional(Config.duration("CLOSE_TIMEOUT"))
})

const listenConfig = (minPort: number): Config.Config<Parse.Where> =>
  Config.all({
    host: optional(Config.string("HOST")),
    port: optional(wholeNumber("PORT", minPort, 65535)),
    path: optional(Config.string("PATH"))
  })

const clientConfig: Config.Config<Parse.ClientVariables<Duration.Duration>> = Config.all({
  target: listenConfig(1),
  tls: optional(Config.boolean("TLS")),
  ca: optional(Config.string("TLS_CA")),
  cert: optional(Config.string("TLS_CERT")),
  key: optional(Config.string("TLS_KEY")),
  servername: optional(Config.string("TLS_SERVERNAME")),
  connectTimeout: optional(Config.duration("CONNECT_TIMEOUT")),
  limits: limitsConfig
})

const serverConfig: Config.Config<Parse.ServerVariables<Duration.Duration>> = Config.all({
  target: listenConfig(0),
  removeStale: optional(Config.boolean("REMOVE_STALE")),
  mode: optional(octalMode("MODE")),
  backlog: optional(wholeNumber("BACKLOG", 1, 2 ** 31 - 1)),
  maxConnections: optional(wholeNumber("MAX_CONNECTIONS", 1, 2 ** 31 - 1)),
  maxTotalBytes: optional(wholeNumber("MAX_TOTAL_BYTES", 1)),
  ca: optional(Config.string("TLS_CA")),
  cert: optional(Config.string("TLS_CERT")),
  key: optional(Config.string("TLS_KEY")),
  limits: limitsConfig
})

/** What a Unix socket target may carry besides its path. */
type UnixOptions = { readonly removeStale?: boolean | undefined; readonly mode?: number | undefined }

/** @internal */
export type ClientSettings<I, O, E, EH, RH> = Stocking.Settings<I, O, E, EH, RH> &
  Partial<{ readonly host: string; readonly port: number; readonly path: string }> & {
    readonly prefix?: string | undefined
  }

/** @internal */
export const clientOptions = <I, O, E, EH, RH>(
  settings: ClientSettings<I, O, E, EH, RH> = {}
): Effect.Effect<Stocking.Options<I, O, E, EH, RH>, ConfigError.ConfigError> => {
  const { prefix: given, ...code } = settings
  const prefix = given ?? DEFAULT_CLIENT_PREFIX
  return Effect.flatMap(Config.nested(clientConfig, prefix), (env) =>
    fromOutcome(Parse.clientOptions(prefix, env, code) as Parse.Outcome<Stocking.Options<I, O, E, EH, RH>>)
  )
}

/** @internal */
export type ServerSettings<I, O, E, EH, RH> = Omit<Server.Options<I, O, E, EH, RH>, "host" | "port" | "path"> &
  Partial<{ readonly host: string; readonly port: number; readonly path: string }> &
  UnixOptions & {
    readonly prefix?: string | undefined
  }

/** @internal */
export const serverOptions = <I, O, E, EH, RH>(
  settings: ServerSettings<I, O, E, EH, RH> = {} as ServerSettings<I, O, E, EH, RH>
): Effect.Effect<Server.Options<I, O, E, EH, RH>, ConfigError.ConfigError> => {
  const { prefix: given, ...code } = settings
  const prefix = given ?? DEFAULT_SERVER_PREFIX
  return Effect.flatMap(Config.nested(serverConfig, prefix), (env) =>
    fromOutcome(Parse.serverOptions(prefix, env, code) as Parse.Outcome<Server.Options<I, O, E, EH, RH>>)
  )
}

/**
 * `Select.intervalConfig`: `STOCKING_SELECT_SEND_INTERVAL`, in seconds (0 or
 * more), default 0.5 as in the original.
 *
 * @internal
 */
export const intervalConfig: Config.Config<Duration.Duration> = Config.mapOrFail(
  Config.string(Parse.INTERVAL_VARIABLE),
  (text) => fromOutcome(Parse.seconds(text))
).pipe(
  Config.withDefault(Parse.DEFAULT_INTERVAL_SECONDS),
  Config.map((seconds) => Duration.millis(seconds * 1000)),
  Config.withDescription("How often, in seconds, the select backend sends what is queued")
)

/** The backend `STOCKING_BACKEND` asks for: `poll`, `select` or `auto` (default). @internal */
export const backendConfig: Config.Config<Parse.BackendChoice> = Config.mapOrFail(
  Config.string(Parse.BACKEND_VARIABLE),
  (text) => fromOutcome(Parse.backendChoice(text))
).pipe(Config.withDefault(Parse.DEFAULT_BACKEND))

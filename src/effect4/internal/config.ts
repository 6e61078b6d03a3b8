/**
 * The Effect 4 line's settings read through Effect `Config`: a Stocking's
 * and a Server's options (the variables under a prefix, `STOCKING_PORT`,
 * `STOCKING_SERVER_TLS_CERT`, ..., merged over the settings given in code),
 * the select backend's interval and the backend `Auto.layerConfig` is told
 * to use. The same variables, defaults, nesting and messages as the Effect 3
 * line: how each variable parses, what its error says and how the variables
 * are merged are `src/internal/configParse.ts`, shared by both lines; this
 * file reads them with Effect 4's `Config` and turns what is wrong into its
 * `Config.ConfigError`, at the variable's path.
 *
 * @internal
 */
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as SchemaGetter from "effect/SchemaGetter"
import * as SchemaIssue from "effect/SchemaIssue"
import * as Parse from "../../internal/configParse.js"

/** @internal */
export const DEFAULT_CLIENT_PREFIX = Parse.DEFAULT_CLIENT_PREFIX

/** @internal */
export const DEFAULT_SERVER_PREFIX = Parse.DEFAULT_SERVER_PREFIX

/** @internal */
export const INTERVAL_VARIABLE = Parse.INTERVAL_VARIABLE

/** @internal */
export const BACKEND_VARIABLE = Parse.BACKEND_VARIABLE

/** `poll`, `select` or `auto`. @internal */
export type BackendChoice = Parse.BackendChoice

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/** A problem found with the variables together, as a `ConfigError` at the variable's path. @internal */
export const configError = (problem: Parse.Problem): Config.ConfigError => {
  const issue = problem.missing
    ? new SchemaIssue.MissingKey({ messageMissingKey: problem.message })
    : new SchemaIssue.InvalidValue({ message: problem.message })
  return new Config.ConfigError(
    new Schema.SchemaError(problem.path.length > 0 ? new SchemaIssue.Pointer(problem.path, issue) : issue)
  )
}

const fromOutcome = <A>(outcome: Parse.Outcome<A>): Effect.Effect<A, Config.ConfigError> =>
  outcome._tag === "Valid" ? Effect.succeed(outcome.value) : Effect.fail(configError(outcome))

// ---------------------------------------------------------------------------
// One variable
// ---------------------------------------------------------------------------

/**
 * One variable's text, parsed by `parse`: a schema from a string, so that
 * `Config` finds it absent when it is not set (for `Config.option` and
 * `Config.withDefault`), and puts the variable's path in the message of a
 * value that does not parse.
 */
const parsed = <A>(to: Schema.Codec<A>, parse: (text: string) => Parse.Outcome<A>, name: string): Config.Config<A> =>
  Config.schema(
    Schema.String.pipe(
      Schema.decodeTo(to, {
        decode: SchemaGetter.transformEffect((text: string, options) => {
          const outcome = parse(text)
          return outcome._tag === "Valid"
            ? Effect.succeed(outcome.value)
            : Effect.fail(new SchemaIssue.InvalidValue({ message: outcome.message }, text, options))
        }),
        encode: SchemaGetter.transform((value: A) => String(value))
      })
    ),
    name
  )

/** A whole number from `min` to `max`; see `Parse.wholeNumber`. */
const wholeNumber = (name: string, min: number, max?: number): Config.Config<number> =>
  parsed(Schema.Number, (text) => Parse.wholeNumber(text, min, max), name)

/** A file mode in octal; see `Parse.octalMode`. */
const octalMode = (name: string): Config.Config<number> => parsed(Schema.Number, Parse.octalMode, name)

/** A flag; see `Parse.flag`. */
const flag = (name: string): Config.Config<boolean> => parsed(Schema.Boolean, Parse.flag, name)

/**
 * A duration as the Effect 3 line reads one: `5 seconds`, `500 millis`; not
 * `Infinity` (a timeout that never fires is the setting left unset), and a
 * negative one is zero.
 */
const parseDuration = (text: string): Parse.Outcome<Duration.Duration> => {
  const duration = Duration.fromInput(text as Duration.Input)
  return Option.isSome(duration) && Duration.isFinite(duration.value)
    ? { _tag: "Valid", value: Duration.isNegative(duration.value) ? Duration.zero : duration.value }
    : { _tag: "Problem", missing: false, path: [], message: Parse.durationMessage(text) }
}

const duration = (name: string): Config.Config<Duration.Duration> => parsed(Schema.Duration, parseDuration, name)

const optional = <A>(config: Config.Config<A>): Config.Config<A | undefined> =>
  Config.map(Config.option(config), Option.getOrUndefined)

// ---------------------------------------------------------------------------
// A client's and a server's variables
// ---------------------------------------------------------------------------

const limitsConfig: Config.Config<Parse.Limits<Duration.Duration>> = Config.all({
  maxMessageSize: optional(wholeNumber("MAX_MESSAGE_SIZE", 1)),
  maxBufferedMessages: optional(wholeNumber("MAX_BUFFERED_MESSAGES", 1)),
  maxBufferedBytes: optional(wholeNumber("MAX_BUFFERED_BYTES", 1)),
  maxQueuedMessages: optional(wholeNumber("MAX_QUEUED_MESSAGES", 1)),
  maxQueuedBytes: optional(wholeNumber("MAX_QUEUED_BYTES", 1)),
  handshakeTimeout: optional(duration("HANDSHAKE_TIMEOUT")),
  idleTimeout: optional(duration("IDLE_TIMEOUT")),
  closeTimeout: optional(duration("CLOSE_TIMEOUT"))
})

const listenConfig = (minPort: number): Config.Config<Parse.Where> =>
  Config.all({
    host: optional(Config.String("HOST")),
    port: optional(wholeNumber("PORT", minPort, 65535)),
    path: optional(Config.String("PATH"))
  })

const clientConfig: Config.Config<Parse.ClientVariables<Duration.Duration>> = Config.all({
  target: listenConfig(1),
  tls: optional(flag("TLS")),
  ca: optional(Config.String("TLS_CA")),
  cert: optional(Config.String("TLS_CERT")),
  key: optional(Config.String("TLS_KEY")),
  servername: optional(Config.String("TLS_SERVERNAME")),
  connectTimeout: optional(duration("CONNECT_TIMEOUT")),
  limits: limitsConfig
})

const serverConfig: Config.Config<Parse.ServerVariables<Duration.Duration>> = Config.all({
  target: listenConfig(0),
  removeStale: optional(flag("REMOVE_STALE")),
  mode: optional(octalMode("MODE")),
  backlog: optional(wholeNumber("BACKLOG", 1, 2 ** 31 - 1)),
  maxConnections: optional(wholeNumber("MAX_CONNECTIONS", 1, 2 ** 31 - 1)),
  maxTotalBytes: optional(wholeNumber("MAX_TOTAL_BYTES", 1)),
  ca: optional(Config.String("TLS_CA")),
  cert: optional(Config.String("TLS_CERT")),
  key: optional(Config.String("TLS_KEY")),
  limits: limitsConfig
})

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

/** The limits a client and a server read from the variables. @internal */
export interface LimitFields {
  readonly maxMessageSize?: number | undefined
  readonly maxBufferedMessages?: number | undefined
  readonly maxBufferedBytes?: number | undefined
  readonly maxQueuedMessages?: number | undefined
  readonly maxQueuedBytes?: number | undefined
  readonly handshakeTimeout?: Duration.Input | undefined
  readonly idleTimeout?: Duration.Input | undefined
  readonly closeTimeout?: Duration.Input | undefined
}

/**
 * The client settings the variables may set (`Stocking.Settings` has them
 * all, and more, which pass through as they are).
 *
 * @internal
 */
export interface ClientFields extends LimitFields {
  readonly tls?: Omit<import("node:tls").ConnectionOptions, "host" | "port" | "path" | "socket"> | true | undefined
  readonly connectTimeout?: Duration.Input | undefined
}

/**
 * The server settings the variables may set (`Server.Options` has them all,
 * and more, which pass through as they are).
 *
 * @internal
 */
export interface ServerFields extends LimitFields {
  readonly tls?: import("node:tls").TlsOptions | undefined
  readonly backlog?: number | undefined
  readonly maxConnections?: number | undefined
  readonly maxTotalBytes?: number | undefined
}

/** Where the code says to connect or listen, if it says. @internal */
export type CodeTarget = Partial<{ readonly host: string; readonly port: number; readonly path: string }>

/** What a Unix socket target may carry besides its path. @internal */
export type UnixOptions = { readonly removeStale?: boolean | undefined; readonly mode?: number | undefined }

/** Where a client connects, once read: the same shapes as `Stocking.Target`'s address forms. @internal */
export type ClientTarget = { readonly host: string; readonly port: number } | { readonly path: string }

/** Where a server listens, once read: the same shapes as `Server.ListenTarget`. @internal */
export type ListenTarget = { readonly host: string; readonly port: number } | ({ readonly path: string } & UnixOptions)

/**
 * What `clientOptions` takes: the settings `S` (`Stocking.Settings`: codec,
 * handshake, defaults), a target if the code has one, and the prefix.
 *
 * @internal
 */
export type ClientSettings<S extends ClientFields = ClientFields> = S &
  CodeTarget & {
    readonly prefix?: string | undefined
  }

/** What `serverOptions` takes: as `ClientSettings`, with a Unix socket's options. @internal */
export type ServerSettings<S extends ServerFields = ServerFields> = S &
  CodeTarget &
  UnixOptions & {
    readonly prefix?: string | undefined
  }

/**
 * A client's options: `settings`, with the variables under its prefix
 * (default `STOCKING`) that are set in their place. A missing target, a
 * value that does not parse, variables that do not go together or a TLS
 * file that cannot be read fail with a `ConfigError` at the variable's path.
 *
 * @internal
 */
export const clientOptions = <S extends ClientFields = ClientFields>(
  settings?: ClientSettings<S>
): Effect.Effect<S & ClientTarget, Config.ConfigError> => {
  const { prefix: given, ...code } = settings ?? ({} as ClientSettings<S>)
  const prefix = given ?? DEFAULT_CLIENT_PREFIX
  return Effect.flatMap(Config.nested(clientConfig, prefix), (env) =>
    fromOutcome(Parse.clientOptions(prefix, env, code) as Parse.Outcome<S & ClientTarget>)
  )
}

/**
 * A server's options: `settings`, with the variables under its prefix
 * (default `STOCKING_SERVER`) that are set in their place. Fails as
 * `clientOptions` does.
 *
 * @internal
 */
export const serverOptions = <S extends ServerFields = ServerFields>(
  settings?: ServerSettings<S>
): Effect.Effect<S & ListenTarget, Config.ConfigError> => {
  const { prefix: given, ...code } = settings ?? ({} as ServerSettings<S>)
  const prefix = given ?? DEFAULT_SERVER_PREFIX
  return Effect.flatMap(Config.nested(serverConfig, prefix), (env) =>
    fromOutcome(Parse.serverOptions(prefix, env, code) as Parse.Outcome<S & ListenTarget>)
  )
}

// ---------------------------------------------------------------------------
// Backends
// ---------------------------------------------------------------------------

/**
 * The select backend's send interval: `STOCKING_SELECT_SEND_INTERVAL`, in
 * seconds (0 or more), default 0.5 as in the original.
 *
 * @internal
 */
export const intervalConfig: Config.Config<Duration.Duration> = parsed(
  Schema.Number,
  Parse.seconds,
  INTERVAL_VARIABLE
).pipe(
  Config.withDefault(Parse.DEFAULT_INTERVAL_SECONDS),
  Config.map((seconds) => Duration.millis(seconds * 1000))
)

/**
 * The backend `STOCKING_BACKEND` asks for: `poll`, `select` or `auto`
 * (default).
 *
 * @internal
 */
export const backendConfig: Config.Config<BackendChoice> = parsed(
  Schema.Literals(Parse.BACKEND_CHOICES),
  Parse.backendChoice,
  BACKEND_VARIABLE
).pipe(Config.withDefault(Parse.DEFAULT_BACKEND))

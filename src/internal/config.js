/**
 * Stocking and Server options read through Effect `Config`: the variables
 * under a prefix (`STOCKING_PORT`, `STOCKING_SERVER_TLS_CERT`, ...), merged
 * over the settings given in code, TLS files read once the names are known.
 *
 * @internal
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as fs from "node:fs"
/** @internal */
export const DEFAULT_CLIENT_PREFIX = "STOCKING"
/** @internal */
export const DEFAULT_SERVER_PREFIX = "STOCKING_SERVER"
/**
 * A whole number from `min` to `max` (default: the largest safe integer). It parses as
 * `Config.integer` does; the message, for a value out of range and for one that is no number
 * at all, says which numbers are taken.
 */
const wholeNumber = (name, min, max = Number.MAX_SAFE_INTEGER) =>
  Config.mapOrFail(Config.string(name), (text) => {
    const n = Number(text)
    return Number.isInteger(n) && n >= min && n <= max
      ? Either.right(n)
      : Either.left(
          ConfigError.InvalidData(
            [],
            `Expected a whole number${max === Number.MAX_SAFE_INTEGER ? `, ${min} or more` : ` from ${min} to ${max}`}, not "${text}"`
          )
        )
  })
const optional = (config) => Config.map(Config.option(config), Option.getOrUndefined)
/** A file mode in octal, as `chmod` takes it: `600`, `0600` or `0o600`, at most `777`. */
const octalMode = (name) =>
  Config.mapOrFail(Config.string(name), (text) => {
    const digits = /^(?:0o?)?([0-7]{1,3})$/i.exec(text.trim())?.[1]
    return digits === undefined
      ? Either.left(
          ConfigError.InvalidData([], `Expected an octal file mode from 0 to 777 (600, 0600 or 0o600), not "${text}"`)
        )
      : Either.right(parseInt(digits, 8))
  })
const limitsConfig = Config.all({
  maxMessageSize: optional(wholeNumber("MAX_MESSAGE_SIZE", 1)),
  maxBufferedMessages: optional(wholeNumber("MAX_BUFFERED_MESSAGES", 1)),
  maxBufferedBytes: optional(wholeNumber("MAX_BUFFERED_BYTES", 1)),
  maxQueuedMessages: optional(wholeNumber("MAX_QUEUED_MESSAGES", 1)),
  maxQueuedBytes: optional(wholeNumber("MAX_QUEUED_BYTES", 1)),
  handshakeTimeout: optional(Config.duration("HANDSHAKE_TIMEOUT")),
  idleTimeout: optional(Config.duration("IDLE_TIMEOUT")),
  closeTimeout: optional(Config.duration("CLOSE_TIMEOUT"))
})
const listenConfig = (minPort) =>
  Config.all({
    host: optional(Config.string("HOST")),
    port: optional(wholeNumber("PORT", minPort, 65535)),
    path: optional(Config.string("PATH"))
  })
const clientConfig = Config.all({
  target: listenConfig(1),
  tls: optional(Config.boolean("TLS")),
  ca: optional(Config.string("TLS_CA")),
  cert: optional(Config.string("TLS_CERT")),
  key: optional(Config.string("TLS_KEY")),
  servername: optional(Config.string("TLS_SERVERNAME")),
  connectTimeout: optional(Config.duration("CONNECT_TIMEOUT")),
  limits: limitsConfig
})
const serverConfig = Config.all({
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
/** Only the values that are set, so they override the code's settings and nothing else. */
const defined = (values) => Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined))
const invalid = (prefix, name, message) => ConfigError.InvalidData([prefix, name], message)
const readTlsFile = (prefix, name, file) =>
  Effect.try({
    try: () => fs.readFileSync(file),
    catch: (cause) =>
      invalid(
        prefix,
        name,
        `cannot read the file ${JSON.stringify(file)} named by ${prefix}_${name}: ${cause instanceof Error ? cause.message : String(cause)}`
      )
  })
/** The target: the variables if set, else the code's; one of a port and a path, never both. */
const resolveTarget = (prefix, fromEnv, fromCode, defaultHost) => {
  if (fromEnv.path !== undefined && fromEnv.port !== undefined) {
    return Effect.fail(invalid(prefix, "PATH", `set ${prefix}_PORT or ${prefix}_PATH, not both`))
  }
  const path = fromEnv.port !== undefined ? undefined : (fromEnv.path ?? fromCode.path)
  const port = fromEnv.path !== undefined ? undefined : (fromEnv.port ?? fromCode.port)
  if (path !== undefined) {
    if (fromEnv.host !== undefined) {
      return Effect.fail(invalid(prefix, "HOST", `${prefix}_HOST does not go with a Unix socket path`))
    }
    return Effect.succeed({ path })
  }
  if (port === undefined) {
    return Effect.fail(
      ConfigError.MissingData([prefix, "PORT"], `Expected ${prefix}_PORT (or ${prefix}_PATH, a Unix socket) to be set`)
    )
  }
  return Effect.succeed({ host: fromEnv.host ?? fromCode.host ?? defaultHost, port })
}
const limitsOf = (limits) => defined(limits)
/** Splits code settings into where (host / port / path) and the rest. */
const splitTarget = (settings) => {
  const { host, port, path, ...rest } = settings
  return { where: { host, port, path }, rest }
}
/** @internal */
export const clientOptions = (settings = {}) =>
  Effect.gen(function* () {
    const { prefix: given, ...code } = settings
    const prefix = given ?? DEFAULT_CLIENT_PREFIX
    const env = yield* Config.nested(clientConfig, prefix)
    const { rest, where } = splitTarget(code)
    const target = yield* resolveTarget(prefix, env.target, where, "localhost")
    const files = env.ca !== undefined || env.cert !== undefined || env.key !== undefined
    if ((env.cert === undefined) !== (env.key === undefined)) {
      const missing = env.cert === undefined ? "TLS_CERT" : "TLS_KEY"
      return yield* Effect.fail(
        ConfigError.MissingData([prefix, missing], `${prefix}_TLS_CERT and ${prefix}_TLS_KEY go together`)
      )
    }
    let tls = rest.tls
    if (env.tls === false && !files) tls = undefined
    else if (files || env.servername !== undefined || env.tls === true) {
      tls = {
        ...(typeof rest.tls === "object" ? rest.tls : {}),
        ...(env.ca === undefined ? {} : { ca: yield* readTlsFile(prefix, "TLS_CA", env.ca) }),
        ...(env.cert === undefined ? {} : { cert: yield* readTlsFile(prefix, "TLS_CERT", env.cert) }),
        ...(env.key === undefined ? {} : { key: yield* readTlsFile(prefix, "TLS_KEY", env.key) }),
        ...(env.servername === undefined ? {} : { servername: env.servername })
      }
    }
    const connectTimeout = env.connectTimeout ?? rest.connectTimeout
    return {
      ...rest,
      ...limitsOf(env.limits),
      ...target,
      ...(tls === undefined ? { tls: undefined } : { tls }),
      ...(connectTimeout === undefined ? {} : { connectTimeout })
    }
  })
/** @internal */
export const serverOptions = (settings = {}) =>
  Effect.gen(function* () {
    const { mode: codeMode, prefix: given, removeStale: codeRemoveStale, ...code } = settings
    const prefix = given ?? DEFAULT_SERVER_PREFIX
    const env = yield* Config.nested(serverConfig, prefix)
    const { rest, where } = splitTarget(code)
    const listenTarget = yield* resolveTarget(prefix, env.target, where, "127.0.0.1")
    for (const [name, value] of [
      ["REMOVE_STALE", env.removeStale],
      ["MODE", env.mode]
    ]) {
      if (value !== undefined && !("path" in listenTarget)) {
        return yield* Effect.fail(
          invalid(prefix, name, `${prefix}_${name} goes with a Unix socket path (${prefix}_PATH), not a port`)
        )
      }
    }
    const removeStale = env.removeStale ?? codeRemoveStale
    const mode = env.mode ?? codeMode
    const target =
      "path" in listenTarget
        ? {
            ...listenTarget,
            ...(removeStale === undefined ? {} : { removeStale }),
            ...(mode === undefined ? {} : { mode })
          }
        : listenTarget
    if ((env.cert === undefined) !== (env.key === undefined)) {
      const missing = env.cert === undefined ? "TLS_CERT" : "TLS_KEY"
      return yield* Effect.fail(
        ConfigError.MissingData([prefix, missing], `a TLS server needs both ${prefix}_TLS_CERT and ${prefix}_TLS_KEY`)
      )
    }
    if (env.ca !== undefined && env.cert === undefined && rest.tls === undefined) {
      return yield* Effect.fail(
        ConfigError.MissingData(
          [prefix, "TLS_CERT"],
          `${prefix}_TLS_CA asks clients for certificates, which needs TLS: set ${prefix}_TLS_CERT and ${prefix}_TLS_KEY`
        )
      )
    }
    let tls = rest.tls
    if (env.cert !== undefined || env.ca !== undefined) {
      tls = {
        ...rest.tls,
        ...(env.cert === undefined ? {} : { cert: yield* readTlsFile(prefix, "TLS_CERT", env.cert) }),
        ...(env.key === undefined ? {} : { key: yield* readTlsFile(prefix, "TLS_KEY", env.key) }),
        ...(env.ca === undefined
          ? {}
          : { ca: yield* readTlsFile(prefix, "TLS_CA", env.ca), requestCert: true, rejectUnauthorized: true })
      }
    }
    const backlog = env.backlog ?? rest.backlog
    return {
      ...rest,
      ...limitsOf(env.limits),
      ...target,
      ...(backlog === undefined ? {} : { backlog }),
      ...(env.maxConnections === undefined ? {} : { maxConnections: env.maxConnections }),
      ...(env.maxTotalBytes === undefined ? {} : { maxTotalBytes: env.maxTotalBytes }),
      ...(tls === undefined ? {} : { tls })
    }
  })

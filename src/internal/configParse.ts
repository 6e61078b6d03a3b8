/**
 * What both lines' `Config` readers share, written once and free of Effect:
 * the variables' names and defaults, how one variable's text is parsed and
 * what its error says, and how the variables that are set are merged over
 * the settings given in code (the target, TLS from files, the Unix socket's
 * options), with the error to raise when they do not go together.
 *
 * Each line keeps only its Effect-facing part: the `Config` values that read
 * the variables (under the prefix, through the current `ConfigProvider`),
 * and how a `Problem` becomes its `ConfigError`.
 *
 * @internal
 */
import * as fs from "node:fs"

/** @internal */
export const DEFAULT_CLIENT_PREFIX = "STOCKING"

/** @internal */
export const DEFAULT_SERVER_PREFIX = "STOCKING_SERVER"

/** The select backend's send interval, in seconds. @internal */
export const INTERVAL_VARIABLE = "STOCKING_SELECT_SEND_INTERVAL"

/** The interval when `INTERVAL_VARIABLE` is not set, as in the original. @internal */
export const DEFAULT_INTERVAL_SECONDS = 0.5

/** Forces a backend: one of `BACKEND_CHOICES`. @internal */
export const BACKEND_VARIABLE = "STOCKING_BACKEND"

/** @internal */
export const BACKEND_CHOICES = ["poll", "select", "auto"] as const

/** @internal */
export type BackendChoice = (typeof BACKEND_CHOICES)[number]

/** The backend when `BACKEND_VARIABLE` is not set. @internal */
export const DEFAULT_BACKEND: BackendChoice = "auto"

// ---------------------------------------------------------------------------
// Outcomes
// ---------------------------------------------------------------------------

/**
 * What is wrong with the variables, in words: which one (`path`, the prefix
 * and the name, empty for a single variable's parser, whose caller knows
 * it), whether it is missing or holds something that does not do, and the
 * message, which says what was received and what was expected. Each line
 * turns it into its own `ConfigError`.
 *
 * @internal
 */
export interface Problem {
  readonly _tag: "Problem"
  readonly missing: boolean
  readonly path: ReadonlyArray<string>
  readonly message: string
}

/** @internal */
export interface Valid<A> {
  readonly _tag: "Valid"
  readonly value: A
}

/** A value, or what is wrong. @internal */
export type Outcome<A> = Valid<A> | Problem

const valid = <A>(value: A): Valid<A> => ({ _tag: "Valid", value })

const invalid = (path: ReadonlyArray<string>, message: string): Problem => ({
  _tag: "Problem",
  missing: false,
  path,
  message
})

const missing = (path: ReadonlyArray<string>, message: string): Problem => ({
  _tag: "Problem",
  missing: true,
  path,
  message
})

// ---------------------------------------------------------------------------
// One variable's text
// ---------------------------------------------------------------------------

/**
 * A whole number from `min` to `max` (default: the largest safe integer),
 * read as `Number(text)` reads it. The message, for a value out of range and
 * for one that is no number at all, says which numbers are taken.
 *
 * @internal
 */
export const wholeNumber = (text: string, min: number, max = Number.MAX_SAFE_INTEGER): Outcome<number> => {
  const n = Number(text)
  return Number.isInteger(n) && n >= min && n <= max
    ? valid(n)
    : invalid(
        [],
        `Expected a whole number${max === Number.MAX_SAFE_INTEGER ? `, ${min} or more` : ` from ${min} to ${max}`}, not "${text}"`
      )
}

/** A file mode in octal, as `chmod` takes it: `600`, `0600` or `0o600`, at most `777`. @internal */
export const octalMode = (text: string): Outcome<number> => {
  const digits = /^(?:0o?)?([0-7]{1,3})$/i.exec(text.trim())?.[1]
  return digits === undefined
    ? invalid([], `Expected an octal file mode from 0 to 777 (600, 0600 or 0o600), not "${text}"`)
    : valid(parseInt(digits, 8))
}

const TRUE = new Set(["true", "yes", "on", "1", "y"])
const FALSE = new Set(["false", "no", "off", "0", "n"])

/** A flag, in the words Effect's `Config` takes for one: `true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0`, `y`/`n`. @internal */
export const flag = (text: string): Outcome<boolean> =>
  TRUE.has(text)
    ? valid(true)
    : FALSE.has(text)
      ? valid(false)
      : invalid([], `Expected a boolean value but received "${text}"`)

/** The message for a duration that does not parse (`5 seconds`, `500 millis` parse). @internal */
export const durationMessage = (text: string): string => `Expected a duration but received "${text}"`

/** The select interval: a number of seconds, 0 or more (`0.5`), read as `Number(text)` reads it. @internal */
export const seconds = (text: string): Outcome<number> => {
  const n = Number(text)
  return Number.isNaN(n)
    ? invalid([], `Expected a number value but received "${text}"`)
    : Number.isFinite(n) && n >= 0
      ? valid(n)
      : invalid([], `expected a non-negative number of seconds, such as 0.5, not "${text}"`)
}

/** `poll`, `select` or `auto`. @internal */
export const backendChoice = (text: string): Outcome<BackendChoice> => {
  const choice = BACKEND_CHOICES.find((name) => name === text)
  return choice === undefined
    ? invalid([], `Expected one of (${BACKEND_CHOICES.join(", ")}) but received "${text}"`)
    : valid(choice)
}

// ---------------------------------------------------------------------------
// The variables together, over the code's settings
// ---------------------------------------------------------------------------

/** Where to connect or listen, as the variables or the code give it. @internal */
export interface Where {
  readonly host?: string | undefined
  readonly port?: number | undefined
  readonly path?: string | undefined
}

/** The limits both a client and a server read; `D` is the line's `Duration`. @internal */
export interface Limits<D> {
  readonly maxMessageSize?: number | undefined
  readonly maxBufferedMessages?: number | undefined
  readonly maxBufferedBytes?: number | undefined
  readonly maxQueuedMessages?: number | undefined
  readonly maxQueuedBytes?: number | undefined
  readonly handshakeTimeout?: D | undefined
  readonly idleTimeout?: D | undefined
  readonly closeTimeout?: D | undefined
}

/** A client's variables under its prefix, as read (`undefined`: not set). @internal */
export interface ClientVariables<D> {
  readonly target: Where
  readonly tls?: boolean | undefined
  readonly ca?: string | undefined
  readonly cert?: string | undefined
  readonly key?: string | undefined
  readonly servername?: string | undefined
  readonly connectTimeout?: D | undefined
  readonly limits: Limits<D>
}

/** A server's variables under its prefix, as read (`undefined`: not set). @internal */
export interface ServerVariables<D> {
  readonly target: Where
  readonly removeStale?: boolean | undefined
  readonly mode?: number | undefined
  readonly backlog?: number | undefined
  readonly maxConnections?: number | undefined
  readonly maxTotalBytes?: number | undefined
  readonly ca?: string | undefined
  readonly cert?: string | undefined
  readonly key?: string | undefined
  readonly limits: Limits<D>
}

/** What the merge reads of a client's settings in code; the rest is passed through. @internal */
export interface ClientCode extends Where {
  readonly tls?: object | true | undefined
  readonly connectTimeout?: unknown
}

/** What the merge reads of a server's settings in code; the rest is passed through. @internal */
export interface ServerCode extends Where {
  readonly tls?: object | undefined
  readonly backlog?: number | undefined
  readonly removeStale?: boolean | undefined
  readonly mode?: number | undefined
}

/** Only the values that are set, so they override the code's settings and nothing else. */
const defined = <A extends object>(values: A): Partial<A> =>
  Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<A>

/** Splits code settings into where (host / port / path) and the rest. */
const splitTarget = <S extends Where>(settings: S): { where: Where; rest: Omit<S, "host" | "port" | "path"> } => {
  const { host, path, port, ...rest } = settings
  return { where: { host, port, path }, rest }
}

const readTlsFile = (prefix: string, name: string, file: string): Outcome<Buffer> => {
  try {
    return valid(fs.readFileSync(file))
  } catch (cause) {
    return invalid(
      [prefix, name],
      `cannot read the file ${JSON.stringify(file)} named by ${prefix}_${name}: ${
        cause instanceof Error ? cause.message : String(cause)
      }`
    )
  }
}

/** Reads the TLS files that are named, in this order; the first that cannot be read is the problem. */
const readTlsFiles = (
  prefix: string,
  files: ReadonlyArray<readonly [key: string, name: string, file: string | undefined]>
): Outcome<Record<string, Buffer>> => {
  const read: Record<string, Buffer> = {}
  for (const [key, name, file] of files) {
    if (file === undefined) continue
    const outcome = readTlsFile(prefix, name, file)
    if (outcome._tag === "Problem") return outcome
    read[key] = outcome.value
  }
  return valid(read)
}

/** @internal */
export type Target = { readonly host: string; readonly port: number } | { readonly path: string }

/** The target: the variables if set, else the code's; one of a port and a path, never both. */
const resolveTarget = (prefix: string, fromEnv: Where, fromCode: Where, defaultHost: string): Outcome<Target> => {
  if (fromEnv.path !== undefined && fromEnv.port !== undefined) {
    return invalid([prefix, "PATH"], `set ${prefix}_PORT or ${prefix}_PATH, not both`)
  }
  const path = fromEnv.port !== undefined ? undefined : (fromEnv.path ?? fromCode.path)
  const port = fromEnv.path !== undefined ? undefined : (fromEnv.port ?? fromCode.port)
  if (path !== undefined) {
    return fromEnv.host !== undefined
      ? invalid([prefix, "HOST"], `${prefix}_HOST does not go with a Unix socket path`)
      : valid({ path })
  }
  return port === undefined
    ? missing([prefix, "PORT"], `Expected ${prefix}_PORT (or ${prefix}_PATH, a Unix socket) to be set`)
    : valid({ host: fromEnv.host ?? fromCode.host ?? defaultHost, port })
}

/**
 * A client's options: the code's settings (without the prefix), with the
 * variables that are set in their place. TLS files are read here. The
 * caller's line types the result as its `Stocking.Options`.
 *
 * @internal
 */
export const clientOptions = <D>(prefix: string, env: ClientVariables<D>, code: ClientCode): Outcome<object> => {
  const { rest, where } = splitTarget(code)
  const target = resolveTarget(prefix, env.target, where, "localhost")
  if (target._tag === "Problem") return target
  const files = env.ca !== undefined || env.cert !== undefined || env.key !== undefined
  if ((env.cert === undefined) !== (env.key === undefined)) {
    const absent = env.cert === undefined ? "TLS_CERT" : "TLS_KEY"
    return missing([prefix, absent], `${prefix}_TLS_CERT and ${prefix}_TLS_KEY go together`)
  }
  let tls: object | true | undefined = rest.tls
  if (env.tls === false && !files) tls = undefined
  else if (files || env.servername !== undefined || env.tls === true) {
    const read = readTlsFiles(prefix, [
      ["ca", "TLS_CA", env.ca],
      ["cert", "TLS_CERT", env.cert],
      ["key", "TLS_KEY", env.key]
    ])
    if (read._tag === "Problem") return read
    tls = {
      ...(typeof rest.tls === "object" ? rest.tls : {}),
      ...read.value,
      ...(env.servername === undefined ? {} : { servername: env.servername })
    }
  }
  const connectTimeout = env.connectTimeout ?? rest.connectTimeout
  return valid({
    ...rest,
    ...defined(env.limits),
    ...target.value,
    tls,
    ...(connectTimeout === undefined ? {} : { connectTimeout })
  })
}

/**
 * A server's options: the code's settings (without the prefix), with the
 * variables that are set in their place; `removeStale` and `mode` only with
 * a path. TLS files are read here. The caller's line types the result as its
 * `Server.Options`.
 *
 * @internal
 */
export const serverOptions = <D>(prefix: string, env: ServerVariables<D>, code: ServerCode): Outcome<object> => {
  const { mode: codeMode, removeStale: codeRemoveStale, ...settings } = code
  const { rest, where } = splitTarget(settings)
  const listenTarget = resolveTarget(prefix, env.target, where, "127.0.0.1")
  if (listenTarget._tag === "Problem") return listenTarget
  const isPath = "path" in listenTarget.value
  for (const [name, value] of [
    ["REMOVE_STALE", env.removeStale],
    ["MODE", env.mode]
  ] as const) {
    if (value !== undefined && !isPath) {
      return invalid([prefix, name], `${prefix}_${name} goes with a Unix socket path (${prefix}_PATH), not a port`)
    }
  }
  const removeStale = env.removeStale ?? codeRemoveStale
  const mode = env.mode ?? codeMode
  const target = isPath
    ? {
        ...listenTarget.value,
        ...(removeStale === undefined ? {} : { removeStale }),
        ...(mode === undefined ? {} : { mode })
      }
    : listenTarget.value
  if ((env.cert === undefined) !== (env.key === undefined)) {
    const absent = env.cert === undefined ? "TLS_CERT" : "TLS_KEY"
    return missing([prefix, absent], `a TLS server needs both ${prefix}_TLS_CERT and ${prefix}_TLS_KEY`)
  }
  if (env.ca !== undefined && env.cert === undefined && rest.tls === undefined) {
    return missing(
      [prefix, "TLS_CERT"],
      `${prefix}_TLS_CA asks clients for certificates, which needs TLS: set ${prefix}_TLS_CERT and ${prefix}_TLS_KEY`
    )
  }
  let tls: object | undefined = rest.tls
  if (env.cert !== undefined || env.ca !== undefined) {
    const read = readTlsFiles(prefix, [
      ["cert", "TLS_CERT", env.cert],
      ["key", "TLS_KEY", env.key],
      ["ca", "TLS_CA", env.ca]
    ])
    if (read._tag === "Problem") return read
    tls = {
      ...rest.tls,
      ...read.value,
      ...(env.ca === undefined ? {} : { requestCert: true, rejectUnauthorized: true })
    }
  }
  const backlog = env.backlog ?? rest.backlog
  return valid({
    ...rest,
    ...defined(env.limits),
    ...target,
    ...(backlog === undefined ? {} : { backlog }),
    ...(env.maxConnections === undefined ? {} : { maxConnections: env.maxConnections }),
    ...(env.maxTotalBytes === undefined ? {} : { maxTotalBytes: env.maxTotalBytes }),
    ...(tls === undefined ? {} : { tls })
  })
}

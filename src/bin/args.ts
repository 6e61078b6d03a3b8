/**
 * The `stocking` command line: usage texts, and `parse`, which turns the
 * arguments into a `Command` (or a `UsageError`) with `node:util`'s
 * `parseArgs`. Nothing here touches a socket or a file, or Effect: both
 * lines' CLIs use it.
 *
 * @since 0.1.0
 */
import { parseArgs } from "node:util"
import type { Message } from "../internal/wire.js"

/**
 * The command line is wrong: the message says how. The CLI prints it and
 * exits 2.
 *
 * @since 0.1.0
 * @category errors
 */
export class UsageError extends Error {
  readonly _tag = "UsageError"
  readonly reason: string
  /** The command whose `--help` to point at, if any. */
  readonly command: CommandName | undefined

  constructor(args: { readonly reason: string; readonly command?: CommandName | undefined }) {
    super(args.reason)
    this.name = "UsageError"
    this.reason = args.reason
    this.command = args.command
  }
}

/**
 * The subcommands.
 *
 * @since 0.1.0
 * @category models
 */
export type CommandName = "serve" | "connect" | "send"

/**
 * How bytes messages are printed.
 *
 * @since 0.1.0
 * @category models
 */
export type BytesFormat = "hex" | "base64"

/**
 * The `--backend` choice; `undefined` when not given (then `STOCKING_BACKEND` decides).
 *
 * @since 0.1.0
 * @category models
 */
export type BackendChoice = "poll" | "select" | "auto" | undefined

/**
 * TLS files named on the command line (paths, not contents).
 *
 * @since 0.1.0
 * @category models
 */
export interface TlsFiles {
  readonly ca: string | undefined
  readonly cert: string | undefined
  readonly key: string | undefined
  readonly servername: string | undefined
}

/**
 * When to show the status line on stderr (`--status`): `auto` when stderr
 * is a terminal.
 *
 * @since 0.1.0
 * @category models
 */
export type StatusMode = "auto" | "always" | "never"

/**
 * Options every command takes.
 *
 * @since 0.1.0
 * @category models
 */
export interface Common {
  readonly json: boolean
  readonly backend: BackendChoice
  readonly maxMessageSize: number | undefined
  /** `undefined`: no TLS. */
  readonly tls: TlsFiles | undefined
}

/**
 * Where a client connects.
 *
 * @since 0.1.0
 * @category models
 */
export type Target = { readonly host: string; readonly port: number } | { readonly path: string }

/**
 * Where a server listens; for a Unix socket, whether to replace a stale
 * socket file (`--remove-stale`) and the socket file's mode (`--mode`).
 *
 * @since 0.1.0
 * @category models
 */
export type Listen =
  | { readonly host: string; readonly port: number }
  | { readonly path: string; readonly removeStale?: boolean; readonly mode?: number }

/**
 * What the client commands (`connect`, `send`) take besides the common options.
 *
 * @since 0.1.0
 * @category models
 */
export interface Client {
  readonly target: Target
  /** Seconds to wait for the connection (TCP and TLS); 0: no limit. */
  readonly connectTimeout: number
  readonly status: StatusMode
}

/**
 * A parsed command line.
 *
 * @since 0.1.0
 * @category models
 */
export type Command =
  | { readonly _tag: "Help"; readonly text: string }
  | { readonly _tag: "Version" }
  | (Common & {
      readonly _tag: "Serve"
      readonly listen: Listen
      readonly echo: boolean
      readonly bytesAs: BytesFormat
    })
  | (Common &
      Client & {
        readonly _tag: "Connect"
        readonly bytes: boolean
        readonly bytesAs: BytesFormat
        /** Seconds of quiet to wait for replies after the end of input. */
        readonly linger: number
      })
  | (Common &
      Client & {
        readonly _tag: "Send"
        readonly messages: ReadonlyArray<Message>
      })

/**
 * Seconds `connect` waits, after the end of input, for a message to arrive before closing.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_LINGER = 1

/**
 * Seconds `connect` and `send` wait for the connection (TCP and TLS) before giving up.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_CONNECT_TIMEOUT = 5

// ---------------------------------------------------------------------------
// Usage texts
// ---------------------------------------------------------------------------

const COMMON_HELP = `Common options:
  --json                      one JSON object per line on stdout (see below)
  --backend poll|select|auto  the send loop (default: auto, or $STOCKING_BACKEND)
  --max-message-size N        largest message sent or accepted, in bytes (default 16777216)
  -h, --help                  print this help and exit`

const EXIT_HELP = `Exit status: 0 on success (and after SIGINT or SIGTERM, once closed), 1 when something fails
(connection refused, closed by the peer, TLS, a bad input line), 2 on bad usage.`

/**
 * The top-level usage text.
 *
 * @since 0.1.0
 * @category usage
 */
export const USAGE = `Usage: stocking <command> [options]

Whole messages over TCP, TLS and Unix sockets, in the Stockings wire format.

Commands:
  serve     listen; print every message received (--echo: send it back)
  connect   send each line of stdin as a message; print the messages that arrive
  send      send each argument as a message, then exit

Run \`stocking <command> --help\` for its options; \`stocking --version\` prints the version.

${EXIT_HELP}`

/**
 * The usage text of `stocking serve`.
 *
 * @since 0.1.0
 * @category usage
 */
export const SERVE_USAGE = `Usage: stocking serve [--port N | --path P] [--host H] [--echo] [options]

Listens and prints every message received, one per line, after the peer it came from:
  127.0.0.1:53122 text: hello
  127.0.0.1:53122 bytes: 0102ff
with "listening on ADDRESS" first and a line when a peer connects or disconnects.
In text, backslashes, line breaks, control characters (C0, DEL, C1), bidirectional controls and
line separators are escaped (\\\\, \\n, \\r, \\t, \\xHH, \\uHHHH; in --json output as \\uHHHH), so a peer
cannot forge a line, reorder it or send escape sequences to your terminal.
While stdout is slow to take lines, the peers are paused (nothing is dropped).
Runs until SIGINT or SIGTERM, then closes every connection and exits 0.

Options:
  --port N                    TCP port (default 0: a free one, printed on the first line)
  --host H                    address to listen on (default 127.0.0.1)
  --path P                    listen on a Unix domain socket instead; a path too long for the
                              platform, in a missing directory, or taken, fails with one line
                              saying which (a live server, or a stale socket file)
  --remove-stale              with --path: replace a stale socket file (no server listens on it)
  --mode MODE                 with --path: the socket file's mode, in octal (600: only this user
                              may connect); default: the umask decides
  --echo                      send every message back to its sender
  --bytes-as hex|base64       how to print bytes messages (default hex)
  --tls                       serve TLS; needs --cert and --key
  --cert FILE, --key FILE     the server's certificate chain and key (PEM); imply --tls
  --ca FILE                   require client certificates issued by this CA (PEM)

${COMMON_HELP}

--json events: {"event":"listening","host","port"|"path","tls"}, {"event":"connected","peer"},
{"event":"message","peer","kind":"text","text"} or {..."kind":"bytes","hex"|"base64"},
{"event":"disconnected","peer","reason"[,"error"]}, {"event":"error","message"}.`

/**
 * The usage text of `stocking connect`.
 *
 * @since 0.1.0
 * @category usage
 */
export const CONNECT_USAGE = `Usage: stocking connect HOST:PORT [options]
       stocking connect --path P [options]

Sends each line of stdin as a text message (--bytes: each line is hex, sent as bytes) and prints
every message that arrives as \`stocking serve\` does ("PEER text: ..." / "PEER bytes: ...").

At the end of input it waits until everything sent has been handed to the OS, then goes on
printing what arrives until the peer closes the connection or nothing has arrived for --linger
seconds; then it closes gracefully (the peer gets an end of stream) and exits 0. The peer
closing the connection before the end of input is an error (exit 1).

Options:
  --path P                    connect to a Unix domain socket
  --bytes                     each input line is hex (spaces allowed), sent as a bytes message
  --bytes-as hex|base64       how to print bytes messages (default hex)
  --linger SECONDS            quiet time to wait for replies after the end of input (default ${DEFAULT_LINGER})
  --tls                       connect over TLS, verifying the server against the system's CAs
  --ca FILE                   verify the server against this CA (PEM) instead; implies --tls
  --cert FILE, --key FILE     a client certificate and its key (PEM); imply --tls
  --servername NAME           the name the server's certificate must carry (default: HOST)
  --connect-timeout SECONDS   give up connecting (TCP and TLS) after this long; 0: never (default ${DEFAULT_CONNECT_TIMEOUT})
  --status auto|always|never  a status line on stderr (connecting, progress, closing); auto: when stderr is a terminal

${COMMON_HELP}

--json events: {"event":"connected","peer"}, {"event":"message",...} as for serve,
{"event":"disconnected","peer","reason"}, {"event":"error","message"}.`

/**
 * The usage text of `stocking send`.
 *
 * @since 0.1.0
 * @category usage
 */
export const SEND_USAGE = `Usage: stocking send HOST:PORT MESSAGE... [options]
       stocking send --path P MESSAGE... [options]

Sends each MESSAGE as a text message (--bytes: each is hex, sent as bytes), waits until all
of them have been handed to the OS, closes gracefully and exits 0. Messages that arrive are
ignored. Put \`--\` before messages that start with "-".

Options:
  --path P                    connect to a Unix domain socket
  --bytes                     each MESSAGE is hex (spaces allowed), sent as a bytes message
  --tls, --ca FILE, --cert FILE, --key FILE, --servername NAME
                              TLS, as for \`stocking connect\`
  --connect-timeout SECONDS   give up connecting (TCP and TLS) after this long; 0: never (default ${DEFAULT_CONNECT_TIMEOUT})
  --status auto|always|never  a status line on stderr (connecting, progress, closing); auto: when stderr is a terminal

${COMMON_HELP}

--json events: {"event":"connected","peer"}, {"event":"sent","peer","messages"}, {"event":"error","message"}.`

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

type OptionSpec = { readonly type: "string" | "boolean"; readonly short?: string }

const COMMON_OPTIONS = {
  help: { type: "boolean", short: "h" },
  json: { type: "boolean" },
  backend: { type: "string" },
  "max-message-size": { type: "string" },
  tls: { type: "boolean" },
  ca: { type: "string" },
  cert: { type: "string" },
  key: { type: "string" }
} satisfies Record<string, OptionSpec>

const SERVE_OPTIONS = {
  ...COMMON_OPTIONS,
  port: { type: "string" },
  host: { type: "string" },
  path: { type: "string" },
  "remove-stale": { type: "boolean" },
  mode: { type: "string" },
  echo: { type: "boolean" },
  "bytes-as": { type: "string" }
} satisfies Record<string, OptionSpec>

const CLIENT_OPTIONS = {
  ...COMMON_OPTIONS,
  "connect-timeout": { type: "string" },
  status: { type: "string" }
} satisfies Record<string, OptionSpec>

const CONNECT_OPTIONS = {
  ...CLIENT_OPTIONS,
  path: { type: "string" },
  bytes: { type: "boolean" },
  "bytes-as": { type: "string" },
  linger: { type: "string" },
  servername: { type: "string" }
} satisfies Record<string, OptionSpec>

const SEND_OPTIONS = {
  ...CLIENT_OPTIONS,
  path: { type: "string" },
  bytes: { type: "boolean" },
  servername: { type: "string" }
} satisfies Record<string, OptionSpec>

type Values = { readonly [name: string]: string | boolean | undefined }

const usage = (command: CommandName | undefined, reason: string): UsageError => new UsageError({ reason, command })

/** `parseArgs`' own messages go on with advice about `--`; the first sentence is the point. */
const parseArgsMessage = (error: unknown): string => {
  const message = error instanceof Error ? error.message : String(error)
  const first = message.split(/\.\s/)[0] ?? message
  const sentence = first.endsWith(".") ? first.slice(0, -1) : first
  return sentence.charAt(0).toLowerCase() + sentence.slice(1)
}

/**
 * `--port -1` as `--port=-1`: `parseArgs` takes a value that starts with a
 * dash for an option and calls the option "ambiguous", while a negative
 * number after an option that takes a value can only be that value; it is
 * then judged as one (`--port must be a whole number from 0 to 65535, not
 * "-1"`). Nothing after `--` is touched.
 */
const joinNegativeValues = (args: ReadonlyArray<string>, options: Record<string, OptionSpec>): Array<string> => {
  const joined: Array<string> = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === "--") {
      joined.push(...args.slice(i))
      break
    }
    const next = args[i + 1]
    const name = arg.startsWith("--") ? arg.slice(2) : undefined
    if (name !== undefined && options[name]?.type === "string" && next !== undefined && /^-\.?\d/.test(next)) {
      joined.push(`${arg}=${next}`)
      i++
    } else {
      joined.push(arg)
    }
  }
  return joined
}

const run = (
  command: CommandName,
  args: ReadonlyArray<string>,
  options: Record<string, OptionSpec>
): { values: Values; positionals: Array<string> } => {
  try {
    const { values, positionals } = parseArgs({
      args: joinNegativeValues(args, options),
      options,
      allowPositionals: true,
      strict: true
    })
    return { values: values as Values, positionals }
  } catch (error) {
    throw usage(command, parseArgsMessage(error))
  }
}

const stringOf = (values: Values, name: string): string | undefined => {
  const value = values[name]
  return typeof value === "string" ? value : undefined
}

const flag = (values: Values, name: string): boolean => values[name] === true

/** A whole number in [min, max]. */
const integer = (command: CommandName, option: string, text: string, min: number, max: number): number => {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN
  if (Number.isSafeInteger(value) && value >= min && value <= max) return value
  throw usage(command, `${option} must be a whole number from ${min} to ${max}, not "${text}"`)
}

/**
 * Parses `HOST:PORT` (`[::1]:PORT` for an IPv6 address).
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseAddress = (command: CommandName, text: string): { readonly host: string; readonly port: number } => {
  const colon = text.lastIndexOf(":")
  if (colon <= 0) throw usage(command, `expected HOST:PORT, not "${text}"`)
  let host = text.slice(0, colon)
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1)
  else if (host.includes(":")) {
    throw usage(command, `expected HOST:PORT, not "${text}" (write an IPv6 address as [::1]:PORT)`)
  }
  if (host.length === 0) throw usage(command, `expected HOST:PORT, not "${text}"`)
  return { host, port: integer(command, "the port", text.slice(colon + 1), 1, 65535) }
}

/**
 * Decodes hex (whitespace between digits allowed) into bytes, or `undefined`
 * if the text is not an even number of hex digits.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseHex = (text: string): Uint8Array | undefined => {
  const digits = text.replace(/\s+/g, "")
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(digits)) return undefined
  return new Uint8Array(Buffer.from(digits, "hex"))
}

const parseCommon = (command: CommandName, values: Values): Common => {
  const backendText = stringOf(values, "backend")
  if (backendText !== undefined && backendText !== "poll" && backendText !== "select" && backendText !== "auto") {
    throw usage(command, `--backend must be poll, select or auto, not "${backendText}"`)
  }
  const sizeText = stringOf(values, "max-message-size")
  const maxMessageSize =
    sizeText === undefined ? undefined : integer(command, "--max-message-size", sizeText, 1, Number.MAX_SAFE_INTEGER)
  const ca = stringOf(values, "ca")
  const cert = stringOf(values, "cert")
  const key = stringOf(values, "key")
  const servername = stringOf(values, "servername")
  if ((cert === undefined) !== (key === undefined)) {
    throw usage(command, "--cert and --key go together")
  }
  const tls =
    flag(values, "tls") || ca !== undefined || cert !== undefined || servername !== undefined
      ? { ca, cert, key, servername }
      : undefined
  return { json: flag(values, "json"), backend: backendText, maxMessageSize, tls }
}

const parseBytesAs = (command: CommandName, values: Values): BytesFormat => {
  const text = stringOf(values, "bytes-as") ?? "hex"
  if (text === "hex" || text === "base64") return text
  throw usage(command, `--bytes-as must be hex or base64, not "${text}"`)
}

/** `HOST:PORT` as the first positional, or `--path`; returns the target and the remaining positionals. */
const parseTarget = (
  command: CommandName,
  values: Values,
  positionals: ReadonlyArray<string>
): { target: Target; rest: ReadonlyArray<string> } => {
  const path = stringOf(values, "path")
  if (path !== undefined) return { target: { path }, rest: positionals }
  const [address, ...rest] = positionals
  if (address === undefined) throw usage(command, "expected HOST:PORT or --path P")
  return { target: parseAddress(command, address), rest }
}

/** `--connect-timeout` and `--status`. */
const parseClient = (command: CommandName, values: Values, target: Target): Client => {
  const timeoutText = stringOf(values, "connect-timeout")
  const connectTimeout = timeoutText === undefined ? DEFAULT_CONNECT_TIMEOUT : Number(timeoutText)
  if (!Number.isFinite(connectTimeout) || connectTimeout < 0 || timeoutText?.trim() === "") {
    throw usage(command, `--connect-timeout must be a number of seconds, 0 or more, not "${timeoutText}"`)
  }
  const status = stringOf(values, "status") ?? "auto"
  if (status !== "auto" && status !== "always" && status !== "never") {
    throw usage(command, `--status must be auto, always or never, not "${status}"`)
  }
  return { target, connectTimeout, status }
}

/** `--mode`: a file mode in octal, as `chmod` takes it (`600`, `0600`, `0o600`). */
const parseMode = (text: string): number => {
  const digits = /^(?:0o?)?([0-7]{1,3})$/i.exec(text)?.[1]
  if (digits !== undefined) return parseInt(digits, 8)
  throw usage(
    "serve",
    `--mode must be an octal file mode from 0 to 777, not "${text}" (600: only this user may connect)`
  )
}

const parseServe = (args: ReadonlyArray<string>): Command => {
  const { values, positionals } = run("serve", args, SERVE_OPTIONS)
  if (flag(values, "help")) return { _tag: "Help" as const, text: SERVE_USAGE }
  if (positionals.length > 0) {
    throw usage("serve", `unexpected argument "${positionals[0]}"`)
  }
  const common = parseCommon("serve", values)
  if (common.tls !== undefined && (common.tls.cert === undefined || common.tls.key === undefined)) {
    throw usage("serve", "a TLS server needs --cert FILE and --key FILE")
  }
  const path = stringOf(values, "path")
  const portText = stringOf(values, "port")
  const host = stringOf(values, "host")
  if (path !== undefined && (portText !== undefined || host !== undefined)) {
    throw usage("serve", "--path cannot go with --port or --host")
  }
  const removeStale = flag(values, "remove-stale")
  const modeText = stringOf(values, "mode")
  if (path === undefined && (removeStale || modeText !== undefined)) {
    throw usage("serve", `${removeStale ? "--remove-stale" : "--mode"} goes with --path`)
  }
  const listen: Listen =
    path !== undefined
      ? {
          path,
          ...(removeStale ? { removeStale } : {}),
          ...(modeText === undefined ? {} : { mode: parseMode(modeText) })
        }
      : {
          host: host ?? "127.0.0.1",
          port: portText === undefined ? 0 : integer("serve", "--port", portText, 0, 65535)
        }
  return {
    _tag: "Serve" as const,
    ...common,
    listen,
    echo: flag(values, "echo"),
    bytesAs: parseBytesAs("serve", values)
  }
}

const parseConnect = (args: ReadonlyArray<string>): Command => {
  const { values, positionals } = run("connect", args, CONNECT_OPTIONS)
  if (flag(values, "help")) return { _tag: "Help" as const, text: CONNECT_USAGE }
  const { target, rest } = parseTarget("connect", values, positionals)
  if (rest.length > 0) throw usage("connect", `unexpected argument "${rest[0]}"`)
  const lingerText = stringOf(values, "linger")
  const linger = lingerText === undefined ? DEFAULT_LINGER : Number(lingerText)
  if (!Number.isFinite(linger) || linger < 0 || lingerText?.trim() === "") {
    throw usage("connect", `--linger must be a number of seconds, 0 or more, not "${lingerText}"`)
  }
  return {
    _tag: "Connect" as const,
    ...parseCommon("connect", values),
    ...parseClient("connect", values, target),
    bytes: flag(values, "bytes"),
    bytesAs: parseBytesAs("connect", values),
    linger
  }
}

const parseSend = (args: ReadonlyArray<string>): Command => {
  const { values, positionals } = run("send", args, SEND_OPTIONS)
  if (flag(values, "help")) return { _tag: "Help" as const, text: SEND_USAGE }
  const { target, rest } = parseTarget("send", values, positionals)
  if (rest.length === 0) throw usage("send", "expected at least one MESSAGE")
  const bytes = flag(values, "bytes")
  const messages: Array<Message> = []
  for (const text of rest) {
    if (!bytes) {
      messages.push(text)
      continue
    }
    const decoded = parseHex(text)
    if (decoded === undefined) throw usage("send", `--bytes: "${text}" is not hex`)
    messages.push(decoded)
  }
  return {
    _tag: "Send" as const,
    ...parseCommon("send", values),
    ...parseClient("send", values, target),
    messages
  }
}

/**
 * Parses the arguments after the program name: the command, or a
 * `UsageError` saying what is wrong with them.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (argv: ReadonlyArray<string>): Command | UsageError => {
  try {
    return parseCommand(argv)
  } catch (error) {
    if (error instanceof UsageError) return error
    throw error
  }
}

/** As `parse`, throwing the `UsageError` (the parsers below throw theirs, and `parse` returns it). */
const parseCommand = (argv: ReadonlyArray<string>): Command => {
  // `vite-node file.ts -- ARGS` may pass the separator on.
  const args = argv[0] === "--" ? argv.slice(1) : argv
  const [name, ...rest] = args
  switch (name) {
    case "serve":
      return parseServe(rest)
    case "connect":
      return parseConnect(rest)
    case "send":
      return parseSend(rest)
    case "help":
      return { _tag: "Help", text: usageOf(isCommandName(rest[0]) ? rest[0] : undefined) }
    case "-h":
    case "--help":
      return { _tag: "Help", text: USAGE }
    case "--version":
      return { _tag: "Version" }
    case undefined:
      throw usage(undefined, "expected a command: serve, connect or send")
    default:
      throw usage(
        undefined,
        name.startsWith("-") ? `unknown option "${name}" before the command` : `unknown command "${name}"`
      )
  }
}

const isCommandName = (name: string | undefined): name is CommandName =>
  name === "serve" || name === "connect" || name === "send"

/**
 * The usage text of a command (or the top level).
 *
 * @since 0.1.0
 * @category usage
 */
export const usageOf = (command: CommandName | undefined): string =>
  command === "serve" ? SERVE_USAGE : command === "connect" ? CONNECT_USAGE : command === "send" ? SEND_USAGE : USAGE

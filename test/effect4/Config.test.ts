/**
 * The Effect 4 line's settings read through `Config` (`src/effect4/internal/config.ts`): every variable, its default,
 * what a value that does not do says, and the cases the Effect 3 line's tests cover (`test/Layers.test.ts`,
 * `test/Budget.test.ts`, `test/Backend.test.ts`), from `ConfigProvider.fromEnv` and `ConfigProvider.fromUnknown`.
 */
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as config from "../../src/effect4/internal/config.js"

/** `vars` as the environment: `STOCKING_PORT` is the path `STOCKING.PORT`. */
const withEnv =
  (vars: Record<string, string>) =>
  <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.provideService(effect, ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env: vars }))

const client = (vars: Record<string, string>, settings?: config.ClientSettings) =>
  Effect.runPromise(config.clientOptions(settings).pipe(withEnv(vars)))

const server = (vars: Record<string, string>, settings?: config.ServerSettings) =>
  Effect.runPromise(config.serverOptions(settings).pipe(withEnv(vars)))

/** The `ConfigError` an effect fails with. */
const failure = <A>(effect: Effect.Effect<A, Config.ConfigError>, vars: Record<string, string>) =>
  Effect.runPromise(Effect.flip(effect.pipe(withEnv(vars))))

/** What the user reads: the error as a string, which says what was received, what was expected, and where. */
const clientError = async (vars: Record<string, string>, settings?: config.ClientSettings) =>
  String(await failure(config.clientOptions(settings), vars))

const serverError = async (vars: Record<string, string>, settings?: config.ServerSettings) =>
  String(await failure(config.serverOptions(settings), vars))

/** The message of an error at `at` (a path, as Effect 4 prints it). */
const at = (message: string, ...path: Array<string>) =>
  `${message}\n  at ${path.map((segment) => `["${segment}"]`).join("")}`

const millis = (value: unknown) => Duration.toMillis(value as Duration.Duration)

let dir = ""
const file = (name: string) => path.join(dir, name)

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "stockings-config4-"))
  for (const name of ["ca.pem", "cert.pem", "key.pem"]) fs.writeFileSync(file(name), `contents of ${name}`)
})

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe("client options from Config", () => {
  it("reads every variable under STOCKING_", async () => {
    const options = await client({
      STOCKING_HOST: "db.internal",
      STOCKING_PORT: "7000",
      STOCKING_CONNECT_TIMEOUT: "2 seconds",
      STOCKING_HANDSHAKE_TIMEOUT: "3 seconds",
      STOCKING_IDLE_TIMEOUT: "5 minutes",
      STOCKING_CLOSE_TIMEOUT: "500 millis",
      STOCKING_MAX_MESSAGE_SIZE: "16",
      STOCKING_MAX_BUFFERED_MESSAGES: "2",
      STOCKING_MAX_BUFFERED_BYTES: "3",
      STOCKING_MAX_QUEUED_MESSAGES: "4",
      STOCKING_MAX_QUEUED_BYTES: "5"
    })
    expect(options).toMatchObject({
      host: "db.internal",
      port: 7000,
      tls: undefined,
      maxMessageSize: 16,
      maxBufferedMessages: 2,
      maxBufferedBytes: 3,
      maxQueuedMessages: 4,
      maxQueuedBytes: 5
    })
    expect(millis(options.connectTimeout)).toBe(2000)
    expect(millis(options.handshakeTimeout)).toBe(3000)
    expect(millis(options.idleTimeout)).toBe(300_000)
    expect(millis(options.closeTimeout)).toBe(500)
  })

  it("defaults: host localhost, no TLS, and nothing else set (the Stocking's own defaults apply)", async () => {
    expect(await client({ STOCKING_PORT: "7000" })).toStrictEqual({ host: "localhost", port: 7000, tls: undefined })
  })

  it("a set variable wins over the code's setting; an unset one leaves it; the prefix is the caller's", async () => {
    const fromCode = await client({}, { host: "example.org", port: 1, maxQueuedBytes: 1000, closeTimeout: "1 second" })
    expect(fromCode).toStrictEqual({
      host: "example.org",
      port: 1,
      maxQueuedBytes: 1000,
      closeTimeout: "1 second",
      tls: undefined
    })
    const overridden = await client(
      { APP_UPSTREAM_PORT: "7000", APP_UPSTREAM_MAX_QUEUED_BYTES: "2048", STOCKING_PORT: "9" },
      { prefix: "APP_UPSTREAM", host: "example.org", port: 1, maxQueuedBytes: 1000 }
    )
    expect(overridden).toMatchObject({ host: "example.org", port: 7000, maxQueuedBytes: 2048 })
    expect(overridden).not.toHaveProperty("prefix")
    // Settings the variables do not name pass through untouched.
    const handshake = () => Effect.succeed(true)
    expect((await client({ STOCKING_PORT: "1" }, { handshake } as config.ClientSettings)) as object).toHaveProperty(
      "handshake",
      handshake
    )
  })

  it("a Unix socket path instead of a port, from the variables or the code", async () => {
    expect(await client({ STOCKING_PATH: "/run/app.sock" }, { port: 1 })).toStrictEqual({
      path: "/run/app.sock",
      tls: undefined
    })
    expect(await client({}, { path: "/run/code.sock" })).toStrictEqual({ path: "/run/code.sock", tls: undefined })
    // STOCKING_PORT wins over a path in code.
    expect(await client({ STOCKING_PORT: "7000" }, { path: "/run/code.sock" })).toMatchObject({
      host: "localhost",
      port: 7000
    })
  })

  it("TLS: STOCKING_TLS with the system's CAs, or off; files imply it; the servername; the code's options kept", async () => {
    expect((await client({ STOCKING_PORT: "1", STOCKING_TLS: "true" })).tls).toStrictEqual({})
    expect((await client({ STOCKING_PORT: "1", STOCKING_TLS: "yes" })).tls).toStrictEqual({})
    expect((await client({ STOCKING_PORT: "1" }, { tls: true })).tls).toBe(true)
    expect((await client({ STOCKING_PORT: "1", STOCKING_TLS: "false" }, { tls: true })).tls).toBeUndefined()
    expect((await client({ STOCKING_PORT: "1", STOCKING_TLS: "0" }, { tls: { ca: "x" } })).tls).toBeUndefined()
    const ca = await client({ STOCKING_PORT: "1", STOCKING_TLS_CA: file("ca.pem") })
    expect(ca.tls).toStrictEqual({ ca: Buffer.from("contents of ca.pem") })
    // STOCKING_TLS=true beside STOCKING_TLS_CA (the environment holds both a value and children at STOCKING_TLS).
    const both = await client({ STOCKING_PORT: "1", STOCKING_TLS: "true", STOCKING_TLS_CA: file("ca.pem") })
    expect(both.tls).toStrictEqual({ ca: Buffer.from("contents of ca.pem") })
    // Files win over STOCKING_TLS=false.
    const off = await client({ STOCKING_PORT: "1", STOCKING_TLS: "false", STOCKING_TLS_CA: file("ca.pem") })
    expect(off.tls).toStrictEqual({ ca: Buffer.from("contents of ca.pem") })
    const mutual = await client(
      {
        STOCKING_PORT: "1",
        STOCKING_TLS_CERT: file("cert.pem"),
        STOCKING_TLS_KEY: file("key.pem"),
        STOCKING_TLS_SERVERNAME: "db.internal"
      },
      { tls: { rejectUnauthorized: false } }
    )
    expect(mutual.tls).toStrictEqual({
      rejectUnauthorized: false,
      cert: Buffer.from("contents of cert.pem"),
      key: Buffer.from("contents of key.pem"),
      servername: "db.internal"
    })
    expect((await client({ STOCKING_PORT: "1", STOCKING_TLS_SERVERNAME: "db.internal" })).tls).toStrictEqual({
      servername: "db.internal"
    })
  })

  it("durations: a negative one is zero, as on the Effect 3 line; the code's stays when none is set", async () => {
    expect(millis((await client({ STOCKING_PORT: "1", STOCKING_CLOSE_TIMEOUT: "-5 seconds" })).closeTimeout)).toBe(0)
    expect((await client({ STOCKING_PORT: "1" }, { connectTimeout: "2 seconds" })).connectTimeout).toBe("2 seconds")
  })

  it("types: the result of a line's settings type is its options type (how Stocking.optionsFromConfig wires it)", async () => {
    // A stand-in for the Effect 4 `Stocking.Settings` and `Stocking.Options` (a target plus settings).
    interface Settings extends config.ClientFields {
      readonly codec?: { readonly name: string } | undefined
    }
    type Options = (
      | { readonly socket: object }
      | { readonly host?: string | undefined; readonly port: number }
      | { readonly path: string }
    ) &
      Settings
    const optionsFromConfig = (
      settings?: config.ClientSettings<Settings>
    ): Effect.Effect<Options, Config.ConfigError> => config.clientOptions(settings)
    const options = await Effect.runPromise(
      optionsFromConfig({ codec: { name: "json" }, port: 1 }).pipe(withEnv({ STOCKING_PORT: "2" }))
    )
    expect(options).toStrictEqual({ codec: { name: "json" }, host: "localhost", port: 2, tls: undefined })
  })

  it("nests under the prefix with any provider: an object from ConfigProvider.fromUnknown", async () => {
    const provider = ConfigProvider.fromUnknown({ APP: { HOST: "h", PORT: "7000", MAX_MESSAGE_SIZE: "16" } })
    const options = await Effect.runPromise(
      Effect.provideService(config.clientOptions({ prefix: "APP" }), ConfigProvider.ConfigProvider, provider)
    )
    expect(options).toStrictEqual({ host: "h", port: 7000, maxMessageSize: 16, tls: undefined })
  })
})

describe("server options from Config", () => {
  it("reads every variable under STOCKING_SERVER_", async () => {
    const options = await server({
      STOCKING_SERVER_HOST: "0.0.0.0",
      STOCKING_SERVER_PORT: "0",
      STOCKING_SERVER_BACKLOG: "128",
      STOCKING_SERVER_MAX_CONNECTIONS: "7",
      STOCKING_SERVER_MAX_TOTAL_BYTES: "1048576",
      STOCKING_SERVER_HANDSHAKE_TIMEOUT: "3 seconds",
      STOCKING_SERVER_IDLE_TIMEOUT: "5 minutes",
      STOCKING_SERVER_CLOSE_TIMEOUT: "1 second",
      STOCKING_SERVER_MAX_MESSAGE_SIZE: "16",
      STOCKING_SERVER_MAX_BUFFERED_MESSAGES: "2",
      STOCKING_SERVER_MAX_BUFFERED_BYTES: "3",
      STOCKING_SERVER_MAX_QUEUED_MESSAGES: "4",
      STOCKING_SERVER_MAX_QUEUED_BYTES: "5"
    })
    expect(options).toMatchObject({
      host: "0.0.0.0",
      port: 0,
      backlog: 128,
      maxConnections: 7,
      maxTotalBytes: 1048576,
      maxMessageSize: 16,
      maxBufferedMessages: 2,
      maxBufferedBytes: 3,
      maxQueuedMessages: 4,
      maxQueuedBytes: 5
    })
    expect(millis(options.handshakeTimeout)).toBe(3000)
    expect(millis(options.idleTimeout)).toBe(300_000)
    expect(millis(options.closeTimeout)).toBe(1000)
  })

  it("defaults: host 127.0.0.1, no TLS, and nothing else set (the server's own defaults apply)", async () => {
    expect(await server({ STOCKING_SERVER_PORT: "7000" })).toStrictEqual({ host: "127.0.0.1", port: 7000 })
  })

  it("maxConnections and maxTotalBytes are read through Config; the code's backlog stays when none is set", async () => {
    const options = await server(
      { STOCKING_SERVER_MAX_CONNECTIONS: "7", STOCKING_SERVER_MAX_TOTAL_BYTES: "1048576" },
      { port: 0, backlog: 3 }
    )
    expect(options).toStrictEqual({
      host: "127.0.0.1",
      port: 0,
      backlog: 3,
      maxConnections: 7,
      maxTotalBytes: 1048576
    })
  })

  it("types: the result of a line's settings type is its options type (how Server.optionsFromConfig wires it)", async () => {
    // A stand-in for the Effect 4 `Server.Options`: where to listen (the backlog with it), plus the settings.
    interface Settings extends config.ServerFields {
      readonly codec?: { readonly name: string } | undefined
    }
    type Options = (
      | { readonly port: number; readonly host?: string | undefined; readonly backlog?: number | undefined }
      | {
          readonly path: string
          readonly backlog?: number | undefined
          readonly removeStale?: boolean | undefined
          readonly mode?: number | undefined
        }
    ) &
      Omit<Settings, "backlog">
    const optionsFromConfig = (
      settings?: config.ServerSettings<Settings>
    ): Effect.Effect<Options, Config.ConfigError> => config.serverOptions(settings)
    const options = await Effect.runPromise(
      optionsFromConfig({ codec: { name: "json" }, path: "/run/a.sock", mode: 0o600 }).pipe(withEnv({}))
    )
    expect(options).toStrictEqual({ codec: { name: "json" }, path: "/run/a.sock", mode: 0o600 })
  })

  it("a path from the variables replaces the code's port", async () => {
    const unix = await server({ STOCKING_SERVER_PATH: "/tmp/x.sock" }, { port: 0 })
    expect(unix).toStrictEqual({ path: "/tmp/x.sock" })
  })

  it("a Unix socket path: STOCKING_SERVER_REMOVE_STALE and STOCKING_SERVER_MODE (octal), or from code", async () => {
    const fromEnv = await server({
      STOCKING_SERVER_PATH: "/run/app.sock",
      STOCKING_SERVER_REMOVE_STALE: "true",
      STOCKING_SERVER_MODE: "0660"
    })
    expect(fromEnv).toStrictEqual({ path: "/run/app.sock", removeStale: true, mode: 0o660 })
    const code = { path: "/run/code.sock", removeStale: true, mode: 0o600 }
    expect(await server({}, code)).toStrictEqual({ path: "/run/code.sock", removeStale: true, mode: 0o600 })
    expect(await server({ STOCKING_SERVER_MODE: "0o640" }, code)).toMatchObject({ mode: 0o640, removeStale: true })
    expect(await server({ STOCKING_SERVER_MODE: "600", STOCKING_SERVER_REMOVE_STALE: "no" }, code)).toMatchObject({
      mode: 0o600,
      removeStale: false
    })
    // The code's Unix options do not follow a port.
    expect(await server({ STOCKING_SERVER_PORT: "7000" }, code)).toStrictEqual({ host: "127.0.0.1", port: 7000 })
  })

  it("TLS from files: certificate and key; a CA asks clients for certificates", async () => {
    const tls = await server({
      STOCKING_SERVER_PORT: "0",
      STOCKING_SERVER_TLS_CERT: file("cert.pem"),
      STOCKING_SERVER_TLS_KEY: file("key.pem")
    })
    expect(tls.tls).toStrictEqual({
      cert: Buffer.from("contents of cert.pem"),
      key: Buffer.from("contents of key.pem")
    })
    const mutual = await server({
      STOCKING_SERVER_PORT: "0",
      STOCKING_SERVER_TLS_CERT: file("cert.pem"),
      STOCKING_SERVER_TLS_KEY: file("key.pem"),
      STOCKING_SERVER_TLS_CA: file("ca.pem")
    })
    expect(mutual.tls).toStrictEqual({
      cert: Buffer.from("contents of cert.pem"),
      key: Buffer.from("contents of key.pem"),
      ca: Buffer.from("contents of ca.pem"),
      requestCert: true,
      rejectUnauthorized: true
    })
    // A CA alone, over the code's certificate and key.
    const overCode = await server(
      { STOCKING_SERVER_PORT: "0", STOCKING_SERVER_TLS_CA: file("ca.pem") },
      { tls: { cert: "c", key: "k" } }
    )
    expect(overCode.tls).toStrictEqual({
      cert: "c",
      key: "k",
      ca: Buffer.from("contents of ca.pem"),
      requestCert: true,
      rejectUnauthorized: true
    })
  })
})

describe("what a value that does not do says", () => {
  it("a missing target names both variables", async () => {
    const error = await failure(config.clientOptions(), {})
    expect(error).toBeInstanceOf(Config.ConfigError)
    expect(error._tag).toBe("ConfigError")
    expect(String(error)).toContain(
      at("Expected STOCKING_PORT (or STOCKING_PATH, a Unix socket) to be set", "STOCKING", "PORT")
    )
    expect(await serverError({})).toContain(
      at("Expected STOCKING_SERVER_PORT (or STOCKING_SERVER_PATH, a Unix socket) to be set", "STOCKING_SERVER", "PORT")
    )
    expect(await clientError({}, { prefix: "APP" })).toContain("Expected APP_PORT (or APP_PATH, a Unix socket)")
  })

  it("ports: what was received and which numbers are taken (the README's example)", async () => {
    expect(await clientError({ STOCKING_PORT: "abc" })).toBe(
      `ConfigError(SchemaError(${at('Expected a whole number from 1 to 65535, not "abc"', "STOCKING", "PORT")}))`
    )
    expect(await serverError({ STOCKING_SERVER_PORT: "abc" })).toContain(
      at('Expected a whole number from 0 to 65535, not "abc"', "STOCKING_SERVER", "PORT")
    )
    expect(await clientError({ STOCKING_PORT: "70000" })).toContain(
      at('Expected a whole number from 1 to 65535, not "70000"', "STOCKING", "PORT")
    )
    expect(await clientError({ STOCKING_PORT: "0" })).toContain('from 1 to 65535, not "0"')
    expect(await clientError({ STOCKING_PORT: "80.5" })).toContain('from 1 to 65535, not "80.5"')
  })

  it("every whole-number variable", async () => {
    for (const name of [
      "MAX_MESSAGE_SIZE",
      "MAX_BUFFERED_MESSAGES",
      "MAX_BUFFERED_BYTES",
      "MAX_QUEUED_MESSAGES",
      "MAX_QUEUED_BYTES"
    ]) {
      expect(await clientError({ STOCKING_PORT: "7000", [`STOCKING_${name}`]: "lots" })).toContain(
        at('Expected a whole number, 1 or more, not "lots"', "STOCKING", name)
      )
      expect(await serverError({ STOCKING_SERVER_PORT: "0", [`STOCKING_SERVER_${name}`]: "0" })).toContain(
        at('Expected a whole number, 1 or more, not "0"', "STOCKING_SERVER", name)
      )
    }
    for (const name of ["BACKLOG", "MAX_CONNECTIONS"]) {
      expect(await serverError({ STOCKING_SERVER_PORT: "0", [`STOCKING_SERVER_${name}`]: "0" })).toContain(
        at('Expected a whole number from 1 to 2147483647, not "0"', "STOCKING_SERVER", name)
      )
    }
    expect(await serverError({ STOCKING_SERVER_PORT: "0", STOCKING_SERVER_MAX_TOTAL_BYTES: "1.5" })).toContain(
      at('Expected a whole number, 1 or more, not "1.5"', "STOCKING_SERVER", "MAX_TOTAL_BYTES")
    )
  })

  it("every duration variable", async () => {
    for (const name of ["CONNECT_TIMEOUT", "HANDSHAKE_TIMEOUT", "IDLE_TIMEOUT", "CLOSE_TIMEOUT"]) {
      expect(await clientError({ STOCKING_PORT: "7000", [`STOCKING_${name}`]: "soon" })).toContain(
        at('Expected a duration but received "soon"', "STOCKING", name)
      )
    }
    for (const name of ["HANDSHAKE_TIMEOUT", "IDLE_TIMEOUT", "CLOSE_TIMEOUT"]) {
      expect(await serverError({ STOCKING_SERVER_PORT: "0", [`STOCKING_SERVER_${name}`]: "5" })).toContain(
        at('Expected a duration but received "5"', "STOCKING_SERVER", name)
      )
    }
    // Not a setting the Effect 3 line takes either: leave the variable unset for no limit.
    expect(await clientError({ STOCKING_PORT: "7000", STOCKING_IDLE_TIMEOUT: "Infinity" })).toContain(
      'Expected a duration but received "Infinity"'
    )
  })

  it("flags", async () => {
    expect(await clientError({ STOCKING_PORT: "7000", STOCKING_TLS: "maybe" })).toContain(
      at('Expected a boolean value but received "maybe"', "STOCKING", "TLS")
    )
    expect(
      await serverError({ STOCKING_SERVER_PATH: "/run/app.sock", STOCKING_SERVER_REMOVE_STALE: "sure" })
    ).toContain(at('Expected a boolean value but received "sure"', "STOCKING_SERVER", "REMOVE_STALE"))
  })

  it("targets that do not go together", async () => {
    expect(await clientError({ STOCKING_PORT: "7000", STOCKING_PATH: "/tmp/s" })).toContain(
      at("set STOCKING_PORT or STOCKING_PATH, not both", "STOCKING", "PATH")
    )
    expect(await serverError({ STOCKING_SERVER_PORT: "7000", STOCKING_SERVER_PATH: "/tmp/s" })).toContain(
      "set STOCKING_SERVER_PORT or STOCKING_SERVER_PATH, not both"
    )
    expect(await clientError({ STOCKING_PATH: "/tmp/s", STOCKING_HOST: "h" })).toContain(
      at("STOCKING_HOST does not go with a Unix socket path", "STOCKING", "HOST")
    )
  })

  it("a file mode, and the Unix options with a port", async () => {
    expect(await serverError({ STOCKING_SERVER_PATH: "/run/app.sock", STOCKING_SERVER_MODE: "rw-------" })).toContain(
      at('Expected an octal file mode from 0 to 777 (600, 0600 or 0o600), not "rw-------"', "STOCKING_SERVER", "MODE")
    )
    expect(await serverError({ STOCKING_SERVER_PATH: "/run/app.sock", STOCKING_SERVER_MODE: "1777" })).toContain(
      'octal file mode from 0 to 777 (600, 0600 or 0o600), not "1777"'
    )
    expect(await serverError({ STOCKING_SERVER_PORT: "7000", STOCKING_SERVER_MODE: "600" })).toContain(
      at(
        "STOCKING_SERVER_MODE goes with a Unix socket path (STOCKING_SERVER_PATH), not a port",
        "STOCKING_SERVER",
        "MODE"
      )
    )
    expect(await serverError({ STOCKING_SERVER_PORT: "7000", STOCKING_SERVER_REMOVE_STALE: "true" })).toContain(
      "STOCKING_SERVER_REMOVE_STALE goes with a Unix socket path (STOCKING_SERVER_PATH), not a port"
    )
  })

  it("TLS files: unreadable, or a certificate without its key", async () => {
    expect(await clientError({ STOCKING_PORT: "7000", STOCKING_TLS_CA: "/nonexistent/ca.pem" })).toMatch(
      /cannot read the file "\/nonexistent\/ca\.pem" named by STOCKING_TLS_CA: .*ENOENT[^]*at \["STOCKING"\]\["TLS_CA"\]/
    )
    expect(
      await serverError({
        STOCKING_SERVER_PORT: "0",
        STOCKING_SERVER_TLS_CERT: file("cert.pem"),
        STOCKING_SERVER_TLS_KEY: "/nonexistent/key.pem"
      })
    ).toContain('cannot read the file "/nonexistent/key.pem" named by STOCKING_SERVER_TLS_KEY')
    expect(await serverError({ STOCKING_SERVER_PORT: "0", STOCKING_SERVER_TLS_CERT: "c.pem" })).toContain(
      at("a TLS server needs both STOCKING_SERVER_TLS_CERT and STOCKING_SERVER_TLS_KEY", "STOCKING_SERVER", "TLS_KEY")
    )
    expect(await serverError({ STOCKING_SERVER_PORT: "0", STOCKING_SERVER_TLS_KEY: "k.pem" })).toContain(
      at("a TLS server needs both STOCKING_SERVER_TLS_CERT and STOCKING_SERVER_TLS_KEY", "STOCKING_SERVER", "TLS_CERT")
    )
    expect(await serverError({ STOCKING_SERVER_PORT: "0", STOCKING_SERVER_TLS_CA: file("ca.pem") })).toContain(
      "STOCKING_SERVER_TLS_CA asks clients for certificates, which needs TLS: set STOCKING_SERVER_TLS_CERT and STOCKING_SERVER_TLS_KEY"
    )
    expect(await clientError({ STOCKING_PORT: "7000", STOCKING_TLS_KEY: "k.pem" })).toContain(
      at("STOCKING_TLS_CERT and STOCKING_TLS_KEY go together", "STOCKING", "TLS_CERT")
    )
  })
})

describe("backends from Config", () => {
  it("STOCKING_SELECT_SEND_INTERVAL: seconds, default 0.5", async () => {
    const interval = (vars: Record<string, string>) => Effect.runPromise(config.intervalConfig.pipe(withEnv(vars)))
    expect(Duration.toMillis(await interval({}))).toBe(500)
    expect(Duration.toMillis(await interval({ STOCKING_SELECT_SEND_INTERVAL: "0.05" }))).toBe(50)
    expect(Duration.toMillis(await interval({ STOCKING_SELECT_SEND_INTERVAL: "0" }))).toBe(0)
    expect(Duration.toMillis(await interval({ STOCKING_SELECT_SEND_INTERVAL: "2" }))).toBe(2000)
    // Read with Config's own parse too, from any provider.
    const parsed = await Effect.runPromise(
      config.intervalConfig.parse(ConfigProvider.fromUnknown({ STOCKING_SELECT_SEND_INTERVAL: "0.25" }))
    )
    expect(Duration.toMillis(parsed)).toBe(250)
  })

  it("an invalid STOCKING_SELECT_SEND_INTERVAL fails with a ConfigError naming the variable and the value", async () => {
    const error = (value: string) =>
      failure(config.intervalConfig, { STOCKING_SELECT_SEND_INTERVAL: value }).then(String)
    expect(await error("fast")).toContain(
      at('Expected a number value but received "fast"', "STOCKING_SELECT_SEND_INTERVAL")
    )
    expect(await error("-1")).toContain(
      at('expected a non-negative number of seconds, such as 0.5, not "-1"', "STOCKING_SELECT_SEND_INTERVAL")
    )
    expect(await error("Infinity")).toContain('such as 0.5, not "Infinity"')
    expect(await failure(config.intervalConfig, { STOCKING_SELECT_SEND_INTERVAL: "fast" })).toBeInstanceOf(
      Config.ConfigError
    )
  })

  it("STOCKING_BACKEND: poll, select or auto (default); anything else fails, naming the variable", async () => {
    const choice = (vars: Record<string, string>) => Effect.runPromise(config.backendConfig.pipe(withEnv(vars)))
    expect(await choice({})).toBe("auto")
    expect(await choice({ STOCKING_BACKEND: "poll" })).toBe("poll")
    expect(await choice({ STOCKING_BACKEND: "select" })).toBe("select")
    expect(await choice({ STOCKING_BACKEND: "auto" })).toBe("auto")
    expect(String(await failure(config.backendConfig, { STOCKING_BACKEND: "epoll" }))).toContain(
      at('Expected one of (poll, select, auto) but received "epoll"', "STOCKING_BACKEND")
    )
  })

  it("the variables' names are the Effect 3 line's", () => {
    expect(config.INTERVAL_VARIABLE).toBe("STOCKING_SELECT_SEND_INTERVAL")
    expect(config.BACKEND_VARIABLE).toBe("STOCKING_BACKEND")
    expect(config.DEFAULT_CLIENT_PREFIX).toBe("STOCKING")
    expect(config.DEFAULT_SERVER_PREFIX).toBe("STOCKING_SERVER")
  })
})

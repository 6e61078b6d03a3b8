/**
 * The Effect 4 line's Stocking over real loopback sockets: both backends,
 * every read and write member, the handshake's NotReady, the close.
 * The peer is a plain `node:net` echo server: the wire format echoed byte
 * for byte comes back as the same messages.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as net from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Backend from "../../src/effect4/Backend/Backend.js"
import * as Poll from "../../src/effect4/Backend/Poll.js"
import * as Select from "../../src/effect4/Backend/Select.js"
import * as Stocking from "../../src/effect4/Stocking.js"

let echo: net.Server
let port = 0

beforeAll(async () => {
  echo = net.createServer((socket) => socket.pipe(socket))
  await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve))
  port = (echo.address() as net.AddressInfo).port
})

afterAll(async () => {
  await new Promise<void>((resolve) => echo.close(() => resolve()))
})

const backends = [
  ["poll", Poll.backend],
  ["select", Select.make("5 millis")]
] as const

const run = <A, E>(effect: Effect.Effect<A, E, import("effect/Scope").Scope>, backend: Backend.Backend) =>
  Effect.runPromise(Effect.scoped(effect).pipe(Effect.provideService(Backend.Backend, backend)))

describe.each(backends)("effect4 Stocking (%s)", (name, backend) => {
  it("echoes text and bytes as themselves, in order", async () => {
    const got = await run(
      Effect.gen(function* () {
        const stocking = yield* Stocking.make({ host: "127.0.0.1", port })
        expect(stocking.backend).toBe(name)
        yield* stocking.write("hello")
        yield* stocking.write(new Uint8Array([1, 2, 3]))
        yield* stocking.writeAll(["a", "", "c"])
        const out: Array<Stocking.Message> = []
        for (let i = 0; i < 5; i++) out.push(yield* stocking.take)
        return out
      }),
      backend
    )
    expect(got).toEqual(["hello", new Uint8Array([1, 2, 3]), "a", "", "c"])
    expect(typeof got[0]).toBe("string")
    expect(got[1]).toBeInstanceOf(Uint8Array)
  })

  it("batch reads give arrays; read gives None when nothing has arrived", async () => {
    const [none, batch, all] = await run(
      Effect.gen(function* () {
        const stocking = yield* Stocking.make({ host: "127.0.0.1", port })
        const none = yield* stocking.read
        yield* stocking.writeAll(["1", "2", "3"])
        yield* stocking.flushed
        const batch: Array<Stocking.Message> = []
        while (batch.length < 3) batch.push(...(yield* stocking.takeBatch))
        const all = yield* stocking.takeAll
        return [none, batch, all] as const
      }),
      backend
    )
    expect(Option.isNone(none)).toBe(true)
    expect(batch).toEqual(["1", "2", "3"])
    expect(Array.isArray(all)).toBe(true)
    expect(all).toEqual([])
  })

  it("the sink writes a stream, and messages reads it back", async () => {
    const items = Array.from({ length: 200 }, (_, i) => `m${i}`)
    const got = await run(
      Effect.gen(function* () {
        const stocking = yield* Stocking.make({ host: "127.0.0.1", port })
        yield* Stream.run(Stream.fromIterable(items), stocking.sink)
        return yield* Stream.runCollect(Stream.take(stocking.messages, items.length))
      }),
      backend
    )
    expect(Array.from(got)).toEqual(items)
  })

  it("a large message arrives whole", async () => {
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251)
    const got = await run(
      Effect.gen(function* () {
        const stocking = yield* Stocking.make({ host: "127.0.0.1", port })
        yield* stocking.write(big)
        return yield* stocking.take
      }),
      backend
    )
    // Compared as Buffers: a deep equality over 3 MiB takes seconds.
    expect(got).toBeInstanceOf(Uint8Array)
    expect(Buffer.compare(Buffer.from(got as Uint8Array), Buffer.from(big))).toBe(0)
  })

  it("reads and writes fail with NotReady until the handshake succeeds", async () => {
    const result = await run(
      Effect.gen(function* () {
        const stocking = yield* Stocking.make({
          host: "127.0.0.1",
          port,
          handshake: (raw) =>
            Effect.gen(function* () {
              yield* raw.write("hi")
              return (yield* raw.take) === "hi"
            })
        })
        const early = yield* Effect.flip(stocking.write("too early"))
        yield* stocking.ready
        yield* stocking.write("after")
        return [early, yield* stocking.take, yield* stocking.handshakeComplete] as const
      }),
      backend
    )
    expect(result[0]._tag).toBe("NotReady")
    expect(result[1]).toBe("after")
    expect(result[2]).toBe(true)
  })

  it("closes: reads fail with a clean Closed, isActive turns false", async () => {
    const [closed, active] = await run(
      Effect.gen(function* () {
        const stocking = yield* Stocking.make({ host: "127.0.0.1", port })
        yield* stocking.close
        const closed = yield* Effect.flip(stocking.take)
        return [closed, yield* stocking.isActive] as const
      }),
      backend
    )
    expect(closed._tag).toBe("Closed")
    expect(active).toBe(false)
  })
})

describe("effect4 Stocking: connect errors", () => {
  it("a refused connection is a ConnectError saying where", async () => {
    const server = net.createServer()
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const closedPort = (server.address() as net.AddressInfo).port
    await new Promise<void>((resolve) => server.close(() => resolve()))
    const error = await Effect.runPromise(
      Effect.scoped(Effect.flip(Stocking.make({ host: "127.0.0.1", port: closedPort })))
    )
    expect(error._tag).toBe("ConnectError")
    expect(error.message).toContain(String(closedPort))
  })
})

describe("effect4 Stocking: Config", () => {
  it("layerConfig connects where the variables say", async () => {
    const { ConfigProvider } = await import("effect")
    const got = await Effect.runPromise(
      Effect.gen(function* () {
        const stocking = yield* Stocking.Stocking
        yield* stocking.write("configured")
        return yield* stocking.take
      }).pipe(
        Effect.provide(Stocking.layerConfig()),
        Effect.provideService(
          ConfigProvider.ConfigProvider,
          ConfigProvider.fromUnknown({ STOCKING: { HOST: "127.0.0.1", PORT: String(port) } })
        )
      )
    )
    expect(got).toBe("configured")
  })

  it("a bad port says what it received and what it expected", async () => {
    const { ConfigProvider } = await import("effect")
    const error = await Effect.runPromise(
      Effect.flip(Stocking.optionsFromConfig()).pipe(
        Effect.provideService(
          ConfigProvider.ConfigProvider,
          ConfigProvider.fromUnknown({ STOCKING: { HOST: "127.0.0.1", PORT: "abc" } })
        )
      )
    )
    expect(String(error)).toContain('Expected a whole number from 1 to 65535, not "abc"')
  })
})

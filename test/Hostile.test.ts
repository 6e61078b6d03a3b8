import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Stream } from "effect"
import { spawn } from "node:child_process"
import { Framing } from "../src/index.js"
import { Server } from "../src/node.js"
import { heldBytes } from "./utils/memory.js"

const tcpPort = (server: Server.Server<any, any, any>) => (server.address._tag === "Tcp" ? server.address.port : 0)

/** Byte `i` of the dripped payload. */
const byteAt = (i: number) => (i * 7 + (i >> 10)) & 0xff

/**
 * A hostile peer in a child process (so its own buffers do not count in this
 * process's memory): connects to `port` and sends `header`. Then, for each
 * byte it reads: a 1 asks for the next `piece` bytes of the payload (one
 * write, Nagle off, so each piece leaves at once), a 2 for the rest of the
 * `size`-byte payload in one write.
 */
const dripper = (port: number, header: Uint8Array, size: number, dripped: number, piece: number) => {
  const script = `
    const net = require("node:net")
    const [port, header, size, dripped, piece] = process.argv.slice(1)
    const byteAt = ${byteAt.toString()}
    const socket = net.connect(Number(port), "127.0.0.1", () => socket.write(Buffer.from(header, "hex")))
    socket.setNoDelay(true)
    socket.on("error", () => process.exit(0))
    socket.on("close", () => process.exit(0))
    let sent = 0
    const drip = () => {
      const n = Math.min(Number(piece), Number(dripped) - sent)
      const bytes = Buffer.allocUnsafe(n)
      for (let k = 0; k < n; k++) bytes[k] = byteAt(sent + k)
      socket.write(bytes)
      sent += n
    }
    const rest = () => {
      const bytes = Buffer.allocUnsafe(Number(size) - sent)
      for (let k = 0; k < bytes.length; k++) bytes[k] = byteAt(sent + k)
      socket.write(bytes)
    }
    socket.on("data", (chunk) => {
      for (let i = 0; i < chunk.length; i++) (chunk[i] === 1 ? drip : rest)()
    })
  `
  const hex = Buffer.from(header).toString("hex")
  return Effect.acquireRelease(
    Effect.sync(() =>
      spawn(process.execPath, ["-e", script, String(port), hex, String(size), String(dripped), String(piece)], {
        stdio: "ignore"
      })
    ),
    (child) => Effect.sync(() => child.kill())
  )
}

describe("Hostile peers: drip-fed messages", () => {
  it.scopedLive(
    "a 16 MiB message dripped in tiny writes through a real socket: the server holds less than twice what arrived",
    () =>
      Effect.gen(function* () {
        const size = 16 * 1024 * 1024
        const dripped = 2 * 1024 * 1024
        const piece = 32
        const header = Framing.encodeHeader("bytes", size)
        const server = yield* Server.make({ port: 0 })
        yield* dripper(tcpPort(server), header, size, dripped, piece)
        const stocking = Option.getOrThrow(yield* Stream.runHead(server.connections))
        // Count what reaches the server's socket, chunk by chunk, and ask for the next piece after each
        // one: in lockstep, every piece is a chunk of its own. (Raw bytes on the socket: the Stocking
        // itself writes nothing here.)
        let chunks = 0
        let received = 0
        const socket = stocking.socket
        socket.on("data", (chunk: Uint8Array) => {
          chunks++
          received += chunk.length
          if (received < header.length + dripped) socket.write(Uint8Array.of(1))
        })
        while (received < header.length) yield* Effect.sleep("5 millis")
        const before = heldBytes()
        socket.write(Uint8Array.of(1))
        while (received < header.length + dripped) yield* Effect.sleep("20 millis")
        const growth = heldBytes() - before
        assert.isAbove(chunks, 10_000, `the drip arrived in ${chunks} chunks: too few to tell`)
        assert.isBelow(
          growth,
          2 * dripped,
          `held ${growth} bytes for ${dripped} payload bytes received in ${chunks} chunks`
        )
        // The rest in one write: the message arrives whole and exact.
        socket.write(Uint8Array.of(2))
        const message = (yield* stocking.take) as Uint8Array
        assert.strictEqual(message.length, size)
        let wrong = 0
        for (let i = 0; i < size; i += 997) if (message[i] !== byteAt(i)) wrong++
        assert.strictEqual(wrong, 0)
      }),
    60_000
  )
})

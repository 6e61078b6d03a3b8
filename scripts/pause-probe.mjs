// How much a server socket still reads after `socket.pause()` while its peer
// keeps writing: bare node:net, no library; run it under each runtime.
//
//   node scripts/pause-probe.mjs [mode] [peers] [MiB per peer] [ms before listening]
//   .runtimes/<bun>/bin/bun scripts/pause-probe.mjs ...
//   .runtimes/<deno>/deno run -A scripts/pause-probe.mjs ...
//
// Each connection is paused at its first chunk, the way the library pauses
// one whose next message the budget refuses. mode:
//   pause         socket.pause() in the 'data' listener (what Node and Deno need)
//   handle        the same, plus the native handle's own pause() where it has one (Bun's)
//   handle-again  the same, and the handle paused again after the stream's ticks
//                 (setImmediate): what src/internal/inbound.ts does
//   hwm0          pause, on a server made with { highWaterMark: 0 }
//   none          never pauses (everything offered arrives)
// Peers (default 32) run in a child process of the same runtime, so memory
// figures are the server's own; each writes its MiB (default 1) in 64 KiB
// writes, waiting for 'drain'. The connection's listener is attached after
// the given delay (default 0; the library attaches its own a little later).
//
// Columns (MiB, totals over connections): written by the peers (write
// callbacks); read by the server (socket.bytesRead); of that, read after
// pause(); delivered through 'data' after pause(); readableLength (read, not
// delivered: in the stream's buffer); how many are isPaused(), and
// readableFlowing; the server's growth in rss, heapUsed, external and
// arrayBuffers after a full GC.
import { spawn } from "node:child_process"
import * as net from "node:net"
import * as v8 from "node:v8"
import * as vm from "node:vm"

const MiB = 1024 * 1024
const runtime =
  typeof globalThis.Bun !== "undefined"
    ? `bun ${globalThis.Bun.version}`
    : typeof globalThis.Deno !== "undefined"
      ? `deno ${globalThis.Deno.version.deno}`
      : `node ${process.version}`

if (process.argv[2] === "peer") {
  const [port, peers, perPeer] = process.argv.slice(3).map(Number)
  const chunk = Buffer.alloc(64 * 1024, 1)
  let written = 0
  for (let i = 0; i < peers; i++) {
    const socket = net.createConnection({ port, host: "127.0.0.1" }, () => {
      let queued = 0
      const pump = () => {
        while (queued < perPeer) {
          queued += chunk.length
          if (!socket.write(chunk, () => (written += chunk.length))) return void socket.once("drain", pump)
        }
      }
      pump()
    })
    socket.on("error", () => {})
  }
  setInterval(() => process.send?.({ written }), 50)
  process.on("disconnect", () => process.exit(0))
} else {
  const mode = process.argv[2] ?? "pause"
  const peers = Number(process.argv[3] ?? 32)
  const perPeer = Number(process.argv[4] ?? 1) * MiB
  const late = Number(process.argv[5] ?? 0)

  const gc = (() => {
    if (typeof globalThis.Bun !== "undefined") return () => globalThis.Bun.gc(true)
    if (typeof globalThis.gc === "function") return globalThis.gc
    v8.setFlagsFromString("--expose-gc")
    return vm.runInNewContext("gc")
  })()
  const memory = () => {
    gc()
    gc()
    return process.memoryUsage()
  }

  const connections = []
  let largest = 0
  const server = net.createServer(mode === "hwm0" ? { highWaterMark: 0 } : {}, (socket) => {
    const c = { socket, readAtPause: -1, deliveredAfterPause: 0, kept: [] }
    connections.push(c)
    const onChunk = (chunk) => {
      largest = Math.max(largest, chunk.length)
      // Kept, as the library keeps (and charges) what arrives while it is paused.
      c.kept.push(chunk)
      if (c.readAtPause >= 0) c.deliveredAfterPause += chunk.length
      else if (mode !== "none") {
        c.readAtPause = socket.bytesRead
        socket.pause()
        if (mode.startsWith("handle")) socket._handle?.pause?.()
        if (mode === "handle-again") setImmediate(() => socket.isPaused() && socket._handle?.pause?.())
      }
    }
    const listen = () => socket.on("data", onChunk)
    if (late > 0) setTimeout(listen, late)
    else listen()
    socket.on("error", () => {})
  })

  const base = memory()
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address()
    const child = spawn(process.execPath, [process.argv[1], "peer", String(port), String(peers), String(perPeer)], {
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    let written = 0
    child.on("message", (m) => (written = m.written))
    const f = (n) => (n / MiB).toFixed(2).padStart(7)
    const sum = (g) => connections.reduce((n, c) => n + g(c), 0)
    console.log(
      `${runtime}: mode ${mode}, ${peers} peers writing ${perPeer / MiB} MiB each, listening after ${late} ms`
    )
    console.log("     t written    read  r.after d.after readableLen paused flowing     rss+    heap+    ext+    arrB+")
    const start = Date.now()
    let samples = 0
    const timer = setInterval(() => {
      const m = memory()
      const paused = connections.filter((c) => c.socket.isPaused()).length
      const flowing = [...new Set(connections.map((c) => String(c.socket.readableFlowing)))].join("/")
      const t = ((Date.now() - start) / 1000).toFixed(1).padStart(6)
      const read = sum((c) => c.socket.bytesRead)
      const readAfter = sum((c) => (c.readAtPause >= 0 ? c.socket.bytesRead - c.readAtPause : 0))
      console.log(
        `${t} ${f(written)} ${f(read)} ${f(readAfter)} ${f(sum((c) => c.deliveredAfterPause))}     ${f(sum((c) => c.socket.readableLength))} ${String(paused).padStart(3)}/${connections.length} ${flowing.padStart(7)}  ${f(m.rss - base.rss)}  ${f(m.heapUsed - base.heapUsed)} ${f(m.external - base.external)} ${f(m.arrayBuffers - base.arrayBuffers)}`
      )
      if (++samples < 4) return
      clearInterval(timer)
      const readAfter1 = connections.map((c) => (c.readAtPause >= 0 ? c.socket.bytesRead - c.readAtPause : 0))
      console.log(
        `per connection after pause(): read at most ${(Math.max(...readAfter1) / 1024).toFixed(0)} KiB; largest chunk ${(largest / 1024).toFixed(0)} KiB; readableHighWaterMark ${connections[0]?.socket.readableHighWaterMark}`
      )
      child.kill()
      for (const c of connections) c.socket.destroy()
      server.close()
    }, 1000)
  })
}

/**
 * The client side of bench/accept.ts, in a process of its own so that the
 * server's CPU time and memory are measured alone. Told `{ port, clients }`
 * over IPC, it opens every connection at once (one `net.connect` after
 * another in one turn), sends each one 64 B message and waits for its echo,
 * then reports the timings; told `"close"`, it destroys every socket.
 */
import * as net from "node:net"
import { encode } from "../src/internal/framing.js"

interface Start {
  readonly port: number
  readonly clients: number
  /** Give up on the clients not served after this many milliseconds. */
  readonly timeout: number
}

/** What the child reports: per-client times in milliseconds, sorted, and the wall time. */
export interface Report {
  readonly connected: Array<number>
  readonly served: Array<number>
  readonly failed: number
  readonly wall: number
}

const REQUEST = encode(new Uint8Array(64).fill(7))

let sockets: Array<net.Socket> = []

const start = ({ clients, port, timeout }: Start): void => {
  const connected: Array<number> = []
  const served: Array<number> = []
  let failed = 0
  const t0 = performance.now()
  let reported = false
  const report = () => {
    if (reported) return
    reported = true
    clearTimeout(timer)
    process.send!({
      connected: connected.sort((a, b) => a - b),
      served: served.sort((a, b) => a - b),
      failed: clients - served.length,
      wall: performance.now() - t0
    } satisfies Report)
  }
  const timer = setTimeout(report, timeout)
  const settle = () => {
    if (served.length + failed === clients) report()
  }
  for (let i = 0; i < clients; i++) {
    const begun = performance.now()
    const socket = net.connect({ port, host: "127.0.0.1", noDelay: true })
    sockets.push(socket)
    let got = 0
    let done = false
    socket.on("connect", () => {
      connected.push(performance.now() - begun)
      socket.write(REQUEST)
    })
    socket.on("data", (chunk: Buffer) => {
      got += chunk.length
      if (!done && got >= REQUEST.length) {
        done = true
        served.push(performance.now() - begun)
        settle()
      }
    })
    socket.on("error", () => {
      if (!done) {
        done = true
        failed++
        settle()
      }
    })
  }
}

process.on("message", (message: Start | "close") => {
  if (message === "close") {
    const all = sockets
    sockets = []
    let open = all.length + 1
    const closed = () => {
      if (--open === 0) process.send!("closed")
    }
    for (const socket of all) {
      if (socket.closed) closed()
      else socket.once("close", closed)
      socket.destroy()
    }
    closed()
    return
  }
  start(message)
})

/**
 * The hostile peers of bench/peer-memory.ts, in a process of their own so
 * that only the server's memory is measured. Told `{ port, peers }` over IPC,
 * each peer connects, never reads (its socket stays paused), and sends what
 * the server's default limits let it park there: 511 messages of 64 KiB
 * (just under `maxBufferedBytes`, 32 MiB, so the server keeps reading), then
 * all but the last byte of a 16 MiB (`maxMessageSize`) message. Replies
 * "sent" once every byte has been handed to the kernel; told "close", it
 * destroys every socket and replies "closed".
 */
import * as net from "node:net"
import { encode, encodeHeader } from "../src/internal/framing.js"

export const MESSAGES = 511
export const MESSAGE_SIZE = 64 * 1024
export const PARTIAL_SIZE = 16 * 1024 * 1024

const sockets: Array<net.Socket> = []

const start = (port: number, peers: number): void => {
  const message = encode(new Uint8Array(MESSAGE_SIZE).fill(9))
  const header = encodeHeader("bytes", PARTIAL_SIZE)
  const partial = new Uint8Array(PARTIAL_SIZE - 1).fill(3)
  let pending = peers
  for (let i = 0; i < peers; i++) {
    const socket = net.connect({ port, host: "127.0.0.1" }, () => {
      socket.pause()
      for (let k = 0; k < MESSAGES; k++) socket.write(message)
      socket.write(header)
      socket.write(partial, () => {
        if (--pending === 0) process.send!("sent")
      })
    })
    socket.on("error", () => {})
    sockets.push(socket)
  }
}

process.on("message", (message: { port: number; peers: number } | "close") => {
  if (message !== "close") return start(message.port, message.peers)
  let open = sockets.length + 1
  const closed = () => {
    if (--open === 0) process.send!("closed")
  }
  for (const socket of sockets.splice(0)) {
    if (socket.closed) closed()
    else socket.once("close", closed)
    socket.destroy()
  }
  closed()
})

import { assert, describe, it } from "@effect/vitest"
import { spawn, type ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const viteNode = path.join(root, "node_modules", ".bin", "vite-node")

/** Runs an example the way the README says to, and returns its output once it exits. */
const run = (example: string, args: Array<string> = [], onStart?: (child: ChildProcess) => void) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(viteNode, [path.join("examples", example), "--", ...args], { cwd: root })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    child.on("error", reject)
    child.on("exit", (code) => resolve({ code, stdout, stderr }))
    onStart?.(child)
  })

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer()
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

/** The first `ts` block of a Markdown file (README.md by default) after `heading` whose code includes `marker`. */
const readmeBlock = (heading: string, marker = "", file = "README.md") => {
  const text = fs.readFileSync(path.join(root, file), "utf8")
  const at = text.indexOf(`${heading}\n`)
  if (at === -1) throw new Error(`${file} has no heading ${heading}`)
  const section = text.slice(at)
  const block = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).find((code) => code.includes(marker))
  if (block === undefined) throw new Error(`${file} has no ts block with ${JSON.stringify(marker)} after ${heading}`)
  return block
}

/** Runs a README block as a program of its own, its imports of the package pointed at src/. */
const runReadmeBlock = async (code: string) => {
  const file = path.join(root, "examples", `.readme-${process.pid}.ts`)
  fs.writeFileSync(
    file,
    code
      .replace(/"effect-stockings\/([A-Za-z]+)"/g, '"../src/$1.js"')
      .replace('"effect-stockings"', '"../src/index.js"')
  )
  try {
    return await run(path.basename(file))
  } finally {
    fs.rmSync(file, { force: true })
  }
}

describe("examples", () => {
  it("README's quick start works when pasted", async () => {
    const { code: exit, stdout, stderr } = await runReadmeBlock(readmeBlock("## Quick start"))
    assert.strictEqual(exit, 0, stderr)
    assert.strictEqual(stdout, "Test Message\nUint8Array(3) [ 1, 2, 3 ]\n")
  })

  it("docs/OBSERVABILITY.md's program exports spans and metrics through @effect/opentelemetry", async () => {
    const {
      code: exit,
      stdout,
      stderr
    } = await runReadmeBlock(readmeBlock("# Observability", "NodeSdk", "docs/OBSERVABILITY.md"))
    assert.strictEqual(exit, 0, stderr)
    // ConsoleSpanExporter prints each span, ConsoleMetricExporter each metric, when the program ends.
    assert.match(stdout, /name: 'stocking\.connect'/, stdout)
    assert.match(stdout, /name: 'stocking\.close'/, stdout)
    assert.match(stdout, /name: 'stockings_messages_sent_total'/, stdout)
  })

  it("demo.ts (npm start): handshake, Schema codec, a throughput figure, exit 0", async () => {
    const { code, stdout, stderr } = await run("demo.ts")
    assert.strictEqual(code, 0, stderr)
    assert.include(stdout, 'client got {"from":"server","text":"HELLO"}')
    assert.match(stdout, /throughput: 200000 messages of 64 B/)
    assert.notInclude(stdout + stderr, "WARN")
  })

  it("handshake.ts: ids are exchanged through raw frames before the Stocking is ready", async () => {
    const { code, stdout, stderr } = await run("handshake.ts")
    assert.strictEqual(code, 0, stderr)
    assert.include(stdout, "before ready: NotReady")
    assert.include(stdout, "client learned remote id: server-1")
    assert.include(stdout, "server learned remote id: client-7")
    assert.include(stdout, "reply: hello after handshake")
  })

  it("schema-codec.ts: typed values round trip, a bad message is a ParseError", async () => {
    const { code, stdout, stderr } = await run("schema-codec.ts")
    assert.strictEqual(code, 0, stderr)
    assert.include(stdout, "server read: Username is ERROR")
    assert.include(stdout, "server read: Other is OK")
    assert.include(stdout, "server rejected a message")
  })

  it("rpc.ts: @effect/rpc request/response and a streaming RPC over Stockings framing", async () => {
    const { code, stdout, stderr } = await run("rpc.ts")
    assert.strictEqual(code, 0, stderr)
    assert.include(stdout, "GetTodo(1): #1 darn the socks")
    assert.include(stdout, "Countdown(5): 5 4 3 2 1 0")
  })

  it("stream-to-stocking.ts: a Stream of 100,000 messages piped into a Stocking, all received", async () => {
    const { code, stdout, stderr } = await run("stream-to-stocking.ts")
    assert.strictEqual(code, 0, stderr)
    assert.match(stdout, /^queued 100000 messages in \d+ ms$/m)
    assert.include(stdout, "server: received 100000 messages")
  })

  it("typed-client.ts: Stocking.Tag and Server.Tag take their types from the codec", async () => {
    const { code, stdout, stderr } = await run("typed-client.ts")
    assert.strictEqual(code, 0, stderr)
    assert.strictEqual(stdout, "#0 darn the socks (done)\n#1 fold the laundry\n#2 buy more yarn\n")
  })

  it("server-layer.ts: Server.layerServe serves a client that gets its connection from a Layer", async () => {
    const { code, stdout, stderr } = await run("server-layer.ts")
    assert.strictEqual(code, 0, stderr)
    assert.strictEqual(stdout, "HELLO\nFROM A LAYER\n")
  })

  it("echo-server.ts and echo-client.ts talk to each other", async () => {
    const port = await freePort()
    let server: ChildProcess | undefined
    const serverDone = run("echo-server.ts", [String(port)], (child) => (server = child))
    // Wait until the server says it listens.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("echo server did not start")), 20_000)
      server!.stdout!.on("data", (d: Buffer) => {
        if (d.toString().includes("listening on")) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
    const client = await run("echo-client.ts", [String(port), "hello", "world"])
    assert.strictEqual(client.code, 0, client.stderr)
    assert.include(client.stdout, "echoed: hello")
    assert.include(client.stdout, "echoed: world")
    server!.kill("SIGINT")
    const done = await serverDone
    assert.include(done.stdout, ": hello")
  })
})

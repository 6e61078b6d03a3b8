import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Metric, Option, Scope, Stream, Tracer } from "effect"
import type { Context } from "effect"
import { Metrics, Server, Stocking } from "../src/node.js"
import { backends, pair } from "./utils/net.js"

const value = (metric: Metric.Metric.Counter<number> | Metric.Metric.Gauge<number>, role: Metrics.Role) =>
  Metric.value(Metric.taggedWithLabels(metric as Metric.Metric.Counter<number>, Metrics.roleLabel(role))).pipe(
    Effect.map((state) => ("count" in state ? state.count : (state as { value: number }).value))
  )

/** A tracer that records every ended span: name, attributes and outcome. */
const recordingTracer = () => {
  const ended: Array<{ name: string; attributes: Map<string, unknown>; ok: boolean }> = []
  let ids = 0
  const tracer = Tracer.make({
    span: (name, parent, context: Context.Context<never>, links, startTime, kind) => {
      const attributes = new Map<string, unknown>()
      const span: Tracer.Span = {
        _tag: "Span",
        name,
        spanId: `span-${++ids}`,
        traceId: "trace",
        parent,
        context,
        status: { _tag: "Started", startTime },
        attributes,
        links,
        sampled: true,
        kind,
        end: (_endTime, exit) => {
          ended.push({ name, attributes, ok: Exit.isSuccess(exit) })
        },
        attribute: (key, v) => void attributes.set(key, v),
        event: () => {},
        addLinks: () => {}
      }
      return span
    },
    context: (f) => f()
  })
  return { tracer, ended }
}

describe("Observability", () => {
  it.live("metrics count messages and bytes both ways, connections open, by role", () =>
    Effect.gen(function* () {
      const [, poll] = backends[0]!
      const before = {
        sent: yield* value(Metrics.messagesSent, "client"),
        received: yield* value(Metrics.messagesReceived, "wrapped"),
        bytesSent: yield* value(Metrics.bytesSent, "client"),
        bytesReceived: yield* value(Metrics.bytesReceived, "wrapped"),
        openClients: yield* value(Metrics.connectionsOpen, "client")
      }
      const scope = yield* Scope.make()
      const { client, server } = yield* pair(poll, poll).pipe(Scope.extend(scope))
      assert.strictEqual((yield* value(Metrics.connectionsOpen, "client")) - before.openClients, 1)
      yield* client.writeAll(["a", "bb", "ccc"])
      yield* server.messages.pipe(Stream.take(3), Stream.runDrain)
      assert.strictEqual((yield* value(Metrics.messagesSent, "client")) - before.sent, 3)
      assert.strictEqual((yield* value(Metrics.messagesReceived, "wrapped")) - before.received, 3)
      // 1 + 2 + 3 payload bytes and a 1-byte header each.
      assert.strictEqual((yield* value(Metrics.bytesSent, "client")) - before.bytesSent, 9)
      assert.strictEqual((yield* value(Metrics.bytesReceived, "wrapped")) - before.bytesReceived, 9)
      yield* Scope.close(scope, Exit.void)
      assert.strictEqual((yield* value(Metrics.connectionsOpen, "client")) - before.openClients, 0)
    })
  )

  it.live("the inbound queue gauge reports messages waiting to be read", () =>
    Effect.gen(function* () {
      const [, poll] = backends[0]!
      const before = yield* value(Metrics.inboundQueued, "wrapped")
      const scope = yield* Scope.make()
      const { client, server } = yield* pair(poll, poll).pipe(Scope.extend(scope))
      yield* client.writeAll(["1", "2", "3", "4"])
      while (Option.isNone(yield* server.read.pipe(Effect.map((o) => o)))) yield* Effect.sleep("5 millis")
      // Three are still waiting (sampled when they arrived, all four were).
      const waiting = (yield* value(Metrics.inboundQueued, "wrapped")) - before
      assert.isAtLeast(waiting, 3)
      yield* Scope.close(scope, Exit.void)
      assert.strictEqual((yield* value(Metrics.inboundQueued, "wrapped")) - before, 0)
    })
  )

  it.live("spans for connect, handshake, accept and close, with the peer address", () =>
    Effect.gen(function* () {
      const { tracer, ended } = recordingTracer()
      yield* Effect.scoped(
        Effect.gen(function* () {
          const server = yield* Server.make({ port: 0, handshake: () => Effect.succeed(true) })
          const port = server.address._tag === "Tcp" ? server.address.port : 0
          yield* Effect.forkScoped(server.serve((s) => Effect.flatMap(s.take, s.write)))
          const client = yield* Stocking.make({ host: "127.0.0.1", port, handshake: () => Effect.succeed(true) })
          yield* client.ready
          yield* client.write("ping")
          assert.strictEqual(yield* client.take, "ping")
          yield* client.close
        })
      ).pipe(Effect.withTracer(tracer))
      const names = new Set(ended.map((s) => s.name))
      for (const name of ["stocking.connect", "stocking.handshake", "stocking.accept", "stocking.close"]) {
        assert.isTrue(names.has(name), `span ${name} (got ${[...names].join(", ")})`)
      }
      const connect = ended.find((s) => s.name === "stocking.connect")!
      assert.match(String(connect.attributes.get("net.peer")), /^127\.0\.0\.1:\d+$/)
      const close = ended.find((s) => s.name === "stocking.close")!
      assert.match(String(close.attributes.get("net.peer")), /^127\.0\.0\.1:\d+$/)
      assert.isTrue(ended.every((s) => s.ok))
    })
  )

  it.live("the accept span with a tracer and no handshake, one per connection", () =>
    Effect.gen(function* () {
      const { tracer, ended } = recordingTracer()
      yield* Effect.scoped(
        Effect.gen(function* () {
          const server = yield* Server.make({ port: 0 })
          const port = server.address._tag === "Tcp" ? server.address.port : 0
          yield* Effect.forkScoped(server.serve((s) => Effect.flatMap(s.take, s.write)))
          for (const text of ["a", "b"]) {
            const client = yield* Stocking.make({ host: "127.0.0.1", port })
            yield* client.write(text)
            assert.strictEqual(yield* client.take, text)
          }
        })
      ).pipe(Effect.withTracer(tracer))
      const accepts = ended.filter((s) => s.name === "stocking.accept")
      assert.strictEqual(accepts.length, 2)
      for (const span of accepts) assert.match(String(span.attributes.get("net.peer")), /^127\.0\.0\.1:\d+$/)
    })
  )
})

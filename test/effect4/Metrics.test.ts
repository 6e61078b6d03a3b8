/**
 * The Effect 4 line's metrics: counted per role, in the registry of the
 * fiber that made the Stocking, once per socket read or flush.
 */
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import { describe, expect, it } from "vitest"
import * as Metrics from "../../src/effect4/Metrics.js"
import * as Server from "../../src/effect4/Server.js"
import * as Stocking from "../../src/effect4/Stocking.js"

const counted = (metric: Metric.Counter<number>, role: Metrics.Role) =>
  Effect.map(Metric.value(Metric.withAttributes(metric, Metrics.roleAttributes(role))), (state) => Number(state.count))

const open = (role: Metrics.Role) =>
  Effect.map(Metric.value(Metric.withAttributes(Metrics.connectionsOpen, Metrics.roleAttributes(role))), (state) =>
    Number(state.value)
  )

describe("effect4 Metrics", () => {
  it("messages, bytes and open connections, by role", async () => {
    const result = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const before = {
            clientIn: yield* counted(Metrics.messagesReceived, "client"),
            serverIn: yield* counted(Metrics.messagesReceived, "server"),
            clientOut: yield* counted(Metrics.messagesSent, "client"),
            clientBytesOut: yield* counted(Metrics.bytesSent, "client")
          }
          const server = yield* Server.make({ host: "127.0.0.1", port: 0 })
          yield* Effect.forkScoped(server.serve((stocking) => stocking.forEach(stocking.write)))
          const client = yield* Stocking.make({ host: "127.0.0.1", port: server.port })
          const openClients = yield* open("client")
          for (const message of ["a", "bb", "ccc"]) {
            yield* client.write(message)
            yield* client.take
          }
          return {
            openClients,
            clientIn: (yield* counted(Metrics.messagesReceived, "client")) - before.clientIn,
            serverIn: (yield* counted(Metrics.messagesReceived, "server")) - before.serverIn,
            clientOut: (yield* counted(Metrics.messagesSent, "client")) - before.clientOut,
            clientBytesOut: (yield* counted(Metrics.bytesSent, "client")) - before.clientBytesOut
          }
        })
      )
    )
    expect(result.openClients).toBeGreaterThanOrEqual(1)
    expect(result.clientIn).toBe(3)
    expect(result.serverIn).toBe(3)
    expect(result.clientOut).toBe(3)
    // One header byte each: 2 + 3 + 4.
    expect(result.clientBytesOut).toBe(9)
  })
})

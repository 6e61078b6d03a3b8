/**
 * The Node.js modules: the `Stocking` service, its server and its backends.
 * They import `node:net`, so they live under this subpath rather than the
 * root (`effect-stockings/node`).
 *
 * The `@effect/rpc` integration is not here: it has its own subpath,
 * `effect-stockings/Rpc`, so that importing this one loads neither
 * `@effect/rpc` (an optional peer dependency) nor its MessagePack codec.
 *
 * @example
 * ```ts
 * import { NodeRuntime } from "@effect/platform-node"
 * import { Effect, Stream } from "effect"
 * import { Server, Stocking } from "effect-stockings/node"
 *
 * const program = Effect.gen(function* () {
 *   const server = yield* Server.make({ port: 0 })
 *   const port = server.address._tag === "Tcp" ? server.address.port : 0
 *   yield* Effect.forkScoped(server.serve((s) => s.messages.pipe(Stream.runForEach((m) => s.write(m)))))
 *   const client = yield* Stocking.make({ host: "127.0.0.1", port })
 *   yield* client.write("ping")
 *   yield* Effect.log(yield* client.take) // "ping"
 * })
 *
 * NodeRuntime.runMain(Effect.scoped(program))
 * ```
 *
 * @since 0.1.0
 */
import "./internal/line3.js"

/**
 * The Stocking service: a scoped connection that reads and writes whole messages.
 *
 * @since 0.1.0
 */
export * as Stocking from "./Stocking.js"

/**
 * Listens for connections and wraps each in a Stocking.
 *
 * @since 0.1.0
 */
export * as Server from "./Server.js"

/**
 * The metrics every Stocking reports.
 *
 * @since 0.1.0
 */
export * as Metrics from "./Metrics.js"

/**
 * The `Backend` service: a Stocking's send loop.
 *
 * @since 0.1.0
 */
export * as Backend from "./Backend/Backend.js"

/**
 * The readiness-driven backend (the original's PollStocking).
 *
 * @since 0.1.0
 */
export * as Poll from "./Backend/Poll.js"

/**
 * The interval-driven backend (the original's SelectStocking).
 *
 * @since 0.1.0
 */
export * as Select from "./Backend/Select.js"

/**
 * Picks the best backend the platform can run.
 *
 * @since 0.1.0
 */
export * as Auto from "./Backend/Auto.js"

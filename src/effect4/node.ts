/**
 * The Effect 4 line's Node.js parts: the `Stocking` service, the `Server`,
 * the backends and the metrics. They use `node:net`, `node:tls` and
 * `node:fs`, and run on Node.js, Bun and Deno.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Stocking } from "effect-stockings/effect4/node"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const stocking = yield* Stocking.make({ host: "127.0.0.1", port: 9000 })
 *     yield* stocking.write("hello")
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
import "./internal/line.js"

/**
 * A connection that sends and receives whole messages.
 *
 * @since 0.2.0
 */
export * as Stocking from "./Stocking.js"

/**
 * A server that accepts Stockings.
 *
 * @since 0.2.0
 */
export * as Server from "./Server.js"

/**
 * The metrics every Stocking reports.
 *
 * @since 0.2.0
 */
export * as Metrics from "./Metrics.js"

/**
 * The send strategy's service.
 *
 * @since 0.2.0
 */
export * as Backend from "./Backend/Backend.js"

/**
 * The readiness-driven backend.
 *
 * @since 0.2.0
 */
export * as Poll from "./Backend/Poll.js"

/**
 * The interval-driven backend.
 *
 * @since 0.2.0
 */
export * as Select from "./Backend/Select.js"

/**
 * The best backend for each socket.
 *
 * @since 0.2.0
 */
export * as Auto from "./Backend/Auto.js"

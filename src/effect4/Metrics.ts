/**
 * The metrics every Stocking reports, as Effect 4 `Metric`s, with the same
 * names and meanings as on the Effect 3 line. Every metric carries a `role`
 * attribute: `client` (made by connecting), `server` (accepted by a
 * `Server`) or `wrapped` (made from a socket you passed in).
 *
 * Effect 4 keeps metric values in the `Metric.MetricRegistry` of the
 * fiber's context: a Stocking reports into the registry of the fiber that
 * made it.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { Metrics } from "effect-stockings/effect4/node"
 *
 * const report = Effect.gen(function* () {
 *   const server = Metric.withAttributes(Metrics.messagesReceived, Metrics.roleAttributes("server"))
 *   const { count } = yield* Metric.value(server)
 *   yield* Effect.log(`${count} messages received by servers`)
 * })
 * ```
 *
 * @since 0.2.0
 */
import "./internal/line.js"
import type * as Metric from "effect/Metric"
import * as internal from "./internal/metrics.js"

/**
 * Who made a Stocking: the value of every metric's `role` attribute.
 *
 * @since 0.2.0
 * @category models
 */
export type Role = internal.Role

/**
 * Whole messages received (counted when they arrive, before any read).
 *
 * @since 0.2.0
 * @category metrics
 */
export const messagesReceived: Metric.Counter<number> = internal.messagesReceived

/**
 * Bytes received, headers included.
 *
 * @since 0.2.0
 * @category metrics
 */
export const bytesReceived: Metric.Counter<number> = internal.bytesReceived

/**
 * Whole messages handed to the OS.
 *
 * @since 0.2.0
 * @category metrics
 */
export const messagesSent: Metric.Counter<number> = internal.messagesSent

/**
 * Bytes handed to the OS, headers included.
 *
 * @since 0.2.0
 * @category metrics
 */
export const bytesSent: Metric.Counter<number> = internal.bytesSent

/**
 * Stockings currently open.
 *
 * @since 0.2.0
 * @category metrics
 */
export const connectionsOpen: Metric.Gauge<number> = internal.connectionsOpen

/**
 * Messages received and not yet read, sampled at each socket read.
 *
 * @since 0.2.0
 * @category metrics
 */
export const inboundQueued: Metric.Gauge<number> = internal.inboundQueued

/**
 * Messages written and not yet handed to the OS, sampled at each flush.
 *
 * @since 0.2.0
 * @category metrics
 */
export const outboundQueued: Metric.Gauge<number> = internal.outboundQueued

/**
 * The `role` attribute for a Stocking's metrics.
 *
 * @since 0.2.0
 * @category attributes
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { Metrics } from "effect-stockings/effect4/node"
 *
 * const serverBytesIn = Metric.withAttributes(Metrics.bytesReceived, Metrics.roleAttributes("server"))
 * const program = Effect.gen(function* () {
 *   const { count } = yield* Metric.value(serverBytesIn)
 *   yield* Effect.log(`servers received ${count} bytes`)
 * })
 * ```
 */
export const roleAttributes: (role: Role) => Metric.Metric.Attributes = internal.roleAttributes

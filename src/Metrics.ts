/**
 * The metrics every Stocking reports, as Effect `Metric`s: read them with any
 * metrics exporter (for instance `@effect/opentelemetry`), or snapshot them
 * with `Metric.value`. Every metric carries a `role` label: `client` (made
 * by connecting), `server` (accepted by a `Server`) or `wrapped` (made from a
 * socket you passed in).
 *
 * They are updated once per socket read and once per send-loop flush, never
 * per message, so they cost nothing measurable on the hot paths.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import * as Metrics from "effect-stockings/Metrics"
 *
 * // A snapshot from inside the program, for the Stockings this process accepted.
 * const report = Effect.gen(function* () {
 *   const server = Metrics.roleLabel("server")
 *   const received = yield* Metric.value(Metric.taggedWithLabels(Metrics.messagesReceived, server))
 *   const open = yield* Metric.value(Metric.taggedWithLabels(Metrics.connectionsOpen, server))
 *   yield* Effect.log(`${received.count} messages received, ${open.value} connections open`)
 * })
 * ```
 *
 * @since 0.1.0
 */
import "./internal/line3.js"
import type * as Metric from "effect/Metric"
import type * as MetricLabel from "effect/MetricLabel"
import * as internal from "./internal/metrics.js"

/**
 * Who made a Stocking: the value of every metric's `role` label.
 *
 * @since 0.1.0
 * @category models
 */
export type Role = "client" | "server" | "wrapped"

/**
 * Whole messages received (counted when they arrive, before any read).
 *
 * @since 0.1.0
 * @category metrics
 */
export const messagesReceived: Metric.Metric.Counter<number> = internal.messagesReceived

/**
 * Bytes received from sockets, headers included.
 *
 * @since 0.1.0
 * @category metrics
 */
export const bytesReceived: Metric.Metric.Counter<number> = internal.bytesReceived

/**
 * Whole messages handed to sockets.
 *
 * @since 0.1.0
 * @category metrics
 */
export const messagesSent: Metric.Metric.Counter<number> = internal.messagesSent

/**
 * Bytes handed to sockets, headers included.
 *
 * @since 0.1.0
 * @category metrics
 */
export const bytesSent: Metric.Metric.Counter<number> = internal.bytesSent

/**
 * Stockings open now.
 *
 * @since 0.1.0
 * @category metrics
 */
export const connectionsOpen: Metric.Metric.Gauge<number> = internal.connectionsOpen

/**
 * Messages received and waiting to be read, across open Stockings (sampled
 * at each socket read).
 *
 * @since 0.1.0
 * @category metrics
 */
export const inboundQueued: Metric.Metric.Gauge<number> = internal.inboundQueued

/**
 * Messages written and waiting for the send loop, across open Stockings
 * (sampled at each flush).
 *
 * @since 0.1.0
 * @category metrics
 */
export const outboundQueued: Metric.Metric.Gauge<number> = internal.outboundQueued

/**
 * The `role` label for a Stocking's metrics.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { Metrics } from "effect-stockings/node"
 *
 * const serverBytesIn = Metric.taggedWithLabels(Metrics.bytesReceived, Metrics.roleLabel("server"))
 * const program = Effect.gen(function* () {
 *   const { count } = yield* Metric.value(serverBytesIn)
 *   yield* Effect.log(`servers received ${count} bytes`)
 * })
 * ```
 *
 * @since 0.1.0
 * @category labels
 */
export const roleLabel: (role: Role) => ReadonlyArray<MetricLabel.MetricLabel> = internal.roleLabel

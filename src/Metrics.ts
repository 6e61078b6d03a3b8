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
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"

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
export const messagesReceived = Metric.counter("stockings_messages_received_total", {
  description: "Whole messages received by Stockings",
  incremental: true
})

/**
 * Bytes received from sockets, headers included.
 *
 * @since 0.1.0
 * @category metrics
 */
export const bytesReceived = Metric.counter("stockings_bytes_received_total", {
  description: "Bytes received by Stockings, headers included",
  incremental: true
})

/**
 * Whole messages handed to sockets.
 *
 * @since 0.1.0
 * @category metrics
 */
export const messagesSent = Metric.counter("stockings_messages_sent_total", {
  description: "Whole messages handed to the OS by Stockings",
  incremental: true
})

/**
 * Bytes handed to sockets, headers included.
 *
 * @since 0.1.0
 * @category metrics
 */
export const bytesSent = Metric.counter("stockings_bytes_sent_total", {
  description: "Bytes handed to the OS by Stockings, headers included",
  incremental: true
})

/**
 * Stockings open now.
 *
 * @since 0.1.0
 * @category metrics
 */
export const connectionsOpen = Metric.gauge("stockings_connections_open", {
  description: "Stockings currently open"
})

/**
 * Messages received and waiting to be read, across open Stockings (sampled
 * at each socket read).
 *
 * @since 0.1.0
 * @category metrics
 */
export const inboundQueued = Metric.gauge("stockings_inbound_queued_messages", {
  description: "Messages received and not yet read, sampled at each socket read"
})

/**
 * Messages written and waiting for the send loop, across open Stockings
 * (sampled at each flush).
 *
 * @since 0.1.0
 * @category metrics
 */
export const outboundQueued = Metric.gauge("stockings_outbound_queued_messages", {
  description: "Messages written and not yet handed to the OS, sampled at each flush"
})

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
export const roleLabel = (role: Role): ReadonlyArray<MetricLabel.MetricLabel> => roleLabels[role]

// One array per role: Effect caches a metric's hook per labels array, so sharing them keeps updates cheap.
const roleLabels: Record<Role, ReadonlyArray<MetricLabel.MetricLabel>> = {
  client: [MetricLabel.make("role", "client")],
  server: [MetricLabel.make("role", "server")],
  wrapped: [MetricLabel.make("role", "wrapped")]
}

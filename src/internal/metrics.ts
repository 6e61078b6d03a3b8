/**
 * The metrics every Stocking reports, declared here so that the modules that
 * update them import no public module. The `Metrics` module re-exports them,
 * with their documentation.
 *
 * @internal
 */
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import type * as Public from "../Metrics.js"
import type { Meter } from "./meter.js"

/** `Metrics.Role`. @internal */
export type Role = Public.Role

/** `Metrics.messagesReceived`. @internal */
export const messagesReceived = Metric.counter("stockings_messages_received_total", {
  description: "Whole messages received by Stockings",
  incremental: true
})

/** `Metrics.bytesReceived`. @internal */
export const bytesReceived = Metric.counter("stockings_bytes_received_total", {
  description: "Bytes received by Stockings, headers included",
  incremental: true
})

/** `Metrics.messagesSent`. @internal */
export const messagesSent = Metric.counter("stockings_messages_sent_total", {
  description: "Whole messages handed to the OS by Stockings",
  incremental: true
})

/** `Metrics.bytesSent`. @internal */
export const bytesSent = Metric.counter("stockings_bytes_sent_total", {
  description: "Bytes handed to the OS by Stockings, headers included",
  incremental: true
})

/** `Metrics.connectionsOpen`. @internal */
export const connectionsOpen = Metric.gauge("stockings_connections_open", {
  description: "Stockings currently open"
})

/** `Metrics.inboundQueued`. @internal */
export const inboundQueued = Metric.gauge("stockings_inbound_queued_messages", {
  description: "Messages received and not yet read, sampled at each socket read"
})

/** `Metrics.outboundQueued`. @internal */
export const outboundQueued = Metric.gauge("stockings_outbound_queued_messages", {
  description: "Messages written and not yet handed to the OS, sampled at each flush"
})

/** `Metrics.roleLabel`. @internal */
export const roleLabel = (role: Role): ReadonlyArray<MetricLabel.MetricLabel> => roleLabels[role]

// One array per role: Effect caches a metric's hook per labels array, so sharing them keeps updates cheap.
const roleLabels: Record<Role, ReadonlyArray<MetricLabel.MetricLabel>> = {
  client: [MetricLabel.make("role", "client")],
  server: [MetricLabel.make("role", "server")],
  wrapped: [MetricLabel.make("role", "wrapped")]
}

const makeMeter = (role: Role): Meter => {
  const labels = roleLabels[role]
  return {
    received: (messages, bytes) => {
      bytesReceived.unsafeUpdate(bytes, labels)
      if (messages > 0) messagesReceived.unsafeUpdate(messages, labels)
    },
    sent: (messages, bytes) => {
      messagesSent.unsafeUpdate(messages, labels)
      bytesSent.unsafeUpdate(bytes, labels)
    },
    inboundQueued: (delta) => inboundQueued.unsafeModify(delta, labels),
    outboundQueued: (delta) => outboundQueued.unsafeModify(delta, labels),
    opened: (delta) => connectionsOpen.unsafeModify(delta, labels)
  }
}

const meters: Record<Role, Meter> = {
  client: makeMeter("client"),
  server: makeMeter("server"),
  wrapped: makeMeter("wrapped")
}

/** What connections of `role` report, on the Effect 3 line's metrics (see `meter.ts`). @internal */
export const meter = (role: Role): Meter => meters[role]

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
import * as names from "./metricNames.js"

/** `Metrics.Role`. @internal */
export type Role = Public.Role

/** `Metrics.messagesReceived`. @internal */
export const messagesReceived = Metric.counter(names.counters.messagesReceived.name, {
  description: names.counters.messagesReceived.description,
  incremental: true
})

/** `Metrics.bytesReceived`. @internal */
export const bytesReceived = Metric.counter(names.counters.bytesReceived.name, {
  description: names.counters.bytesReceived.description,
  incremental: true
})

/** `Metrics.messagesSent`. @internal */
export const messagesSent = Metric.counter(names.counters.messagesSent.name, {
  description: names.counters.messagesSent.description,
  incremental: true
})

/** `Metrics.bytesSent`. @internal */
export const bytesSent = Metric.counter(names.counters.bytesSent.name, {
  description: names.counters.bytesSent.description,
  incremental: true
})

/** `Metrics.connectionsOpen`. @internal */
export const connectionsOpen = Metric.gauge(names.gauges.connectionsOpen.name, {
  description: names.gauges.connectionsOpen.description
})

/** `Metrics.inboundQueued`. @internal */
export const inboundQueued = Metric.gauge(names.gauges.inboundQueued.name, {
  description: names.gauges.inboundQueued.description
})

/** `Metrics.outboundQueued`. @internal */
export const outboundQueued = Metric.gauge(names.gauges.outboundQueued.name, {
  description: names.gauges.outboundQueued.description
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

/**
 * The Effect 4 line's metrics (names and descriptions in
 * `internal/metricNames.ts`, shared with the Effect 3 line), and the
 * `Meter` through which the shared machinery updates them.
 *
 * Effect 4 keeps metric values in a registry that is a service of the
 * fiber's context, so a connection updates them in the context of the
 * fiber that made it (captured at make).
 *
 * @internal
 */
import type * as Context from "effect/Context"
import * as Metric from "effect/Metric"
import type { Meter } from "../../internal/meter.js"
import * as names from "../../internal/metricNames.js"

/** @internal */
export type Role = names.Role

const counter = (spec: { readonly name: string; readonly description: string }) =>
  Metric.counter(spec.name, { description: spec.description, incremental: true })

const gauge = (spec: { readonly name: string; readonly description: string }) =>
  Metric.gauge(spec.name, { description: spec.description })

/** @internal */
export const messagesReceived = counter(names.counters.messagesReceived)
/** @internal */
export const bytesReceived = counter(names.counters.bytesReceived)
/** @internal */
export const messagesSent = counter(names.counters.messagesSent)
/** @internal */
export const bytesSent = counter(names.counters.bytesSent)
/** @internal */
export const connectionsOpen = gauge(names.gauges.connectionsOpen)
/** @internal */
export const inboundQueued = gauge(names.gauges.inboundQueued)
/** @internal */
export const outboundQueued = gauge(names.gauges.outboundQueued)

/** The `role` attribute of a Stocking's metrics. @internal */
export const roleAttributes = (role: Role): Metric.Metric.Attributes => ({ role })

interface ForRole {
  readonly messagesReceived: Metric.Counter<number>
  readonly bytesReceived: Metric.Counter<number>
  readonly messagesSent: Metric.Counter<number>
  readonly bytesSent: Metric.Counter<number>
  readonly connectionsOpen: Metric.Gauge<number>
  readonly inboundQueued: Metric.Gauge<number>
  readonly outboundQueued: Metric.Gauge<number>
}

const forRole = (role: Role): ForRole => {
  const attributes = roleAttributes(role)
  return {
    messagesReceived: Metric.withAttributes(messagesReceived, attributes),
    bytesReceived: Metric.withAttributes(bytesReceived, attributes),
    messagesSent: Metric.withAttributes(messagesSent, attributes),
    bytesSent: Metric.withAttributes(bytesSent, attributes),
    connectionsOpen: Metric.withAttributes(connectionsOpen, attributes),
    inboundQueued: Metric.withAttributes(inboundQueued, attributes),
    outboundQueued: Metric.withAttributes(outboundQueued, attributes)
  }
}

const byRole: Record<Role, ForRole> = {
  client: forRole("client"),
  server: forRole("server"),
  wrapped: forRole("wrapped")
}

/** What a connection of `role`, made in `context`, reports (see `internal/meter.ts`). @internal */
export const meter = (role: Role, context: Context.Context<never>): Meter => {
  const m = byRole[role]
  return {
    received: (messages, bytes) => {
      m.bytesReceived.updateUnsafe(bytes, context)
      if (messages > 0) m.messagesReceived.updateUnsafe(messages, context)
    },
    sent: (messages, bytes) => {
      m.messagesSent.updateUnsafe(messages, context)
      m.bytesSent.updateUnsafe(bytes, context)
    },
    inboundQueued: (delta) => m.inboundQueued.modifyUnsafe(delta, context),
    outboundQueued: (delta) => m.outboundQueued.modifyUnsafe(delta, context),
    opened: (delta) => m.connectionsOpen.modifyUnsafe(delta, context)
  }
}

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
import * as Context from "effect/Context"
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

/**
 * The maker's context with the `role` attribute added, once per context and
 * role: `Metric.withAttributes` would merge the attributes into a new
 * context on every update, which showed in the per-message profile. With
 * the attribute in the context, each metric computes its series key once
 * (it caches it by the attributes' identity) and an update is a lookup in
 * the registry.
 */
const withRole = (context: Context.Context<never>, role: Role): Context.Context<never> =>
  Context.add(context, Metric.CurrentMetricAttributes, {
    ...Context.get(context, Metric.CurrentMetricAttributes),
    role
  })

const makeMeter = (context: Context.Context<never>): Meter => ({
  received: (messages, bytes) => {
    bytesReceived.updateUnsafe(bytes, context)
    if (messages > 0) messagesReceived.updateUnsafe(messages, context)
  },
  sent: (messages, bytes) => {
    messagesSent.updateUnsafe(messages, context)
    bytesSent.updateUnsafe(bytes, context)
  },
  inboundQueued: (delta) => inboundQueued.modifyUnsafe(delta, context),
  outboundQueued: (delta) => outboundQueued.modifyUnsafe(delta, context),
  opened: (delta) => connectionsOpen.modifyUnsafe(delta, context)
})

const meters = new WeakMap<Context.Context<never>, Partial<Record<Role, Meter>>>()

/** What a connection of `role`, made in `context`, reports (see `internal/meter.ts`). @internal */
export const meter = (role: Role, context: Context.Context<never>): Meter => {
  let byRole = meters.get(context)
  if (byRole === undefined) meters.set(context, (byRole = {}))
  return (byRole[role] ??= makeMeter(withRole(context, role)))
}

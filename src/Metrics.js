import * as internal from "./internal/metrics.js"
/**
 * Whole messages received (counted when they arrive, before any read).
 *
 * @since 0.1.0
 * @category metrics
 */
export const messagesReceived = internal.messagesReceived
/**
 * Bytes received from sockets, headers included.
 *
 * @since 0.1.0
 * @category metrics
 */
export const bytesReceived = internal.bytesReceived
/**
 * Whole messages handed to sockets.
 *
 * @since 0.1.0
 * @category metrics
 */
export const messagesSent = internal.messagesSent
/**
 * Bytes handed to sockets, headers included.
 *
 * @since 0.1.0
 * @category metrics
 */
export const bytesSent = internal.bytesSent
/**
 * Stockings open now.
 *
 * @since 0.1.0
 * @category metrics
 */
export const connectionsOpen = internal.connectionsOpen
/**
 * Messages received and waiting to be read, across open Stockings (sampled
 * at each socket read).
 *
 * @since 0.1.0
 * @category metrics
 */
export const inboundQueued = internal.inboundQueued
/**
 * Messages written and waiting for the send loop, across open Stockings
 * (sampled at each flush).
 *
 * @since 0.1.0
 * @category metrics
 */
export const outboundQueued = internal.outboundQueued
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
export const roleLabel = internal.roleLabel

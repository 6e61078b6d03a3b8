/**
 * The metrics every Stocking reports, by name and description: one list for
 * both lines, each of which makes them with its own `Metric` API
 * (`metrics.ts`, `effect4/internal/metrics.ts`).
 *
 * @internal
 */

/** @internal */
export const counters = {
  messagesReceived: { name: "stockings_messages_received_total", description: "Whole messages received by Stockings" },
  bytesReceived: {
    name: "stockings_bytes_received_total",
    description: "Bytes received by Stockings, headers included"
  },
  messagesSent: { name: "stockings_messages_sent_total", description: "Whole messages handed to the OS by Stockings" },
  bytesSent: {
    name: "stockings_bytes_sent_total",
    description: "Bytes handed to the OS by Stockings, headers included"
  }
} as const

/** @internal */
export const gauges = {
  connectionsOpen: { name: "stockings_connections_open", description: "Stockings currently open" },
  inboundQueued: {
    name: "stockings_inbound_queued_messages",
    description: "Messages received and not yet read, sampled at each socket read"
  },
  outboundQueued: {
    name: "stockings_outbound_queued_messages",
    description: "Messages written and not yet handed to the OS, sampled at each flush"
  }
} as const

/** Who made a Stocking: the value of every metric's `role` label. @internal */
export type Role = "client" | "server" | "wrapped"

/** @internal */
export const roles: ReadonlyArray<Role> = ["client", "server", "wrapped"]

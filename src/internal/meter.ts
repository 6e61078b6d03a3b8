/**
 * What a connection reports to the metrics (see the `Metrics` modules),
 * as the shared machinery sees it: each line's binding implements it with
 * its own `Metric` API (`metrics.ts` for Effect 3), for one role.
 *
 * @internal
 */

/** @internal */
export interface Meter {
  /** `messages` whole messages arrived, in `bytes` read from the socket (headers included). */
  readonly received: (messages: number, bytes: number) => void
  /** `messages` whole messages, `bytes` in all, were handed to the OS. */
  readonly sent: (messages: number, bytes: number) => void
  /** The inbound queue's depth moved by `delta`. */
  readonly inboundQueued: (delta: number) => void
  /** The outbound queue's depth moved by `delta`. */
  readonly outboundQueued: (delta: number) => void
  /** A connection opened (`1`) or closed (`-1`). */
  readonly opened: (delta: number) => void
}

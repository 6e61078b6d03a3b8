/**
 * The readiness-driven backend's send strategy (see the `Poll` module for
 * the whole of it), declared here so that a Stocking picks it by default
 * without importing a public module. The `Poll` module re-exports it, with
 * its documentation.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Backend from "./backend.js"

/**
 * Flushes until the socket needs draining (`true`) or the queue is closed
 * and empty (`false`); `undefined` while the socket keeps up.
 */
const flushAll = (link: Backend.Link): boolean | undefined => {
  while (link.queued > 0) if (!link.flush()) return true
  if (link.isDone()) return false
  return link.needsDrain() ? true : undefined
}

/**
 * Idle and Scheduled, without a fiber: flushes from the writes and from
 * microtasks. When the connection leaves them (Draining, or Done), the
 * listener is removed and the send loop's fiber started.
 */
const idle = (link: Backend.Link): void => {
  if (flushAll(link) !== undefined) return link.startLoop()
  let scheduled = false
  // True while a batch is going out: a write then waits for the microtask, so a burst stays one batch.
  let busy = false
  const flushScheduled = () => {
    scheduled = false
    busy = link.queued > 1
    if (flushAll(link) !== undefined) {
      link.onQueued(undefined)
      link.startLoop()
    }
  }
  link.onQueued(() => {
    if (scheduled) return
    scheduled = true
    queueMicrotask(flushScheduled)
    if (!busy && link.queued === 1 && !link.isClosing() && link.isIdle()) {
      busy = true
      link.flush()
    }
  })
}

/**
 * Draining: waits for the socket's `drain`, flushes what queued up
 * meanwhile, and returns once the socket keeps up again (back to `idle`) or
 * the queue is done.
 */
const sendLoop = (link: Backend.Link): Effect.Effect<void> =>
  Effect.gen(function* () {
    while (true) {
      if (link.needsDrain()) yield* link.drained
      if (flushAll(link) !== true) return
    }
  })

/** `Poll.backend`. @internal */
export const backend: Backend.Backend = {
  [Backend.TypeId]: Backend.TypeId,
  name: "poll",
  sendLoop,
  idle
}

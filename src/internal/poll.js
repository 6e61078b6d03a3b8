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
/** One connection's strategy: Idle, Scheduled or Draining (see the `Poll` module). */
const start = (link) => {
  // Scheduled: a microtask flush is on its way; writes until then only queue.
  let scheduled = false
  // True while a batch is going out: a write then waits for the microtask, so a burst stays one batch.
  let busy = false
  // Draining: the send loop waits for the socket's drain; writes until then only queue.
  let draining = false
  /** Flushes until nothing is queued: `false` if the socket must drain first. */
  const flushAll = () => {
    while (link.flush()) if (link.queued === 0) return true
    return false
  }
  // Draining: waits for the socket's drain, flushes what queued up meanwhile, and returns (back to Idle) once
  // the socket keeps up again.
  const drain = Effect.gen(function* () {
    while (true) {
      yield* link.drained
      if (flushAll()) break
    }
    draining = false
    busy = false
  })
  const flushScheduled = () => {
    scheduled = false
    busy = link.queued > 1
    if (!flushAll()) {
      draining = true
      link.run(drain)
    }
  }
  return () => {
    // A close: what is queued goes out now, whatever the socket holds (no loop runs once closing).
    if (link.closing) return void link.flush()
    if (scheduled || draining) return
    scheduled = true
    queueMicrotask(flushScheduled)
    // Idle: the first write goes to the socket now, from the write itself.
    if (!busy && link.queued === 1 && !link.closing && link.idle) {
      busy = true
      link.flush()
    }
  }
}
/** `Poll.backend`. @internal */
export const backend = {
  [Backend.TypeId]: Backend.TypeId,
  name: "poll",
  start
}

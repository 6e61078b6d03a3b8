/**
 * The readiness-driven backend (the original's PollStocking): what is queued
 * goes to the socket at once, everything queued in one write, and when the
 * OS buffer is full the send loop waits for the socket's `drain` signal
 * before writing more.
 *
 * While the socket keeps up, the flushes run as microtasks scheduled by the
 * writes themselves (`Link.flushEagerly`); the loop's fiber sleeps until the
 * socket needs draining. Waking a fiber for every batch cost more than the
 * batch: this halves the fiber hand-offs of a request/response exchange.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Backend from "./Backend.js"

/**
 * The readiness-driven backend.
 *
 * @since 0.1.0
 * @category constructors
 */
export const backend: Backend.Backend = {
  [Backend.TypeId]: Backend.TypeId,
  name: "poll",
  sendLoop: (link) =>
    Effect.gen(function* () {
      while (yield* link.flushEagerly) yield* link.drained
    })
}

/**
 * Provides the readiness-driven backend.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Backend.Backend> = Layer.succeed(Backend.Backend, backend)

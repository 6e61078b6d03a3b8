/**
 * The readiness-driven backend (the original's PollStocking): the send loop
 * wakes as soon as a message is queued, hands everything queued to the
 * socket in one write, and when the OS buffer is full waits for the socket's
 * `drain` signal before writing more.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect";
import * as Layer from "effect/Layer";
import * as Backend from "./Backend.js";
/**
 * The readiness-driven backend.
 *
 * @since 0.1.0
 * @category constructors
 */
export const backend = {
    [Backend.TypeId]: Backend.TypeId,
    name: "poll",
    sendLoop: (link) => Effect.gen(function* () {
        while (yield* link.awaitQueued) {
            if (!link.flush())
                yield* link.drained;
        }
    })
};
/**
 * Provides the readiness-driven backend.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = Layer.succeed(Backend.Backend, backend);
//# sourceMappingURL=Poll.js.map
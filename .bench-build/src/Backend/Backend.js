/**
 * A `Backend` moves a Stocking's queued messages to its socket: it is the
 * send loop. Two ship with the library, the original's two flavours:
 *
 * - `Poll` (the original's PollStocking): readiness-driven. It wakes the
 *   moment a message is queued and, when the OS buffer is full, waits on the
 *   socket's own drain signal.
 * - `Select` (the original's SelectStocking): interval-driven. It sends what
 *   is queued at most every `STOCKING_SELECT_SEND_INTERVAL` seconds, in one
 *   write.
 *
 * `Auto.layer` picks the best one the platform can run. Endpoints using
 * different backends talk to each other: the wire format is the same.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context";
/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId = Symbol.for("effect-stockings/Backend");
/**
 * The service a Stocking uses to drive its socket. A Stocking made without
 * one in context uses `Auto`'s choice.
 *
 * @since 0.1.0
 * @category tags
 */
export const Backend = Context.GenericTag("effect-stockings/Backend");
/**
 * Tells whether a value is a `Backend`.
 *
 * @since 0.1.0
 * @category refinements
 */
export const isBackend = (u) => typeof u === "object" && u !== null && TypeId in u;
//# sourceMappingURL=Backend.js.map
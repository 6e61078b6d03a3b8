/**
 * The readiness-driven backend (the original's PollStocking): what is
 * queued goes out at once, from the write itself or a microtask; when the
 * OS buffer is full, its send loop waits for the socket's drain.
 *
 * @since 0.2.0
 */
import "../internal/line.js"
import * as Layer from "effect/Layer"
import * as internal from "../../internal/poll.js"
import * as Backend from "./Backend.js"

/**
 * The poll backend.
 *
 * @since 0.2.0
 * @category constructors
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Backend, Poll, Stocking } from "effect-stockings/effect4/node"
 *
 * const program = Stocking.make({ port: 9000 }).pipe(Effect.provideService(Backend.Backend, Poll.backend))
 * ```
 */
export const backend: Backend.Backend = internal.backend

/**
 * Provides the poll backend to every Stocking made under it.
 *
 * @since 0.2.0
 * @category layers
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Poll, Stocking } from "effect-stockings/effect4/node"
 *
 * const program = Effect.scoped(Stocking.make({ port: 9000 })).pipe(Effect.provide(Poll.layer))
 * ```
 */
export const layer: Layer.Layer<Backend.Backend> = Layer.succeed(Backend.Backend, backend)

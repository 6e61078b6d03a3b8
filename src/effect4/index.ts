/**
 * Stockings for Effect 4: whole messages over TCP, TLS and Unix sockets,
 * wire-compatible with the Python Stockings library.
 *
 * The root holds the platform-independent modules. The Node.js parts (the
 * `Stocking` service, its backends and the server) live under their own
 * subpaths because they import `node:net`.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Codec, Framing } from "effect-stockings/effect4"
 *
 * Framing.encode("hi") // Uint8Array [0x82, 0x68, 0x69]
 *
 * const Point = Schema.Struct({ x: Schema.Number, y: Schema.Number })
 * const codec = Codec.json(Point)
 * const program = Effect.gen(function* () {
 *   const message = yield* codec.encode({ x: 1, y: 2 }) // '{"x":1,"y":2}'
 *   return yield* codec.decode(message) // { x: 1, y: 2 }
 * })
 * ```
 *
 * @since 0.2.0
 */
import "./internal/line.js"

/**
 * The wire format: header encoding, the incremental decoder and stream framing.
 *
 * @since 0.2.0
 */
export * as Framing from "./Framing.js"

/**
 * Codecs: typed conversions between values and messages (preWrite / postRead).
 *
 * @since 0.2.0
 */
export * as Codec from "./Codec.js"

// The Node.js modules (`Stocking`, `Server`, `Backend`, ...) are not exported here: as on the Effect 3
// line (src/node.ts), they go in src/effect4/node.ts, the `effect-stockings/effect4/node` subpath, and
// `Rpc` in a subpath of its own. Platform-independent modules added to this line are exported here.

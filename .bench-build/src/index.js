/**
 * Stockings for Effect: whole messages over TCP, TLS and Unix sockets,
 * wire-compatible with the Python Stockings library.
 *
 * The root holds the platform-independent modules. The Node.js parts (the
 * `Stocking` service, its backends and the server) live under their own
 * subpaths because they import `node:net`.
 *
 * @since 0.1.0
 */
/**
 * The wire format: header encoding, the incremental decoder and stream framing.
 *
 * @since 0.1.0
 */
export * as Framing from "./Framing.js";
/**
 * Codecs: typed conversions between values and messages (preWrite / postRead).
 *
 * @since 0.1.0
 */
export * as Codec from "./Codec.js";
//# sourceMappingURL=index.js.map
/**
 * The `Server` module as internal code of the Effect 3 line uses it: its
 * error and the defaults of its limits (declared, for both lines, in
 * `listener.ts`), and its types re-exported, so that internal
 * modules import this one as `Server` and never the public module (which
 * imports them: an import cycle). The `Server` module re-exports these
 * values, with their documentation.
 *
 * @internal
 */
import type * as Public from "../Server.js"

/** `Server.ListenTarget`. @internal */
export type ListenTarget = Public.ListenTarget

/** `Server.Options`. @internal */
export type Options<I, O, E, EH, RH> = Public.Options<I, O, E, EH, RH>

/** `Server.Server`. @internal */
export type Server<I, O, E> = Public.Server<I, O, E>

export {
  /** `Server.CONNECTION_ALLOWANCE`. @internal */
  CONNECTION_ALLOWANCE,
  /** `Server.DEFAULT_MAX_CONNECTIONS`. @internal */
  DEFAULT_MAX_CONNECTIONS,
  /** `Server.DEFAULT_MAX_TOTAL_BYTES`. @internal */
  DEFAULT_MAX_TOTAL_BYTES,
  /** `Server.ServerError`. @internal */
  ServerError
} from "./listener.js"

/**
 * A connection's life as one state machine: its states, the events that
 * move it, and `transition`, a pure function of the state and an event
 * through which every change of state goes. The `Connection`
 * (`lifecycle.ts`) then does what entering the new state requires (end the
 * queues, destroy the socket, wake whoever waits on the state).
 *
 * ```text
 *                      Ready
 *       Handshaking ----------> Open
 *            |                   |
 *            | Close (graceful)  | Close (graceful)
 *            v                   v
 *            +----> Closing <----+      the send loop flushes what is queued,
 *                      |                then our side ends, then the peer's
 *                      | SocketClosed
 *                      v
 *  (Close abortive, or SocketClosed, from any state) ----> Closed(reason)
 * ```
 *
 * | event \ state     | Handshaking | Open    | Closing            | Closed |
 * | ----------------- | ----------- | ------- | ------------------ | ------ |
 * | Ready             | Open        | -       | -                  | -      |
 * | Close (graceful)  | Closing     | Closing | -                  | -      |
 * | Close (abortive)  | Closed      | Closed  | Closed (its reason) | -     |
 * | Flushed           | -           | -       | Closing, flushed   | -      |
 * | SocketClosed      | Closed      | Closed  | Closed (its reason) | -     |
 *
 * The first reason given is the one a Stocking reports, whatever comes after.
 * The inbound and outbound sides have sub-states of their own
 * (`inbound.ts`: Flowing, Paused, Ended, Stopped; the backend's flushing).
 *
 * @internal
 */
import type { Closed } from "../Stocking.js"

/** @internal */
export type State =
  | { readonly _tag: "Handshaking" }
  | { readonly _tag: "Open" }
  | { readonly _tag: "Closing"; readonly reason: Closed; readonly opened: boolean; readonly flushed: boolean }
  | { readonly _tag: "Closed"; readonly reason: Closed; readonly opened: boolean }

/** @internal */
export type Event =
  | { readonly _tag: "Ready" }
  | { readonly _tag: "Close"; readonly reason: Closed; readonly graceful: boolean }
  | { readonly _tag: "Flushed" }
  | { readonly _tag: "SocketClosed"; readonly reason: Closed }

/** @internal */
export const HANDSHAKING: State = { _tag: "Handshaking" }
const OPEN: State = { _tag: "Open" }

/** The next state, or `undefined` when the event changes nothing in this state. */
export const transition = (state: State, event: Event): State | undefined => {
  switch (state._tag) {
    case "Handshaking":
    case "Open": {
      const opened = state._tag === "Open"
      switch (event._tag) {
        case "Ready":
          return opened ? undefined : OPEN
        case "Close":
          return event.graceful
            ? { _tag: "Closing", reason: event.reason, opened, flushed: false }
            : { _tag: "Closed", reason: event.reason, opened }
        case "SocketClosed":
          return { _tag: "Closed", reason: event.reason, opened }
        case "Flushed":
          return undefined
      }
      break
    }
    case "Closing": {
      switch (event._tag) {
        case "Flushed":
          return state.flushed ? undefined : { ...state, flushed: true }
        case "Close":
          return event.graceful ? undefined : { _tag: "Closed", reason: state.reason, opened: state.opened }
        case "SocketClosed":
          return { _tag: "Closed", reason: state.reason, opened: state.opened }
        case "Ready":
          return undefined
      }
      break
    }
    case "Closed":
      return undefined
  }
}

/**
 * A connection's life as one state machine: its states, the events that
 * move it, and `transition`, a pure function of the state and an event
 * through which every change of state goes. The `Connection`
 * (`lifecycle.ts`) then does what entering the new state requires (stop the
 * inbound side, end the queues, end our side of the socket or destroy it,
 * wake whoever waits on the state, let the server release it).
 *
 * ```text
 *                      Ready
 *       Handshaking ----------> Open
 *            |                   |
 *            | Close (graceful)  | Close (graceful)
 *            v                   v
 *            +----> Closing <----+      the backend flushes what is queued
 *                      |                (Flushed: our side ends), then the
 *                      | SocketClosed   peer's side ends
 *                      v
 *  (Close abortive, or SocketClosed, from any state) ----> Closed(reason)
 * ```
 *
 * | event \ state    | Handshaking | Open      | Closing             | Closed       |
 * | ---------------- | ----------- | --------- | ------------------- | ------------ |
 * | Ready            | Open        | -         | -                   | -            |
 * | PeerEnded        | peerEnded   | peerEnded | -                   | -            |
 * | Close (graceful) | Closing     | Closing   | letGo (by the user) | letGo (user) |
 * | Close (abortive) | Closed      | Closed    | Closed (its reason) | letGo (user) |
 * | Flushed          | -           | -         | Closing, flushed    | -            |
 * | SocketClosed     | Closed      | Closed    | Closed (its reason) | -            |
 *
 * A close by the user (`close`, `abort`) is a `Close` with `byUser`: it sets
 * `letGo` wherever it lands. The first reason given is the one a Stocking
 * reports, whatever comes after.
 * Every fact about the connection's life is here, or derived from what is
 * here:
 *
 * - `peerEnded`: the peer has ended its stream. Messages that arrived before
 *   its end may still be held undecoded (the socket was paused); the read
 *   loop decodes them, then closes the connection. A socket that closes
 *   before then closed cleanly; one that closes with no end closed abruptly.
 * - Closing or Closed: the inbound side is stopped (readers get what is
 *   queued, then the reason) and both queues are ended.
 * - `flushed`: everything queued to send was handed to the socket, and our
 *   side of it has been ended.
 * - `letGo`: the connection's user closed (or aborted) it. Once Closed it may
 *   be released whatever is still unread; otherwise only once readers have
 *   taken everything (see `Connection.onReleasable`). It can come after the
 *   connection closed for another reason, which it does not change.
 *
 * The inbound side has sub-states of its own (`inbound.ts`: Flowing, Paused,
 * Ended), and so has each backend's strategy.
 *
 * @internal
 */
import type { Closed } from "./stockingError.js"

/** @internal */
export type State =
  | { readonly _tag: "Handshaking"; readonly peerEnded: boolean }
  | { readonly _tag: "Open"; readonly peerEnded: boolean }
  | {
      readonly _tag: "Closing"
      readonly reason: Closed
      readonly opened: boolean
      readonly flushed: boolean
      readonly letGo: boolean
    }
  | { readonly _tag: "Closed"; readonly reason: Closed; readonly opened: boolean; readonly letGo: boolean }

/** @internal */
export type Event =
  | { readonly _tag: "Ready" }
  | { readonly _tag: "PeerEnded" }
  | {
      readonly _tag: "Close"
      readonly reason: Closed
      readonly graceful: boolean
      /** The connection's user closed it (`close`, `abort`), rather than the library. */
      readonly byUser?: boolean | undefined
    }
  | { readonly _tag: "Flushed" }
  | { readonly _tag: "SocketClosed"; readonly reason: Closed }

/** @internal */
export const HANDSHAKING: State = { _tag: "Handshaking", peerEnded: false }
const OPEN: State = { _tag: "Open", peerEnded: false }

/** The connection as its two sides see it: the machine's state, read only. @internal */
export interface Life {
  readonly state: State
}

/** Whether the connection has left service (Closing or Closed): its inbound side is stopped, its queues ended. @internal */
export const isClosing = (state: State): state is Extract<State, { readonly _tag: "Closing" | "Closed" }> =>
  state._tag === "Closing" || state._tag === "Closed"

/** Whether the peer has ended its stream while the connection is in service. @internal */
export const peerEnded = (state: State): boolean =>
  (state._tag === "Handshaking" || state._tag === "Open") && state.peerEnded

/** The next state, or `undefined` when the event changes nothing in this state. */
export const transition = (state: State, event: Event): State | undefined => {
  switch (state._tag) {
    case "Handshaking":
    case "Open": {
      const opened = state._tag === "Open"
      switch (event._tag) {
        case "Ready":
          return opened ? undefined : state.peerEnded ? { _tag: "Open", peerEnded: true } : OPEN
        case "PeerEnded":
          return state.peerEnded ? undefined : { _tag: state._tag, peerEnded: true }
        case "Close": {
          const letGo = event.byUser === true
          return event.graceful
            ? { _tag: "Closing", reason: event.reason, opened, flushed: false, letGo }
            : { _tag: "Closed", reason: event.reason, opened, letGo }
        }
        case "SocketClosed":
          return { _tag: "Closed", reason: event.reason, opened, letGo: false }
        case "Flushed":
          return undefined
      }
      break
    }
    case "Closing": {
      switch (event._tag) {
        case "Flushed":
          return state.flushed ? undefined : { ...state, flushed: true }
        case "Close": {
          const letGo = state.letGo || event.byUser === true
          if (!event.graceful) return { _tag: "Closed", reason: state.reason, opened: state.opened, letGo }
          return letGo === state.letGo ? undefined : { ...state, letGo }
        }
        case "SocketClosed":
          return { _tag: "Closed", reason: state.reason, opened: state.opened, letGo: state.letGo }
        case "Ready":
        case "PeerEnded":
          return undefined
      }
      break
    }
    case "Closed":
      return event._tag === "Close" && event.byUser === true && !state.letGo ? { ...state, letGo: true } : undefined
  }
}

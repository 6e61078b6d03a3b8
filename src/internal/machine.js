/** @internal */
export const HANDSHAKING = { _tag: "Handshaking", peerEnded: false }
const OPEN = { _tag: "Open", peerEnded: false }
/** Whether the connection has left service (Closing or Closed): its inbound side is stopped, its queues ended. @internal */
export const isClosing = (state) => state._tag === "Closing" || state._tag === "Closed"
/** Whether the peer has ended its stream while the connection is in service. @internal */
export const peerEnded = (state) => (state._tag === "Handshaking" || state._tag === "Open") && state.peerEnded
/** The next state, or `undefined` when the event changes nothing in this state. */
export const transition = (state, event) => {
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

/**
 * The connection's state machine as a pure function: which events are legal
 * in which state, and that the first close reason is the one that stays.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { Closed } from "../src/Stocking.js"
import { type Event, type State, transition } from "../src/internal/machine.js"

const reason = (cause: string) => new Closed({ reason: "ClosedLocally", stockingId: 1, cause })
const first = reason("first")
const second = reason("second")

const handshaking: State = { _tag: "Handshaking", peerEnded: false }
const open: State = { _tag: "Open", peerEnded: false }
const ready: Event = { _tag: "Ready" }
const peerEnded: Event = { _tag: "PeerEnded" }
const flushed: Event = { _tag: "Flushed" }
const graceful = (r: Closed): Event => ({ _tag: "Close", reason: r, graceful: true })
const abortive = (r: Closed): Event => ({ _tag: "Close", reason: r, graceful: false })
const byUser = (r: Closed, isGraceful: boolean): Event => ({
  _tag: "Close",
  reason: r,
  graceful: isGraceful,
  byUser: true
})
const socketClosed = (r: Closed): Event => ({ _tag: "SocketClosed", reason: r })

describe("lifecycle transitions", () => {
  it("Handshaking -> Open on Ready; Ready is ignored after that", () => {
    assert.deepStrictEqual(transition(handshaking, ready), open)
    assert.isUndefined(transition(open, ready))
  })

  it("a graceful close goes through Closing, which waits for the flush and the socket", () => {
    const closing = transition(open, graceful(first))!
    assert.deepStrictEqual(closing, { _tag: "Closing", reason: first, opened: true, flushed: false, letGo: false })
    assert.isUndefined(transition(closing, graceful(second)))
    const done = transition(closing, flushed)!
    assert.deepStrictEqual(done, { _tag: "Closing", reason: first, opened: true, flushed: true, letGo: false })
    assert.isUndefined(transition(done, flushed))
    assert.deepStrictEqual(transition(done, socketClosed(second)), {
      _tag: "Closed",
      reason: first,
      opened: true,
      letGo: false
    })
  })

  it("an abortive close or a lost socket ends it at once, from any live state", () => {
    assert.deepStrictEqual(transition(handshaking, abortive(first)), {
      _tag: "Closed",
      reason: first,
      opened: false,
      letGo: false
    })
    assert.deepStrictEqual(transition(open, socketClosed(first)), {
      _tag: "Closed",
      reason: first,
      opened: true,
      letGo: false
    })
    const closing = transition(handshaking, graceful(first))!
    assert.deepStrictEqual(transition(closing, abortive(second)), {
      _tag: "Closed",
      reason: first,
      opened: false,
      letGo: false
    })
  })

  it("the peer's end is recorded while in service, and kept through Ready; it means nothing once closing", () => {
    const ended = transition(handshaking, peerEnded)!
    assert.deepStrictEqual(ended, { _tag: "Handshaking", peerEnded: true })
    assert.isUndefined(transition(ended, peerEnded))
    assert.deepStrictEqual(transition(ended, ready), { _tag: "Open", peerEnded: true })
    assert.deepStrictEqual(transition(open, peerEnded), { _tag: "Open", peerEnded: true })
    assert.isUndefined(transition(transition(open, graceful(first))!, peerEnded))
  })

  it("the user's close lets the connection go, whenever it comes; it changes neither the reason nor the state", () => {
    // In service: the user's close is the close.
    assert.deepStrictEqual(transition(open, byUser(first, true)), {
      _tag: "Closing",
      reason: first,
      opened: true,
      flushed: false,
      letGo: true
    })
    assert.deepStrictEqual(transition(open, byUser(first, false)), {
      _tag: "Closed",
      reason: first,
      opened: true,
      letGo: true
    })
    // Already closing, or closed, for another reason: only `letGo` changes.
    const closing = transition(open, graceful(first))!
    assert.deepStrictEqual(transition(closing, byUser(second, true)), { ...closing, letGo: true } as State)
    assert.deepStrictEqual(transition(closing, byUser(second, false)), {
      _tag: "Closed",
      reason: first,
      opened: true,
      letGo: true
    })
    const closed = transition(open, socketClosed(first))!
    assert.deepStrictEqual(transition(closed, byUser(second, true)), { ...closed, letGo: true } as State)
    assert.isUndefined(transition({ ...closed, letGo: true } as State, byUser(second, false)))
  })

  it("Flushed means nothing before a close", () => {
    assert.isUndefined(transition(handshaking, flushed))
    assert.isUndefined(transition(open, flushed))
  })

  it("property: Closed stays Closed (only the user's letting go is recorded), the first reason stays, and `opened`, `peerEnded`, `flushed` and `letGo` never go back", () => {
    const event = fc.oneof(
      fc.constant(ready),
      fc.constant(peerEnded),
      fc.constant(flushed),
      fc.nat(5).map((i) => graceful(reason(`r${i}`))),
      fc.nat(5).map((i) => abortive(reason(`r${i}`))),
      fc.tuple(fc.nat(5), fc.boolean()).map(([i, isGraceful]) => byUser(reason(`r${i}`), isGraceful)),
      fc.nat(5).map((i) => socketClosed(reason(`r${i}`)))
    )
    fc.assert(
      fc.property(fc.array(event, { maxLength: 12 }), (events) => {
        let state: State = handshaking
        let firstReason: Closed | undefined
        let wasOpen = false
        for (const e of events) {
          const next = transition(state, e)
          if (state._tag === "Closed" && next !== undefined) {
            assert.deepStrictEqual(next, { ...state, letGo: true }, "Closed is final but for letGo")
            assert.isFalse(state.letGo)
          }
          if (next === undefined) continue
          if (state._tag === "Handshaking" || state._tag === "Open") {
            if (state.peerEnded && (next._tag === "Handshaking" || next._tag === "Open")) assert.isTrue(next.peerEnded)
          }
          if (state._tag === "Closing" || state._tag === "Closed") {
            assert.notStrictEqual(next._tag, "Open")
            assert.notStrictEqual(next._tag, "Handshaking")
            if (state.letGo) assert.isTrue((next as { letGo: boolean }).letGo)
            if (state._tag === "Closing" && state.flushed && next._tag === "Closing") assert.isTrue(next.flushed)
          }
          if (firstReason === undefined && (next._tag === "Closing" || next._tag === "Closed")) {
            firstReason = next.reason
          }
          if (next._tag === "Closing" || next._tag === "Closed") {
            assert.strictEqual(next.reason, firstReason)
            assert.strictEqual(next.opened, wasOpen)
          }
          if (next._tag === "Open") wasOpen = true
          state = next
        }
      }),
      { numRuns: 500 }
    )
  })
})

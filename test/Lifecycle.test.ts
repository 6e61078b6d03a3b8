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

const handshaking: State = { _tag: "Handshaking" }
const open: State = { _tag: "Open" }
const ready: Event = { _tag: "Ready" }
const flushed: Event = { _tag: "Flushed" }
const graceful = (r: Closed): Event => ({ _tag: "Close", reason: r, graceful: true })
const abortive = (r: Closed): Event => ({ _tag: "Close", reason: r, graceful: false })
const socketClosed = (r: Closed): Event => ({ _tag: "SocketClosed", reason: r })

describe("lifecycle transitions", () => {
  it("Handshaking -> Open on Ready; Ready is ignored after that", () => {
    assert.deepStrictEqual(transition(handshaking, ready), open)
    assert.isUndefined(transition(open, ready))
  })

  it("a graceful close goes through Closing, which waits for the flush and the socket", () => {
    const closing = transition(open, graceful(first))!
    assert.deepStrictEqual(closing, { _tag: "Closing", reason: first, opened: true, flushed: false })
    assert.isUndefined(transition(closing, graceful(second)))
    const done = transition(closing, flushed)!
    assert.deepStrictEqual(done, { _tag: "Closing", reason: first, opened: true, flushed: true })
    assert.isUndefined(transition(done, flushed))
    assert.deepStrictEqual(transition(done, socketClosed(second)), { _tag: "Closed", reason: first, opened: true })
  })

  it("an abortive close or a lost socket ends it at once, from any live state", () => {
    assert.deepStrictEqual(transition(handshaking, abortive(first)), { _tag: "Closed", reason: first, opened: false })
    assert.deepStrictEqual(transition(open, socketClosed(first)), { _tag: "Closed", reason: first, opened: true })
    const closing = transition(handshaking, graceful(first))!
    assert.deepStrictEqual(transition(closing, abortive(second)), { _tag: "Closed", reason: first, opened: false })
  })

  it("Flushed means nothing before a close", () => {
    assert.isUndefined(transition(handshaking, flushed))
    assert.isUndefined(transition(open, flushed))
  })

  it("property: Closed is final, the first reason stays, and `opened` never goes back", () => {
    const event = fc.oneof(
      fc.constant(ready),
      fc.constant(flushed),
      fc.nat(5).map((i) => graceful(reason(`r${i}`))),
      fc.nat(5).map((i) => abortive(reason(`r${i}`))),
      fc.nat(5).map((i) => socketClosed(reason(`r${i}`)))
    )
    fc.assert(
      fc.property(fc.array(event, { maxLength: 12 }), (events) => {
        let state: State = handshaking
        let firstReason: Closed | undefined
        let wasOpen = false
        for (const e of events) {
          const next = transition(state, e)
          if (state._tag === "Closed") assert.isUndefined(next, "Closed is final")
          if (next === undefined) continue
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

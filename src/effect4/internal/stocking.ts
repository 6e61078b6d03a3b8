/**
 * TEMPORARY STAND-IN for the lead's Effect 4 `internal/stocking.ts` (being
 * written on `main`): `makeWithRole` for an accepted socket and
 * `unsafeOnReleasable`, over the shared `Connection`, with the identity
 * codec only and no handshake. Replace it with the real module.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { Budget } from "../../internal/budget.js"
import type { SocketLike } from "../../internal/connect.js"
import { Connection } from "../../internal/lifecycle.js"
import * as Loops from "../../internal/loops.js"
import type { Meter } from "../../internal/meter.js"
import * as Poll from "../../internal/poll.js"
import type { Closed, ConnectError } from "../../internal/stockingError.js"
import type { Message } from "../../internal/wire.js"
import type * as Stocking from "../Stocking.js"

const noMeter: Meter = {
  received: () => {},
  sent: () => {},
  inboundQueued: () => {},
  outboundQueued: () => {},
  opened: () => {}
}

let nextId = 1

/** @internal */
export const makeWithRole = <I, O, E, EH, RH>(
  options: Stocking.Settings<I, O, E, EH, RH> & { readonly socket: SocketLike },
  _role: "client" | "server" | "wrapped",
  budget?: Budget | undefined
): Effect.Effect<Stocking.Stocking<I, O, E>, ConnectError, Scope.Scope | RH> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const context = yield* Effect.context<never>()
    const runFork = Effect.runForkWith(context)
    const loops = Loops.make({
      fork: (body) => runFork(body),
      interrupt: (fiber) => Fiber.interrupt(fiber as Fiber.Fiber<void>)
    })
    const socket = options.socket
    const conn = new Connection(
      nextId++,
      socket,
      undefined,
      options.closeTimeout ?? Duration.seconds(10),
      "peer",
      { ...options, budget },
      noMeter,
      Poll.backend,
      loops
    )
    const release = Effect.suspend(() =>
      Effect.ensuring(
        conn.gracefulClose(conn.closedError("ClosedLocally")),
        Effect.andThen(
          Effect.sync(() => {
            conn.detach()
            socket.destroy()
          }),
          Loops.interrupt(loops)
        )
      )
    )
    conn.ready()
    yield* Scope.addFinalizer(scope, release)
    const take = conn.inbound.queue.take() as Effect.Effect<Message, never>
    const stocking: Stocking.Stocking<Message, Message, never> & { readonly conn: Connection } = {
      conn,
      id: conn.id,
      socket,
      take,
      messages: Stream.fromEffectRepeat(
        (take as Effect.Effect<Message, Closed>).pipe(
          Effect.catchTag("Closed", (closed): Effect.Effect<never, Closed | Cause.Done> =>
            closed.isClean ? Cause.done() : Effect.fail(closed)
          )
        )
      ) as Stream.Stream<Message>,
      write: (message) => Effect.suspend(() => conn.outbound.unsafeOffer(message)),
      writeAll: (messages) => Effect.suspend(() => conn.outbound.unsafeOfferAll(Array.from(messages))),
      ready: Effect.void,
      close: Effect.suspend(() => conn.close()),
      closed: conn.awaitState((state) =>
        state._tag === "Closing" || state._tag === "Closed" ? Effect.succeed(state.reason) : undefined
      )
    }
    return stocking as unknown as Stocking.Stocking<I, O, E>
  })

/** @internal */
export const unsafeOnReleasable = <I, O, E>(stocking: Stocking.Stocking<I, O, E>, f: () => void): void =>
  (stocking as unknown as { readonly conn: Connection }).conn.onReleasable(f)

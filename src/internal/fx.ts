/**
 * The seam between the shared machinery and the two Effect lines.
 *
 * The machinery in `src/internal/` (queues, waiters, the connection's life,
 * the inbound and outbound sides, the loops, connecting) is one copy, used
 * by the Effect 3 line (`src/`) and the Effect 4 line (`src/effect4/`). It
 * is type-checked against both (`tsconfig.json`, `tsconfig.effect4.json`)
 * and, published, runs on whichever `effect` the application has: so it
 * may only use what both lines of Effect have under the same name and
 * meaning (`Effect.sync`, `suspend`, `succeed`, `fail`, `flatMap`,
 * `andThen`, `onInterrupt`, `withSpan`, `retry`, `Exit.isSuccess`,
 * `Duration.toMillis`, `Data.TaggedError`, ...).
 *
 * The few it needs that the lines name differently are here, each looked
 * up once, when this module loads, on the `effect` that is installed.
 * Whatever depends on a line's API beyond these (services, layers,
 * streams, channels, config, metrics, forking fibers) is in that line's
 * binding, and reaches the machinery through interfaces (`loops.ts`'s
 * `Runner`, `meter.ts`'s `Meter`).
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"

const lookup = <F>(module: object, ...names: ReadonlyArray<string>): F => {
  const members = module as Readonly<Record<string, unknown>>
  for (const name of names) {
    const member = members[name]
    if (member !== undefined) return member as F
  }
  throw new TypeError(
    `effect-stockings: the installed "effect" has none of ${names.join(", ")}; expected effect 3.22+ or 4.1+`
  )
}

/** Yields to other fibers once (`Effect.yieldNow()` in Effect 3, the value `Effect.yieldNow` in Effect 4). @internal */
export const yieldNow: Effect.Effect<void> = (() => {
  const member = lookup<Effect.Effect<void> | (() => Effect.Effect<void>)>(Effect, "yieldNow")
  return typeof member === "function" ? member() : member
})()

/** What a suspended fiber's registration returns: nothing, or its canceler. @internal */
export type Register<A, E> = (resume: (effect: Effect.Effect<A, E>) => void) => void | Effect.Effect<void>

/**
 * Suspends the fiber until `register`'s callback is called with the Effect
 * to resume with (`Effect.async` in Effect 3, `Effect.callback` in Effect 4).
 *
 * @internal
 */
export const async: <A, E = never>(register: Register<A, E>) => Effect.Effect<A, E> = (() => {
  const members = Effect as unknown as Readonly<Record<string, unknown>>
  if (members["callback"] === undefined) return lookup(Effect, "async")
  // Effect 4 runs a fiber resumed from outside on the caller's stack (`fiber.evaluate`), where Effect 3 runs
  // it on the scheduler's next turn. The machinery wakes fibers from inside its own steps (a flush that made
  // room admits the next writer, which queues its messages): resumed at once, a writer would queue them, and
  // the strategy flush them, before the flush that made the room has written what it took. So a fiber resumed
  // after it suspended goes on in a microtask, once the step that woke it is over (on Effect 3, the scheduler's
  // next turn); one resumed during its registration goes on at once.
  const callback = lookup<<A, E>(register: Register<A, E>) => Effect.Effect<A, E>>(Effect, "callback")
  return <A, E>(register: Register<A, E>) =>
    callback<A, E>((resume) => {
      let registering = true
      const onCancel = register((effect) => {
        if (registering) resume(effect)
        else queueMicrotask(() => resume(effect))
      })
      registering = false
      return onCancel
    })
})()

/** A duration as either line accepts it (`Duration.DurationInput` in Effect 3, `Duration.Input` in Effect 4). @internal */
export type DurationInput = Parameters<typeof Duration.toMillis>[0]

/** Decodes a duration input (`Duration.decode` in Effect 3, `Duration.fromInputUnsafe` in Effect 4). @internal */
export const decodeDuration: (input: DurationInput) => Duration.Duration = lookup(Duration, "fromInputUnsafe", "decode")

/**
 * Fails with `onTimeout()` if `self` has not completed within `millis`,
 * interrupting it (`Effect.timeoutFail` in Effect 3, `Effect.timeoutOrElse`
 * in Effect 4).
 *
 * @internal
 */
export const timeoutFail = <A, E, R, E2>(
  self: Effect.Effect<A, E, R>,
  duration: DurationInput,
  onTimeout: () => E2
): Effect.Effect<A, E | E2, R> => timeout(self, duration, onTimeout)

type Timeout = <A, E, R, E2>(
  self: Effect.Effect<A, E, R>,
  duration: DurationInput,
  onTimeout: () => E2
) => Effect.Effect<A, E | E2, R>

const timeout: Timeout = (() => {
  const members = Effect as unknown as Readonly<Record<string, unknown>>
  if (members["timeoutOrElse"] !== undefined) {
    const timeoutOrElse = lookup<(self: unknown, options: { duration: DurationInput; orElse: () => unknown }) => never>(
      Effect,
      "timeoutOrElse"
    )
    return (self, duration, onTimeout) => timeoutOrElse(self, { duration, orElse: () => Effect.fail(onTimeout()) })
  }
  const timeoutFail = lookup<(self: unknown, options: { duration: DurationInput; onTimeout: () => unknown }) => never>(
    Effect,
    "timeoutFail"
  )
  return (self, duration, onTimeout) => timeoutFail(self, { duration, onTimeout })
})()

/**
 * Recovers from any failure of `self` with `f` (`Effect.catchAll` in Effect
 * 3, `Effect.catch` in Effect 4), data-last.
 *
 * @internal
 */
export const catchAll: <E, A2, E2, R2>(
  f: (error: E) => Effect.Effect<A2, E2, R2>
) => <A, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A | A2, E2, R | R2> = lookup(Effect, "catchAll", "catch")

/**
 * Recovers from any defect of `self` with `f` (`Effect.catchAllDefect` in
 * Effect 3, `Effect.catchDefect` in Effect 4), data-last.
 *
 * @internal
 */
export const catchAllDefect: <A2, E2, R2>(
  f: (defect: unknown) => Effect.Effect<A2, E2, R2>
) => <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A | A2, E | E2, R | R2> = lookup(
  Effect,
  "catchAllDefect",
  "catchDefect"
)

/**
 * Whether a cause holds interruptions and nothing else (`Cause.isInterruptedOnly`
 * in Effect 3, `Cause.hasInterruptsOnly` in Effect 4).
 *
 * @internal
 */
export const isInterruptedOnly: <E>(cause: Cause.Cause<E>) => boolean = lookup(
  Cause,
  "isInterruptedOnly",
  "hasInterruptsOnly"
)

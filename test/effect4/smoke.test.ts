import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import { MessageQueue } from "../../src/internal/queue.js"

describe("effect4 project", () => {
  it("resolves effect to Effect 4", async () => {
    expect(typeof (Effect as unknown as Record<string, unknown>)["callback"]).toBe("function")
    expect((Effect as unknown as Record<string, unknown>)["async"]).toBeUndefined()
    expect(typeof MessageQueue).toBe("function")
    expect(await Effect.runPromise(Effect.succeed(1))).toBe(1)
  })
})

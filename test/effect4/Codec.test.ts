/**
 * The Effect 4 line's `Codec`: the shared codec shape (`make`, `identity`,
 * `isCodec`), and the codecs made from Effect 4's `Schema`, which fail with
 * its `SchemaError` saying what was received and what was expected.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import { describe, expect, it } from "vitest"
import { Codec } from "../../src/effect4/index.js"
import { failureOf } from "./utils.js"

const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)

/** The SchemaError `effect` fails with, checked to be Effect 4's. */
const schemaErrorOf = async <A>(effect: Effect.Effect<A, Schema.SchemaError>): Promise<Schema.SchemaError> => {
  const error = await failureOf(effect)
  expect(Schema.isSchemaError(error)).toBe(true)
  expect(error._tag).toBe("SchemaError")
  return error
}

/** What `JSON.parse` says of `text`. */
const jsonParseError = (text: string): string => {
  try {
    JSON.parse(text)
  } catch (error) {
    return (error as SyntaxError).message
  }
  throw new Error(`${text} is JSON`)
}

const Status = Schema.Struct({ user: Schema.String, status: Schema.Literals(["OK", "ERROR"]) })

describe("Codec (Effect 4): the codec value", () => {
  it("TypeId, isCodec: every constructor makes a codec, other values are not", () => {
    expect(Codec.TypeId).toBe(Symbol.for("effect-stockings/Codec"))
    const made = Codec.make({ encode: (text: string) => Effect.succeed(text), decode: Effect.succeed })
    for (const codec of [
      made,
      Codec.identity,
      Codec.schema(Schema.String),
      Codec.json(Status),
      Codec.jsonPair(Status, Status)
    ]) {
      expect(Codec.isCodec(codec)).toBe(true)
      expect(codec[Codec.TypeId]).toBe(Codec.TypeId)
    }
    expect(Codec.isCodec({ encode: () => "", decode: () => "" })).toBe(false)
    expect(Codec.isCodec(null)).toBe(false)
    expect(Codec.isCodec("codec")).toBe(false)
  })

  it("identity changes nothing, bytes included (the same buffer)", async () => {
    const bytes = Uint8Array.of(1, 2)
    expect(await run(Codec.identity.encode(bytes))).toBe(bytes)
    expect(await run(Codec.identity.decode(bytes))).toBe(bytes)
    expect(await run(Codec.identity.encode("hi"))).toBe("hi")
    expect(await run(Codec.identity.decode("hi"))).toBe("hi")
  })

  it("make runs the conversions it is given, failures typed", async () => {
    const userStatus = Codec.make({
      encode: ({ user, status }: { user: string; status: string }) => Effect.succeed(`${user}:${status}`),
      decode: (message) => {
        const match = typeof message === "string" ? /^(.*):(.*)$/.exec(message) : null
        return match ? Effect.succeed({ user: match[1]!, status: match[2]! }) : Effect.fail("not user:status" as const)
      }
    })
    expect(await run(userStatus.encode({ user: "ann", status: "OK" }))).toBe("ann:OK")
    expect(await run(userStatus.decode("bob:ERROR"))).toEqual({ user: "bob", status: "ERROR" })
    const error: "not user:status" = await failureOf(userStatus.decode(Uint8Array.of(1)))
    expect(error).toBe("not user:status")
  })
})

describe("Codec (Effect 4): schema", () => {
  it("encodes and decodes with a schema whose encoded side is a message", async () => {
    const NumberText = Codec.schema(Schema.NumberFromString)
    expect(await run(NumberText.encode(42))).toBe("42")
    expect(await run(NumberText.decode("1.5"))).toBe(1.5)
    const bytes = Codec.schema(Schema.Uint8Array)
    expect(await run(bytes.decode(Uint8Array.of(7)))).toEqual(Uint8Array.of(7))
    const either = Codec.schema(Schema.Union([Schema.String, Schema.Uint8Array]))
    expect(await run(either.decode("x"))).toBe("x")
    expect(await run(either.decode(Uint8Array.of(1)))).toEqual(Uint8Array.of(1))
  })

  it("a message of the wrong kind fails with a SchemaError naming what came and what was expected", async () => {
    const error = await schemaErrorOf(Codec.schema(Schema.String).decode(Uint8Array.of(1, 2)))
    expect(error.message).toBe("Expected string, got Uint8Array([1,2])")
    const bytesError = await schemaErrorOf(Codec.schema(Schema.Uint8Array).decode("x"))
    expect(bytesError.message).toBe('Expected Uint8Array, got "x"')
  })

  it("a value the schema refuses fails both ways, with the value in the error", async () => {
    const codec = Codec.schema(Schema.String.check(Schema.isMinLength(2)))
    const onWrite = await schemaErrorOf(codec.encode("a"))
    expect(onWrite.message).toBe('Expected a value with a length of at least 2, got "a"')
    const onRead = await schemaErrorOf(codec.decode("b"))
    expect(onRead.message).toBe('Expected a value with a length of at least 2, got "b"')
    expect(SchemaIssue.hasInput(onRead.issue) && onRead.issue.input).toBe("b")
  })

  it("takes Schema's parse options: reportInput: false keeps the message out of the error", async () => {
    const error = await schemaErrorOf(Codec.schema(Schema.String, { reportInput: false }).decode(Uint8Array.of(1, 2)))
    expect(error.message).toBe("Expected string")
    expect(SchemaIssue.hasInput(error.issue)).toBe(false)
  })

  it("takes only schemas whose encoded side is a message", () => {
    // @ts-expect-error: a Struct's encoded side is an object, not a string or a Uint8Array
    const refused = () => Codec.schema(Status)
    expect(typeof refused).toBe("function")
  })
})

describe("Codec (Effect 4): json", () => {
  const codec = Codec.json(Status)

  it("writes JSON text and reads it back, from text or from UTF-8 bytes", async () => {
    const message = await run(codec.encode({ user: "ann", status: "OK" }))
    expect(message).toBe('{"user":"ann","status":"OK"}')
    expect(await run(codec.decode(message))).toEqual({ user: "ann", status: "OK" })
    const asBytes = new TextEncoder().encode('{"user":"zoë","status":"ERROR"}')
    expect(await run(codec.decode(asBytes))).toEqual({ user: "zoë", status: "ERROR" })
  })

  it("a value that does not match: the field, what came and what was expected", async () => {
    const error = await schemaErrorOf(codec.decode('{"user":"ann","status":"MAYBE"}'))
    expect(error.message).toBe('Expected "OK" | "ERROR", got "MAYBE"\n  at ["status"]')
    const all = await schemaErrorOf(Codec.json(Status, { errors: "all" }).decode('{"user":1,"status":"MAYBE"}'))
    expect(all.message).toBe(
      'Expected string, got 1\n  at ["user"]\nExpected "OK" | "ERROR", got "MAYBE"\n  at ["status"]'
    )
  })

  it("text that is not JSON: how long it was and the parser's reason", async () => {
    for (const text of ['{"user":', "{user: 1}", ""]) {
      const error = await schemaErrorOf(codec.decode(text))
      expect(error.message).toBe(
        `Expected JSON text, got ${text.length} characters that are not JSON (${jsonParseError(text)})`
      )
      expect(SchemaIssue.hasInput(error.issue) && error.issue.input).toBe(text)
    }
    // The parser's own reason, whichever engine runs (V8: "Unexpected end of JSON input"; JavaScriptCore differs).
    expect(jsonParseError('{"user":')).toMatch(/\S/)
  })

  it("bytes that are not UTF-8: how many, and what was expected", async () => {
    const bytes = Uint8Array.of(0x7b, 0xff, 0x7d)
    const error = await schemaErrorOf(codec.decode(bytes))
    expect(error.message).toBe("Expected a JSON text message, got 3 bytes that are not UTF-8")
    expect(SchemaIssue.hasInput(error.issue) && error.issue.input).toBe(bytes)
  })

  it("a value the schema refuses on write, and one JSON cannot carry", async () => {
    const wrong = { user: "ann", status: "SOON" } as unknown as typeof Status.Type
    const error = await schemaErrorOf(codec.encode(wrong))
    expect(error.message).toBe('Expected "OK" | "ERROR", got "SOON"\n  at ["status"]')
    const big = await schemaErrorOf(Codec.json(Schema.Struct({ n: Schema.BigInt })).encode({ n: 1n }))
    expect(big.message).toBe('Expected a JSON-serializable value, got {"n":1n}')
  })

  it("parse options apply to reads: onExcessProperty", async () => {
    const extra = '{"user":"ann","status":"OK","extra":true}'
    expect(await run(codec.decode(extra))).toEqual({ user: "ann", status: "OK" })
    const strict = await schemaErrorOf(Codec.json(Status, { onExcessProperty: "error" }).decode(extra))
    expect(strict.message).toBe('Unexpected key with value true\n  at ["extra"]')
  })

  it("a SchemaError is caught by its tag", async () => {
    const handled = await run(
      codec.decode("nope").pipe(Effect.catchTag("SchemaError", (error) => Effect.succeed(error.message.slice(0, 18))))
    )
    expect(handled).toBe("Expected JSON text")
  })
})

describe("Codec (Effect 4): jsonPair", () => {
  const Request = Schema.Struct({ id: Schema.Number, query: Schema.String })
  const Response = Schema.Struct({ id: Schema.Number, rows: Schema.Array(Schema.String) })
  const client = Codec.jsonPair(Request, Response)
  const server = Codec.jsonPair(Response, Request)

  it("writes one type and reads the other; the mirror image talks to it", async () => {
    const request = await run(client.encode({ id: 1, query: "all" }))
    expect(request).toBe('{"id":1,"query":"all"}')
    expect(await run(server.decode(request))).toEqual({ id: 1, query: "all" })
    const response = await run(server.encode({ id: 1, rows: ["a", "b"] }))
    expect(await run(client.decode(response))).toEqual({ id: 1, rows: ["a", "b"] })
  })

  it("reading the wrong direction's message fails with the field that is missing", async () => {
    const error = await schemaErrorOf(client.decode('{"id":1,"query":"all"}'))
    expect(error.message).toBe('Missing key\n  at ["rows"]')
  })
})

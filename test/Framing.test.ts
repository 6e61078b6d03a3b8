import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Either, Stream } from "effect"
import * as fc from "fast-check"
import { Framing } from "../src/index.js"
import { captureOnWire, captureStream, captureWrites, fromHex, headerVectors } from "./fixtures/wire.js"
import { heldBytes } from "./utils/memory.js"

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex")

/** Splits `bytes` at the given cut points (sorted, deduplicated, within range). */
const splitAt = (bytes: Uint8Array, cuts: ReadonlyArray<number>): Array<Uint8Array> => {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const out: Array<Uint8Array> = []
  let prev = 0
  for (const p of points) {
    out.push(bytes.subarray(prev, p))
    prev = p
  }
  out.push(bytes.subarray(prev))
  return out
}

const decodeAll = (chunks: Iterable<Uint8Array>, options?: Framing.DecoderOptions) => {
  const decoder = Framing.unsafeMakeDecoder(options)
  const messages: Array<Framing.Message> = []
  for (const chunk of chunks) messages.push(...decoder.push(chunk))
  return { messages, decoder, end: decoder.end() }
}

/** Compares messages with their kinds: a string must stay a string, bytes stay bytes. */
const assertMessages = (actual: ReadonlyArray<Framing.Message>, expected: ReadonlyArray<Framing.Message>) => {
  assert.strictEqual(actual.length, expected.length, "message count")
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!
    const e = expected[i]!
    if (typeof e === "string") {
      assert.strictEqual(typeof a, "string", `message ${i} kind`)
      assert.strictEqual(a, e, `message ${i}`)
    } else {
      assert.instanceOf(a, Uint8Array, `message ${i} kind`)
      assert.strictEqual(hex(a as Uint8Array), hex(e), `message ${i}`)
    }
  }
}

const messageArb: fc.Arbitrary<Framing.Message> = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 300 }).filter((s) => s.isWellFormed()),
  fc.uint8Array({ maxLength: 300 }),
  fc.constant(""),
  fc.constant(new Uint8Array(0))
)

describe("Framing: header vectors from the original encoder", () => {
  it("has the vectors", () => {
    assert.isAtLeast(headerVectors.length, 66)
  })

  for (const vector of headerVectors) {
    it(`${vector.kind} ${vector.length} <-> ${vector.header}`, () => {
      assert.strictEqual(hex(Framing.encodeHeader(vector.kind, vector.length)), vector.header)
      assert.strictEqual(Framing.headerSize(vector.length), vector.header.length / 2)
      const decoded = Framing.decodeHeader(fromHex(vector.header))
      assert.deepStrictEqual(decoded, { kind: vector.kind, length: vector.length, size: vector.header.length / 2 })
    })
  }

  it("the incremental decoder reads every vector's header back, fed one byte at a time", () => {
    for (const vector of headerVectors) {
      const decoder = Framing.unsafeMakeDecoder({ maxMessageSize: 0 })
      for (const byte of fromHex(vector.header)) decoder.push(Uint8Array.of(byte))
      if (vector.length === 0) {
        assert.isUndefined(decoder.failure)
      } else {
        // maxMessageSize 0 makes the decoder report the declared length as soon as the header completes.
        assert.strictEqual(decoder.failure?.reason, "MessageTooLarge")
        assert.strictEqual(decoder.failure?.declaredLength, vector.length)
        assert.strictEqual(decoder.failure?.received, vector.header)
      }
    }
  })

  it("rejects lengths that do not fit", () => {
    assert.throws(() => Framing.encodeHeader("text", -1), RangeError)
    assert.throws(() => Framing.encodeHeader("text", 1.5), RangeError)
    assert.throws(() => Framing.encodeHeader("bytes", 2 ** 53), RangeError)
  })

  it("accepts non-minimal headers", () => {
    const { messages, end } = decodeAll([Uint8Array.of(0x00, 0x80, 0x41, 0x80, 0x09)])
    assertMessages(messages, ["", Uint8Array.of(9)])
    assert.isUndefined(end)
  })
})

describe("Framing: encoding", () => {
  it("encodes text as UTF-8 with a byte count", () => {
    assert.strictEqual(hex(Framing.encode("hi")), "826869")
    assert.strictEqual(hex(Framing.encode("é")), "82c3a9")
    assert.strictEqual(hex(Framing.encode("🧦")), "84f09fa7a6")
    assert.strictEqual(hex(Framing.encode("")), "80")
    assert.strictEqual(hex(Framing.encode(new Uint8Array(0))), "c0")
    assert.strictEqual(Framing.encodedSize("x".repeat(64)), 66)
  })

  it("encodeParts hands back the caller's bytes without copying", () => {
    const payload = new Uint8Array(100).fill(7)
    const [header, body] = Framing.encodeParts(payload)
    assert.strictEqual(body, payload)
    assert.strictEqual(hex(header), "6481")
  })

  it("reproduces the original library's captured stream (empty writes dropped, as it does)", () => {
    assert.strictEqual(hex(Framing.encodeAll(captureOnWire)), hex(captureStream))
    const viaInto = new Uint8Array(captureStream.length)
    let offset = 0
    for (const m of captureOnWire) offset = Framing.encodeInto(viaInto, offset, m)
    assert.strictEqual(offset, captureStream.length)
    assert.strictEqual(hex(viaInto), hex(captureStream))
  })

  it("encode equals the concatenation of encodeParts for any message", () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const [h, p] = Framing.encodeParts(m)
        assert.strictEqual(hex(Framing.encode(m)), hex(h) + hex(p))
        assert.strictEqual(Framing.encodedSize(m), h.length + p.length)
      }),
      { numRuns: 500 }
    )
  })
})

describe("Framing: decoding the original library's capture", () => {
  it("the capture lists empty writes that never reached the wire", () => {
    assert.isAbove(captureWrites.length, captureOnWire.length)
  })

  it("decodes the stream whole", () => {
    const { messages, end } = decodeAll([captureStream])
    assertMessages(messages, captureOnWire)
    assert.isUndefined(end)
  })

  it("decodes the stream byte by byte", () => {
    const chunks = Array.from(captureStream, (b) => Uint8Array.of(b))
    const { messages, end } = decodeAll(chunks)
    assertMessages(messages, captureOnWire)
    assert.isUndefined(end)
  })

  it("decodes the stream under random splits", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
        const { messages, end } = decodeAll(splitAt(captureStream, cuts))
        assertMessages(messages, captureOnWire)
        assert.isUndefined(end)
      }),
      { numRuns: 1000 }
    )
  })
})

describe("Framing: round trip", () => {
  it("random messages, encoded, concatenated, split anywhere, decode to the input", () => {
    fc.assert(
      fc.property(fc.array(messageArb, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 30 }), (input, cuts) => {
        const bytes = Framing.encodeAll(input)
        const { messages, end } = decodeAll(splitAt(bytes, cuts))
        assertMessages(messages, input)
        assert.isUndefined(end)
      }),
      { numRuns: 1000 }
    )
  })

  it("several messages and the start of the next in one chunk", () => {
    const bytes = Framing.encodeAll(["a", Uint8Array.of(1, 2), "", "tail-message"])
    const decoder = Framing.unsafeMakeDecoder()
    assertMessages(decoder.push(bytes.subarray(0, bytes.length - 5)), ["a", Uint8Array.of(1, 2), ""])
    assert.isFalse(decoder.idle)
    assertMessages(decoder.push(bytes.subarray(bytes.length - 5)), ["tail-message"])
    assert.isTrue(decoder.idle)
  })
})

describe("Framing: copying rules", () => {
  it("a payload whole inside one chunk is a view of that chunk", () => {
    const chunk = Framing.encodeAll([new Uint8Array(1000).fill(1), new Uint8Array(10).fill(2)])
    const [first, second] = Framing.unsafeMakeDecoder().push(chunk) as Array<Uint8Array>
    assert.strictEqual(first!.buffer, chunk.buffer)
    assert.strictEqual(first!.byteOffset, 2)
    assert.strictEqual(second!.buffer, chunk.buffer)
  })

  it("a payload spread over chunks is assembled in one buffer of exactly its length", () => {
    const size = 16 * 1024 * 1024
    const payload = new Uint8Array(size)
    for (let i = 0; i < size; i += 4096) payload[i] = i & 0xff
    const frame = Framing.encode(payload)
    const decoder = Framing.unsafeMakeDecoder()
    const out: Array<Framing.Message> = []
    const readSize = 64 * 1024
    for (let i = 0; i < frame.length; i += readSize) out.push(...decoder.push(frame.subarray(i, i + readSize)))
    assert.strictEqual(out.length, 1)
    const message = out[0] as Uint8Array
    assert.strictEqual(message.buffer.byteLength, size, "one allocation of exactly the payload's length")
    assert.notStrictEqual(message.buffer, frame.buffer)
    assert.isTrue(Buffer.from(message).equals(Buffer.from(payload)))
  })
})

describe("Framing: allocation", () => {
  it("a payload spread over chunks is assembled in a buffer from the allocate option, once", () => {
    const sizes: Array<number> = []
    const decoder = Framing.unsafeMakeDecoder({
      allocate: (size) => {
        sizes.push(size)
        return new Uint8Array(size).fill(0xee)
      }
    })
    const frame = Framing.encode(new Uint8Array(5000).fill(1))
    const out = [...decoder.push(frame.subarray(0, 100)), ...decoder.push(frame.subarray(100))]
    assert.deepStrictEqual(sizes, [5000])
    assert.isTrue(
      (out[0] as Uint8Array).every((b) => b === 1),
      "every byte was overwritten"
    )
    // A payload inside one chunk is a view: no allocation.
    decoder.push(Framing.encode(new Uint8Array(10)))
    assert.deepStrictEqual(sizes, [5000])
  })
})

describe("Framing: drip-fed payloads", () => {
  /** Byte `i` of the test payloads. */
  const patterned = (size: number): Uint8Array => {
    const payload = new Uint8Array(size)
    for (let i = 0; i < size; i++) payload[i] = (i * 7 + (i >> 10)) & 0xff
    return payload
  }

  it("a 16 MiB payload arriving one byte per chunk holds less than twice the bytes received", () => {
    const size = 16 * 1024 * 1024
    const decoder = Framing.unsafeMakeDecoder()
    assert.deepStrictEqual(decoder.push(Framing.encodeHeader("bytes", size)), [])
    const before = heldBytes()
    // 2 MiB one byte at a time, each byte in a chunk of its own as a socket would hand it over.
    const dripped = 2 * 1024 * 1024
    for (let i = 0; i < dripped; i++) {
      const chunk = new Uint8Array(1)
      chunk[0] = (i * 7 + (i >> 10)) & 0xff
      decoder.push(chunk)
    }
    const growth = heldBytes() - before
    assert.strictEqual(decoder.buffered, dripped)
    assert.isBelow(growth, 2 * dripped, `held ${growth} bytes for ${dripped} received`)
    // The rest in large reads: the message arrives whole and exact.
    const rest = patterned(size).subarray(dripped)
    const out: Array<Framing.Message> = []
    for (let i = 0; i < rest.length; i += 64 * 1024) out.push(...decoder.push(rest.subarray(i, i + 64 * 1024)))
    assert.strictEqual(out.length, 1)
    assert.isTrue(Buffer.from(out[0] as Uint8Array).equals(Buffer.from(patterned(size))))
    assert.isTrue(decoder.idle)
  })

  it("a payload in large reads stays views until its last byte: one copy into a buffer of its length", () => {
    const sizes: Array<number> = []
    const allocate = (size: number) => {
      sizes.push(size)
      return new Uint8Array(size)
    }
    const payload = patterned(4 * 1024 * 1024)
    const frame = Framing.encode(payload)
    const decoder = Framing.unsafeMakeDecoder({ allocate })
    const out: Array<Framing.Message> = []
    // Some small reads among the large ones do not change that.
    const cuts = [1, 2, 3, 100, 5000, 5001, 5002]
    for (let at = 8192; at < frame.length; at += 16 * 1024) cuts.push(at)
    for (const chunk of splitAt(frame, cuts)) out.push(...decoder.push(chunk))
    assert.deepStrictEqual(sizes, [payload.length])
    assert.strictEqual(out.length, 1)
    assert.isTrue(Buffer.from(out[0] as Uint8Array).equals(Buffer.from(payload)))
  })

  it("a small payload dripped in is gathered in one buffer of its length, handed out without another copy", () => {
    const sizes: Array<number> = []
    const decoder = Framing.unsafeMakeDecoder({
      allocate: (size) => {
        sizes.push(size)
        return new Uint8Array(size)
      }
    })
    const frame = Framing.encode("é".repeat(400))
    const out: Array<Framing.Message> = []
    for (let i = 0; i < frame.length; i++) out.push(...decoder.push(frame.subarray(i, i + 1)))
    assertMessages(out, ["é".repeat(400)])
    assert.deepStrictEqual(sizes, [800])
  })

  it("any mix of tiny and large chunks decodes every message exactly", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(messageArb, fc.uint8Array({ minLength: 1000, maxLength: 200_000 })), { maxLength: 6 }),
        fc.array(fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 70_000 })), {
          minLength: 1,
          maxLength: 50
        }),
        (input, steps) => {
          const bytes = Framing.encodeAll(input)
          const chunks: Array<Uint8Array> = []
          // Chunk sizes cycle through `steps`; many one-byte chunks push payloads into blocks.
          for (let at = 0, i = 0; at < bytes.length; i++) {
            const size = steps[i % steps.length]!
            chunks.push(bytes.slice(at, at + size))
            at += size
          }
          const { end, messages } = decodeAll(chunks)
          assert.isUndefined(end)
          assertMessages(messages, input)
        }
      ),
      { numRuns: 200 }
    )
  })

  it("a stream ending inside a dripped payload reports how much had arrived", () => {
    const frame = Framing.encode(patterned(100_000))
    const decoder = Framing.unsafeMakeDecoder()
    for (let i = 0; i < 50_003; i++) decoder.push(frame.subarray(i, i + 1))
    const end = decoder.end()
    assert.strictEqual(end?.reason, "Truncated")
    assert.strictEqual(end?.buffered, 50_000)
    assert.strictEqual(end?.declaredLength, 100_000)
  })
})

describe("Framing: limits and malformed input", () => {
  it("rejects an oversized header as soon as it completes, before any payload", () => {
    const decoder = Framing.unsafeMakeDecoder({ maxMessageSize: 1000 })
    const ok = Framing.encode("fine")
    const big = Framing.encodeHeader("bytes", 2 ** 50)
    const messages = decoder.push(new Uint8Array([...ok, ...big]))
    assertMessages(messages, ["fine"])
    const failure = decoder.failure!
    assert.strictEqual(failure._tag, "FramingError")
    assert.strictEqual(failure.reason, "MessageTooLarge")
    assert.strictEqual(failure.declaredLength, 2 ** 50)
    assert.strictEqual(failure.limit, 1000)
    assert.strictEqual(failure.offset, ok.length)
    assert.strictEqual(failure.received, hex(big))
    assert.match(failure.message, /1125899906842624 bytes.*offset 5.*maxMessageSize of 1000/)
    assert.strictEqual(decoder.buffered, 0)
  })

  it("accepts a message of exactly maxMessageSize", () => {
    const { messages, end } = decodeAll([Framing.encode(new Uint8Array(1000))], { maxMessageSize: 1000 })
    assert.strictEqual(messages.length, 1)
    assert.isUndefined(end)
  })

  it("defaults to 16 MiB", () => {
    assert.strictEqual(Framing.unsafeMakeDecoder().maxMessageSize, 16 * 1024 * 1024)
    const decoder = Framing.unsafeMakeDecoder()
    decoder.push(Framing.encodeHeader("bytes", 16 * 1024 * 1024 + 1))
    assert.strictEqual(decoder.failure?.reason, "MessageTooLarge")
  })

  it("rejects a header unfinished after 8 bytes", () => {
    const decoder = Framing.unsafeMakeDecoder()
    decoder.push(Uint8Array.of(0x81, 0x01, 0x02))
    const out = decoder.push(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0x80))
    assert.deepStrictEqual(out, [])
    assert.strictEqual(decoder.failure?.reason, "HeaderTooLong")
    assert.strictEqual(decoder.failure?.offset, 2)
    assert.strictEqual(decoder.failure?.received, "0200000000000000")
  })

  it("rejects a length past 2^53 - 1", () => {
    const header = Uint8Array.of(0x3f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0xa0)
    const decoder = Framing.unsafeMakeDecoder({ maxMessageSize: Framing.MAX_LENGTH })
    decoder.push(header)
    assert.strictEqual(decoder.failure?.reason, "LengthOverflow")
    assert.strictEqual(decoder.failure?.received, hex(header))
    const single = Framing.decodeHeader(header)
    assert.isTrue(Framing.isFramingError(single))
    assert.isUndefined(Framing.decodeHeader(Uint8Array.of(0x01, 0x02)))
    const tooLong = Framing.decodeHeader(new Uint8Array(8))
    assert.strictEqual(Framing.isFramingError(tooLong) && tooLong.reason, "HeaderTooLong")
  })

  it("rejects invalid UTF-8 in text, keeping the messages before it", () => {
    const bad = Uint8Array.of(0x82, 0xc3, 0x28)
    const { messages, decoder } = decodeAll([new Uint8Array([...Framing.encode("ok"), ...bad])])
    assertMessages(messages, ["ok"])
    assert.strictEqual(decoder.failure?.reason, "InvalidUtf8")
    assert.strictEqual(decoder.failure?.offset, 3)
    assert.strictEqual(decoder.failure?.declaredLength, 2)
    // The same bytes as a bytes message are fine.
    assertMessages(decodeAll([Uint8Array.of(0xc2, 0xc3, 0x28)]).messages, [Uint8Array.of(0xc3, 0x28)])
  })

  it("invalid UTF-8 split across chunks is still caught", () => {
    const { decoder } = decodeAll([Uint8Array.of(0x83, 0xe2), Uint8Array.of(0x28), Uint8Array.of(0xa1)])
    assert.strictEqual(decoder.failure?.reason, "InvalidUtf8")
  })

  it("reports a stream that ends inside a header or a payload", () => {
    const inPayload = decodeAll([Uint8Array.of(0x85, 0x61, 0x62)])
    assert.strictEqual(inPayload.end?.reason, "Truncated")
    assert.strictEqual(inPayload.end?.declaredLength, 5)
    assert.strictEqual(inPayload.end?.buffered, 2)
    assert.match(inPayload.end!.message, /2 of 5 payload bytes/)
    const inHeader = decodeAll([Uint8Array.of(0x81, 0x00, 0x00)])
    assert.strictEqual(inHeader.end?.reason, "Truncated")
    assert.strictEqual(inHeader.end?.received, "00")
  })

  it("a failed decoder stays failed", () => {
    const decoder = Framing.unsafeMakeDecoder({ maxMessageSize: 4 })
    decoder.push(Framing.encode("too long"))
    const failure = decoder.failure
    assert.strictEqual(failure?.reason, "MessageTooLarge")
    assert.deepStrictEqual(decoder.push(Framing.encode("ok")), [])
    assert.strictEqual(decoder.failure, failure)
    assert.strictEqual(decoder.end(), failure)
  })

  it("arbitrary bytes give only messages or a typed error, never a throw or an allocation past the limit", () => {
    const limit = 4096
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
        const decoder = Framing.unsafeMakeDecoder({ maxMessageSize: limit })
        for (const chunk of chunks) {
          for (const m of decoder.push(chunk)) {
            const size = typeof m === "string" ? Buffer.byteLength(m) : m.length
            assert.isAtMost(size, limit)
          }
          assert.isAtMost(decoder.buffered, limit)
        }
        const end = decoder.end()
        if (end !== undefined) assert.isTrue(Framing.isFramingError(end))
      }),
      { numRuns: 2000 }
    )
  })
})

describe("Framing: streams", () => {
  it.effect("decodeStream frames a byte stream, encodeStream is its inverse", () =>
    Effect.gen(function* () {
      const input: Array<Framing.Message> = ["one", Uint8Array.of(2), "", "three"]
      const bytes = Framing.encodeAll(input)
      const chunks = Array.from(bytes, (b) => Uint8Array.of(b))
      const decoded = yield* Stream.fromIterable(chunks).pipe(Framing.decodeStream(), Stream.runCollect)
      assertMessages(Chunk.toArray(decoded), input)
      const reencoded = yield* Stream.fromIterable(input).pipe(Framing.encodeStream, Stream.runCollect)
      assert.strictEqual(hex(Buffer.concat(Chunk.toArray(reencoded))), hex(bytes))
    })
  )

  it.effect("decodeStream emits what arrived whole, then fails on bad framing", () =>
    Effect.gen(function* () {
      const bytes = new Uint8Array([...Framing.encode("kept"), 0x7f])
      const seen: Array<Framing.Message> = []
      const result = yield* Stream.make(bytes, Uint8Array.of(0, 0, 0, 0, 0, 0, 0)).pipe(
        Framing.decodeStream(),
        Stream.runForEach((m) => Effect.sync(() => seen.push(m))),
        Effect.either
      )
      assertMessages(seen, ["kept"])
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) assert.strictEqual(result.left.reason, "HeaderTooLong")
    })
  )

  it.effect("decodeStream fails with Truncated when the input ends mid-message", () =>
    Effect.gen(function* () {
      const result = yield* Stream.make(Uint8Array.of(0x85, 0x61)).pipe(
        Framing.decodeStream(),
        Stream.runCollect,
        Effect.flip
      )
      assert.strictEqual(result.reason, "Truncated")
    })
  )

  it.effect("decodeStream passes the upstream error through", () =>
    Effect.gen(function* () {
      const result = yield* Stream.fail("upstream" as const).pipe(
        Framing.decodeStream(),
        Stream.runCollect,
        Effect.flip
      )
      assert.strictEqual(result, "upstream")
    })
  )
})

/**
 * The Effect 4 line's `Framing`: the original library's wire vectors and
 * capture, every `FramingError` reason with its message (the same as the
 * Effect 3 line's), and the stream side in Effect 4's terms: channels and
 * streams over `NonEmptyReadonlyArray` batches, round trips under random
 * chunking and batching.
 */
import * as Channel from "effect/Channel"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Stream from "effect/Stream"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Framing } from "../../src/effect4/index.js"
import { captureOnWire, captureStream, captureWrites, fromHex, headerVectors } from "../fixtures/wire.js"
import { batchesOf, concatBytes, expectMessages, failureOf, hex, messageArb, splitAt } from "./utils.js"

/** Decodes `chunks` with one decoder: the messages, the decoder, and what `end` said. */
const decodeAll = (chunks: Iterable<Uint8Array>, options?: Framing.DecoderOptions) => {
  const decoder = Framing.unsafeMakeDecoder(options)
  const messages: Array<Framing.Message> = []
  for (const chunk of chunks) messages.push(...decoder.push(chunk))
  return { messages, decoder, end: decoder.end() }
}

/** A stream emitting exactly these batches (empty ones dropped, as a stream never emits them). */
const streamOfBatches = <A>(batches: ReadonlyArray<ReadonlyArray<A>>): Stream.Stream<A> =>
  Stream.fromArrays(...batches.filter((batch) => batch.length > 0))

/** Runs a stream, keeping what it emitted before it ended or failed, and how it ended. */
const runKeeping = async <A, E>(stream: Stream.Stream<A, E>) => {
  const seen: Array<A> = []
  const exit = await Effect.runPromiseExit(Stream.runForEach(stream, (a) => Effect.sync(() => seen.push(a))))
  return { seen, exit }
}

/** The typed error an exit failed with (the test fails if it did not fail so). */
const errorOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure, got a success")
  const reason = exit.cause.reasons[0]
  if (reason === undefined || reason._tag !== "Fail") throw new Error(`expected a typed failure, got ${exit.cause}`)
  return reason.error
}

describe("Framing (Effect 4): the original library's header vectors", () => {
  it("has the vectors", () => {
    expect(headerVectors.length).toBeGreaterThan(40)
  })

  it("encodes, sizes and reads back every vector's header", () => {
    for (const vector of headerVectors) {
      const what = `${vector.kind} ${vector.length}`
      expect(hex(Framing.encodeHeader(vector.kind, vector.length)), what).toBe(vector.header)
      expect(Framing.headerSize(vector.length), what).toBe(vector.header.length / 2)
      expect(Framing.decodeHeader(fromHex(vector.header)), what).toEqual({
        kind: vector.kind,
        length: vector.length,
        size: vector.header.length / 2
      })
    }
  })

  it("the incremental decoder reads every vector's header, fed one byte at a time", () => {
    for (const vector of headerVectors.filter((v) => v.length <= 70_000)) {
      const payload = new Uint8Array(vector.length).fill(0x61)
      const frame = concatBytes([fromHex(vector.header), payload])
      const { messages, end } = decodeAll(Array.from(frame, (b) => Uint8Array.of(b)))
      expect(end, `${vector.kind} ${vector.length}`).toBeUndefined()
      expectMessages(messages, [vector.kind === "text" ? "a".repeat(vector.length) : payload])
    }
  })

  it("rejects lengths that do not fit, as a programming error", () => {
    expect(() => Framing.encodeHeader("text", -1)).toThrow(RangeError)
    expect(() => Framing.encodeHeader("text", 1.5)).toThrow(RangeError)
    expect(() => Framing.encodeHeader("bytes", Framing.MAX_LENGTH + 1)).toThrow(
      "Stockings header length must be an integer from 0 to 2^53 - 1, got 9007199254740992"
    )
    expect(Framing.headerSize(Framing.MAX_LENGTH)).toBe(Framing.MAX_HEADER_SIZE)
  })
})

describe("Framing (Effect 4): encoding", () => {
  it("encodes text as UTF-8 with a byte count, bytes as they are", () => {
    expect(hex(Framing.encode("hi"))).toBe("826869")
    expect(hex(Framing.encode("é"))).toBe("82c3a9")
    expect(hex(Framing.encode(Uint8Array.of(7)))).toBe("c107")
    expect(Framing.encodedSize("héllo")).toBe(7)
    expect(Framing.encodedSize(new Uint8Array(1000))).toBe(1002)
    expect(Framing.kindOf("")).toBe("text")
    expect(Framing.kindOf(new Uint8Array(0))).toBe("bytes")
  })

  it("reproduces the original library's captured stream", () => {
    expect(hex(Framing.encodeAll(captureOnWire))).toBe(hex(captureStream))
    expect(hex(concatBytes(captureOnWire.map(Framing.encode)))).toBe(hex(captureStream))
    expect(captureWrites.length).toBeGreaterThan(captureOnWire.length)
  })

  it("encodeParts hands back the caller's bytes; encode and encodeInto agree with it", () => {
    fc.assert(
      fc.property(messageArb, (message) => {
        const [header, payload] = Framing.encodeParts(message)
        if (typeof message !== "string") expect(payload).toBe(message)
        const whole = Framing.encode(message)
        expect(hex(whole)).toBe(hex(concatBytes([header, payload])))
        const target = new Uint8Array(Framing.encodedSize(message) + 2)
        expect(Framing.encodeInto(target, 1, message)).toBe(1 + whole.length)
        expect(hex(target.subarray(1, 1 + whole.length))).toBe(hex(whole))
      }),
      { numRuns: 300 }
    )
  })
})

describe("Framing (Effect 4): decoding the original library's capture", () => {
  it("decodes the stream whole, byte by byte, and under random splits", () => {
    expectMessages(decodeAll([captureStream]).messages, captureOnWire)
    expectMessages(decodeAll(Array.from(captureStream, (b) => Uint8Array.of(b))).messages, captureOnWire)
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 30 }), (cuts) => {
        const { messages, end } = decodeAll(splitAt(captureStream, cuts))
        expect(end).toBeUndefined()
        expectMessages(messages, captureOnWire)
      }),
      { numRuns: 200 }
    )
  })
})

describe("Framing (Effect 4): FramingError, every reason with its message", () => {
  it("MessageTooLarge: as soon as the header completes, before any payload", () => {
    const decoder = Framing.unsafeMakeDecoder({ maxMessageSize: 1000 })
    const ok = Framing.encode("fine")
    const big = Framing.encodeHeader("bytes", 2 ** 50)
    expectMessages(decoder.push(concatBytes([ok, big])), ["fine"])
    const failure = decoder.failure!
    expect(failure).toMatchObject({
      _tag: "FramingError",
      reason: "MessageTooLarge",
      offset: 5,
      received: hex(big),
      declaredLength: 2 ** 50,
      limit: 1000
    })
    expect(failure.message).toBe(
      `message of 1125899906842624 bytes declared at stream offset 5 (header bytes 0x${hex(big)}) exceeds maxMessageSize of 1000 bytes`
    )
    expect(decoder.buffered).toBe(0)
  })

  it("MessageTooLarge: the limit is inclusive and defaults to 16 MiB", () => {
    expect(decodeAll([Framing.encode(new Uint8Array(1000))], { maxMessageSize: 1000 }).end).toBeUndefined()
    expect(Framing.unsafeMakeDecoder().maxMessageSize).toBe(Framing.DEFAULT_MAX_MESSAGE_SIZE)
    expect(Framing.DEFAULT_MAX_MESSAGE_SIZE).toBe(16 * 1024 * 1024)
    const decoder = Framing.unsafeMakeDecoder()
    decoder.push(Framing.encodeHeader("bytes", 16 * 1024 * 1024 + 1))
    expect(decoder.failure?.reason).toBe("MessageTooLarge")
  })

  it("HeaderTooLong", () => {
    const decoder = Framing.unsafeMakeDecoder()
    expectMessages(decoder.push(Uint8Array.of(0x81, 0x01, 0x02)), ["\x01"])
    expect(decoder.push(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0x80))).toEqual([])
    expect(decoder.failure).toMatchObject({ reason: "HeaderTooLong", offset: 2, received: "0200000000000000" })
    expect(decoder.failure?.message).toBe(
      "header at stream offset 2 (header bytes 0x0200000000000000) is unfinished after 8 bytes: expected a byte with bit 0x80 set within 8 bytes"
    )
    const single = Framing.decodeHeader(new Uint8Array(8))
    expect(Framing.isFramingError(single) && single.reason).toBe("HeaderTooLong")
  })

  it("LengthOverflow", () => {
    const header = Uint8Array.of(0x3f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0xa0)
    const decoder = Framing.unsafeMakeDecoder({ maxMessageSize: Framing.MAX_LENGTH })
    decoder.push(header)
    expect(decoder.failure).toMatchObject({ reason: "LengthOverflow", offset: 0, received: hex(header) })
    expect(decoder.failure?.message).toBe(
      `header at stream offset 0 (header bytes 0x${hex(header)}) declares a length above 2^53 - 1 (9007199254740991)`
    )
    const single = Framing.decodeHeader(header)
    expect(Framing.isFramingError(single) && single.message).toBe(decoder.failure?.message)
  })

  it("InvalidUtf8, keeping the messages before it; the same bytes as a bytes message are fine", () => {
    const { messages, decoder } = decodeAll([concatBytes([Framing.encode("ok"), Uint8Array.of(0x82, 0xc3, 0x28)])])
    expectMessages(messages, ["ok"])
    expect(decoder.failure).toMatchObject({ reason: "InvalidUtf8", offset: 3, declaredLength: 2 })
    expect(decoder.failure?.message).toBe("text message of 2 bytes at stream offset 3 is not valid UTF-8")
    expect(decoder.failure?.cause).toBeInstanceOf(TypeError)
    expectMessages(decodeAll([Uint8Array.of(0xc2, 0xc3, 0x28)]).messages, [Uint8Array.of(0xc3, 0x28)])
  })

  it("Truncated, inside a payload and inside a header", () => {
    const inPayload = decodeAll([Uint8Array.of(0x85, 0x61, 0x62)]).end
    expect(inPayload).toMatchObject({ reason: "Truncated", offset: 0, declaredLength: 5, buffered: 2 })
    expect(inPayload?.message).toBe("stream ended inside a message at stream offset 0: 2 of 5 payload bytes received")
    const inHeader = decodeAll([Uint8Array.of(0x81, 0x00, 0x00)]).end
    expect(inHeader).toMatchObject({ reason: "Truncated", offset: 2, received: "00", buffered: 1 })
    expect(inHeader?.message).toBe(
      "stream ended inside a header at stream offset 2 (header bytes 0x00): 1 header bytes received"
    )
  })

  it("a failed decoder stays failed", () => {
    const decoder = Framing.unsafeMakeDecoder({ maxMessageSize: 4 })
    decoder.push(Framing.encode("too long"))
    const failure = decoder.failure
    expect(failure?.reason).toBe("MessageTooLarge")
    expect(decoder.push(Framing.encode("ok"))).toEqual([])
    expect(decoder.failure).toBe(failure)
    expect(decoder.end()).toBe(failure)
  })

  it("is an Effect 4 tagged error: yieldable, caught by tag, recognised by isFramingError", async () => {
    const error = new Framing.FramingError({ reason: "Truncated", offset: 7, declaredLength: 3, buffered: 1 })
    expect(error).toBeInstanceOf(Error)
    expect(error[Framing.FramingErrorTypeId]).toBe(Framing.FramingErrorTypeId)
    expect(Framing.isFramingError(error)).toBe(true)
    expect(Framing.isFramingError({ _tag: "FramingError" })).toBe(false)
    const yielded = await failureOf(
      Effect.gen(function* () {
        return yield* error
      })
    )
    expect(yielded).toBe(error)
    const caught = await Effect.runPromise(
      Effect.fail(error).pipe(Effect.catchTag("FramingError", (e) => Effect.succeed(`${e.reason}: ${e.message}`)))
    )
    expect(caught).toBe("Truncated: stream ended inside a message at stream offset 7: 1 of 3 payload bytes received")
  })

  it("arbitrary bytes give only messages or a FramingError, never a throw or a message past the limit", () => {
    const limit = 4096
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
        const { messages, end } = decodeAll(chunks, { maxMessageSize: limit })
        for (const m of messages)
          expect(typeof m === "string" ? Buffer.byteLength(m) : m.length).toBeLessThanOrEqual(limit)
        if (end !== undefined) expect(Framing.isFramingError(end)).toBe(true)
      }),
      { numRuns: 1000 }
    )
  })
})

describe("Framing (Effect 4): streams and channels", () => {
  it("decodeStream and unpack frame a byte stream under any chunking and batching", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(messageArb, { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (messages, cuts, batchCuts) => {
          const batches = batchesOf(splitAt(Framing.encodeAll(messages), cuts), batchCuts)
          const viaStream = await Effect.runPromise(
            streamOfBatches(batches).pipe(Framing.decodeStream(), Stream.runCollect)
          )
          expectMessages(viaStream, messages)
          const viaChannel = await Effect.runPromise(
            streamOfBatches(batches).pipe(Stream.pipeThroughChannelOrFail(Framing.unpack()), Stream.runCollect)
          )
          expectMessages(viaChannel, messages)
        }
      ),
      { numRuns: 150 }
    )
  })

  it("encodeStream and pack give the original's bytes, one buffer per batch, and decode back", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(messageArb, { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (messages, batchCuts) => {
          const batches = batchesOf(messages, batchCuts)
          const viaStream = await Effect.runPromise(
            streamOfBatches(batches).pipe(Framing.encodeStream, Stream.runCollect)
          )
          expect(viaStream.length).toBe(batches.length)
          expect(hex(concatBytes(viaStream))).toBe(hex(Framing.encodeAll(messages)))
          const viaChannel = await Effect.runPromise(
            streamOfBatches(batches).pipe(Stream.pipeThroughChannel(Framing.pack()), Stream.runCollect)
          )
          expect(viaChannel.map(hex)).toEqual(viaStream.map(hex))
          const roundTrip = await Effect.runPromise(
            streamOfBatches(batches).pipe(
              Stream.pipeThroughChannel(Framing.pack()),
              Stream.pipeThroughChannelOrFail(Framing.unpack()),
              Stream.runCollect
            )
          )
          expectMessages(roundTrip, messages)
        }
      ),
      { numRuns: 150 }
    )
  })

  it("the original library's capture, byte by byte through decodeStream", async () => {
    const chunks = Array.from(captureStream, (b) => Uint8Array.of(b))
    const decoded = await Effect.runPromise(Stream.fromIterable(chunks).pipe(Framing.decodeStream(), Stream.runCollect))
    expectMessages(decoded, captureOnWire)
  })

  it("a batch that completes no message emits nothing; one that completes several emits them together", async () => {
    const emitted: Array<ReadonlyArray<Framing.Message>> = []
    const frames = Framing.encodeAll(["a", "bc", "d"])
    await Effect.runPromise(
      streamOfBatches([[frames.subarray(0, 1)], [frames.subarray(1, 3)], [frames.subarray(3)]]).pipe(
        Stream.pipeThroughChannelOrFail(Framing.unpack()),
        Stream.runForEachArray((batch) => Effect.sync(() => emitted.push(batch)))
      )
    )
    expect(emitted).toEqual([["a"], ["bc", "d"]])
  })

  it("decodeStream emits what arrived whole, then fails with the FramingError, and reads no further", async () => {
    let pulledAfter = false
    const bytes = concatBytes([Framing.encode("kept"), Uint8Array.of(0x7f)])
    const input = Stream.make(bytes, new Uint8Array(7)).pipe(
      Stream.concat(Stream.fromEffect(Effect.sync(() => ((pulledAfter = true), Framing.encode("never")))))
    )
    const { seen, exit } = await runKeeping(input.pipe(Framing.decodeStream()))
    expectMessages(seen, ["kept"])
    const error = errorOf(exit)
    expect(Framing.isFramingError(error) && error.reason).toBe("HeaderTooLong")
    expect(pulledAfter).toBe(false)
  })

  it("unpack emits the messages completed before a fault in the same batch, then fails", async () => {
    const bad = concatBytes([Framing.encode("one"), Framing.encode("two"), Uint8Array.of(0x82, 0xc3, 0x28)])
    const { seen, exit } = await runKeeping(
      Stream.make(bad, Framing.encode("three")).pipe(Stream.pipeThroughChannelOrFail(Framing.unpack()))
    )
    expectMessages(seen, ["one", "two"])
    const error = errorOf(exit)
    expect(Framing.isFramingError(error) && error.message).toBe(
      "text message of 2 bytes at stream offset 8 is not valid UTF-8"
    )
  })

  it("maxMessageSize applies on streams: MessageTooLarge from the header alone", async () => {
    const error = await failureOf(
      Stream.make(Framing.encodeHeader("bytes", 1025)).pipe(
        Framing.decodeStream({ maxMessageSize: 1024 }),
        Stream.runCollect
      )
    )
    expect(error).toMatchObject({ reason: "MessageTooLarge", declaredLength: 1025, limit: 1024 })
  })

  it("Truncated when the input ends mid-message, on decodeStream and on unpack", async () => {
    const truncated = Stream.make(Uint8Array.of(0x85, 0x61))
    const viaStream = await failureOf(truncated.pipe(Framing.decodeStream(), Stream.runCollect))
    expect(viaStream).toMatchObject({ reason: "Truncated", declaredLength: 5, buffered: 1 })
    const viaChannel = await failureOf(
      truncated.pipe(Stream.pipeThroughChannelOrFail(Framing.unpack()), Stream.runCollect)
    )
    expect(viaChannel).toEqual(viaStream)
    expect(viaChannel.message).toBe("stream ended inside a message at stream offset 0: 1 of 5 payload bytes received")
  })

  it("the upstream's failure passes through decodeStream, unpack and pack, after what it completed", async () => {
    const upstream = Stream.make(Framing.encode("before")).pipe(Stream.concat(Stream.fail("upstream" as const)))
    const decoded = await runKeeping(upstream.pipe(Framing.decodeStream()))
    expectMessages(decoded.seen, ["before"])
    expect(errorOf(decoded.exit)).toBe("upstream")
    const unpacked = await runKeeping(upstream.pipe(Stream.pipeThroughChannel(Framing.unpack<"upstream">())))
    expectMessages(unpacked.seen, ["before"])
    expect(errorOf(unpacked.exit)).toBe("upstream")
    const packed = await runKeeping(
      Stream.make("x").pipe(
        Stream.concat(Stream.fail("upstream" as const)),
        Stream.pipeThroughChannel(Framing.pack<"upstream">())
      )
    )
    expect(packed.seen.map(hex)).toEqual(["8178"])
    expect(errorOf(packed.exit)).toBe("upstream")
  })

  it("unpack and pack end with their input's end value", async () => {
    const frames = Framing.encodeAll(["a", "b"])
    /** Byte batches, then the end value; a new iterator for every run. */
    const bytes = (...batches: ReadonlyArray<Uint8Array>) =>
      Channel.suspend(() =>
        Channel.fromIterable(
          (function* () {
            for (const batch of batches) yield [batch] as const
            return "the end" as const
          })()
        )
      )
    const unpacked = Channel.pipeTo(
      bytes(frames.subarray(0, 3), frames.subarray(3)),
      Framing.unpack<never, "the end">()
    )
    expect(await Effect.runPromise(Channel.runCollect(unpacked))).toEqual([["a"], ["b"]])
    expect(await Effect.runPromise(Channel.runDrain(unpacked))).toBe("the end")
    const repacked = Channel.pipeTo(unpacked, Framing.pack<Framing.FramingError, "the end">())
    expect((await Effect.runPromise(Channel.runCollect(repacked))).map((batch) => batch.map(hex))).toEqual([
      ["8161"],
      ["8162"]
    ])
    expect(await Effect.runPromise(Channel.runDrain(repacked))).toBe("the end")
    const truncated = Channel.pipeTo(bytes(frames.subarray(0, 3)), Framing.unpack<never, "the end">())
    const exit = await Effect.runPromiseExit(Channel.runDrain(truncated))
    expect(errorOf(exit).message).toBe(
      "stream ended inside a message at stream offset 2: 0 of 1 payload bytes received"
    )
  })

  it("each run of a stream gets a decoder of its own", async () => {
    const stream = Stream.make(Framing.encode("x"), Uint8Array.of(0x82, 0x61)).pipe(Framing.decodeStream())
    const first = await Effect.runPromiseExit(Stream.runCollect(stream))
    const second = await Effect.runPromiseExit(Stream.runCollect(stream))
    expect(Exit.isFailure(first) && Exit.isFailure(second)).toBe(true)
    expect(errorOf(second)).toMatchObject({ reason: "Truncated", offset: 2 })
  })
})

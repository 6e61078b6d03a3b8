/** @internal */
export const MAX_LENGTH = Number.MAX_SAFE_INTEGER;
/** @internal */
export const MAX_HEADER_SIZE = 8;
/** @internal */
export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;
const LAST = 0x80;
const BYTES = 0x40;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
/** @internal */
export const toHex = (bytes) => {
    let out = "";
    for (let i = 0; i < bytes.length; i++)
        out += bytes[i].toString(16).padStart(2, "0");
    return out;
};
/**
 * Number of bytes `encodeInto` writes for a string: its UTF-8 length, with a
 * lone surrogate counted as U+FFFD (3 bytes), as `TextEncoder` writes it.
 *
 * @internal
 */
export const utf8Length = (text) => {
    const n = text.length;
    let bytes = n;
    for (let i = 0; i < n; i++) {
        const c = text.charCodeAt(i);
        if (c < 0x80)
            continue;
        if (c < 0x800) {
            bytes += 1;
        }
        else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
            const next = text.charCodeAt(i + 1);
            if (next >= 0xdc00 && next <= 0xdfff)
                i++;
            bytes += 2;
        }
        else {
            bytes += 2;
        }
    }
    return bytes;
};
/** @internal */
export const checkLength = (length) => {
    if (!Number.isSafeInteger(length) || length < 0) {
        throw new RangeError(`Stockings header length must be an integer from 0 to 2^53 - 1, got ${length}`);
    }
};
/** @internal */
export const headerSize = (length) => {
    let size = 1;
    let rest = Math.floor(length / 64);
    while (rest > 0) {
        size++;
        rest = Math.floor(rest / 128);
    }
    return size;
};
/**
 * Writes the header for a payload of `length` bytes at `offset` and returns
 * the offset just past it. Division, not shifts, keeps lengths above 2^32 exact.
 *
 * @internal
 */
export const writeHeader = (target, offset, kind, length) => {
    let rest = Math.floor(length / 64);
    let byte = (kind === "bytes" ? BYTES : 0) | (length % 64);
    while (rest > 0) {
        target[offset++] = byte;
        byte = rest % 128;
        rest = Math.floor(rest / 128);
    }
    target[offset++] = byte | LAST;
    return offset;
};
/** @internal */
export const encodeHeader = (kind, length) => {
    checkLength(length);
    const out = new Uint8Array(headerSize(length));
    writeHeader(out, 0, kind, length);
    return out;
};
/** @internal */
export const kindOf = (message) => (typeof message === "string" ? "text" : "bytes");
/** @internal */
export const encodedSize = (message) => {
    const length = typeof message === "string" ? utf8Length(message) : message.length;
    return headerSize(length) + length;
};
/**
 * Writes one whole frame at `offset`; `target` must have room for
 * `encodedSize(message)` bytes from there. Returns the offset past the frame.
 *
 * @internal
 */
export const encodeInto = (target, offset, message) => {
    if (typeof message === "string") {
        const length = utf8Length(message);
        offset = writeHeader(target, offset, "text", length);
        if (length === message.length) {
            // ASCII: a plain loop beats encodeInto's call overhead for short strings.
            if (length < 64) {
                for (let i = 0; i < length; i++)
                    target[offset + i] = message.charCodeAt(i);
                return offset + length;
            }
        }
        textEncoder.encodeInto(message, target.subarray(offset, offset + length));
        return offset + length;
    }
    offset = writeHeader(target, offset, "bytes", message.length);
    target.set(message, offset);
    return offset + message.length;
};
/** @internal */
export const encode = (message) => {
    const out = new Uint8Array(encodedSize(message));
    encodeInto(out, 0, message);
    return out;
};
/** @internal */
export const encodeAll = (messages) => {
    const list = Array.isArray(messages) ? messages : Array.from(messages);
    let total = 0;
    for (let i = 0; i < list.length; i++)
        total += encodedSize(list[i]);
    const out = new Uint8Array(total);
    let offset = 0;
    for (let i = 0; i < list.length; i++)
        offset = encodeInto(out, offset, list[i]);
    return out;
};
/** @internal */
export const encodeParts = (message) => {
    if (typeof message === "string") {
        const payload = textEncoder.encode(message);
        return [encodeHeader("text", payload.length), payload];
    }
    return [encodeHeader("bytes", message.length), message];
};
var State;
(function (State) {
    State[State["Header"] = 0] = "Header";
    State[State["Payload"] = 1] = "Payload";
    State[State["Failed"] = 2] = "Failed";
})(State || (State = {}));
/**
 * The incremental decoder. One instance per byte stream; `push` hands out the
 * messages each chunk completes. Payloads lying whole inside a chunk are
 * handed out as views of it; a payload that spans chunks is assembled in one
 * buffer of exactly its length, allocated when its first bytes arrive.
 *
 * @internal
 */
export class DecoderImpl {
    makeError;
    maxMessageSize;
    failure = undefined;
    position = 0;
    state = State.Header;
    // header in progress
    headerStart = 0;
    headerCount = 0;
    headerBytes = new Uint8Array(MAX_HEADER_SIZE);
    length = 0;
    scale = 1;
    text = false;
    // payload in progress
    payload = undefined;
    filled = 0;
    constructor(options, makeError) {
        this.makeError = makeError;
        const max = options?.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
        checkLength(max);
        this.maxMessageSize = max;
    }
    get buffered() {
        return this.state === State.Payload ? this.filled : this.headerCount;
    }
    get idle() {
        return this.state === State.Header && this.headerCount === 0;
    }
    push(chunk) {
        const out = [];
        if (this.state === State.Failed)
            return out;
        const end = chunk.length;
        let pos = 0;
        while (pos < end) {
            if (this.state === State.Payload) {
                const payload = this.payload;
                const take = Math.min(payload.length - this.filled, end - pos);
                payload.set(take === end && pos === 0 ? chunk : chunk.subarray(pos, pos + take), this.filled);
                this.filled += take;
                pos += take;
                if (this.filled === payload.length) {
                    this.payload = undefined;
                    this.filled = 0;
                    this.state = State.Header;
                    if (!this.emit(out, payload))
                        return out;
                }
                continue;
            }
            // Header: one byte at a time, exact arithmetic up to 2^53 - 1.
            const byte = chunk[pos++];
            if (this.headerCount === 0) {
                this.headerStart = this.position + pos - 1;
                this.text = (byte & BYTES) === 0;
                this.length = byte & 0x3f;
                this.scale = 64;
            }
            else {
                this.length += (byte & 0x7f) * this.scale;
                this.scale *= 128;
            }
            this.headerBytes[this.headerCount++] = byte;
            if ((byte & LAST) === 0) {
                if (this.headerCount === MAX_HEADER_SIZE) {
                    this.fail({
                        reason: "HeaderTooLong",
                        offset: this.headerStart,
                        received: this.receivedHeader(MAX_HEADER_SIZE)
                    });
                    break;
                }
                continue;
            }
            const length = this.length;
            const size = this.headerCount;
            this.headerCount = 0;
            if (length > MAX_LENGTH) {
                this.fail({ reason: "LengthOverflow", offset: this.headerStart, received: this.receivedHeader(size) });
                break;
            }
            if (length > this.maxMessageSize) {
                this.fail({
                    reason: "MessageTooLarge",
                    offset: this.headerStart,
                    declaredLength: length,
                    limit: this.maxMessageSize,
                    received: this.receivedHeader(size)
                });
                break;
            }
            if (end - pos >= length) {
                const view = chunk.subarray(pos, pos + length);
                pos += length;
                if (!this.emit(out, view))
                    break;
            }
            else {
                this.payload = new Uint8Array(length);
                this.filled = 0;
                this.state = State.Payload;
            }
        }
        this.position += pos;
        return out;
    }
    end() {
        if (this.state === State.Failed || this.idle)
            return this.failure;
        const declaredLength = this.state === State.Payload ? this.payload.length : undefined;
        this.fail({
            reason: "Truncated",
            offset: this.headerStart,
            received: this.state === State.Payload ? undefined : this.receivedHeader(this.headerCount),
            declaredLength,
            buffered: this.buffered
        });
        return this.failure;
    }
    receivedHeader(size) {
        return toHex(this.headerBytes.subarray(0, size));
    }
    emit(out, payload) {
        if (!this.text) {
            out.push(payload);
            return true;
        }
        try {
            out.push(payload.length === 0 ? "" : textDecoder.decode(payload));
            return true;
        }
        catch (cause) {
            this.fail({ reason: "InvalidUtf8", offset: this.headerStart, declaredLength: payload.length, cause });
            return false;
        }
    }
    fail(fields) {
        this.state = State.Failed;
        this.payload = undefined;
        this.failure = this.makeError(fields);
    }
}
/**
 * Reads one header from the start of `bytes`. `undefined` when `bytes` ends
 * before the header does.
 *
 * @internal
 */
export const decodeHeader = (bytes, makeError) => {
    let length = 0;
    let scale = 64;
    for (let i = 0; i < bytes.length && i < MAX_HEADER_SIZE; i++) {
        const byte = bytes[i];
        if (i === 0) {
            length = byte & 0x3f;
        }
        else {
            length += (byte & 0x7f) * scale;
            scale *= 128;
        }
        if ((byte & LAST) !== 0) {
            const received = toHex(bytes.subarray(0, i + 1));
            if (length > MAX_LENGTH)
                return makeError({ reason: "LengthOverflow", offset: 0, received });
            return { kind: (bytes[0] & BYTES) === 0 ? "text" : "bytes", length, size: i + 1 };
        }
    }
    if (bytes.length >= MAX_HEADER_SIZE) {
        return makeError({ reason: "HeaderTooLong", offset: 0, received: toHex(bytes.subarray(0, MAX_HEADER_SIZE)) });
    }
    return undefined;
};
//# sourceMappingURL=framing.js.map
import * as framing from "./framing.js";
/** Bytes payloads at least this large are written without copying. */
const LARGE = 64 * 1024;
/** A batch buffer is cut at about this size. */
const BATCH = 256 * 1024;
const textLength = (text) => (text.length < 32 ? framing.utf8Length(text) : Buffer.byteLength(text));
const encodeRun = (messages, sizes, from, to, total) => {
    const out = Buffer.allocUnsafe(total);
    let offset = 0;
    for (let i = from; i < to; i++) {
        const message = messages[i];
        const length = sizes[i];
        if (typeof message === "string") {
            offset = framing.writeHeader(out, offset, "text", length);
            if (length === message.length && length < 32) {
                for (let k = 0; k < length; k++)
                    out[offset + k] = message.charCodeAt(k);
            }
            else {
                out.write(message, offset, length, "utf8");
            }
            offset += length;
        }
        else {
            offset = framing.writeHeader(out, offset, "bytes", length);
            out.set(message, offset);
            offset += length;
        }
    }
    return out;
};
/** @internal */
export const writeFrames = (socket, messages) => {
    const count = messages.length;
    if (count === 1) {
        const message = messages[0];
        if (typeof message !== "string" && message.length >= LARGE) {
            socket.cork();
            socket.write(framing.encodeHeader("bytes", message.length));
            socket.write(message);
            socket.uncork();
        }
        else {
            const length = typeof message === "string" ? textLength(message) : message.length;
            socket.write(encodeRun(messages, [length], 0, 1, framing.headerSize(length) + length));
        }
        return;
    }
    socket.cork();
    const sizes = new Array(count);
    let runStart = 0;
    let runBytes = 0;
    for (let i = 0; i < count; i++) {
        const message = messages[i];
        if (typeof message !== "string" && message.length >= LARGE) {
            if (runBytes > 0)
                socket.write(encodeRun(messages, sizes, runStart, i, runBytes));
            socket.write(framing.encodeHeader("bytes", message.length));
            socket.write(message);
            runStart = i + 1;
            runBytes = 0;
            continue;
        }
        const length = typeof message === "string" ? textLength(message) : message.length;
        sizes[i] = length;
        runBytes += framing.headerSize(length) + length;
        if (runBytes >= BATCH) {
            socket.write(encodeRun(messages, sizes, runStart, i + 1, runBytes));
            runStart = i + 1;
            runBytes = 0;
        }
    }
    if (runBytes > 0)
        socket.write(encodeRun(messages, sizes, runStart, count, runBytes));
    socket.uncork();
};
//# sourceMappingURL=batch.js.map
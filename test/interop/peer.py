#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Part of effect-stockings' tests (MIT). It contains no code from the original Python Stockings: it imports the
# original package (GPL-3.0) from a directory given on the command line and runs it as a separate process.
"""
A live peer for test/Interop.test.ts: one end of a loopback TCP connection wrapped in the original Python
Stockings, driven by a script and reporting what happens.

Usage:
    peer.py LIBDIR check                        import the library, print {"event": "ok"}, exit
    peer.py LIBDIR poll|select listen           listen on 127.0.0.1:0, print the port, accept one connection
    peer.py LIBDIR poll|select connect PORT     connect to 127.0.0.1:PORT

The first line of stdin is the script: a JSON array of steps, run in order once the handshake has completed.
Further stdin lines are signals, taken by the `wait` step. Every report is one JSON object per line on stdout, with
an "event" field. After the script (or the first step that fails, reported as {"event": "error"}) the peer prints
{"event": "done"} and waits for stdin to end, then exits.

Steps (fields other than "op" are optional unless named):
    {"op": "write", "messages": [SPEC, ...]}    stocking.write each, in order; reports "wrote"
    {"op": "raw", "hex": "8161"}                bytes put on the wire as they are, through the Stocking's own pipe
                                                (as the original's test.py does), bypassing write(); reports "wrote"
    {"op": "frame", "kind": "text"|"bytes", "hex": ""}
                                                one frame whose header comes from the original's own
                                                MessageHeaders.serialize, sent like "raw" (write() drops empties)
    {"op": "flush"}                             waits until writeDataQueued() stays false; reports "flushed"
    {"op": "read", "count": N, "toEnd": bool, "initialPauseMs": ms, "pauseEvery": k, "pauseMs": ms}
                                                reads N messages (or, with toEnd, everything until the connection
                                                ends), each reported as "message"; "end" once it has ended
    {"op": "poll"}                              one read(): reports "poll" with "message" (or null)
    {"op": "state"}                             reports "state": active, alive, handshakeComplete, writeDataQueued
                                                (the error's text where writeDataQueued() raises, as once closed)
    {"op": "waitInactive", "timeoutMs": ms}     waits for active to turn false; reports "inactive" with "ms"
    {"op": "close"}                             stocking.close(); reports "closed"
    {"op": "sleep", "ms": ms}
    {"op": "wait"}                              waits for the next stdin line; reports "signal"

A message SPEC is {"text": "..."}, {"hex": "..."} (bytes), {"repeat": "a", "size": n} (text), or
{"gen": "text"|"bytes", "size": n, "seed": s}: a generated payload, the same one test/Interop.test.ts generates
(size counts code points for text, bytes for bytes).
A received message is reported as {"event": "message", "kind": "text"|"bytes", "len": <bytes, UTF-8 for text>,
"sha": <sha256 hex of those bytes>, "value": <the text, or bytes as hex, when len <= 64>}.
"""

import hashlib
import json
import select
import socket
import sys
import threading
import time

# The same alphabet as GEN_ALPHABET in test/Interop.test.ts: ASCII, Latin-1, BMP and astral code points.
GEN_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789 .,-\u00e9\u00fc\u00df\u20ac\u2713\u4e2d\u6587\U0001d11e\U0001f642"
DEFAULT_TIMEOUT = 60.0

_out_lock = threading.Lock()


def emit(event, **fields):
    fields["event"] = event
    line = json.dumps(fields, ensure_ascii=True)
    with _out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class StepFailed(Exception):
    pass


def generate(kind, size, seed):
    """A payload with a period that is no power of two, so a piece out of place changes its digest."""
    if kind == "bytes":
        period = bytes((i * 131 + seed) % 251 for i in range(251))
        return (period * (size // 251 + 1))[:size]
    n = len(GEN_ALPHABET)
    period = "".join(GEN_ALPHABET[(i * 7 + seed) % n] for i in range(n))
    return (period * (size // n + 1))[:size]


def payload(spec):
    if "text" in spec:
        return spec["text"]
    if "hex" in spec:
        return bytes.fromhex(spec["hex"])
    if "repeat" in spec:
        return spec["repeat"] * spec["size"]
    return generate(spec["gen"], spec["size"], spec.get("seed", 0))


def describe(message):
    if isinstance(message, str):
        kind, data = "text", message.encode("utf8")
    elif isinstance(message, bytes):
        kind, data = "bytes", message
    else:
        kind, data = type(message).__name__, repr(message).encode("utf8")
    report = {"kind": kind, "len": len(data), "sha": hashlib.sha256(data).hexdigest()}
    if len(data) <= 64:
        report["value"] = message if kind == "text" else data.hex()
    return report


class Ended(Exception):
    pass


def next_message(stocking, fd, deadline):
    """The next message the Stocking delivers; raises Ended once the connection has ended and all were read."""
    while True:
        try:
            message = stocking.read()
        except EOFError:
            # The original closes its end of the pipe when the connection ends; once drained, reading it fails so.
            raise Ended()
        if message is not None:
            return message
        if not stocking.active:
            try:
                message = stocking.read()
            except EOFError:
                raise Ended()
            if message is None:
                raise Ended()
            return message
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise StepFailed("timed out waiting for a message")
        select.select([fd], [], [], min(remaining, 0.05))


def step_read(stocking, fd, step):
    count = step.get("count")
    to_end = step.get("toEnd", False)
    pause_every = step.get("pauseEvery", 0)
    pause_s = step.get("pauseMs", 0) / 1000.0
    deadline = time.monotonic() + step.get("timeoutMs", DEFAULT_TIMEOUT * 1000) / 1000.0
    time.sleep(step.get("initialPauseMs", 0) / 1000.0)
    got = 0
    while to_end or got < count:
        try:
            message = next_message(stocking, fd, deadline)
        except Ended:
            emit("end", received=got)
            return
        got += 1
        emit("message", **describe(message))
        if pause_every and got % pause_every == 0:
            time.sleep(pause_s)


def step_flush(stocking, step):
    deadline = time.monotonic() + step.get("timeoutMs", DEFAULT_TIMEOUT * 1000) / 1000.0
    # writeDataQueued() can read false for an instant while the thread moves a message from its pipe to its buffer,
    # so it must stay false for a while.
    quiet = 0
    while quiet < 5:
        if time.monotonic() > deadline:
            raise StepFailed("writeDataQueued() stayed true")
        quiet = 0 if stocking.writeDataQueued() else quiet + 1
        time.sleep(0.01)
    emit("flushed")


def write_data_queued(stocking):
    # Once closed, the original's writeDataQueued() raises (it polls a pipe it has closed): reported as the error.
    try:
        return bool(stocking.writeDataQueued())
    except Exception as e:
        return "%s: %s" % (type(e).__name__, e)


def send_raw(stocking, data):
    # What the original's test.py does to put exact bytes on the wire: its thread sends whatever comes down the pipe.
    stocking._parentOut.send(data)


def run_step(stocking, fd, step):
    op = step["op"]
    if op == "write":
        for spec in step["messages"]:
            stocking.write(payload(spec))
        emit("wrote", count=len(step["messages"]))
    elif op == "raw":
        send_raw(stocking, bytes.fromhex(step["hex"]))
        emit("wrote", count=1)
    elif op == "frame":
        data = bytes.fromhex(step["hex"])
        typ = bytes if step["kind"] == "bytes" else str
        send_raw(stocking, stocking._messageHeaders.serialize(typ, len(data)) + data)
        emit("wrote", count=1)
    elif op == "flush":
        step_flush(stocking, step)
    elif op == "read":
        step_read(stocking, fd, step)
    elif op == "poll":
        message = stocking.read()
        emit("poll", message=None if message is None else describe(message))
    elif op == "state":
        emit(
            "state",
            active=bool(stocking.active),
            alive=stocking.is_alive(),
            handshakeComplete=bool(stocking.handshakeComplete),
            writeDataQueued=write_data_queued(stocking),
        )
    elif op == "waitInactive":
        start = time.monotonic()
        deadline = start + step.get("timeoutMs", DEFAULT_TIMEOUT * 1000) / 1000.0
        while stocking.active:
            if time.monotonic() > deadline:
                raise StepFailed("the Stocking stayed active")
            time.sleep(0.005)
        emit("inactive", ms=round((time.monotonic() - start) * 1000))
    elif op == "close":
        stocking.close()
        emit("closed")
    elif op == "sleep":
        time.sleep(step["ms"] / 1000.0)
    elif op == "wait":
        line = sys.stdin.readline()
        if not line:
            raise StepFailed("stdin ended while waiting for a signal")
        emit("signal")
    else:
        raise StepFailed("unknown step %r" % op)


def main(argv):
    lib = argv[1]
    sys.path.insert(0, lib)
    # The original calls Thread.isAlive, which Python 3.9 removed.
    threading.Thread.isAlive = threading.Thread.is_alive
    import Stockings  # noqa: E402  (the original, from LIBDIR)
    import Stockings._pollStocking
    import Stockings._selectStocking

    if argv[2] == "check":
        emit("ok", python=sys.version.split()[0])
        return 0

    backend, role = argv[2], argv[3]
    cls = Stockings._pollStocking.PollStocking if backend == "poll" else Stockings._selectStocking.SelectStocking
    script = json.loads(sys.stdin.readline())

    if role == "listen":
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(DEFAULT_TIMEOUT)
        emit("listening", port=listener.getsockname()[1])
        conn, _ = listener.accept()
        listener.close()
        conn.settimeout(None)
    else:
        conn = socket.create_connection(("127.0.0.1", int(argv[4])), timeout=DEFAULT_TIMEOUT)
        conn.settimeout(None)

    stocking = cls(conn)
    deadline = time.monotonic() + DEFAULT_TIMEOUT
    while not stocking.handshakeComplete:
        if time.monotonic() > deadline or not stocking.active:
            emit("error", op="handshake", reason="the handshake did not complete")
            return 1
        time.sleep(0.002)
    emit("ready", backend=cls.__name__)
    fd = stocking.fileno()

    step = {}
    try:
        for step in script:
            run_step(stocking, fd, step)
    except Exception as e:  # reported, then the peer waits to be told to go like any other
        emit("error", op=step.get("op"), reason="%s: %s" % (type(e).__name__, e))
    emit("done")
    # Stay up (and keep the connection as it is) until the test ends stdin.
    while sys.stdin.readline():
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

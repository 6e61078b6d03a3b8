import * as v8 from "node:v8"
import * as vm from "node:vm"

/**
 * A full garbage collection, however this runtime offers one: `gc` when the
 * process has it, Bun's own `Bun.gc(true)`, or (Node's test workers run
 * without --expose-gc) V8's flag switched on and `gc` taken from a fresh
 * context.
 */
const collect: () => void = (() => {
  const global = globalThis as { gc?: () => void; Bun?: { gc: (force: boolean) => void } }
  if (typeof global.gc === "function") return global.gc
  const bun = global.Bun
  if (bun !== undefined) return () => bun.gc(true)
  v8.setFlagsFromString("--expose-gc")
  return vm.runInNewContext("gc") as () => void
})()

/**
 * How this runtime counts ArrayBuffer backing stores (where Buffers and
 * Uint8Arrays keep their bytes) in `process.memoryUsage()`; measured with
 * 16 MiB of Uint8Arrays, Buffers and ArrayBuffers:
 *
 * - Node: `heapUsed` leaves them out, `arrayBuffers` counts them (and
 *   `external` too, with other native memory).
 * - Bun (JavaScriptCore): `heapUsed` already counts them (the heap's extra
 *   memory), as does `external`; `arrayBuffers` counts only those whose
 *   ArrayBuffer object exists (a bare `new ArrayBuffer`, or a view whose
 *   `.buffer` was read), so adding it would count those twice.
 * - Deno: `arrayBuffers` is always 0; `external` counts them.
 */
const runtime: "bun" | "deno" | "node" = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node"

/**
 * Bytes held by this process's JavaScript: the heap plus ArrayBuffer
 * backing stores, after a full collection.
 */
export const heldBytes = (): number => {
  collect()
  collect()
  const usage = process.memoryUsage()
  switch (runtime) {
    case "bun":
      return usage.heapUsed
    case "deno":
      return usage.heapUsed + usage.external
    case "node":
      return usage.heapUsed + usage.arrayBuffers
  }
}

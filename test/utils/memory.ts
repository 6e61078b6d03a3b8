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
 * Bytes held by this process's JavaScript: the heap plus ArrayBuffer
 * backing stores (where Buffers and Uint8Arrays keep their bytes), after a
 * full collection.
 */
export const heldBytes = (): number => {
  collect()
  collect()
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.arrayBuffers
}

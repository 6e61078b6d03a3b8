import * as v8 from "node:v8"
import * as vm from "node:vm"

// The test workers run without --expose-gc: switch it on and take `gc` from a fresh context.
v8.setFlagsFromString("--expose-gc")
const collect = vm.runInNewContext("gc") as () => void

/**
 * Bytes held by this process's JavaScript: the V8 heap plus ArrayBuffer
 * backing stores (where Buffers and Uint8Arrays keep their bytes), after a
 * full collection.
 */
export const heldBytes = (): number => {
  collect()
  collect()
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.arrayBuffers
}

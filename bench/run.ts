import { Effect } from "effect"
import { Framing } from "../src/index.js"
console.log(Framing.encodeHeader("bytes", 64), Effect.runSync(Effect.succeed(1)))

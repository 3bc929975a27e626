// How fast the browser script solves proof-of-work stamps: the hashes per second of
// protocol.solveStamp for three seconds, here in Node (V8 with its JIT; Tor Browser at
// "Safer" runs scripts without JIT, and is slower). Run `node bench/stamp-rate.mjs` in web/.
import * as protocol from "../src/protocol.js";

// Difficulty 32 is never solved within three seconds: the solver just counts.
const challenge = new Uint8Array(58);
challenge[0] = 1;
challenge[1] = 32;
const wire = Buffer.from(challenge).toString("base64url");
const started = performance.now();
let tried = 0;
await protocol
  .solveStamp(wire, new Uint8Array(32), (count) => {
    tried = count;
    if (performance.now() - started > 3000) throw new Error("time is up");
  })
  .catch(() => {});
const rate = tried / ((performance.now() - started) / 1000);
console.log(
  `${Math.round(rate)} hashes/s in Node ${process.version}; ` +
    `the relay's base difficulty 18 takes ${(2 ** 18 / rate).toFixed(2)} s on average`,
);

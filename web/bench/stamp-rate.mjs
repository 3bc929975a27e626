// How fast the browser script's solver runs in Node, with each engine: the hashes per second
// of solveStamp for three seconds. Run `node bench/stamp-rate.mjs` in web/, and again with
// `node --jitless bench/stamp-rate.mjs` for a stand-in of Tor Browser at "Safer". The
// browser's own figures (with and without the JIT, throttled): bench/stamp-times.mjs.
import { engines, solveStamp } from "../src/stamp.js";

// Difficulty 64 is never solved within three seconds: the solver just counts.
const challenge = new Uint8Array(58);
challenge[0] = 1;
challenge[1] = 64;
const wire = Buffer.from(challenge).toString("base64url");
for (const engine of engines()) {
  const started = performance.now();
  let tried = 0;
  await solveStamp(
    wire,
    new Uint8Array(32),
    (count) => {
      tried = count;
      if (performance.now() - started > 3000) throw new Error("time is up");
    },
    { engine },
  ).catch(() => {});
  const rate = tried / ((performance.now() - started) / 1000);
  console.log(
    `${engine}: ${Math.round(rate)} hashes/s in Node ${process.version}; ` +
      `the relay's base difficulty 14 takes ${(2 ** 14 / rate).toFixed(2)} s on average, its ceiling 18 ${(2 ** 18 / rate).toFixed(2)} s`,
  );
}

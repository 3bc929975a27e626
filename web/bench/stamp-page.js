// The page side of bench/stamp-times.mjs: runs in headless Chromium, on the page's own
// thread (where DevTools' CPU throttling surely applies), the same solver the stamp worker
// runs. Sends nothing anywhere.
import { engines, solveStamp } from "../src/stamp.js";

function challengeWith(difficulty) {
  const challenge = new Uint8Array(58);
  crypto.getRandomValues(challenge);
  challenge[0] = 1;
  challenge[1] = difficulty;
  let text = "";
  for (const byte of challenge) text += String.fromCharCode(byte);
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

/** Hashes per second of `engine` over `milliseconds` (a difficulty never reached). */
async function rate(engine, milliseconds) {
  const started = performance.now();
  let tried = 0;
  await solveStamp(
    challengeWith(64),
    new Uint8Array(32),
    (count) => {
      tried = count;
      if (performance.now() - started > milliseconds) throw new Error("time is up");
    },
    { engine },
  ).catch(() => {});
  return tried / ((performance.now() - started) / 1000);
}

/** Milliseconds of each of `count` solves at `difficulty`, random challenges. */
async function solves(engine, difficulty, count, budget) {
  const times = [];
  const deadline = performance.now() + budget;
  for (let index = 0; index < count && performance.now() < deadline; index += 1) {
    const mailbox = new Uint8Array(32);
    crypto.getRandomValues(mailbox);
    const started = performance.now();
    await solveStamp(challengeWith(difficulty), mailbox, () => {}, { engine });
    times.push(performance.now() - started);
  }
  return times;
}

window.meldpuntBench = {
  engines,
  async run(plan) {
    const result = { rates: {}, solves: {} };
    for (const engine of plan.engines) {
      if (!engines().includes(engine)) continue;
      result.rates[engine] = await rate(engine, plan.rateMilliseconds);
    }
    for (const difficulty of plan.difficulties) {
      result.solves[difficulty] = await solves(plan.solveEngine, difficulty, plan.solves, plan.budgetMilliseconds);
    }
    return result;
  },
};

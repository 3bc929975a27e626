// Proof-of-work stamps (protocol.md section 7): find the first counter whose
// SHA-256("meldpunt/v1/stamp" || challenge || mailbox id || counter) has the challenge's
// number of leading zero bits.
//
// Two engines give the same answer. WebCrypto (crypto.subtle.digest) hashes in the
// browser's native code, so it stays fast where scripts run without the JIT (Tor Browser at
// "Safer", some phones); each call is a promise, so candidates are asked for in batches and
// the promise overhead is shared. @noble/hashes is the fallback where WebCrypto is missing
// (a page that is not a secure context).
//
// This module sends nothing anywhere and touches no page: it runs in the page or in the
// stamp worker (stamp-worker.js).

import { sha256 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { base64urlnopad } from "@scure/base";

import { ProtocolError } from "./errors.js";

const STAMP_LABEL = utf8ToBytes("meldpunt/v1/stamp");
/** Candidates asked of WebCrypto at once. */
const BATCH = 1024;
/** Progress is reported at most this often, in milliseconds. */
const PROGRESS_INTERVAL = 250;


function leadingZeroBits(hash) {
  let bits = 0;
  for (const byte of hash) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

/** The challenge's bytes and the difficulty it asks for. */
export function readChallenge(challengeWire) {
  let challenge;
  try {
    challenge = base64urlnopad.decode(challengeWire);
  } catch {
    challenge = new Uint8Array(0);
  }
  // A relay asking more than 32 bits (protocol.md section 7) would keep the page searching
  // for ever: refused like a malformed challenge.
  if (challenge.length !== 58 || challenge[1] > 32) {
    throw new ProtocolError("malformed-challenge", "the relay's challenge is malformed");
  }
  return { challenge, difficulty: challenge[1] };
}

/** The engines this environment has: "webcrypto" where crypto.subtle is, always "noble". */
export function engines() {
  const available = [];
  if (globalThis.crypto?.subtle?.digest) available.push("webcrypto");
  available.push("noble");
  return available;
}

function writeCounter(view, offset, solution) {
  view.setUint32(offset, Math.floor(solution / 2 ** 32));
  view.setUint32(offset + 4, solution >>> 0);
}

/** Tries `count` solutions from `first` with WebCrypto; the first that works, or -1. */
async function tryWithWebCrypto(buffers, first, count, difficulty) {
  const digests = [];
  for (let index = 0; index < count; index += 1) {
    const { bytes, view, offset } = buffers[index];
    writeCounter(view, offset, first + index);
    // digest() copies its input when called: the buffer may be written again at once.
    digests.push(crypto.subtle.digest("SHA-256", bytes));
  }
  const hashes = await Promise.all(digests);
  for (let index = 0; index < count; index += 1) {
    if (leadingZeroBits(new Uint8Array(hashes[index])) >= difficulty) return first + index;
  }
  return -1;
}

/** Tries `count` solutions from `first` with @noble/hashes; the first that works, or -1. */
function tryWithNoble(prefix, counter, first, count, difficulty) {
  const view = new DataView(counter.buffer);
  for (let solution = first; solution < first + count; solution += 1) {
    writeCounter(view, 0, solution);
    if (leadingZeroBits(prefix.clone().update(counter).digest()) >= difficulty) return solution;
  }
  return -1;
}

/**
 * Solves a relay challenge for a mailbox id; returns the stamp's wire form. Calls
 * `progress(tried, rate)` after the first batch, then at most every quarter second (`rate`: attempts per second so far)
 * and yields between batches, so that a page solving it stays responsive. `options.engine`
 * chooses "webcrypto" or "noble" (default: the fastest there is).
 */
export async function solveStamp(challengeWire, mailboxId, progress = () => {}, options = {}) {
  const { challenge, difficulty } = readChallenge(challengeWire);
  const engine = options.engine ?? engines()[0];
  const started = Date.now();
  let reported = started;
  const input = new Uint8Array(STAMP_LABEL.length + challenge.length + mailboxId.length + 8);
  input.set(STAMP_LABEL, 0);
  input.set(challenge, STAMP_LABEL.length);
  input.set(mailboxId, STAMP_LABEL.length + challenge.length);
  const offset = input.length - 8;
  const buffers =
    engine === "webcrypto"
      ? Array.from({ length: BATCH }, () => {
          const bytes = input.slice();
          return { bytes, view: new DataView(bytes.buffer), offset };
        })
      : null;
  const prefix = engine === "noble" ? sha256.create().update(input.subarray(0, offset)) : null;
  const counter = new Uint8Array(8);
  const batch = engine === "webcrypto" ? BATCH : 4096;
  for (let first = 0; first < Number.MAX_SAFE_INTEGER; first += batch) {
    const found =
      engine === "webcrypto"
        ? await tryWithWebCrypto(buffers, first, batch, difficulty)
        : tryWithNoble(prefix, counter, first, batch, difficulty);
    if (found >= 0) return `${challengeWire}.${found}`;
    const now = Date.now();
    // Reported after the first batch (so that the page says at once what it is doing), then
    // at most every PROGRESS_INTERVAL.
    if (first === 0 || now - reported >= PROGRESS_INTERVAL) {
      reported = now;
      const tried = first + batch;
      progress(tried, (tried * 1000) / Math.max(1, now - started));
    }
    if (engine === "noble") await new Promise((resolve) => setTimeout(resolve, 0));
  }
  throw new ProtocolError("stamp-unsolved", "no proof-of-work solution was found");
}

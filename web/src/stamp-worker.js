// The stamp worker: solves the relay's proof-of-work off the page's thread, so that the
// page never freezes, and tells the page how far it is. Built on its own
// (dist/meldpunt-stamp.js) and served by the relay from its own address.
//
// Messages in: {challenge, mailboxId} (the challenge's wire form, the mailbox id's bytes).
// Messages out: {tried, rate} while it works, then {stamp} or {error, message}.
// It never sees a receipt code, a token or a report: only the mailbox id, which the relay
// learns anyway.

import { solveStamp } from "./stamp.js";

self.onmessage = async ({ data }) => {
  try {
    const stamp = await solveStamp(data.challenge, new Uint8Array(data.mailboxId), (tried, rate) =>
      self.postMessage({ tried, rate }),
    );
    self.postMessage({ stamp });
  } catch (error) {
    self.postMessage({ error: error.kind ?? "stamp-unsolved", message: error.message });
  }
};

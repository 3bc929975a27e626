// The browser script's protocol against the Rust crate's test vectors (crypto/testdata/):
// if either side changes a derivation, an encoding or a check, this fails.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as age from "age-encryption";
import { ed25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64urlnopad, bech32 } from "@scure/base";
import * as protocol from "../src/protocol.js";
import { solveStamp } from "../src/stamp.js";

const testdata = (name) => fileURLToPath(new URL(`../../crypto/testdata/${name}`, import.meta.url));
const read = (name) => readFileSync(testdata(name), "utf8");

function blocks(text) {
  return text
    .split("\n\n")
    .map((block) =>
      Object.fromEntries(
        block
          .split("\n")
          .filter((line) => line.trim() !== "" && !line.startsWith("#"))
          .map((line) => {
            const at = line.indexOf(": ");
            return [line.slice(0, at), line.slice(at + 2)];
          }),
      ),
    )
    .filter((block) => Object.keys(block).length > 0);
}

const ageIdentity = (name) => read(name).split("\n").find((line) => line.startsWith("AGE-SECRET-KEY-"));
const integrityOffice = { organisation: "demo", recipient: "integrity-office" };

/** A message's JSON padded as it is once opened. */
function padded(bytes) {
  const result = new Uint8Array(protocol.paddedLength(bytes.length));
  result.set(bytes);
  return result;
}

const vector = (name) => protocol.decodeMessage(padded(readFileSync(testdata(name))));
const vectorDirectory = () => {
  const signed = read("directory.signed.json");
  return protocol.verifyDirectory(signed, JSON.parse(signed).signing_key, "2026-11-30");
};

/** A thread entry as the relay records it: its kind's author posted it. */
const written = (message) => ({ author: ["reply", "acknowledgement"].includes(message.kind) ? "office" : "reporter", message });
const verdicts = (checked) => checked.outcomes.map((outcome) => (outcome.ok ? "ok" : outcome.reason.kind));

/** The office signing seed an age identity derives, as the Rust crate derives it. */
function officeSigningSeed(identity) {
  const secret = bech32.fromWords(bech32.decode(identity, 90).words);
  const { textEncoder } = protocol;
  return hkdf(sha256, secret, textEncoder.encode("meldpunt office identity v1"), textEncoder.encode("meldpunt/v1/office-signing"), 32);
}

const officeKey = (publicKey) => bech32.encode("mpok", bech32.toWords(publicKey));

/**
 * The mailbox of the all-zero receipt code, and what is written into it: the report,
 * follow-ups, office members with fresh keys, their replies and a directory listing them.
 */
async function thread() {
  const keys = await protocol.deriveKeys(new Uint8Array(16));
  const mailbox = keys.mailboxIdWire;
  const common = (sequence) => ({ mailbox, sequence, writtenOn: "2026-11-30", body: "x", attachments: [] });
  return {
    keys,
    mailbox,
    adviser: { organisation: "demo", recipient: "adviser" },
    member() {
      const secret = ed25519.utils.randomSecretKey();
      return { secret, key: officeKey(ed25519.getPublicKey(secret)) };
    },
    /** A directory of one organisation, `demo`, whose recipients (by id) have these members. */
    directory(members) {
      const recipients = Object.entries(members).map(([id, signers]) => ({
        id,
        name: { nl: id, en: id },
        keys: [keys.replyRecipient],
        signing_keys: signers.map((signer) => signer.key),
      }));
      return { "meldpunt-directory": 2, organisations: [{ id: "demo", recipients }] };
    },
    report(recipients) {
      return { kind: "report", ...common(1), replyKey: keys.replyRecipient, followUpKey: keys.followUpKey, recipients };
    },
    followUp(sequence) {
      return protocol.signFollowUp({ kind: "follow-up", ...common(sequence) }, keys.followUpSeed);
    },
    reply(member, from, sequence, kind = "reply") {
      const message = { kind, ...common(sequence), from, signer: member.key };
      message.signature = base64urlnopad.encode(ed25519.sign(protocol.signingBytes(message), member.secret));
      return message;
    },
  };
}

test("receipt codes and their derivations match the Rust crate", async () => {
  const vectors = blocks(read("receipt-codes.txt"));
  assert.ok(vectors.length >= 8);
  for (const vector of vectors) {
    const entropy = protocol.hexToBytes(vector.entropy);
    assert.equal(protocol.writeReceiptCode(entropy), vector["receipt-code"]);
    assert.deepEqual(protocol.parseReceiptCode(vector["receipt-code"]), entropy);
    const keys = await protocol.deriveKeys(entropy);
    assert.equal(keys.token, vector["mailbox-token"]);
    assert.equal(keys.mailboxIdWire, vector["mailbox-id"]);
    assert.equal(keys.replyIdentity, vector["reply-identity"]);
    assert.equal(keys.replyRecipient, vector["reply-recipient"]);
    assert.ok(keys.replyRecipient.startsWith("age1pq1"));
    assert.equal(keys.classicReplyIdentity, vector["classic-reply-identity"]);
    assert.equal(keys.classicReplyRecipient, vector["classic-reply-recipient"]);
    assert.equal(keys.followUpKey, vector["follow-up-key"]);
  }
});

test("typed receipt codes give the result the Rust crate gives", () => {
  const lines = read("receipt-code-inputs.txt")
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"));
  assert.ok(lines.length > 15);
  for (const line of lines) {
    const [expected, typed] = [line.slice(0, line.indexOf("\t")), line.slice(line.indexOf("\t") + 1)];
    if (expected.startsWith("ok:")) {
      assert.equal(protocol.bytesToHex(protocol.parseReceiptCode(typed)), expected.slice(3), typed);
    } else {
      const kind = { "error:length": "receipt-code-length", "error:character": "receipt-code-character", "error:checksum": "receipt-code-checksum" }[expected];
      assert.throws(() => protocol.parseReceiptCode(typed), (error) => error.kind === kind, typed);
    }
  }
});

test("a single typo is located in its group, as the Rust crate does", () => {
  assert.throws(
    () => protocol.parseReceiptCode("AHCM-W7ZG-RKYA-62DW-W8KX-HC8K-EG9D-MHCQ"),
    (error) => error.kind === "receipt-code-checksum" && error.detail.suspectGroup === 8,
  );
});

test("padding matches the vectors", () => {
  const lines = read("padding.txt").split("\n").filter((line) => /^\d/.test(line));
  assert.ok(lines.length > 5);
  for (const line of lines) {
    const [length, padded] = line.split(" ").map(Number);
    assert.equal(protocol.paddedLength(length), padded, `length ${length}`);
  }
});

test("the frozen sealed report opens, and re-encodes to the same bytes", async () => {
  const office = ageIdentity("office.identity.txt");
  const padded = await protocol.open(office, readFileSync(testdata("report.age")));
  const message = protocol.decodeMessage(padded);
  assert.equal(message.kind, "report");
  const expected = readFileSync(testdata("report.json"));
  assert.deepEqual(Buffer.from(protocol.encodeMessage(message)), expected);
});

test("what the script seals opens with the office identity and has the Rust padding", async () => {
  const office = ageIdentity("office.identity.txt");
  const recipient = await age.identityToRecipient(office);
  const content = protocol.textEncoder.encode("a".repeat(5000));
  const sealed = await protocol.seal([recipient], content);
  const padded = await protocol.open(office, sealed);
  assert.equal(padded.length, 5120);
  const { reference, sealed: attachment } = await protocol.sealAttachment([recipient], "a.txt", content);
  assert.deepEqual(await protocol.openAttachment(office, reference, attachment), content);
  const other = { ...reference, sha256: "00".repeat(32) };
  await assert.rejects(protocol.openAttachment(office, other, attachment), (error) => error.kind === "digest-mismatch");
});

test("the signed follow-up vector: same signing bytes, same signature, same encoding", async () => {
  const bytes = readFileSync(testdata("follow-up.json"));
  const message = protocol.decodeMessage(padded(bytes));
  const keys = await protocol.deriveKeys(new Uint8Array(16));
  const again = protocol.signFollowUp({ ...message, signature: undefined }, keys.followUpSeed);
  assert.equal(again.signature, message.signature);
  assert.deepEqual(Buffer.from(protocol.encodeMessage(message)), bytes);
  const report = vector("report.json");
  assert.equal(report.followUpKey, keys.followUpKey);
  const thread = protocol.checkThread(message.mailbox, null, [written(report), written(message)]);
  assert.deepEqual(verdicts(thread), ["ok", "ok"]);
  assert.equal(thread.nextReporterSequence, 3);
  const altered = { ...message, body: "iets anders" };
  const refused = protocol.checkThread(message.mailbox, null, [written(report), written(altered)]);
  assert.deepEqual(verdicts(refused), ["ok", "forged-follow-up"]);
  assert.equal(refused.nextReporterSequence, 2);
});

test("a follow-up sharing the reporter's identity: same signing bytes, same signature, same encoding", async () => {
  const bytes = readFileSync(testdata("follow-up-identity.json"));
  const message = protocol.decodeMessage(padded(bytes));
  assert.deepEqual(message.sharedIdentity.with, { organisation: "demo", recipient: "external-adviser" });
  const keys = await protocol.deriveKeys(new Uint8Array(16));
  const again = protocol.signFollowUp({ ...message, signature: undefined }, keys.followUpSeed);
  assert.equal(again.signature, message.signature);
  assert.deepEqual(Buffer.from(protocol.encodeMessage(message)), bytes);
  const report = vector("report.json");
  const followUp = vector("follow-up.json");
  const thread = protocol.checkThread(message.mailbox, null, [written(report), written(followUp), written(message)]);
  assert.deepEqual(verdicts(thread), ["ok", "ok", "ok"]);
  // Moved to another recipient, the reporter's signature no longer covers it.
  const moved = { ...message, sharedIdentity: { ...message.sharedIdentity, with: { organisation: "demo", recipient: "integrity-office" } } };
  const refused = protocol.checkThread(message.mailbox, null, [written(report), written(followUp), written(moved)]);
  assert.deepEqual(verdicts(refused), ["ok", "ok", "forged-follow-up"]);
  // Only a follow-up may carry one, and only in its exact form.
  const text = bytes.toString("utf8");
  for (const bad of [
    text.replace('"kind":"follow-up"', '"kind":"report"'),
    text.replace('"sealed":"', '"sealed":"!'),
    text.replace('"with":', '"extra":1,"with":'),
  ]) {
    assert.throws(() => protocol.decodeMessage(padded(Buffer.from(bad))), /malformed|fit/);
  }
});

test("office keys derive from their age identities as the Rust crate derives them", () => {
  const vectors = blocks(read("office-keys.txt"));
  assert.equal(vectors.length, 2);
  for (const vector of vectors) {
    assert.equal(officeKey(ed25519.getPublicKey(officeSigningSeed(vector.identity))), vector["office-key"]);
  }
});

test("the signed office reply vector: same signing bytes, same signature, same encoding, listed in the directory", () => {
  const bytes = readFileSync(testdata("office-reply.json"));
  const reply = protocol.decodeMessage(padded(bytes));
  assert.equal(reply.kind, "reply");
  assert.deepEqual(reply.from, integrityOffice);
  assert.equal(reply.body, 'Dank voor uw melding. "Wij" <onderzoeken> het.');
  const seed = officeSigningSeed(ageIdentity("office.identity.txt"));
  assert.equal(reply.signer, officeKey(ed25519.getPublicKey(seed)));
  assert.equal(base64urlnopad.encode(ed25519.sign(protocol.signingBytes(reply), seed)), reply.signature);
  assert.deepEqual(Buffer.from(protocol.encodeMessage(reply)), bytes);
  const directory = vectorDirectory();
  const office = directory.organisations[0].recipients.find((recipient) => recipient.id === "integrity-office");
  assert.deepEqual(office.signing_keys, [reply.signer]);
  const thread = [written(vector("report.json")), written(vector("follow-up.json")), written(reply)];
  const checked = protocol.checkThread(reply.mailbox, directory, thread);
  assert.deepEqual(verdicts(checked), ["ok", "ok", "ok"]);
  assert.equal(checked.nextReporterSequence, 3);
});

test("a reply appointing a process guide: same signing bytes, same signature, same encoding", () => {
  const bytes = readFileSync(testdata("office-appointment.json"));
  const appointment = protocol.decodeMessage(padded(bytes));
  assert.deepEqual(appointment.processGuide, { recipient: { organisation: "demo", recipient: "process-guide" }, joined: true });
  const seed = officeSigningSeed(ageIdentity("office.identity.txt"));
  assert.equal(base64urlnopad.encode(ed25519.sign(protocol.signingBytes(appointment), seed)), appointment.signature);
  assert.deepEqual(Buffer.from(protocol.encodeMessage(appointment)), bytes);
  // The vector directory lists no process guide: the appointment does not count there, and
  // the thread goes on.
  const directory = vectorDirectory();
  const thread = [written(vector("report.json")), written(vector("follow-up.json")), written(vector("office-reply.json")), written(appointment)];
  const refused = protocol.checkThread(appointment.mailbox, directory, thread);
  assert.deepEqual(verdicts(refused), ["ok", "ok", "ok", "malformed-message"]);
  assert.deepEqual(refused.guides, []);
  // With a process guide in the directory, the guide joins the thread.
  const withGuide = structuredClone(directory);
  withGuide.organisations[0].recipients.push({ id: "process-guide", role: "process-guide", name: { nl: "Procesbegeleider", en: "Process guide" }, keys: [], signing_keys: [] });
  const admitted = protocol.checkThread(appointment.mailbox, withGuide, thread);
  assert.deepEqual(verdicts(admitted), ["ok", "ok", "ok", "ok"]);
  assert.deepEqual(admitted.guides, [{ organisation: "demo", recipient: "process-guide" }]);
  // A flipped flag breaks the office's signature; a follow-up cannot carry one.
  const flipped = { ...appointment, processGuide: { ...appointment.processGuide, joined: false } };
  assert.deepEqual(verdicts(protocol.checkThread(appointment.mailbox, withGuide, [...thread.slice(0, 3), written(flipped)])), ["ok", "ok", "ok", "forged-office-message"]);
  // A guide of another organisation is refused, as the Rust crate refuses it.
  const across = structuredClone(withGuide);
  across.organisations[0].recipients = across.organisations[0].recipients.filter((recipient) => recipient.id !== "process-guide");
  across.organisations.push({ id: "other", name: { nl: "Ander", en: "Other" }, recipients: [{ id: "process-guide", role: "process-guide", name: { nl: "P", en: "P" }, keys: [], signing_keys: [] }] });
  const foreign = { ...appointment, processGuide: { recipient: { organisation: "other", recipient: "process-guide" }, joined: true } };
  assert.equal(verdicts(protocol.checkThread(appointment.mailbox, across, [...thread.slice(0, 3), written(foreign)])).at(-1), "malformed-message");
  const text = bytes.toString("utf8");
  assert.throws(() => protocol.decodeMessage(padded(Buffer.from(text.replace('"joined":true', '"joined":1')))), /malformed/);
});

test("a report carrying a consultation: same encoding, same signature, the adviser's answer checks", async () => {
  const bytes = readFileSync(testdata("report-after-consultation.json"));
  const report = protocol.decodeMessage(padded(bytes));
  assert.equal(report.conversation, "report");
  const { messages, signature } = report.earlierConsultation;
  assert.equal(messages.length, 2);
  assert.equal(messages[0].conversation, "consultation");
  assert.deepEqual(Buffer.from(protocol.encodeMessage(report)), bytes);
  // The reporter's client signs it over with the consultation's own key, as the Rust crate does.
  const consultation = await protocol.deriveKeys(new Uint8Array(16).fill(2));
  assert.equal(messages[0].mailbox, consultation.mailboxIdWire);
  const carried = protocol.carryConsultation(consultation.followUpSeed, messages, report.mailbox);
  assert.equal(carried.signature, signature);
  // The consultation itself checks as a thread: the adviser's answer is signed by a key the
  // directory lists, and no process guide joins a consultation.
  const thread = protocol.checkThread(messages[0].mailbox, vectorDirectory(), messages.map(written));
  assert.deepEqual(verdicts(thread), ["ok", "ok"]);
  // The adviser's answer is bound to the opening, as the Rust crate binds it: under another
  // question it is refused.
  assert.equal(messages[1].opening, protocol.openingDigest(messages[0]));
  const otherQuestion = { ...messages[0], body: "Moet ik melden dat X fraude pleegt?" };
  const moved = protocol.checkThread(messages[0].mailbox, vectorDirectory(), [written(otherQuestion), written(messages[1])]);
  assert.deepEqual(verdicts(moved), ["ok", "opening-mismatch"]);
  // Re-encoded alone, the consultation's opening names its conversation; a report does not.
  const opening = Buffer.from(protocol.encodeMessage(messages[0])).toString("utf8");
  assert.match(opening, /"kind":"report".*"conversation":"consultation"/);
  const text = bytes.toString("utf8");
  for (const bad of [
    text.replace('"earlier_consultation":', '"conversation":"report","earlier_consultation":'),
    text.replace('"earlier_consultation":', '"conversation":"consultation","earlier_consultation":'),
    text.replace('"conversation":"consultation"', '"conversation":"report"'),
    text.replace('"signature":"' + signature, '"signature":"x'),
    text.replace('"conversation":"consultation"', '"conversation":"consultation","earlier_consultation":{"messages":[],"signature":"' + signature + '"}'),
  ]) {
    assert.notEqual(bad, text);
    assert.throws(() => protocol.decodeMessage(padded(Buffer.from(bad))), /malformed|consultation|signature/);
  }
});

test("an office reply altered in its body, signer or sender, unsigned or mis-recorded, is refused", () => {
  const bytes = readFileSync(testdata("office-reply.json"));
  const reply = protocol.decodeMessage(padded(bytes));
  const report = vector("report.json");
  const directory = vectorDirectory();
  const adviser = { organisation: "demo", recipient: "external-adviser" };
  const verdict = (message, { recipients = report.recipients, author = "office" } = {}) =>
    verdicts(protocol.checkThread(reply.mailbox, directory, [written({ ...report, recipients }), { author, message }]))[1];
  assert.equal(verdict(reply), "ok");
  assert.equal(verdict({ ...reply, body: "Wij onderzoeken het niet." }), "forged-office-message");
  assert.equal(verdict({ ...reply, kind: "acknowledgement" }), "forged-office-message");
  const adviserKey = blocks(read("office-keys.txt"))[1]["office-key"];
  assert.equal(verdict({ ...reply, signer: adviserKey }), "forged-office-message");
  assert.equal(verdict({ ...reply, from: adviser }), "sender-not-addressed");
  assert.equal(verdict({ ...reply, from: adviser }, { recipients: [integrityOffice, adviser] }), "forged-office-message");
  assert.equal(verdict({ ...reply, signature: undefined }), "forged-office-message");
  assert.equal(verdict(reply, { author: "reporter" }), "wrong-author");
  const unsigned = JSON.parse(bytes.toString("utf8"));
  delete unsigned.signature;
  assert.throws(() => protocol.decodeMessage(padded(Buffer.from(JSON.stringify(unsigned)))), (error) => error.kind === "malformed-message");
});

test("messages are decoded as strictly as the Rust crate decodes them", () => {
  const reply = JSON.parse(read("office-reply.json"));
  const followUp = JSON.parse(read("follow-up.json"));
  const report = JSON.parse(read("report.json"));
  const { signer, ...withoutSigner } = reply;
  for (const wire of [
    { ...reply, "meldpunt-message": 2 },
    { ...reply, unknown: true },
    withoutSigner,
    { ...reply, signer: signer.replace("mpok1", "mpdk1") },
    { ...reply, signer: "mpok1qqqq" },
    { ...reply, from: { ...reply.from, name: "x" } },
    { ...reply, reply_key: report.reply_key },
    { ...followUp, from: reply.from },
    { ...followUp, signature: followUp.signature.slice(1) },
    { ...report, signature: followUp.signature },
    { ...report, recipients: [] },
    { ...followUp, attachments: [{ ...followUp.attachments[0], name: "../x" }] },
    { ...followUp, attachments: [{ ...followUp.attachments[0], extra: 1 }] },
  ]) {
    assert.throws(
      () => protocol.decodeMessage(padded(Buffer.from(JSON.stringify(wire)))),
      (error) => error.kind === "malformed-message",
      JSON.stringify(wire).slice(0, 120),
    );
  }
  const decoded = protocol.decodeMessage(padded(Buffer.from(JSON.stringify(reply))));
  assert.throws(() => protocol.encodeMessage({ ...decoded, signature: undefined }), (error) => error.kind === "malformed-message");
});

test("two office members who write at once are accepted in either order", async () => {
  const office = await thread();
  const [first, second, counsel] = [office.member(), office.member(), office.member()];
  const directory = office.directory({ "integrity-office": [first, second], adviser: [counsel] });
  const report = office.report([integrityOffice, office.adviser]);
  for (const order of [
    [0, 1],
    [1, 0],
  ]) {
    const replies = [office.reply(first, integrityOffice, 1), office.reply(second, integrityOffice, 1)];
    const short = [report, replies[order[0]], replies[order[1]], office.followUp(2)];
    const checked = protocol.checkThread(office.mailbox, directory, short.map(written));
    assert.deepEqual(verdicts(checked), ["ok", "ok", "ok", "ok"]);
    assert.equal(checked.nextReporterSequence, 3);
    const long = [...short, office.reply(counsel, office.adviser, 1), office.reply(first, integrityOffice, 2), office.followUp(3)];
    const all = protocol.checkThread(office.mailbox, directory, long.map(written));
    assert.ok(all.outcomes.every((outcome) => outcome.ok));
    assert.equal(all.nextReporterSequence, 4);
  }
});

test("a thread check marks what the Rust ThreadCheck refuses, and goes on with the next message", async () => {
  const office = await thread();
  const member = office.member();
  const directory = office.directory({ "integrity-office": [member], adviser: [office.member()] });
  const report = office.report([integrityOffice]);
  const check = (...messages) => protocol.checkThread(office.mailbox, directory, messages.map(written));
  // A follow-up withheld from the middle (the next one is admitted, saying one is missing
  // before it); a reply repeated; two follow-ups swapped (the later one first: admitted with
  // one missing before it, then the earlier one refused as a step back); a thread not
  // starting with its report; a report not numbered 1; a second report; a message of another
  // mailbox.
  for (const [messages, expected, next, missing] of [
    [[report, office.followUp(3)], ["ok", "ok"], 4, [0, 1]],
    [[report, office.followUp(3), office.followUp(4)], ["ok", "ok", "ok"], 5, [0, 1, 0]],
    [[report, office.reply(member, integrityOffice, 1), office.reply(member, integrityOffice, 1)], ["ok", "ok", "out-of-sequence"], 2, [0, 0, null]],
    [[report, office.followUp(3), office.followUp(2)], ["ok", "ok", "out-of-sequence"], 4, [0, 1, null]],
    [[office.reply(member, integrityOffice, 1), report], ["thread-without-report", "ok"], 2, [null, 0]],
    [[office.followUp(2), report, office.followUp(2)], ["thread-without-report", "ok", "ok"], 3, [null, 0, 0]],
    [[{ ...office.report([integrityOffice]), sequence: 2 }, report], ["out-of-sequence", "ok"], 2, [null, 0]],
    [[report, report], ["ok", "out-of-sequence"], 2, [0, null]],
    [[{ ...report, mailbox: "CAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg" }, report], ["wrong-mailbox", "ok"], 2, [null, 0]],
  ]) {
    const checked = check(...messages);
    assert.deepEqual(verdicts(checked), expected);
    assert.equal(checked.nextReporterSequence, next);
    assert.deepEqual(
      checked.outcomes.map((outcome) => (outcome.ok ? outcome.missingBefore : null)),
      missing,
    );
  }
  assert.equal(
    check(report, office.followUp(3), office.followUp(2)).outcomes[2].reason.message,
    "the reporter's messages are out of sequence (expected number 4, found 2): the relay repeated or reordered messages",
  );
  assert.equal(check(office.followUp(2), report).outcomes[0].reason.message, "the conversation does not start with a report");
  // A follow-up signed by anyone but the reporter, unsigned, or altered after signing.
  const other = await protocol.deriveKeys(new Uint8Array(16).fill(2));
  const forged = protocol.signFollowUp({ ...office.followUp(2), signature: undefined }, other.followUpSeed);
  for (const followUp of [forged, { ...office.followUp(2), signature: undefined }, { ...office.followUp(2), body: "iets anders" }]) {
    const checked = check(report, followUp, office.followUp(2));
    assert.deepEqual(verdicts(checked), ["ok", "forged-follow-up", "ok"]);
    assert.equal(checked.nextReporterSequence, 3);
  }
});

test("a gap is admitted with the number of missing messages, a repeat or step back is refused", async () => {
  const office = await thread();
  const [first, second] = [office.member(), office.member()];
  const directory = office.directory({ "integrity-office": [first, second] });
  const report = office.report([integrityOffice]);
  const check = (...messages) => protocol.checkThread(office.mailbox, directory, messages.map(written));
  const missing = (checked) => checked.outcomes.map((outcome) => (outcome.ok ? outcome.missingBefore : outcome.reason.kind));

  // The reporter's numbering: 2 and 3 withheld, 4 admitted saying so; then 4 repeated, 3 (a
  // step back) and 4 again refused, and 5 follows 4 with nothing missing. Each refused
  // message changes nothing, so that 5 still continues from 4.
  const reporter = check(
    report,
    office.followUp(4),
    office.followUp(4),
    office.followUp(3),
    office.followUp(5),
    office.followUp(7),
  );
  assert.deepEqual(missing(reporter), [0, 2, "out-of-sequence", "out-of-sequence", 0, 1]);
  assert.equal(reporter.nextReporterSequence, 8);
  assert.equal(
    reporter.outcomes[3].reason.message,
    "the reporter's messages are out of sequence (expected number 5, found 3): the relay repeated or reordered messages",
  );
  // Without the refused ones, the same: they changed nothing.
  const clean = check(report, office.followUp(4), office.followUp(5), office.followUp(7));
  assert.deepEqual(missing(clean), [0, 2, 0, 1]);
  assert.equal(clean.nextReporterSequence, 8);

  // The office's numbering, per signer key: a gap in one member's numbering says nothing of
  // the other's, and a repeat or step back of one member is refused while the other goes on.
  const reply = (member, sequence) => office.reply(member, integrityOffice, sequence);
  const offices = check(
    report,
    reply(first, 1),
    reply(second, 3),
    reply(first, 3),
    reply(second, 3),
    reply(first, 2),
    reply(second, 4),
    reply(first, 4),
    office.followUp(2),
  );
  assert.deepEqual(missing(offices), [0, 0, 2, 1, "out-of-sequence", "out-of-sequence", 0, 0, 0]);
  assert.equal(offices.nextReporterSequence, 3);
  assert.equal(
    offices.outcomes[4].reason.message,
    "the office's messages are out of sequence (expected number 4, found 3): the relay repeated or reordered messages",
  );
  assert.equal(
    offices.outcomes[5].reason.message,
    "the office's messages are out of sequence (expected number 4, found 2): the relay repeated or reordered messages",
  );
  // A refused message changes nothing: a forged follow-up numbered far ahead does not move
  // the reporter's numbering, and the next genuine one still continues from the report.
  const other = await protocol.deriveKeys(new Uint8Array(16).fill(2));
  const forged = protocol.signFollowUp({ ...office.followUp(9), signature: undefined }, other.followUpSeed);
  const afterForged = check(report, forged, office.followUp(2));
  assert.deepEqual(missing(afterForged), [0, "forged-follow-up", 0]);
  assert.equal(afterForged.nextReporterSequence, 3);
  // Nor does a reply by a key the directory does not list move any office numbering.
  const stranger = office.member();
  const afterStranger = check(report, office.reply(stranger, integrityOffice, 5), reply(first, 1));
  assert.deepEqual(missing(afterStranger), [0, "forged-office-message", 0]);
  // A report must still come first, numbered 1.
  assert.deepEqual(missing(check(reply(first, 1), report, reply(first, 1))), ["thread-without-report", 0, 0]);
  assert.deepEqual(missing(check({ ...report, sequence: 2 })), ["out-of-sequence"]);
});

test("office messages are checked against the directory and the author the relay recorded", async () => {
  const office = await thread();
  const [member, counsel, stranger] = [office.member(), office.member(), office.member()];
  const directory = office.directory({ "integrity-office": [member], adviser: [counsel] });
  const report = office.report([integrityOffice]);
  const verdict = (message, { author = "office", listed = directory } = {}) =>
    verdicts(protocol.checkThread(office.mailbox, listed, [written(report), { author, message }]))[1];
  const good = office.reply(member, integrityOffice, 1);
  assert.equal(verdict(good), "ok");
  // A reporter who writes a "reply" into their own mailbox, an office that posts a "follow-up".
  assert.equal(verdict(good, { author: "reporter" }), "wrong-author");
  assert.equal(verdict(office.followUp(2), { author: "office" }), "wrong-author");
  // An acknowledgement forged with a key the directory does not list, or naming the member's
  // key without its secret, or not signed at all.
  assert.equal(verdict(office.reply(stranger, integrityOffice, 1, "acknowledgement")), "forged-office-message");
  const impersonated = { ...office.reply(stranger, integrityOffice, 1, "acknowledgement"), signer: member.key };
  assert.equal(verdict(impersonated), "forged-office-message");
  assert.equal(verdict({ ...office.reply(member, integrityOffice, 1, "acknowledgement"), signature: undefined }), "forged-office-message");
  assert.equal(verdict({ ...good, body: "anders" }), "forged-office-message");
  // A colleague whose recipient the reporter did not choose; a key listed for the adviser,
  // used to sign as the integrity office.
  assert.equal(verdict(office.reply(counsel, office.adviser, 1)), "sender-not-addressed");
  assert.equal(verdict(office.reply(counsel, integrityOffice, 1)), "forged-office-message");
  // Without a verified directory no office message can be verified.
  assert.equal(verdict(good, { listed: null }), "no-directory");
});

test("an entry that cannot be opened is marked in its place, and the rest of the thread still checks", async () => {
  const office = await thread();
  const member = office.member();
  const directory = office.directory({ "integrity-office": [member], adviser: [office.member()] });
  const keys = office.keys;
  const opened = async (author, sealed) => {
    try {
      return { author, message: protocol.decodeMessage(await protocol.open(keys.replyIdentity, sealed)) };
    } catch (error) {
      return { author, error };
    }
  };
  const seal = (message) => protocol.seal([keys.replyRecipient], protocol.encodeMessage(message));
  const garbage = new Uint8Array(200).fill(7);
  const notAMessage = await protocol.seal([keys.replyRecipient], protocol.textEncoder.encode('{"hello":"world"}'));
  const other = await protocol.deriveKeys(new Uint8Array(16).fill(2));
  const forged = protocol.signFollowUp({ ...office.followUp(3), signature: undefined }, other.followUpSeed);
  const entries = [
    await opened("reporter", await seal(office.report([integrityOffice]))),
    await opened("office", garbage),
    await opened("office", await seal(office.reply(member, integrityOffice, 1))),
    await opened("reporter", await seal(office.followUp(2))),
    await opened("office", notAMessage),
    await opened("reporter", await seal(forged)),
    await opened("reporter", await seal(office.followUp(3))),
  ];
  const checked = protocol.checkThread(office.mailbox, directory, entries);
  assert.deepEqual(verdicts(checked), ["ok", "cannot-open", "ok", "ok", "malformed-message", "forged-follow-up", "ok"]);
  assert.equal(checked.nextReporterSequence, 4);
  // The report itself unreadable: nothing is admitted, and the reporter would start again at 1.
  const headless = protocol.checkThread(office.mailbox, directory, [await opened("reporter", garbage), ...entries.slice(2)]);
  assert.ok(headless.outcomes.every((outcome) => !outcome.ok));
  assert.equal(headless.nextReporterSequence, 1);
});

test("hybrid post-quantum keys and the frozen hybrid report match the Rust crate", async () => {
  const vectors = blocks(read("hybrid-keys.txt"));
  assert.equal(vectors.length, 4);
  for (const vector of vectors) {
    assert.equal(await age.identityToRecipient(vector.identity), vector.recipient);
    assert.equal(officeKey(ed25519.getPublicKey(officeSigningSeed(vector.identity))), vector["office-key"]);
  }
  // Sealed by the Rust crate to a hybrid office key and the all-zero code's hybrid reply key.
  const sealed = readFileSync(testdata("hybrid-report.age"));
  const expected = vector("hybrid-report.json");
  const keys = await protocol.deriveKeys(new Uint8Array(16));
  assert.deepEqual(protocol.decodeMessage(await protocol.open(keys.replyIdentities, sealed)), expected);
  assert.deepEqual(protocol.decodeMessage(await protocol.open(ageIdentity("office-pq.identity.txt"), sealed)), expected);
  await assert.rejects(protocol.open(keys.classicReplyIdentity, sealed), (error) => error.kind === "cannot-open");
  assert.equal(expected.replyKey, keys.replyRecipient);
});

test("the directory history: hashes, links and a fork, as the Rust crate makes them", () => {
  const version = (name) => read(`directory-history/${name}`);
  const hashes = Object.fromEntries(
    read("directory-history/hashes.txt")
      .split("\n")
      .filter((line) => line.includes(".json: "))
      .map((line) => line.split(": ")),
  );
  for (const name of ["7.json", "8.json", "9.json", "8-fork.json"]) {
    assert.equal(protocol.directoryHash(version(name)), hashes[name], name);
  }
  const key = JSON.parse(version("7.json")).signing_key;
  const [one, two, three, fork] = ["7.json", "8.json", "9.json", "8-fork.json"].map(version);
  assert.equal(protocol.verifyContinuation(key, 7, hashes["7.json"], [two, three], three).version, 9);
  assert.equal(protocol.verifyContinuation(key, 7, hashes["7.json"], [one, two, three], three).version, 9);
  assert.equal(protocol.verifyContinuation(key, 9, hashes["9.json"], [], three).version, 9);
  const refused = (why) => (error) => error.kind === "directory-history" && error.message.includes(why);
  assert.throws(() => protocol.verifyContinuation(key, 8, hashes["8.json"], [], fork), refused("fork"));
  assert.throws(() => protocol.verifyContinuation(key, 7, hashes["7.json"], [fork, three], three), refused("does not name version 8"));
  assert.throws(() => protocol.verifyContinuation(key, 7, hashes["7.json"], [three], three), refused("gap"));
  assert.throws(() => protocol.verifyContinuation(key, 9, hashes["9.json"], [], two), refused("older"));
  // Another key anywhere is a signature error before any link is looked at.
  assert.throws(() => protocol.verifyContinuation(key, 7, hashes["7.json"], [two, three], read("directory.signed.json").replace(/"signature":"[^"]+"/, '"signature":"AAAA"')));
});

/** Decodes a message's JSON text (a string, or bytes) padded as it is once opened. */
const decodeText = (text) => protocol.decodeMessage(padded(typeof text === "string" ? Buffer.from(text, "utf8") : text));
const refusedAs = (kind, text, note) =>
  assert.throws(() => decodeText(text), (error) => error.kind === kind, note ?? String(text).slice(0, 160));

test("the report must carry the reporter's own keys", async () => {
  const office = await thread();
  const member = office.member();
  const directory = office.directory({ "integrity-office": [member], adviser: [office.member()] });
  const own = { replyKeys: office.keys.replyRecipients, followUpKey: office.keys.followUpKey };
  own.replyKey = own.replyKeys[0];
  const other = await protocol.deriveKeys(new Uint8Array(16).fill(2));
  const report = office.report([integrityOffice]);
  const check = (messages, reporterKeys = own) =>
    protocol.checkThread(office.mailbox, directory, messages.map(written), reporterKeys);
  assert.deepEqual(verdicts(check([report, office.reply(member, integrityOffice, 1), office.followUp(2)])), ["ok", "ok", "ok"]);
  // The same key written in upper case is the same key, as the Rust crate parses it.
  assert.deepEqual(verdicts(check([{ ...report, replyKey: own.replyKey.toUpperCase() }])), ["ok"]);
  // A report made before hybrid reply keys carries the classic one: still the reporter's.
  assert.deepEqual(verdicts(check([{ ...report, replyKey: office.keys.classicReplyRecipient }])), ["ok"]);
  // Another reply key, another follow-up key, or both: refused, and with it the thread has
  // no report (main.js then shows no conversation at all).
  for (const foreign of [
    { ...report, replyKey: other.replyRecipient },
    { ...report, replyKey: other.classicReplyRecipient },
    { ...report, followUpKey: other.followUpKey },
    { ...report, replyKey: other.replyRecipient, followUpKey: other.followUpKey },
  ]) {
    const checked = check([foreign, office.reply(member, integrityOffice, 1), office.followUp(2)]);
    assert.deepEqual(verdicts(checked), ["foreign-report", "thread-without-report", "thread-without-report"]);
    assert.equal(checked.nextReporterSequence, 1);
    assert.equal(
      checked.outcomes[0].reason.message,
      "the report in this mailbox was not written with your receipt code: it was replaced",
    );
    // An office member's reader, which knows no receipt code, checks no report's keys.
    assert.deepEqual(verdicts(check([foreign], null)), ["ok"]);
  }
  // The attack it stops: a replaced report naming another follow-up key and recipient, and
  // "follow-ups" signed with that key, which would otherwise pass as the reporter's.
  const replaced = { ...report, followUpKey: other.followUpKey, recipients: [office.adviser] };
  const impostor = protocol.signFollowUp({ ...office.followUp(2), signature: undefined }, other.followUpSeed);
  assert.deepEqual(verdicts(check([replaced, impostor], null)), ["ok", "ok"]);
  assert.deepEqual(verdicts(check([replaced, impostor])), ["foreign-report", "thread-without-report"]);
  // A replaced report before the genuine one changes nothing; after it, the key check comes
  // first, as in ThreadCheck::admit.
  assert.deepEqual(verdicts(check([replaced, report, office.followUp(2)])), ["foreign-report", "ok", "ok"]);
  assert.deepEqual(verdicts(check([report, replaced])), ["ok", "foreign-report"]);
  // Through sealing and opening, as main.js reads a mailbox.
  const sealed = await protocol.seal([own.replyKey], protocol.encodeMessage(replaced));
  const opened = protocol.decodeMessage(await protocol.open(office.keys.replyIdentity, sealed));
  assert.deepEqual(verdicts(check([opened])), ["foreign-report"]);
  // Keys that are not keys are a caller's mistake, not a verdict on the report.
  assert.throws(() => check([report], { replyKeys: ["age1"], followUpKey: own.followUpKey }), TypeError);
});

test("the report must be the first message", async () => {
  const office = await thread();
  const member = office.member();
  const directory = office.directory({ "integrity-office": [member], adviser: [office.member()] });
  const own = { replyKeys: office.keys.replyRecipients, followUpKey: office.keys.followUpKey };
  own.replyKey = own.replyKeys[0];
  const report = office.report([integrityOffice]);
  const reply = (sequence) => office.reply(member, integrityOffice, sequence);
  for (const reporterKeys of [own, null]) {
    const check = (...messages) => protocol.checkThread(office.mailbox, directory, messages.map(written), reporterKeys);
    for (const [messages, expected, next] of [
      [[report, report], ["ok", "out-of-sequence"], 2],
      [[report, office.followUp(2), report], ["ok", "ok", "out-of-sequence"], 3],
      [[report, reply(1), report, reply(2)], ["ok", "ok", "out-of-sequence", "ok"], 2],
      [[report, { ...report, sequence: 2 }, office.followUp(2)], ["ok", "out-of-sequence", "ok"], 3],
      [[{ ...report, sequence: 2 }, report], ["out-of-sequence", "ok"], 2],
      // Nothing admitted yet (an office message before the report is refused): the report
      // still starts the thread.
      [[reply(1), report, reply(1)], ["thread-without-report", "ok", "ok"], 2],
    ]) {
      const checked = check(...messages);
      assert.deepEqual(verdicts(checked), expected);
      assert.equal(checked.nextReporterSequence, next);
    }
    assert.equal(
      check(report, office.followUp(2), report).outcomes[2].reason.message,
      "the reporter's messages are out of sequence (expected number 3, found 1): the relay repeated or reordered messages",
    );
  }
  // A later report changes nothing: follow-ups are still checked against the first one's
  // key, and office messages against its recipients.
  const other = await protocol.deriveKeys(new Uint8Array(16).fill(2));
  const later = { ...report, followUpKey: other.followUpKey, recipients: [office.adviser] };
  const impostor = protocol.signFollowUp({ ...office.followUp(2), signature: undefined }, other.followUpSeed);
  const checked = protocol.checkThread(office.mailbox, directory, [report, later, impostor, office.followUp(2)].map(written));
  assert.deepEqual(verdicts(checked), ["ok", "out-of-sequence", "forged-follow-up", "ok"]);
});

test("dates: impossible calendar days are refused, leap years included", () => {
  const followUp = JSON.parse(read("follow-up.json"));
  const day = (writtenOn) => JSON.stringify({ ...followUp, written_on: writtenOn });
  for (const valid of ["2026-11-29", "2024-02-29", "2000-02-29", "1600-02-29", "0000-02-29", "2026-01-31", "2026-12-31", "9999-12-31", "0000-01-01"]) {
    assert.ok(protocol.isValidDay(valid), valid);
    assert.equal(decodeText(day(valid)).writtenOn, valid);
  }
  for (const invalid of [
    "2026-02-30",
    "2026-02-29",
    "1900-02-29",
    "2100-02-29",
    "2026-04-31",
    "2026-06-31",
    "2026-09-31",
    "2026-11-31",
    "2026-01-32",
    "2026-13-01",
    "2026-00-10",
    "2026-01-00",
    "2026-1-01",
    "26-11-28",
    "2026/11/28",
    "2026-11-28T00:00",
    "+026-11-28",
    "2026-11-2\u0669",
    "",
  ]) {
    assert.ok(!protocol.isValidDay(invalid), invalid);
    refusedAs("malformed-message", day(invalid), invalid);
  }
  refusedAs("malformed-message", JSON.stringify({ ...followUp, written_on: 20261129 }));
});

test("size: an encoded message longer than 1 MiB is refused before parsing", () => {
  const followUp = JSON.parse(read("follow-up.json"));
  assert.equal(protocol.MAXIMUM_MESSAGE_LENGTH, 1_048_576);
  // A body within 512 KiB whose JSON is longer: each character written as an escape (6 bytes).
  const empty = JSON.stringify({ ...followUp, body: "" });
  const room = protocol.MAXIMUM_MESSAGE_LENGTH - Buffer.byteLength(empty);
  const escaped = Math.floor(room / 6);
  const withBody = (plain) => empty.replace('"body":""', `"body":"${"\\u0061".repeat(escaped)}${"a".repeat(plain)}"`);
  const largest = withBody(room - escaped * 6);
  assert.equal(Buffer.byteLength(largest), 1_048_576);
  assert.equal(decodeText(largest).body.length, escaped + room - escaped * 6);
  const larger = withBody(room - escaped * 6 + 1);
  assert.equal(Buffer.byteLength(larger), 1_048_577);
  refusedAs("too-large", larger, "1 MiB + 1");
  // Whitespace counts too: a small message followed by more than 1 MiB of spaces.
  const small = JSON.stringify(followUp);
  const spaces = protocol.MAXIMUM_MESSAGE_LENGTH - Buffer.byteLength(small);
  assert.equal(decodeText(small + " ".repeat(spaces)).sequence, 2);
  refusedAs("too-large", small + " ".repeat(spaces + 1), "spaces");
  // Refused before parsing: more than 1 MiB of what is not JSON at all.
  refusedAs("too-large", "x".repeat(protocol.MAXIMUM_MESSAGE_LENGTH + 1), "not JSON");
  // A padded plaintext longer than a 1 MiB message pads to.
  const oversized = new Uint8Array(protocol.paddedLength(protocol.MAXIMUM_MESSAGE_LENGTH) + 1);
  oversized.set(Buffer.from(small));
  assert.throws(() => protocol.decodeMessage(oversized), (error) => error.kind === "too-large");
});

test("JSON: duplicate keys and lone UTF-16 surrogates are refused, as serde_json refuses them", () => {
  const followUpText = read("follow-up.json").trim();
  const reportText = read("report.json").trim();
  const followUp = JSON.parse(followUpText);
  assert.equal(decodeText(followUpText).sequence, 2);
  // Duplicate keys: JSON.parse keeps the last, serde refuses a duplicate field.
  for (const duplicated of [
    followUpText.replace("{", '{"body":"iets anders",'),
    followUpText.replace("{", '{"meldpunt-message":2,'),
    followUpText.replace("{", '{"bo\\u0064y":"iets anders",'),
    followUpText.replace('"sequence":2', '"sequence":9,"sequence":2'),
    followUpText.replace('"name":', '"name":"x","name":'),
    followUpText.replace('"location":"AAECAwQFBgcICQoLDA0ODw"', '"location":"AAECAwQFBgcICQoLDA0ODw","size":1'),
    reportText.replace('"recipient":"integrity-office"', '"recipient":"adviser","recipient":"integrity-office"'),
    reportText.replace('"reply_key"', '"follow_up_key":"kThLKYRQshN6i2p3YsnBqfb9KM1mh3asEEvxP8tbqlI","reply_key"'),
  ]) {
    assert.notEqual(duplicated, followUpText);
    refusedAs("malformed-message", duplicated);
  }
  // The same key in different objects, or a key's name as a value, is no duplicate.
  const twice = { ...followUp, body: "body", attachments: [followUp.attachments[0], { ...followUp.attachments[0], location: "EBESExQVFhcYGRobHB0eHw" }] };
  assert.equal(decodeText(JSON.stringify(twice)).attachments.length, 2);
  assert.equal(decodeText(reportText.replace('"recipients":[', '"recipients":[{"organisation":"demo","recipient":"adviser"},')).recipients.length, 2);
  // Unpaired surrogates, escaped (raw ones are not UTF-8 and already refused): leading,
  // trailing, reversed, at the end, in an attachment name, in a key.
  for (const body of ["a\ud800b", "a\udc00b", "\udc00\ud800", "x\ud83d", "\ude00x"]) {
    const text = JSON.stringify({ ...followUp, body });
    assert.match(text, /\\ud[89a-f]/);
    refusedAs("malformed-message", text);
  }
  refusedAs("malformed-message", JSON.stringify({ ...followUp, attachments: [{ ...followUp.attachments[0], name: "a\ud800.pdf" }] }));
  refusedAs("malformed-message", followUpText.replace("{", '{"\\ud800":1,'));
  refusedAs("malformed-message", Buffer.from([...Buffer.from(followUpText.slice(0, -2)), 0xed, 0xa0, 0x80, ...Buffer.from('"}')]));
  // Pairs, escaped or not, are characters like any other.
  assert.equal(decodeText(followUpText.replace('"body":"', '"body":"\\ud83d\\ude00')).body.slice(0, 2), "\u{1f600}");
  assert.equal(decodeText(JSON.stringify({ ...followUp, body: "\u{1f600}" })).body, "\u{1f600}");
  // Also refused by serde_json and let through by JSON.parse: numbers that are not written
  // as whole numbers (every number in a message is an unsigned integer), and a byte order mark.
  for (const [from, to] of [
    ['"sequence":2', '"sequence":2.0'],
    ['"sequence":2', '"sequence":2e0'],
    ['"sequence":2', '"sequence":20E-1'],
    ['"meldpunt-message":3', '"meldpunt-message":3.0'],
    ['"size":48213', '"size":48213.0'],
    ['"size":48213', '"size":-0'],
  ]) {
    refusedAs("malformed-message", followUpText.replace(from, to), to);
  }
  assert.equal(decodeText(followUpText.replace('"size":48213', '"size":0')).attachments[0].size, 0);
  refusedAs("malformed-message", `\ufeff${followUpText}`, "byte order mark");
  assert.equal(decodeText(` \n${followUpText}\t `).sequence, 2);
});

test("the signed directory verifies with its key and is refused otherwise", () => {
  const signed = read("directory.signed.json");
  const key = JSON.parse(signed).signing_key;
  const directory = protocol.verifyDirectory(signed, key, "2026-11-28");
  assert.equal(directory.organisations[0].id, "demo");
  const { keys, addresses } = protocol.recipientKeys(directory, "demo", ["integrity-office"]);
  assert.equal(keys.length, 1);
  assert.deepEqual(addresses, [integrityOffice]);
  assert.throws(() => protocol.verifyDirectory(signed, key, "2099-01-01"), (error) => error.kind === "directory-expired");
  const other = "mpdk1" + "q".repeat(52);
  assert.throws(() => protocol.verifyDirectory(signed, other, "2026-11-28"));
  const envelope = JSON.parse(signed);
  const text = Buffer.from(envelope.payload, "base64").toString("utf8");
  const tampered = JSON.stringify({ ...envelope, payload: Buffer.from(text.replace('"version":7', '"version":8')).toString("base64") });
  assert.throws(() => protocol.verifyDirectory(tampered, key, "2026-11-28"), (error) => error.kind === "directory-signature");
  // Signed by the right key, but in format 1, or with a recipient who lists no office key.
  const seed = bech32.fromWords(bech32.decode(read("directory-signing-key.txt").split("\n")[1].trim(), 90).words);
  const resigned = (payload, format = 2) => {
    const bytes = Buffer.from(payload);
    const signature = ed25519.sign(protocol.concat(protocol.DIRECTORY_SIGNATURE_CONTEXT, bytes), seed);
    return JSON.stringify({
      ...envelope,
      "meldpunt-signed-directory": format,
      payload: bytes.toString("base64"),
      signature: Buffer.from(signature).toString("base64"),
    });
  };
  assert.equal(protocol.verifyDirectory(resigned(text), key, "2026-11-28").version, 7);
  const refused = (signedText) =>
    assert.throws(() => protocol.verifyDirectory(signedText, key, "2026-11-28"), (error) => error.kind === "malformed-directory");
  refused(resigned(text, 1));
  refused(resigned(text.replace('"meldpunt-directory":2', '"meldpunt-directory":1')));
  const withoutOfficeKeys = JSON.parse(text);
  withoutOfficeKeys.organisations[0].recipients[1].signing_keys = [];
  refused(resigned(JSON.stringify(withoutOfficeKeys)));
});

test("proof-of-work stamps find the same first solution as the Rust crate", async () => {
  const vectors = blocks(read("stamps.txt"));
  assert.equal(vectors.length, 3);
  for (const vector of vectors) {
    const mailboxId = Buffer.from(vector["mailbox-id"], "base64url");
    assert.equal(await protocol.solveStamp(vector.challenge, new Uint8Array(mailboxId)), vector.stamp);
    // Both engines, WebCrypto (native, fast without the JIT) and @noble/hashes, find it.
    for (const engine of ["webcrypto", "noble"]) {
      assert.equal(await solveStamp(vector.challenge, new Uint8Array(mailboxId), () => {}, { engine }), vector.stamp);
    }
  }
});

test("a malformed challenge is refused before any work", async () => {
  const greedy = new Uint8Array(58);
  greedy[0] = 1;
  greedy[1] = 33;
  for (const wire of ["", "AAAA", "!!!!", "A".repeat(200), base64urlnopad.encode(greedy)]) {
    await assert.rejects(solveStamp(wire, new Uint8Array(32)), (error) => error.kind === "malformed-challenge");
  }
});

test("structured reports: the questionnaire's normal forms and problems are the Rust crate's", () => {
  const { questions, cases } = JSON.parse(read("questionnaire.json"));
  const kebab = (name) => name.replace(/[A-Z]/g, (letter, at) => `${at === 0 ? "" : "-"}${letter.toLowerCase()}`);
  for (const { typed, answers, problems } of cases) {
    const checked = protocol.checkAnswers(questions, typed);
    if (answers) assert.deepEqual(checked, { answers });
    else assert.deepEqual(checked.problems, problems.map(({ question, problem }) => ({ question, problem: kebab(problem) })));
  }
  // Shown with the labels of the page's language; an option the questionnaire does not know is shown as written.
  const shown = protocol.describeAnswers(questions, { kind: "fraud", areas: "money,theft", colour: "blue" }, "nl");
  assert.deepEqual(shown, [
    { question: "kind", label: "Soort misstand", values: ["Fraude"] },
    { question: "areas", label: "Gebieden", values: ["Geld", "theft"] },
    { question: "colour", label: null, values: ["blue"] },
  ]);
});

test("structured reports: answers are encoded, signed and bound to the opening as the Rust crate does", () => {
  const reportBytes = readFileSync(testdata("structured-report.json"));
  const report = protocol.decodeMessage(padded(reportBytes));
  assert.deepEqual(report.answers, { areas: "money", kind: "fraud", meeting: "yes", period: "2026-01-01/2026-02-28", unit: 'Inkoop "Noord"' });
  assert.deepEqual(Buffer.from(protocol.encodeMessage(report)), reportBytes);
  // Written in another key order, the encoding is still the Rust crate's.
  const reordered = { ...report, answers: Object.fromEntries(Object.entries(report.answers).reverse()) };
  assert.deepEqual(Buffer.from(protocol.encodeMessage(reordered)), reportBytes);
  const followUpBytes = readFileSync(testdata("structured-follow-up.json"));
  const followUp = protocol.decodeMessage(padded(followUpBytes));
  assert.deepEqual(Buffer.from(protocol.encodeMessage(followUp)), followUpBytes);
  const reply = vector("structured-reply.json");
  assert.equal(protocol.openingDigest(report), reply.opening);
  const directory = vectorDirectory();
  const thread = [written(report), written(followUp), written(reply)];
  assert.deepEqual(verdicts(protocol.checkThread(report.mailbox, directory, thread)), ["ok", "ok", "ok"]);
  // A changed answer: the follow-up's signature fails; in the report, the office's reply no longer answers it.
  const alteredFollowUp = { ...followUp, answers: { ...followUp.answers, safe: "yes" } };
  assert.deepEqual(verdicts(protocol.checkThread(report.mailbox, directory, [written(report), written(alteredFollowUp)])), ["ok", "forged-follow-up"]);
  const alteredReport = { ...report, answers: { ...report.answers, kind: "other" } };
  assert.notEqual(protocol.openingDigest(alteredReport), reply.opening);
  assert.equal(verdicts(protocol.checkThread(report.mailbox, directory, [written(alteredReport), written(followUp), written(reply)])).at(-1), "opening-mismatch");
  // Answers of the wrong shape, or on an office message, are refused as the Rust crate refuses them.
  const text = reportBytes.toString("utf8");
  for (const broken of [
    text.replace('"kind":"fraud"', '"kind":""'),
    text.replace('"kind":"fraud"', '"Kind":"fraud"'),
    text.replace('"kind":"fraud"', '"kind":["fraud"]'),
    text.replace('"kind":"fraud"', '"kind":"fr\\naud"'),
  ]) {
    assert.throws(() => protocol.decodeMessage(padded(Buffer.from(broken))), (error) => error.kind === "malformed-message");
  }
  const replyText = readFileSync(testdata("structured-reply.json"), "utf8");
  assert.throws(
    () => protocol.decodeMessage(padded(Buffer.from(replyText.replace(/}$/, ',"answers":{"kind":"fraud"}}')))),
    (error) => error.kind === "malformed-message",
  );
});

test("closing and evaluating: the purpose is encoded and signed as the Rust crate does", () => {
  const report = vector("structured-report.json");
  const closingBytes = readFileSync(testdata("structured-closing.json"));
  const closing = protocol.decodeMessage(padded(closingBytes));
  assert.equal(closing.purpose, "closing");
  assert.deepEqual(Buffer.from(protocol.encodeMessage(closing)), closingBytes);
  const evaluationBytes = readFileSync(testdata("structured-evaluation.json"));
  const evaluation = protocol.decodeMessage(padded(evaluationBytes));
  assert.equal(evaluation.purpose, "evaluation");
  assert.deepEqual(Buffer.from(protocol.encodeMessage(evaluation)), evaluationBytes);
  const directory = vectorDirectory();
  const thread = [report, vector("structured-follow-up.json"), vector("structured-reply.json"), closing, evaluation].map(written);
  assert.deepEqual(verdicts(protocol.checkThread(report.mailbox, directory, thread)), ["ok", "ok", "ok", "ok", "ok"]);
  // A purpose taken off or moved is caught by the signatures.
  const unclosed = { ...closing, purpose: "message" };
  assert.equal(verdicts(protocol.checkThread(report.mailbox, directory, [...thread.slice(0, 3), written(unclosed)])).at(-1), "forged-office-message");
  const plain = { ...evaluation, purpose: "message" };
  assert.equal(verdicts(protocol.checkThread(report.mailbox, directory, [...thread.slice(0, 4), written(plain)])).at(-1), "forged-follow-up");
  // Only a reply closes and only a follow-up evaluates; no other purpose is read.
  for (const broken of [
    closingBytes.toString("utf8").replace('"purpose":"closing"', '"purpose":"evaluation"'),
    evaluationBytes.toString("utf8").replace('"purpose":"evaluation"', '"purpose":"closing"'),
    evaluationBytes.toString("utf8").replace('"purpose":"evaluation"', '"purpose":"message"'),
    evaluationBytes.toString("utf8").replace('"purpose":"evaluation"', '"purpose":"praise"'),
  ]) {
    assert.throws(() => protocol.decodeMessage(padded(Buffer.from(broken))), (error) => error.kind === "malformed-message", broken);
  }
  // The default evaluation questions the page offers are the Rust crate's.
  const defaults = JSON.parse(read("default-evaluation-questions.json"));
  assert.deepEqual(protocol.checkAnswers(defaults, { safe: "partly", informed: "ja", timely: "NO" }), { answers: evaluation.answers });
});

test("an oral report recorded by an office member: the recording is checked, and bound, as the Rust crate does", () => {
  const bytes = readFileSync(testdata("recorded-report.json"));
  const recorded = protocol.decodeMessage(padded(bytes));
  assert.equal(recorded.recording.channel, "telephone");
  assert.deepEqual(Buffer.from(protocol.encodeMessage(recorded)), bytes);
  const reply = vector("recorded-reply.json");
  assert.equal(protocol.openingDigest(recorded), reply.opening);
  const directory = vectorDirectory();
  const thread = [recorded, vector("recorded-confirmation.json"), vector("recorded-correction.json"), reply].map(written);
  const checked = protocol.checkThread(recorded.mailbox, directory, thread);
  assert.deepEqual(verdicts(checked), ["ok", "ok", "ok", "ok"]);
  assert.equal(checked.recordingVerified, true);
  assert.deepEqual(thread.slice(1, 3).map(({ message }) => message.purpose), ["confirmation", "correction"]);
  // Another text under the same recording, a recording by a key the directory does not list
  // for it, or no directory to check it with: the report is still read (it is the
  // reporter's by its own keys), and the recording is marked unproven.
  const rewritten = { ...recorded, body: "Verslag: niets aan de hand." };
  const adviser = directory.organisations[0].recipients.find((recipient) => recipient.role === "external-confidential-adviser");
  const claimed = { ...recorded, recording: { ...recorded.recording, signer: adviser.signing_keys[0] } };
  for (const [report, checkedWith] of [
    [rewritten, directory],
    [claimed, directory],
    [recorded, null],
  ]) {
    const result = protocol.checkThread(recorded.mailbox, checkedWith, [written(report)]);
    assert.deepEqual(verdicts(result), ["ok"]);
    assert.equal(result.recordingVerified, false);
  }
  assert.equal(protocol.checkThread(vector("report.json").mailbox, directory, [written(vector("report.json"))]).recordingVerified, null);
  // One stripped off: the office's reply no longer answers it.
  const stripped = { ...recorded, recording: undefined };
  assert.equal(verdicts(protocol.checkThread(recorded.mailbox, directory, [written(stripped), written(reply)])).at(-1), "opening-mismatch");
  // A recording by a recipient the report was not addressed to is malformed.
  const text = bytes.toString("utf8");
  const elsewhere = text.replace('"recording":{"by":{"organisation":"demo","recipient":"integrity-office"}', '"recording":{"by":{"organisation":"demo","recipient":"process-guide"}');
  assert.throws(() => protocol.decodeMessage(padded(Buffer.from(elsewhere))), (error) => error.kind === "malformed-message");
  assert.throws(
    () => protocol.decodeMessage(padded(Buffer.from(text.replace('"channel":"telephone"', '"channel":"letter"')))),
    (error) => error.kind === "malformed-message",
  );
});

test("answers are read as the Rust crate reads them, and a question id never reaches the prototype", () => {
  const text = read("structured-report.json");
  const refused = (json) => assert.throws(() => protocol.decodeMessage(padded(Buffer.from(json))), (error) => error.kind === "malformed-message");
  refused(text.replace('"kind":"fraud"', '"kind":"fraud","kind":"other"'));
  const before = text.split(',"answers":')[0];
  refused(`${before},"answers":null}`);
  assert.deepEqual(protocol.decodeMessage(padded(Buffer.from(`${before}}`))).answers, {});
  const reply = read("structured-reply.json");
  assert.deepEqual(protocol.decodeMessage(padded(Buffer.from(`${reply.slice(0, -1)},"answers":{}}`))).answers, {});
  // `constructor` is a valid question id: neither checking nor showing answers trips over it.
  const questions = [{ id: "constructor", label: { nl: "Vraag", en: "Question" }, kind: "choice", options: [{ id: "a", label: { nl: "A", en: "A" } }, { id: "b", label: { nl: "B", en: "B" } }] }];
  assert.deepEqual(protocol.checkAnswers(questions, {}), { answers: {} });
  assert.deepEqual(protocol.describeAnswers(questions, {}, "en"), []);
  assert.deepEqual(protocol.describeAnswers(questions, { constructor: "a" }, "en"), [{ question: "constructor", label: "Question", values: ["A"] }]);
});

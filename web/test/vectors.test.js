// The browser script's protocol against the Rust crate's test vectors (crypto/testdata/):
// if either side changes a derivation, an encoding or a check, this fails.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as age from "age-encryption";
import * as protocol from "../src/protocol.js";

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
  const office = read("office.identity.txt").split("\n").find((line) => line.startsWith("AGE-SECRET-KEY-"));
  const padded = await protocol.open(office, readFileSync(testdata("report.age")));
  const message = protocol.decodeMessage(padded);
  assert.equal(message.kind, "report");
  const expected = readFileSync(testdata("report.json"));
  assert.deepEqual(Buffer.from(protocol.encodeMessage(message)), expected);
});

test("what the script seals opens with the office identity and has the Rust padding", async () => {
  const office = read("office.identity.txt").split("\n").find((line) => line.startsWith("AGE-SECRET-KEY-"));
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
  const padded = new Uint8Array(protocol.paddedLength(bytes.length));
  padded.set(bytes);
  const message = protocol.decodeMessage(padded);
  const keys = await protocol.deriveKeys(new Uint8Array(16));
  const again = protocol.signFollowUp({ ...message, signature: undefined }, keys.followUpSeed);
  assert.equal(again.signature, message.signature);
  assert.deepEqual(Buffer.from(protocol.encodeMessage(message)), bytes);
  const report = { kind: "report", mailbox: message.mailbox, sequence: 1, followUpKey: keys.followUpKey };
  assert.equal(protocol.checkThread(message.mailbox, [report, message]), 3);
  const altered = { ...message, body: "iets anders" };
  assert.throws(() => protocol.checkThread(message.mailbox, [report, altered]), (error) => error.kind === "forged-follow-up");
});

test("a thread check refuses what the Rust ThreadCheck refuses", async () => {
  const mailbox = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc";
  const from = { organisation: "demo", recipient: "integrity-office" };
  const keys = await protocol.deriveKeys(new Uint8Array(16));
  const report = { kind: "report", mailbox, sequence: 1, followUpKey: keys.followUpKey };
  const reply = (sequence) => ({ kind: "reply", from, mailbox, sequence });
  const followUp = (sequence) =>
    protocol.signFollowUp({ kind: "follow-up", mailbox, sequence, writtenOn: "2026-11-28", body: "x", attachments: [] }, keys.followUpSeed);
  assert.equal(protocol.checkThread(mailbox, [report, reply(1), followUp(2), reply(2)]), 3);
  for (const thread of [
    [report, followUp(3)],
    [report, reply(1), reply(1)],
    [report, followUp(3), followUp(2)],
    [reply(1)],
    [{ ...report, mailbox: "CAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg" }],
    [report, { ...followUp(2), signature: undefined }],
  ]) {
    assert.throws(() => protocol.checkThread(mailbox, thread));
  }
});

test("the signed directory verifies with its key and is refused otherwise", () => {
  const signed = read("directory.signed.json");
  const key = JSON.parse(signed).signing_key;
  const directory = protocol.verifyDirectory(signed, key, "2026-11-28");
  assert.equal(directory.organisations[0].id, "demo");
  const { keys, addresses } = protocol.recipientKeys(directory, "demo", ["integrity-office"]);
  assert.equal(keys.length, 1);
  assert.deepEqual(addresses, [{ organisation: "demo", recipient: "integrity-office" }]);
  assert.throws(() => protocol.verifyDirectory(signed, key, "2099-01-01"), (error) => error.kind === "directory-expired");
  const other = "mpdk1" + "q".repeat(52);
  assert.throws(() => protocol.verifyDirectory(signed, other, "2026-11-28"));
  const envelope = JSON.parse(signed);
  const payload = Buffer.from(envelope.payload, "base64").toString("utf8").replace('"version":7', '"version":8');
  const tampered = JSON.stringify({ ...envelope, payload: Buffer.from(payload).toString("base64") });
  assert.throws(() => protocol.verifyDirectory(tampered, key, "2026-11-28"), (error) => error.kind === "directory-signature");
});

test("proof-of-work stamps find the same first solution as the Rust crate", async () => {
  const vectors = blocks(read("stamps.txt"));
  assert.equal(vectors.length, 3);
  for (const vector of vectors) {
    const mailboxId = Buffer.from(vector["mailbox-id"], "base64url");
    assert.equal(await protocol.solveStamp(vector.challenge, new Uint8Array(mailboxId)), vector.stamp);
  }
});

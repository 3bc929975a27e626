// The Meldpunt protocol in the browser: receipt codes, derivations, padding, the message
// format, the signed directory and proof-of-work stamps, byte for byte as the Rust crate
// `meldpunt-crypto` does them (docs/protocol.md). Checked against crypto/testdata/ by
// web/test/vectors.test.js.
//
// This module has no DOM and no network: it must never send, store or log anything, and
// never hand a secret to anything but the caller.

import * as age from "age-encryption";
import { ed25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { base64, base64urlnopad, bech32, bech32m } from "@scure/base";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export const RECEIPT_SALT = utf8ToBytes("meldpunt receipt code v1");
export const MAILBOX_TOKEN_LABEL = utf8ToBytes("meldpunt/v1/mailbox-token");
export const REPLY_KEY_LABEL = utf8ToBytes("meldpunt/v1/reply-key");
export const MAILBOX_ID_LABEL = utf8ToBytes("meldpunt/v1/mailbox-id");
export const FOLLOW_UP_SIGNING_LABEL = utf8ToBytes("meldpunt/v1/follow-up-signing");
export const FOLLOW_UP_SIGNATURE_CONTEXT = utf8ToBytes("meldpunt/v1/follow-up\n");
export const DIRECTORY_SIGNATURE_CONTEXT = utf8ToBytes("meldpunt/v1/directory\n");
const STAMP_LABEL = utf8ToBytes("meldpunt/v1/stamp");
const HUMAN_READABLE_PART = "meldpunt";
const RECEIPT_CODE_CHARACTERS = 32;
const GROUP_LENGTH = 4;
const BECH32_ALPHABET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
export const PADDING_FLOOR = 4096;
export const MAXIMUM_BODY_LENGTH = 512 * 1024;
export const MESSAGE_FORMAT_VERSION = 2;

/** A protocol error: `kind` is a stable name, `detail` what the user needs to know. */
export class ProtocolError extends Error {
  constructor(kind, message, detail = {}) {
    super(message);
    this.name = "ProtocolError";
    this.kind = kind;
    this.detail = detail;
  }
}

// ---------------------------------------------------------------------------------------
// Receipt codes

/** 16 random bytes from the browser's cryptographic random number generator. */
export function generateEntropy() {
  const entropy = new Uint8Array(16);
  crypto.getRandomValues(entropy);
  return entropy;
}

/** The written form: 32 upper-case characters in eight dash-separated groups of four. */
export function writeReceiptCode(entropy) {
  const full = bech32m.encode(HUMAN_READABLE_PART, bech32m.toWords(entropy), false);
  const data = full.slice(HUMAN_READABLE_PART.length + 1).toUpperCase();
  const groups = [];
  for (let index = 0; index < data.length; index += GROUP_LENGTH) {
    groups.push(data.slice(index, index + GROUP_LENGTH));
  }
  return groups.join("-");
}

function isValidCode(characters) {
  try {
    const decoded = bech32m.decode(`${HUMAN_READABLE_PART}1${characters}`, 90);
    const last = decoded.words[decoded.words.length - 1];
    return decoded.words.length === 26 && (last & 0b11) === 0;
  } catch {
    return false;
  }
}

function locateTypo(characters) {
  if (characters.length !== RECEIPT_CODE_CHARACTERS) return null;
  const candidate = characters.split("");
  const groups = new Set();
  for (let position = 0; position < candidate.length; position++) {
    const original = candidate[position];
    for (const replacement of BECH32_ALPHABET) {
      if (replacement === original) continue;
      candidate[position] = replacement;
      if (isValidCode(candidate.join(""))) groups.add(Math.floor(position / GROUP_LENGTH));
    }
    candidate[position] = original;
  }
  for (let position = 0; position + 1 < candidate.length; position++) {
    if (candidate[position] === candidate[position + 1]) continue;
    [candidate[position], candidate[position + 1]] = [candidate[position + 1], candidate[position]];
    if (isValidCode(candidate.join(""))) {
      groups.add(Math.floor(position / GROUP_LENGTH));
      groups.add(Math.floor((position + 1) / GROUP_LENGTH));
    }
    [candidate[position], candidate[position + 1]] = [candidate[position + 1], candidate[position]];
  }
  return groups.size === 1 ? [...groups][0] + 1 : null;
}

/**
 * Parses a receipt code as a person typed it, forgiving case, spaces, dashes, a leading
 * `meldpunt1` and the look-alikes O→0, I→L, 1→L, B→8. Returns its 16 bytes of entropy.
 */
export function parseReceiptCode(typed) {
  let normalised = "";
  for (const character of typed) {
    if (/\s/u.test(character) || character === "-" || character === "\u2013") continue;
    normalised += character.length === 1 ? character.replace(/[A-Z]/g, (c) => c.toLowerCase()) : character;
  }
  const prefix = "meldpunt1";
  if ([...normalised].length > RECEIPT_CODE_CHARACTERS && normalised.startsWith(prefix)) {
    normalised = normalised.slice(prefix.length);
  }
  let canonical = "";
  let count = 0;
  for (let character of normalised) {
    count += 1;
    character = { o: "0", i: "l", 1: "l", b: "8" }[character] ?? character;
    if (!BECH32_ALPHABET.includes(character)) {
      throw new ProtocolError("receipt-code-character", "a receipt code contains only letters and digits", {
        position: count,
      });
    }
    canonical += character;
  }
  if (count !== RECEIPT_CODE_CHARACTERS) {
    throw new ProtocolError("receipt-code-length", `a receipt code has ${RECEIPT_CODE_CHARACTERS} characters`, {
      expected: RECEIPT_CODE_CHARACTERS,
      found: count,
    });
  }
  if (!isValidCode(canonical)) {
    throw new ProtocolError("receipt-code-checksum", "the receipt code contains a typing error", {
      suspectGroup: locateTypo(canonical),
    });
  }
  const decoded = bech32m.decode(`${HUMAN_READABLE_PART}1${canonical}`, 90);
  return bech32m.fromWords(decoded.words);
}

// ---------------------------------------------------------------------------------------
// Derivations

function derive(entropy, label) {
  return hkdf(sha256, entropy, RECEIPT_SALT, label, 32);
}

/** Everything a receipt code opens: the token (wire form), the mailbox id, the reply key. */
export async function deriveKeys(entropy) {
  const token = derive(entropy, MAILBOX_TOKEN_LABEL);
  const mailboxId = sha256(concat(MAILBOX_ID_LABEL, new Uint8Array([0]), token));
  const followUpSeed = derive(entropy, FOLLOW_UP_SIGNING_LABEL);
  const replyIdentity = bech32
    .encode("AGE-SECRET-KEY-", bech32.toWords(derive(entropy, REPLY_KEY_LABEL)), false)
    .toUpperCase();
  return {
    token: base64urlnopad.encode(token),
    mailboxId,
    mailboxIdWire: base64urlnopad.encode(mailboxId),
    replyIdentity,
    replyRecipient: await age.identityToRecipient(replyIdentity),
    followUpSeed,
    followUpKey: base64urlnopad.encode(ed25519.getPublicKey(followUpSeed)),
  };
}

// ---------------------------------------------------------------------------------------
// Padding and sealing

/** Padmé with a 4 KiB floor: the plaintext length a content of `length` bytes is padded to. */
export function paddedLength(length) {
  let padded = BigInt(Math.max(length, PADDING_FLOOR));
  if (padded < 2n) return Number(padded);
  const exponent = BigInt(padded.toString(2).length - 1);
  const exponentBits = BigInt(exponent.toString(2).length);
  const mask = (1n << (exponent - exponentBits)) - 1n;
  padded = (padded + mask) & ~mask;
  return Number(padded);
}

/** Seals `content` (bytes) to every age recipient, padded. */
export async function seal(recipients, content) {
  const padded = new Uint8Array(paddedLength(content.length));
  padded.set(content);
  const encrypter = new age.Encrypter();
  for (const recipient of recipients) encrypter.addRecipient(recipient);
  const sealed = await encrypter.encrypt(padded);
  padded.fill(0);
  return sealed;
}

/** Opens a sealed object with an identity; returns the padded plaintext. */
export async function open(identity, sealed) {
  const decrypter = new age.Decrypter();
  decrypter.addIdentity(identity);
  try {
    return await decrypter.decrypt(sealed, "uint8array");
  } catch (error) {
    throw new ProtocolError("cannot-open", `the sealed object cannot be opened: ${error.message}`);
  }
}

// ---------------------------------------------------------------------------------------
// Messages

/** Encodes a message as the Rust crate does (compact JSON, fields in the same order). */
export function encodeMessage(message) {
  if (encoder.encode(message.body).length > MAXIMUM_BODY_LENGTH) {
    throw new ProtocolError("too-large", "the text is longer than 512 KiB");
  }
  if (!Number.isInteger(message.sequence) || message.sequence < 1) {
    throw new ProtocolError("malformed-message", "sequence numbers start at 1");
  }
  const wire = {
    "meldpunt-message": MESSAGE_FORMAT_VERSION,
    kind: message.kind,
    mailbox: message.mailbox,
    sequence: message.sequence,
    written_on: message.writtenOn,
    body: message.body,
    attachments: (message.attachments ?? []).map((attachment) => ({
      name: attachment.name,
      size: attachment.size,
      sha256: attachment.sha256,
      location: attachment.location,
    })),
  };
  if (message.kind === "report") {
    wire.reply_key = message.replyKey;
    wire.follow_up_key = message.followUpKey;
    wire.recipients = message.recipients;
  }
  if (message.kind === "reply" || message.kind === "acknowledgement") wire.from = message.from;
  if (message.kind === "follow-up") {
    if (typeof message.signature !== "string") {
      throw new ProtocolError("malformed-message", "a follow-up must be signed first");
    }
    wire.signature = message.signature;
  }
  return encoder.encode(JSON.stringify(wire));
}

/** Decodes a padded plaintext into a message, checking the padding and the format. */
export function decodeMessage(padded) {
  let end = padded.length;
  while (end > 0 && padded[end - 1] === 0) end -= 1;
  if (paddedLength(end) !== padded.length) {
    throw new ProtocolError("bad-padding", "the message's padding is wrong");
  }
  let wire;
  try {
    wire = JSON.parse(decoder.decode(padded.subarray(0, end)));
  } catch {
    throw new ProtocolError("malformed-message", "the message is not valid JSON");
  }
  if (wire === null || typeof wire !== "object" || wire["meldpunt-message"] !== MESSAGE_FORMAT_VERSION) {
    throw new ProtocolError("malformed-message", "the message is not in a format this page knows");
  }
  if (typeof wire.mailbox !== "string" || !/^[A-Za-z0-9_-]{43}$/.test(wire.mailbox) || !Number.isInteger(wire.sequence) || wire.sequence < 1) {
    throw new ProtocolError("malformed-message", "the message names no mailbox or sequence number");
  }
  const kinds = ["report", "follow-up", "reply", "acknowledgement"];
  if (!kinds.includes(wire.kind) || typeof wire.body !== "string" || typeof wire.written_on !== "string") {
    throw new ProtocolError("malformed-message", "the message lacks a kind, a day or a text");
  }
  const attachments = Array.isArray(wire.attachments) ? wire.attachments : [];
  for (const attachment of attachments) {
    if (
      typeof attachment?.name !== "string" ||
      !Number.isSafeInteger(attachment.size) ||
      !/^[0-9a-f]{64}$/.test(attachment.sha256) ||
      !/^[A-Za-z0-9_-]{1,128}$/.test(attachment.location)
    ) {
      throw new ProtocolError("malformed-message", "an attachment reference is malformed");
    }
  }
  return {
    kind: wire.kind,
    mailbox: wire.mailbox,
    sequence: wire.sequence,
    writtenOn: wire.written_on,
    body: wire.body,
    attachments,
    replyKey: wire.reply_key,
    followUpKey: wire.follow_up_key,
    recipients: wire.recipients,
    from: wire.from,
    signature: wire.signature,
  };
}

/**
 * What a follow-up signature covers, as the Rust crate computes it: the context, the
 * mailbox id, the sequence number (4 bytes big-endian), the day, SHA-256 of the text, the
 * number of attachments (4 bytes) and for each SHA-256 of its name, its size (8 bytes),
 * its SHA-256 and SHA-256 of its location.
 */
export function followUpSigningBytes(message) {
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, message.sequence);
  const count = new Uint8Array(4);
  new DataView(count.buffer).setUint32(0, message.attachments.length);
  const parts = [
    FOLLOW_UP_SIGNATURE_CONTEXT,
    base64urlnopad.decode(message.mailbox),
    header,
    encoder.encode(message.writtenOn),
    sha256(encoder.encode(message.body)),
    count,
  ];
  for (const attachment of message.attachments) {
    const size = new Uint8Array(8);
    new DataView(size.buffer).setBigUint64(0, BigInt(attachment.size));
    parts.push(sha256(encoder.encode(attachment.name)), size, hexToBytes(attachment.sha256), sha256(encoder.encode(attachment.location)));
  }
  return concat(...parts);
}

/** Signs a follow-up with the seed derived from the receipt code (sets its signature). */
export function signFollowUp(message, followUpSeed) {
  message.signature = base64urlnopad.encode(ed25519.sign(followUpSigningBytes(message), followUpSeed));
  return message;
}

function verifyFollowUp(message, followUpKey) {
  try {
    return ed25519.verify(
      base64urlnopad.decode(message.signature ?? ""),
      followUpSigningBytes(message),
      base64urlnopad.decode(followUpKey ?? ""),
      { zip215: false },
    );
  } catch {
    return false;
  }
}

/**
 * Checks a thread as the Rust crate's ThreadCheck does: every message belongs to this
 * mailbox, the first is the report, and each author's numbers run 1, 2, 3… without a gap,
 * a repeat or a step back (the reporter's, and each office recipient's own), and every
 * follow-up is signed by the key in the report. Returns the reporter's next sequence number.
 */
export function checkThread(mailboxIdWire, messages) {
  let reporter = 0;
  let followUpKey = null;
  const office = new Map();
  messages.forEach((message, index) => {
    if (message.mailbox !== mailboxIdWire) {
      throw new ProtocolError("wrong-mailbox", "a message belongs to another mailbox: the relay moved it");
    }
    if ((index === 0) !== (message.kind === "report")) {
      throw new ProtocolError("out-of-sequence", "the conversation does not start with its report");
    }
    if (message.kind === "report") followUpKey = message.followUpKey;
    if (message.kind === "follow-up" && !verifyFollowUp(message, followUpKey)) {
      throw new ProtocolError("forged-follow-up", "a follow-up is not signed by the reporter's key: someone other than the reporter wrote it");
    }
    const author = message.kind === "report" || message.kind === "follow-up" ? null : `${message.from?.organisation}/${message.from?.recipient}`;
    const expected = (author === null ? reporter : office.get(author) ?? 0) + 1;
    if (message.sequence !== expected) {
      throw new ProtocolError(
        "out-of-sequence",
        `messages are out of sequence (expected number ${expected}, found ${message.sequence}): the relay withheld, repeated or reordered messages`,
      );
    }
    if (author === null) reporter = expected;
    else office.set(author, expected);
  });
  return reporter + 1;
}

/** A new attachment id: 16 random bytes, base64url (22 characters). */
export function newAttachmentLocation() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return base64urlnopad.encode(bytes);
}

/** Seals an attachment; returns the reference for the message and the sealed bytes. */
export async function sealAttachment(recipients, name, content) {
  const reference = {
    name,
    size: content.length,
    sha256: bytesToHex(sha256(content)),
    location: newAttachmentLocation(),
  };
  return { reference, sealed: await seal(recipients, content) };
}

/** Opens a sealed attachment and checks its length, padding and digest against the reference. */
export async function openAttachment(identity, reference, sealed) {
  const padded = await open(identity, sealed);
  if (padded.length !== paddedLength(reference.size) || padded.subarray(reference.size).some((byte) => byte !== 0)) {
    throw new ProtocolError("bad-padding", "the attachment's length does not match its reference");
  }
  const content = padded.slice(0, reference.size);
  if (bytesToHex(sha256(content)) !== reference.sha256) {
    throw new ProtocolError("digest-mismatch", "the attachment is not the one the message names");
  }
  return content;
}

// ---------------------------------------------------------------------------------------
// The signed directory

function directoryKeyBytes(text) {
  try {
    const decoded = bech32.decode(text.trim(), 90);
    if (decoded.prefix !== "mpdk") throw new Error("prefix");
    const bytes = bech32.fromWords(decoded.words);
    if (bytes.length !== 32) throw new Error("length");
    return bytes;
  } catch {
    throw new ProtocolError("malformed-directory-key", "not a Meldpunt directory key (mpdk1…)");
  }
}

/**
 * Verifies a signed directory against the pinned key and today's date (YYYY-MM-DD) and
 * returns the directory. Refuses another key, a bad signature, a wrong format or expiry.
 */
export function verifyDirectory(signedText, pinnedKey, today) {
  const pinned = directoryKeyBytes(pinnedKey);
  let envelope;
  try {
    envelope = JSON.parse(signedText);
  } catch {
    throw new ProtocolError("malformed-directory", "the directory is not valid JSON");
  }
  if (envelope?.["meldpunt-signed-directory"] !== 1 || typeof envelope.signing_key !== "string") {
    throw new ProtocolError("malformed-directory", "the directory is not in a format this page knows");
  }
  let claimed;
  try {
    claimed = directoryKeyBytes(envelope.signing_key);
  } catch {
    claimed = new Uint8Array(32);
  }
  if (bytesToHex(claimed) !== bytesToHex(pinned)) {
    throw new ProtocolError("directory-other-key", "the directory is signed by another key than the one pinned in this page");
  }
  let payload;
  let signature;
  try {
    payload = base64.decode(envelope.payload);
    signature = base64.decode(envelope.signature);
  } catch {
    throw new ProtocolError("directory-signature", "the directory's signature is not valid");
  }
  const valid =
    signature.length === 64 &&
    ed25519.verify(signature, concat(DIRECTORY_SIGNATURE_CONTEXT, payload), pinned, { zip215: false });
  if (!valid) {
    throw new ProtocolError("directory-signature", "the directory's signature is not valid");
  }
  const directory = JSON.parse(decoder.decode(payload));
  if (directory["meldpunt-directory"] !== 1 || !Array.isArray(directory.organisations)) {
    throw new ProtocolError("malformed-directory", "the directory is not in a format this page knows");
  }
  if (today > directory.expires_on) {
    throw new ProtocolError("directory-expired", `the directory expired on ${directory.expires_on}`, {
      expiredOn: directory.expires_on,
    });
  }
  return directory;
}

/** The age keys of the chosen recipients of an organisation (ids), from a verified directory. */
export function recipientKeys(directory, organisationId, recipientIds) {
  const organisation = directory.organisations.find((candidate) => candidate.id === organisationId);
  if (!organisation) {
    throw new ProtocolError("unknown-organisation", "the directory lists no such organisation");
  }
  const keys = [];
  const addresses = [];
  for (const id of recipientIds) {
    const recipient = organisation.recipients.find((candidate) => candidate.id === id);
    if (!recipient) {
      throw new ProtocolError("unknown-recipient", "the organisation has no such recipient");
    }
    addresses.push({ organisation: organisation.id, recipient: recipient.id });
    for (const key of recipient.keys) if (!keys.includes(key)) keys.push(key);
  }
  return { keys, addresses };
}

// ---------------------------------------------------------------------------------------
// Proof-of-work stamps

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

/**
 * Solves a relay challenge for a mailbox id. Calls `progress(tried)` every 16 384 attempts
 * and yields to the page then, so that it stays responsive. Returns the stamp's wire form.
 */
export async function solveStamp(challengeWire, mailboxId, progress = () => {}) {
  const challenge = base64urlnopad.decode(challengeWire);
  if (challenge.length !== 58) {
    throw new ProtocolError("malformed-challenge", "the relay's challenge is malformed");
  }
  const difficulty = challenge[1];
  const prefix = sha256.create().update(STAMP_LABEL).update(challenge).update(mailboxId);
  const counter = new Uint8Array(8);
  const view = new DataView(counter.buffer);
  for (let solution = 0; solution < Number.MAX_SAFE_INTEGER; solution++) {
    view.setUint32(0, Math.floor(solution / 2 ** 32));
    view.setUint32(4, solution >>> 0);
    const hash = prefix.clone().update(counter).digest();
    if (leadingZeroBits(hash) >= difficulty) return `${challengeWire}.${solution}`;
    if (solution % 16384 === 16383) {
      progress(solution + 1);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
  throw new ProtocolError("stamp-unsolved", "no proof-of-work solution was found");
}

// ---------------------------------------------------------------------------------------

export function concat(...parts) {
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

export { bytesToHex, hexToBytes, encoder as textEncoder };

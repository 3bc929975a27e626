// The Meldpunt protocol in the browser: receipt codes, derivations, padding, the message
// format (version 3: follow-ups signed by the reporter's key, replies and acknowledgements
// by the sender's office key), the thread check, the signed directory (format 2, which lists
// each recipient's office keys) and proof-of-work stamps, byte for byte as the Rust crate
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

import { ProtocolError } from "./errors.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
// For messages: a byte order mark is kept, so that JSON.parse refuses it as serde_json does.
const messageDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export const RECEIPT_SALT = utf8ToBytes("meldpunt receipt code v1");
export const MAILBOX_TOKEN_LABEL = utf8ToBytes("meldpunt/v1/mailbox-token");
export const REPLY_KEY_LABEL = utf8ToBytes("meldpunt/v1/reply-key");
export const DIRECTORY_HASH_LABEL = utf8ToBytes("meldpunt/v1/directory-hash\n");
export const HYBRID_REPLY_KEY_LABEL = utf8ToBytes("meldpunt/v2/reply-key-pq");
export const MAILBOX_ID_LABEL = utf8ToBytes("meldpunt/v1/mailbox-id");
export const FOLLOW_UP_SIGNING_LABEL = utf8ToBytes("meldpunt/v1/follow-up-signing");
export const FOLLOW_UP_SIGNATURE_CONTEXT = utf8ToBytes("meldpunt/v1/follow-up\n");
export const OFFICE_SIGNATURE_CONTEXT = utf8ToBytes("meldpunt/v1/office-message\n");
export const DIRECTORY_SIGNATURE_CONTEXT = utf8ToBytes("meldpunt/v1/directory\n");
export const CARRIED_CONSULTATION_CONTEXT = utf8ToBytes("meldpunt/v1/carried-consultation\n");
export const OPENING_DIGEST_CONTEXT = utf8ToBytes("meldpunt/v1/opening-digest\n");
export const OPENING_SIGNATURE_TAG = utf8ToBytes("meldpunt/v1/opening\n");
export const ANSWERS_SIGNATURE_TAG = utf8ToBytes("meldpunt/v1/answers\n");
export const PURPOSE_SIGNATURE_TAG = utf8ToBytes("meldpunt/v1/purpose\n");
export const RECORDING_SIGNATURE_CONTEXT = utf8ToBytes("meldpunt/v1/recorded-report\n");
export const RECORDING_DIGEST_TAG = utf8ToBytes("meldpunt/v1/recording\n");
/** The kind of message each purpose belongs to, as the Rust crate's `Purpose`. */
const PURPOSE_KINDS = { closing: "reply", evaluation: "follow-up", confirmation: "follow-up", correction: "follow-up" };
const CHANNELS = ["telephone", "meeting"];
/** Most messages a report carries of the consultation before it. */
const MAXIMUM_CARRIED_MESSAGES = 256;
const HUMAN_READABLE_PART = "meldpunt";
const RECEIPT_CODE_CHARACTERS = 32;
const GROUP_LENGTH = 4;
const BECH32_ALPHABET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
export const PADDING_FLOOR = 4096;
export const MAXIMUM_BODY_LENGTH = 512 * 1024;
/** Largest encoded message (before padding), as the Rust crate's `MAXIMUM_MESSAGE_LENGTH`. */
export const MAXIMUM_MESSAGE_LENGTH = 1 << 20;
export const MESSAGE_FORMAT_VERSION = 3;
export const DIRECTORY_FORMAT_VERSION = 2;
const MAXIMUM_ATTACHMENTS = 64;
const MAXIMUM_ATTACHMENT_NAME_LENGTH = 255;
const MAXIMUM_CONTENT_LENGTH = 2 ** 40;

/** A protocol error: `kind` is a stable name, `detail` what the user needs to know. */
export { ProtocolError };
export { solveStamp } from "./stamp.js";

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

/**
 * Everything a receipt code opens: the token (wire form), the mailbox id, the reply keys.
 * `replyIdentity` is the hybrid post-quantum one (age mlkem768x25519) that a new report
 * carries; `classicReplyIdentity` the X25519 one that reports made before hybrid reply keys
 * carry. A reader opens with both (`replyIdentities`).
 */
export async function deriveKeys(entropy) {
  const token = derive(entropy, MAILBOX_TOKEN_LABEL);
  const mailboxId = sha256(concat(MAILBOX_ID_LABEL, new Uint8Array([0]), token));
  const followUpSeed = derive(entropy, FOLLOW_UP_SIGNING_LABEL);
  const replyIdentity = bech32
    .encode("AGE-SECRET-KEY-PQ-", bech32.toWords(derive(entropy, HYBRID_REPLY_KEY_LABEL)), false)
    .toUpperCase();
  const classicReplyIdentity = bech32
    .encode("AGE-SECRET-KEY-", bech32.toWords(derive(entropy, REPLY_KEY_LABEL)), false)
    .toUpperCase();
  const replyRecipient = await age.identityToRecipient(replyIdentity);
  const classicReplyRecipient = await age.identityToRecipient(classicReplyIdentity);
  return {
    token: base64urlnopad.encode(token),
    mailboxId,
    mailboxIdWire: base64urlnopad.encode(mailboxId),
    replyIdentity,
    replyRecipient,
    classicReplyIdentity,
    classicReplyRecipient,
    replyIdentities: [replyIdentity, classicReplyIdentity],
    replyRecipients: [replyRecipient, classicReplyRecipient],
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
/** Opens `sealed` with `identity` (an age identity string) or any of an array of them. */
export async function open(identity, sealed) {
  const decrypter = new age.Decrypter();
  for (const each of Array.isArray(identity) ? identity : [identity]) decrypter.addIdentity(each);
  try {
    return await decrypter.decrypt(sealed, "uint8array");
  } catch (error) {
    throw new ProtocolError("cannot-open", `the sealed object cannot be opened: ${error.message}`);
  }
}

// ---------------------------------------------------------------------------------------
// Public keys written in Bech32

/**
 * The 32 bytes of a key written in Bech32 under `prefix` (`mpdk` a directory key, `mpok` an
 * office key), with either checksum as the Rust crate's decoder accepts; null if it is not.
 */
function bech32KeyBytes(text, prefix) {
  for (const coding of [bech32, bech32m]) {
    try {
      const decoded = coding.decode(text.trim(), 90);
      const bytes = coding.fromWords(decoded.words);
      if (decoded.prefix === prefix && bytes.length === 32) return bytes;
    } catch {
      // Not this checksum, or not Bech32 at all.
    }
  }
  return null;
}

// What Rust's `str::trim` removes (Unicode White_Space), which `String.prototype.trim` does
// not quite match (it also removes U+FEFF, and keeps U+0085).
const RUST_TRIM = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

/**
 * An age recipient as the Rust crate's `RecipientKey` parses it (trimmed; Bech32, either all
 * lower or all upper case; padding bits ignored, as the bech32 crate ignores them): a
 * classic X25519 key (`age1…`, 32 bytes) or a hybrid post-quantum one (`age1pq1…`, the
 * 1,216-byte X-Wing key). Returns its type and bytes, the same for every spelling of one
 * key; null if it is not one.
 */
function ageRecipientBytes(text) {
  if (typeof text !== "string") return null;
  let decoded;
  try {
    decoded = bech32.decode(text.replace(RUST_TRIM, ""), false);
  } catch {
    return null;
  }
  const [prefix, length] = decoded.prefix === "age" ? ["age", 32] : decoded.prefix === "age1pq" ? ["age1pq", 1216] : [null, 0];
  if (prefix === null || decoded.words.length !== Math.ceil((length * 8) / 5)) return null;
  const bytes = new Uint8Array(length + 1);
  bytes[0] = prefix === "age" ? 0 : 1;
  let accumulator = 0;
  let bits = 0;
  let filled = 1;
  for (const word of decoded.words) {
    accumulator = ((accumulator << 5) | word) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes[filled++] = (accumulator >> bits) & 0xff;
    }
  }
  return bytes;
}

/** Whether two age recipients are the same key, as the Rust crate parses them. */
export function sameAgeRecipient(left, right) {
  const a = ageRecipientBytes(left);
  const b = ageRecipientBytes(right);
  return a !== null && b !== null && sameBytes(a, b);
}

/** The 32 bytes of a follow-up key (base64url) that is an Ed25519 point, as ed25519-dalek accepts it; null otherwise. */
function followUpKeyBytes(text) {
  try {
    const bytes = base64urlnopad.decode(text);
    if (bytes.length !== 32) return null;
    ed25519.Point.fromBytes(bytes, true);
    return bytes;
  } catch {
    return null;
  }
}

function sameBytes(left, right) {
  return left.length === right.length && left.every((byte, index) => byte === right[index]);
}

function directoryKeyBytes(text) {
  const bytes = typeof text === "string" ? bech32KeyBytes(text, "mpdk") : null;
  if (bytes === null) throw new ProtocolError("malformed-directory-key", "not a Meldpunt directory key (mpdk1…)");
  return bytes;
}

/** The 32 bytes of an office key (`mpok1…`), which signs an office member's messages. */
function officeKeyBytes(text) {
  const bytes = typeof text === "string" ? bech32KeyBytes(text, "mpok") : null;
  if (bytes === null) throw new ProtocolError("malformed-office-key", "not a Meldpunt office key (mpok1…)");
  return bytes;
}

// ---------------------------------------------------------------------------------------
// Questionnaires (structured reports), as the Rust crate's `questionnaire` module

export const MAXIMUM_QUESTIONS = 32;
const MAXIMUM_TEXT_ANSWER_LENGTH = 1000;
const MAXIMUM_ANSWER_LENGTH = 64 * 65;
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
const CHOICE_KINDS = ["choice", "multiple-choice"];

/** Whether a message's answers have the shape every reader accepts. */
function isValidAnswers(answers) {
  if (answers === null || typeof answers !== "object" || Array.isArray(answers)) return false;
  const entries = Object.entries(answers);
  return (
    entries.length <= MAXIMUM_QUESTIONS &&
    entries.every(
      ([question, answer]) =>
        isValidId(question) &&
        typeof answer === "string" &&
        answer.length > 0 &&
        encoder.encode(answer).length <= MAXIMUM_ANSWER_LENGTH &&
        !CONTROL_CHARACTER.test(answer),
    )
  );
}

/** One typed answer in normal form (null: no answer), or throws the problem's name. */
function normalAnswer(question, typed) {
  const text = (typed ?? "").replace(RUST_TRIM, "");
  if (text === "") return null;
  const option = (id) => question.options.find((candidate) => candidate.id === id);
  switch (question.kind) {
    case "choice":
      if (!option(text)) throw "not-an-option";
      return text;
    case "multiple-choice": {
      const chosen = text.split(",").map((part) => part.replace(RUST_TRIM, "")).filter((part) => part !== "");
      if (chosen.some((part) => !option(part))) throw "not-an-option";
      const normal = question.options.filter((candidate) => chosen.includes(candidate.id)).map((candidate) => candidate.id);
      return normal.length === 0 ? null : normal.join(",");
    }
    case "date":
      if (!isValidDay(text)) throw "not-a-date";
      return text;
    case "period": {
      const parts = text.split("/");
      if (parts.length < 2) throw "not-a-period";
      const from = parts[0].replace(RUST_TRIM, "");
      const to = parts.slice(1).join("/").replace(RUST_TRIM, "");
      if (!isValidDay(from) || !isValidDay(to)) throw "not-a-period";
      if (to < from) throw "period-reversed";
      return `${from}/${to}`;
    }
    case "text":
      if (encoder.encode(text).length > MAXIMUM_TEXT_ANSWER_LENGTH) throw "too-long";
      if (CONTROL_CHARACTER.test(text)) throw "control-characters";
      return text;
    case "yes-no": {
      const lower = text.toLowerCase();
      if (["yes", "y", "ja", "j", "true"].includes(lower)) return "yes";
      if (["no", "n", "nee", "false"].includes(lower)) return "no";
      throw "not-yes-no";
    }
    default:
      throw "unknown-question";
  }
}

/**
 * Checks typed answers (question id → text; empty is no answer) against an organisation's
 * questions, as the Rust crate's `Organisation::answers` does: returns `{ answers }` in
 * normal form, or `{ problems }`, a list of `{ question, problem }` in the questionnaire's
 * order (problem names as the Rust `AnswerProblem`, in kebab case).
 */
export function checkAnswers(questions, typed) {
  const problems = [];
  const answers = {};
  for (const question of Object.keys(typed)) {
    if (!questions.some((known) => known.id === question)) problems.push({ question, problem: "unknown-question" });
  }
  for (const question of questions) {
    try {
      const normal = normalAnswer(question, Object.hasOwn(typed, question.id) ? typed[question.id] : undefined);
      if (normal !== null) answers[question.id] = normal;
      else if (question.required) problems.push({ question: question.id, problem: "required" });
    } catch (problem) {
      problems.push({ question: question.id, problem });
    }
  }
  return problems.length === 0 ? { answers } : { problems };
}

/**
 * Answers as a reader shows them against `questions`: `{ question, label, values }` in the
 * questionnaire's order, then answers to questions it does not know (label null), with
 * option ids replaced by their labels in `language` where the question has them.
 */
export function describeAnswers(questions, answers, language) {
  const shown = [];
  for (const question of questions) {
    if (!Object.hasOwn(answers, question.id)) continue;
    const answer = answers[question.id];
    const yesNo = { yes: { nl: "ja", en: "yes" }, no: { nl: "nee", en: "no" } };
    const values = question.kind === "yes-no" && yesNo[answer]
      ? [yesNo[answer][language]]
      : CHOICE_KINDS.includes(question.kind)
      ? answer.split(",").map((part) => question.options.find((option) => option.id === part)?.label[language] ?? part)
      : [answer];
    shown.push({ question: question.id, label: question.label[language], values: values.map(String) });
  }
  for (const [question, answer] of Object.entries(answers)) {
    if (!questions.some((known) => known.id === question)) shown.push({ question, label: null, values: [answer] });
  }
  return shown;
}

// Messages

const OFFICE_KINDS = ["reply", "acknowledgement"];
/** What each kind carries besides the fields every message has, in the wire order. */
const KIND_FIELDS = {
  report: ["reply_key", "follow_up_key", "recipients"],
  "follow-up": [],
  reply: ["from", "signer"],
  acknowledgement: ["from", "signer"],
};
const KIND_SPECIFIC_FIELDS = ["reply_key", "follow_up_key", "recipients", "from", "signer"];
const MESSAGE_FIELDS = [
  "meldpunt-message",
  "kind",
  "mailbox",
  "sequence",
  "written_on",
  "body",
  "attachments",
  ...KIND_SPECIFIC_FIELDS,
  "signature",
  "shared_identity",
  "process_guide",
  "opening",
  "conversation",
  "earlier_consultation",
  "answers",
  "purpose",
  "recording",
];
/** Longest sealed identity a follow-up carries (bytes). */
const MAXIMUM_SEALED_IDENTITY_LENGTH = 64 * 1024;

function malformed(reason) {
  return new ProtocolError("malformed-message", reason);
}

function hasExactly(value, fields) {
  return (
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    Object.keys(value).sort().join() === [...fields].sort().join()
  );
}

/** Ids in the directory and in addresses: 1 to 64 lower-case letters, digits and dashes. */
function isValidId(id) {
  return typeof id === "string" && /^[a-z0-9][a-z0-9-]{0,63}$/.test(id);
}

function isValidAddress(address) {
  return hasExactly(address, ["organisation", "recipient"]) && isValidId(address.organisation) && isValidId(address.recipient);
}

function isValidAttachment(attachment) {
  if (!hasExactly(attachment, ["name", "size", "sha256", "location"]) || typeof attachment.name !== "string") return false;
  const name = attachment.name;
  return (
    encoder.encode(name).length >= 1 &&
    encoder.encode(name).length <= MAXIMUM_ATTACHMENT_NAME_LENGTH &&
    name !== "." &&
    name !== ".." &&
    !/[/\\\p{Cc}]/u.test(name) &&
    Number.isSafeInteger(attachment.size) &&
    attachment.size >= 0 &&
    attachment.size <= MAXIMUM_CONTENT_LENGTH &&
    typeof attachment.sha256 === "string" &&
    /^[0-9a-f]{64}$/.test(attachment.sha256) &&
    typeof attachment.location === "string" &&
    /^[A-Za-z0-9_-]{21}[AQgw]$/.test(attachment.location)
  );
}

/**
 * Whether `text` is a day as the Rust crate's `Day` parses it: `YYYY-MM-DD` in ASCII digits,
 * naming a day that exists in the proleptic Gregorian calendar (leap years included).
 */
export function isValidDay(text) {
  const match = typeof text === "string" ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(text) : null;
  if (match === null) return false;
  const [year, month, day] = match.slice(1).map(Number);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const length = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return length !== undefined && day >= 1 && day <= length;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Refuses, in a message's JSON text that JSON.parse accepted, what serde_json refuses when
 * it reads a message and JSON.parse lets through: a key twice in one object (JSON.parse keeps
 * the last; serde refuses a duplicate field, and a message has only structs), a string
 * (value or key) with an unpaired UTF-16 surrogate escape, and a number that is not a
 * non-negative integer written without fraction or exponent (every number in a message is
 * an unsigned integer field: serde_json refuses `1.0`, `1e0`, `-0` and negatives for them).
 */
function checkMessageJson(text) {
  const containers = []; // for each open container: a Set of its keys (object) or null (array)
  let expectingKey = false;
  for (let index = 0; index < text.length; index++) {
    const character = text[index];
    if (character === '"') {
      let end = index + 1;
      while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      const value = JSON.parse(text.slice(index, end + 1));
      if (LONE_SURROGATE.test(value)) throw malformed("the message has a string with an unpaired surrogate");
      const keys = containers[containers.length - 1];
      if (keys && expectingKey) {
        if (keys.has(value)) throw malformed("the message has a field twice");
        keys.add(value);
        expectingKey = false;
      }
      index = end;
    } else if (character === "{") {
      containers.push(new Set());
      expectingKey = true;
    } else if (character === "[") {
      containers.push(null);
      expectingKey = false;
    } else if (character === "}" || character === "]") {
      containers.pop();
      expectingKey = false;
    } else if (character === ",") {
      expectingKey = containers[containers.length - 1] instanceof Set;
    } else if (character === "-" || (character >= "0" && character <= "9")) {
      let end = index + 1;
      while (end < text.length && /[-+.eE0-9]/.test(text[end])) end += 1;
      if (!/^(?:0|[1-9][0-9]*)$/.test(text.slice(index, end))) {
        throw malformed("the message has a number that is not a whole number of at least 0");
      }
      index = end - 1;
    }
  }
}

function decodesToLength(text, length) {
  try {
    return typeof text === "string" && base64urlnopad.decode(text).length === length;
  } catch {
    return false;
  }
}

/**
 * Encodes a message as the Rust crate does (compact JSON, fields in the same order). A
 * message longer than 1 MiB is refused (`too-large`): with a carried consultation it can be.
 */
export function encodeMessage(message) {
  const encoded = encoder.encode(JSON.stringify(messageWire(message)));
  if (encoded.length > MAXIMUM_MESSAGE_LENGTH) {
    encoded.fill(0);
    throw new ProtocolError("too-large", "the message is longer than 1 MiB");
  }
  return encoded;
}

/** The wire object of a message (and of each message a report carries). */
function messageWire(message) {
  if (encoder.encode(message.body).length > MAXIMUM_BODY_LENGTH) {
    throw new ProtocolError("too-large", "the text is longer than 512 KiB");
  }
  if (!Number.isInteger(message.sequence) || message.sequence < 1) {
    throw malformed("sequence numbers start at 1");
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
  const address = ({ organisation, recipient }) => ({ organisation, recipient });
  if (message.kind === "report") {
    wire.reply_key = message.replyKey;
    wire.follow_up_key = message.followUpKey;
    wire.recipients = message.recipients.map(address);
  }
  if (OFFICE_KINDS.includes(message.kind)) {
    wire.from = address(message.from);
    wire.signer = message.signer;
  }
  if (message.kind !== "report") {
    if (typeof message.signature !== "string") {
      throw malformed("every message but a report must be signed first");
    }
    wire.signature = message.signature;
  }
  if (message.kind === "follow-up" && message.sharedIdentity) {
    wire.shared_identity = { with: address(message.sharedIdentity.with), sealed: base64.encode(message.sharedIdentity.sealed) };
  }
  if (message.kind === "reply" && message.processGuide) {
    wire.process_guide = { recipient: address(message.processGuide.recipient), joined: message.processGuide.joined };
  }
  if (OFFICE_KINDS.includes(message.kind) && message.opening) {
    wire.opening = message.opening;
  }
  if (message.kind === "report" && message.conversation === "consultation") {
    if (message.earlierConsultation) throw malformed("only a report carries an earlier consultation, a consultation none");
    wire.conversation = "consultation";
  }
  if (message.kind === "report" && message.earlierConsultation) {
    const { messages, signature } = message.earlierConsultation;
    if (messages.length < 1 || messages.length > MAXIMUM_CARRIED_MESSAGES || messages[0].conversation !== "consultation") {
      throw malformed("a carried consultation begins with the consultation's first message");
    }
    wire.earlier_consultation = { messages: messages.map(messageWire), signature };
  }
  const answers = Object.entries(message.answers ?? {});
  if (answers.length > 0) {
    if (message.kind !== "report" && message.kind !== "follow-up") throw malformed("only a report or a follow-up carries answers");
    if (!isValidAnswers(message.answers)) throw malformed("the answers are malformed");
    wire.answers = Object.fromEntries(answers.sort(([left], [right]) => (left < right ? -1 : 1)));
  }
  if (message.purpose && message.purpose !== "message") {
    if (PURPOSE_KINDS[message.purpose] !== message.kind) throw malformed("only a reply closes a case, and only a follow-up evaluates it");
    wire.purpose = message.purpose;
  }
  if (message.recording) {
    const { by, signer, channel, signature } = message.recording;
    wire.recording = { by: address(by), signer, channel, signature };
  }
  return wire;
}

/**
 * What a reporter signs, with the consultation's follow-up key, to carry that consultation
 * into a report: the context || the consultation's mailbox id (32 bytes) || the report's
 * mailbox id (32 bytes) || how many messages it carries (4 bytes, big-endian).
 */
export function carriedConsultationBytes(consultationMailboxWire, reportMailboxWire, count) {
  const carried = new Uint8Array(4);
  new DataView(carried.buffer).setUint32(0, count);
  return concat(
    CARRIED_CONSULTATION_CONTEXT,
    base64urlnopad.decode(consultationMailboxWire),
    base64urlnopad.decode(reportMailboxWire),
    carried,
  );
}

/**
 * The consultation `messages` (as the holder of its receipt code read them, first message
 * first) carried into the report in `reportMailboxWire`: signed with the consultation's
 * follow-up seed, so that nobody but its reporter can carry it anywhere.
 */
export function carryConsultation(followUpSeed, messages, reportMailboxWire) {
  const signature = ed25519.sign(carriedConsultationBytes(messages[0].mailbox, reportMailboxWire, messages.length), followUpSeed);
  return { messages, signature: base64urlnopad.encode(signature) };
}

/**
 * Decodes a padded plaintext into a message, checking the padding and the format as the
 * Rust crate does: a message longer than 1 MiB, JSON that serde_json refuses (duplicate
 * keys, unpaired surrogates, a byte order mark, numbers that are not whole), unknown fields,
 * fields that do not fit the kind, a day that does not exist, a missing signature (or a
 * signed report) and malformed keys, addresses or attachment references are refused.
 */
export function decodeMessage(padded) {
  const tooLarge = () => new ProtocolError("too-large", "the message is longer than 1 MiB");
  if (padded.length > paddedLength(MAXIMUM_MESSAGE_LENGTH)) throw tooLarge();
  let end = padded.length;
  while (end > 0 && padded[end - 1] === 0) end -= 1;
  if (paddedLength(end) !== padded.length) {
    throw new ProtocolError("bad-padding", "the message's padding is wrong");
  }
  if (end > MAXIMUM_MESSAGE_LENGTH) throw tooLarge();
  let text;
  let wire;
  try {
    text = messageDecoder.decode(padded.subarray(0, end));
    wire = JSON.parse(text);
  } catch {
    throw malformed("the message is not valid JSON");
  }
  checkMessageJson(text);
  return decodeWire(wire, false);
}

/** The message a parsed wire object describes (`nested`: one a report carries). */
function decodeWire(wire, nested) {
  if (wire === null || typeof wire !== "object" || wire["meldpunt-message"] !== MESSAGE_FORMAT_VERSION) {
    throw malformed("the message is not in a format this page knows");
  }
  if (Object.keys(wire).some((field) => !MESSAGE_FIELDS.includes(field))) {
    throw malformed("the message has a field this page does not know");
  }
  if (
    typeof wire.mailbox !== "string" ||
    !/^[A-Za-z0-9_-]{43}$/.test(wire.mailbox) ||
    !decodesToLength(wire.mailbox, 32) ||
    !Number.isInteger(wire.sequence) ||
    wire.sequence < 1 ||
    wire.sequence > 0xffffffff
  ) {
    throw malformed("the message names no mailbox or sequence number");
  }
  if (
    !Object.keys(KIND_FIELDS).includes(wire.kind) ||
    typeof wire.body !== "string" ||
    !isValidDay(wire.written_on)
  ) {
    throw malformed("the message lacks a kind, a day or a text");
  }
  if (encoder.encode(wire.body).length > MAXIMUM_BODY_LENGTH) {
    throw new ProtocolError("too-large", "the text is longer than 512 KiB");
  }
  const present = (field) => wire[field] !== undefined && wire[field] !== null;
  if (KIND_SPECIFIC_FIELDS.filter(present).join() !== KIND_FIELDS[wire.kind].join()) {
    throw malformed(
      "fields do not fit the kind: a report has reply_key, follow_up_key and recipients, " +
        "a reply or acknowledgement has from and signer, a follow-up none of them",
    );
  }
  if (present("signature") === (wire.kind === "report")) {
    throw malformed("every message but a report carries its author's signature, and a report none");
  }
  if (present("signature") && !decodesToLength(wire.signature, 64)) {
    throw malformed("the signature is not 86 characters of base64url");
  }
  const attachments = wire.attachments === undefined ? [] : wire.attachments;
  if (!Array.isArray(attachments) || attachments.length > MAXIMUM_ATTACHMENTS || !attachments.every(isValidAttachment)) {
    throw malformed("an attachment reference is malformed");
  }
  if (wire.kind === "report") {
    const { recipients } = wire;
    if (ageRecipientBytes(wire.reply_key) === null || followUpKeyBytes(wire.follow_up_key) === null) {
      throw malformed("the report's keys are malformed");
    }
    if (!Array.isArray(recipients) || recipients.length < 1 || recipients.length > 16 || !recipients.every(isValidAddress)) {
      throw malformed("a report names 1 to 16 recipients");
    }
  }
  let sharedIdentity;
  if (present("shared_identity")) {
    const shared = wire.shared_identity;
    if (wire.kind !== "follow-up") throw malformed("only a follow-up shares the reporter's identity");
    let sealed = null;
    if (hasExactly(shared, ["with", "sealed"]) && typeof shared.sealed === "string") {
      try {
        sealed = base64.decode(shared.sealed);
      } catch {
        sealed = null;
      }
    }
    if (
      sealed === null ||
      !isValidAddress(shared.with) ||
      sealed.length < 1 ||
      sealed.length > MAXIMUM_SEALED_IDENTITY_LENGTH
    ) {
      throw malformed("the shared identity is malformed");
    }
    sharedIdentity = { with: shared.with, sealed };
  }
  let processGuide;
  if (present("process_guide")) {
    const change = wire.process_guide;
    if (wire.kind !== "reply") throw malformed("only a reply announces a process guide");
    if (!hasExactly(change, ["recipient", "joined"]) || !isValidAddress(change.recipient) || typeof change.joined !== "boolean") {
      throw malformed("the process guide change is malformed");
    }
    processGuide = { recipient: change.recipient, joined: change.joined };
  }
  if ((present("conversation") || present("earlier_consultation")) && wire.kind !== "report") {
    throw malformed("only a report says what the conversation is for or carries a consultation");
  }
  if (present("opening") && (!OFFICE_KINDS.includes(wire.kind) || !decodesToLength(wire.opening, 32) || wire.opening.length !== 43)) {
    throw malformed("only an office message names the opening it answers, as 43 characters of base64url");
  }
  if (present("conversation") && wire.conversation !== "consultation") {
    throw malformed("a report leaves out \"conversation\"; only a consultation names it");
  }
  let earlierConsultation;
  if (present("earlier_consultation")) {
    const carried = wire.earlier_consultation;
    if (nested || present("conversation")) {
      throw malformed("only a report carries an earlier consultation, a consultation or a carried message none");
    }
    if (
      !hasExactly(carried, ["messages", "signature"]) ||
      !Array.isArray(carried.messages) ||
      carried.messages.length < 1 ||
      carried.messages.length > MAXIMUM_CARRIED_MESSAGES ||
      !decodesToLength(carried.signature, 64)
    ) {
      throw malformed(`a report carries 1 to ${MAXIMUM_CARRIED_MESSAGES} messages of the consultation before it, and a signature`);
    }
    const messages = carried.messages.map((item) => decodeWire(item, true));
    if (messages[0].conversation !== "consultation") {
      throw malformed("a carried consultation begins with the consultation's first message");
    }
    earlierConsultation = { messages, signature: carried.signature };
  }
  if (present("purpose") && (!Object.hasOwn(PURPOSE_KINDS, wire.purpose) || PURPOSE_KINDS[wire.purpose] !== wire.kind)) {
    throw malformed("only a reply closes a case, and only a follow-up evaluates it");
  }
  if (present("recording")) {
    const recording = wire.recording;
    if (
      wire.kind !== "report" ||
      present("conversation") ||
      present("earlier_consultation") ||
      !hasExactly(recording, ["by", "signer", "channel", "signature"]) ||
      !isValidAddress(recording.by) ||
      !wire.recipients.some((address) => address.organisation === recording.by.organisation && address.recipient === recording.by.recipient) ||
      typeof recording.signer !== "string" ||
      bech32KeyBytes(recording.signer, "mpok") === null ||
      !CHANNELS.includes(recording.channel) ||
      !decodesToLength(recording.signature, 64)
    ) {
      throw malformed("only a report is recorded, by a member of one of its recipients, and it carries no consultation");
    }
  }
  // As the Rust crate reads them: `null` is refused, an empty object is none on any kind.
  if (Object.hasOwn(wire, "answers") && (wire.answers === null || !isValidAnswers(wire.answers))) {
    throw malformed("the answers are keyed by question ids, each one line of 1 to 4160 bytes");
  }
  if (present("answers") && Object.keys(wire.answers).length > 0 && !["report", "follow-up"].includes(wire.kind)) {
    throw malformed("only a report or a follow-up carries answers, keyed by question ids, each one line of 1 to 4160 bytes");
  }
  if (OFFICE_KINDS.includes(wire.kind)) {
    if (!isValidAddress(wire.from)) throw malformed("the sender's address is malformed");
    if (typeof wire.signer !== "string" || bech32KeyBytes(wire.signer, "mpok") === null) {
      throw malformed("the signer is not an office key (mpok1…)");
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
    signer: wire.signer,
    signature: wire.signature,
    sharedIdentity,
    processGuide,
    opening: wire.opening ?? undefined,
    conversation: wire.kind === "report" ? (wire.conversation ?? "report") : undefined,
    earlierConsultation,
    answers: present("answers") ? { ...wire.answers } : {},
    purpose: present("purpose") ? wire.purpose : "message",
    recording: present("recording") ? { ...wire.recording, by: { ...wire.recording.by } } : undefined,
  };
}

/**
 * What a message's signature covers, as the Rust crate's `Message::signing_bytes` computes
 * it. A follow-up: the follow-up context || the common part. A reply or acknowledgement: the
 * office context || SHA-256 of its kind || SHA-256 of the sender's organisation id ||
 * SHA-256 of its recipient id || the signer's office key (32 bytes) || the common part.
 *
 * The common part: the mailbox id (32 bytes) || the sequence number (4 bytes, big-endian) ||
 * the day (10 ASCII bytes) || SHA-256 of the text || the number of attachments (4 bytes) ||
 * for each SHA-256 of its name, its size (8 bytes), its SHA-256 and SHA-256 of its location;
 * then, for a follow-up that shares the reporter's identity: SHA-256 of the chosen
 * organisation id || SHA-256 of its recipient id || SHA-256 of the sealed identity; for a
 * report or follow-up with answers: the answers tag || their number (4 bytes) || for each,
 * by question id: SHA-256 of the id || SHA-256 of the answer.
 * A report is not signed: its bytes are the common part alone, and nothing verifies them.
 */
export function signingBytes(message) {
  const digest = (text) => sha256(encoder.encode(text));
  const parts = [];
  if (message.kind === "follow-up") parts.push(FOLLOW_UP_SIGNATURE_CONTEXT);
  if (OFFICE_KINDS.includes(message.kind)) {
    parts.push(
      OFFICE_SIGNATURE_CONTEXT,
      digest(message.kind),
      digest(message.from.organisation),
      digest(message.from.recipient),
      officeKeyBytes(message.signer),
    );
  }
  const sequence = new Uint8Array(4);
  new DataView(sequence.buffer).setUint32(0, message.sequence);
  const count = new Uint8Array(4);
  new DataView(count.buffer).setUint32(0, message.attachments.length);
  parts.push(base64urlnopad.decode(message.mailbox), sequence, encoder.encode(message.writtenOn), digest(message.body), count);
  for (const attachment of message.attachments) {
    const size = new Uint8Array(8);
    new DataView(size.buffer).setBigUint64(0, BigInt(attachment.size));
    parts.push(digest(attachment.name), size, hexToBytes(attachment.sha256), digest(attachment.location));
  }
  if (message.kind === "follow-up" && message.sharedIdentity) {
    const { with: chosen, sealed } = message.sharedIdentity;
    parts.push(digest(chosen.organisation), digest(chosen.recipient), sha256(sealed));
  }
  if (message.kind === "reply" && message.processGuide) {
    const { recipient, joined } = message.processGuide;
    parts.push(digest(recipient.organisation), digest(recipient.recipient), new Uint8Array([joined ? 1 : 0]));
  }
  if (message.purpose && message.purpose !== "message") parts.push(PURPOSE_SIGNATURE_TAG, digest(message.purpose));
  const answers = Object.keys(message.answers ?? {}).sort();
  if (answers.length > 0) {
    const answerCount = new Uint8Array(4);
    new DataView(answerCount.buffer).setUint32(0, answers.length);
    parts.push(ANSWERS_SIGNATURE_TAG, answerCount);
    for (const question of answers) parts.push(digest(question), digest(message.answers[question]));
  }
  if (OFFICE_KINDS.includes(message.kind) && message.opening) {
    parts.push(OPENING_SIGNATURE_TAG, base64urlnopad.decode(message.opening));
  }
  return concat(...parts);
}

/**
 * The digest of a conversation's first message that office messages answering it are bound
 * to, as the Rust crate's `Message::opening_digest` computes it (base64url): SHA-256 of the
 * context || its signing bytes || its follow-up key || SHA-256 of its reply key as written ||
 * the number of recipients (4 bytes) || for each SHA-256 of the organisation and of the
 * recipient id || 1 for a consultation, 0 for a report.
 */
export function openingDigest(report) {
  const digest = (text) => sha256(encoder.encode(text));
  const count = new Uint8Array(4);
  new DataView(count.buffer).setUint32(0, report.recipients.length);
  const recording = report.recording
    ? [
        RECORDING_DIGEST_TAG,
        digest(report.recording.by.organisation),
        digest(report.recording.by.recipient),
        officeKeyBytes(report.recording.signer),
        new Uint8Array([report.recording.channel === "meeting" ? 1 : 0]),
        base64urlnopad.decode(report.recording.signature),
      ]
    : [];
  return base64urlnopad.encode(
    sha256(
      concat(
        OPENING_DIGEST_CONTEXT,
        signingBytes(report),
        base64urlnopad.decode(report.followUpKey),
        digest(report.replyKey),
        count,
        ...report.recipients.flatMap((address) => [digest(address.organisation), digest(address.recipient)]),
        new Uint8Array([report.conversation === "consultation" ? 1 : 0]),
        ...recording,
      ),
    ),
  );
}

/**
 * Whether a recorded report's recording is signed by the office key it names, as the Rust
 * crate's `OfficeKey::verify_recording` checks it: over the context || SHA-256 of the
 * recording recipient's organisation and recipient ids || the office key || 0 for a
 * telephone call, 1 for a meeting || the report's opening digest without the recording.
 */
function recordingVerifies(report) {
  const { by, signer, channel, signature } = report.recording;
  const digest = (text) => sha256(encoder.encode(text));
  const core = base64urlnopad.decode(openingDigest({ ...report, recording: undefined }));
  const bytes = concat(
    RECORDING_SIGNATURE_CONTEXT,
    digest(by.organisation),
    digest(by.recipient),
    officeKeyBytes(signer),
    new Uint8Array([channel === "meeting" ? 1 : 0]),
    core,
  );
  try {
    return ed25519.verify(base64urlnopad.decode(signature), bytes, officeKeyBytes(signer), { zip215: false });
  } catch {
    return false;
  }
}

/** Signs a follow-up with the seed derived from the receipt code (sets its signature). */
export function signFollowUp(message, followUpSeed) {
  message.signature = base64urlnopad.encode(ed25519.sign(signingBytes(message), followUpSeed));
  return message;
}

/** Whether a message carries a valid signature by `publicKey` (32 bytes; strict Ed25519). */
function isSignedBy(message, publicKey) {
  try {
    return ed25519.verify(base64urlnopad.decode(message.signature ?? ""), signingBytes(message), publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** Every office key a verified directory lists, with the recipient it signs for. */
function officeSigners(directory) {
  return directory.organisations.flatMap((organisation) =>
    organisation.recipients.flatMap((recipient) =>
      recipient.signing_keys.map((key) => ({
        organisation: organisation.id,
        recipient: recipient.id,
        key: bytesToHex(officeKeyBytes(key)),
      })),
    ),
  );
}

function outOfSequence(author, expected, found) {
  return new ProtocolError(
    "out-of-sequence",
    `the ${author}'s messages are out of sequence (expected number ${expected}, found ${found}): ` +
      "the relay repeated or reordered messages",
  );
}

/**
 * How many of an author's messages are missing before number `found` when `last` is the last
 * number admitted of that author (0 for none), as the Rust crate's
 * `ThreadCheck::missing_before` computes it; a repeat or a step back is refused.
 */
function missingBefore(author, last, found) {
  const expected = last + 1;
  if (found < expected) throw outOfSequence(author, expected, found);
  return found - expected;
}

/**
 * Checks a thread as the Rust crate's ThreadCheck does for a reader of the whole thread,
 * entry by entry in the relay's order. An entry is `{author, message}` for a message that
 * opened, or `{author, error}` for one that did not; `author` is who the relay recorded as
 * posting it, "reporter" or "office". `directory` is the verified directory, or null if it
 * could not be verified (then no office message can be).
 *
 * Every message must belong to this mailbox and fit its recorded author (the reporter writes
 * the report and follow-ups, the office replies and acknowledgements); the first one
 * admitted is the report. The reporter numbers 1, 2, 3…, and each follow-up is signed by the
 * key in the report. An office message comes from a recipient the report chose, is signed
 * by an office key the directory lists for that recipient, and continues that key's own
 * numbering 1, 2, 3…, so that two office members who write at once never collide. Any
 * interleaving of distinct authors is accepted; a replay or a reordering within one author
 * is refused, and a message withheld from the middle is reported: the next message of that
 * author is admitted with `missingBefore` saying how many of its author's earlier messages
 * never arrived (so that one withheld message does not hide every later one).
 *
 * `reporterKeys`, for the reporter's own reader, is `{replyKeys, followUpKey}` as their receipt
 * code derives them (`deriveKeys`: `replyRecipients` and `followUpKey`; a report may carry
 * either reply key): a report that carries other keys is refused (`foreign-report`), as the
 * Rust crate's `ThreadCheck::expect_reporter` makes it, so that whoever can replace the report cannot
 * change which recipients the reporter's follow-ups are sealed to, or which key they are
 * checked against. Null (an office member's reader) checks no report's keys.
 *
 * A message that does not fit changes nothing, and neither does an entry that did not open:
 * the check goes on with the next one, so that no message can hide the others. Returns
 * `outcomes`, for each entry `{ok: true, missingBefore}` (0 in a complete thread) or
 * `{ok: false, reason}` (a ProtocolError), `nextReporterSequence`, the number the
 * reporter's next follow-up takes, and `guides`, the process guides appointed to the case (by
 * a signed reply of a recipient the report chose, naming a recipient the directory lists as
 * a process guide) who have not left: the next follow-up is sealed to them too.
 */
export function checkThread(mailboxIdWire, directory, entries, reporterKeys = null) {
  const signers = directory === null ? null : officeSigners(directory);
  const expected =
    reporterKeys === null
      ? null
      : { replyKeys: reporterKeys.replyKeys.map(ageRecipientBytes), followUpKey: followUpKeyBytes(reporterKeys.followUpKey) };
  if (expected !== null && (expected.replyKeys.length === 0 || expected.replyKeys.includes(null) || expected.followUpKey === null)) {
    throw new TypeError("checkThread: reporterKeys must be age recipients and a follow-up key");
  }
  let reporter = 0;
  let report = null;
  let opening = null;
  // For a recorded report: whether its recording verified (null: not a recorded report).
  let recordingVerified = null;
  const office = new Map();
  const started = () => reporter > 0 || office.size > 0;
  const sameAddress = (one) => (other) => one.organisation === other.organisation && one.recipient === other.recipient;
  // Process guides appointed since the report (and not left).
  let guides = [];
  const processGuides =
    directory === null
      ? []
      : directory.organisations.flatMap((organisation) =>
          organisation.recipients
            .filter((candidate) => candidate.role === "process-guide")
            .map((candidate) => ({ organisation: organisation.id, recipient: candidate.id })),
        );

  /** Takes the next message, or throws why it does not fit (and then changes nothing). */
  function admit(message, recorded) {
    if (message.mailbox !== mailboxIdWire) {
      throw new ProtocolError("wrong-mailbox", "a message belongs to another mailbox than the one it was served from: the relay moved it");
    }
    const writer = OFFICE_KINDS.includes(message.kind) ? "office" : "reporter";
    if (writer !== recorded) {
      throw new ProtocolError("wrong-author", `a ${message.kind} was posted by the ${recorded}, who does not write messages of that kind`);
    }
    if (message.kind === "report") {
      if (
        expected !== null &&
        !(
          expected.replyKeys.some((replyKey) => sameBytes(ageRecipientBytes(message.replyKey) ?? [], replyKey)) &&
          sameBytes(followUpKeyBytes(message.followUpKey) ?? [], expected.followUpKey)
        )
      ) {
        throw new ProtocolError("foreign-report", "the report in this mailbox was not written with your receipt code: it was replaced");
      }
      // Only as the first message admitted, numbered 1: a report anywhere later is a replay.
      if (started() || message.sequence !== 1) throw outOfSequence("reporter", reporter + 1, message.sequence);
      // A report that says an office member recorded it is that member's word only when
      // signed by an office key the directory lists for the recipient it names; otherwise
      // the report is still read (its own keys make it the reporter's), and only the claim
      // of who recorded it is unproven — as the Rust crate's `ThreadCheck` has it.
      if (message.recording) {
        const { by, signer } = message.recording;
        const key = bytesToHex(officeKeyBytes(signer));
        const listed =
          signers !== null &&
          signers.some((entry) => entry.organisation === by.organisation && entry.recipient === by.recipient && entry.key === key);
        recordingVerified = listed && recordingVerifies(message);
      }
      report = message;
      opening = openingDigest(message);
      reporter = 1;
      return 0;
    }
    if (!started()) throw new ProtocolError("thread-without-report", "the conversation does not start with a report");
    if (message.kind === "follow-up") {
      const missing = missingBefore("reporter", reporter, message.sequence);
      if (!isSignedBy(message, base64urlnopad.decode(report.followUpKey))) {
        throw new ProtocolError(
          "forged-follow-up",
          "a follow-up is not signed by the reporter's key: someone other than the reporter wrote it",
        );
      }
      reporter = message.sequence;
      return missing;
    }
    const { organisation, recipient } = message.from;
    const chosen = report.recipients.some(sameAddress(message.from));
    if (!chosen && !guides.some(sameAddress(message.from))) {
      throw new ProtocolError("sender-not-addressed", "an office message comes from a recipient the reporter did not choose");
    }
    if (message.opening && message.opening !== opening) {
      throw new ProtocolError(
        "opening-mismatch",
        "an office message is not bound to this conversation's first message: it answers another question or another reporter key",
      );
    }
    const change = message.kind === "reply" ? message.processGuide : undefined;
    if (change && report.conversation === "consultation") {
      throw malformed("a consultation has no process guide; only a report's case does");
    }
    if (change && (!chosen || processGuides.some(sameAddress(message.from)))) {
      throw new ProtocolError("sender-not-addressed", "a process guide is appointed only by a recipient the reporter chose");
    }
    const releasing = change && !change.joined && guides.some(sameAddress(change.recipient));
    if (change && (change.recipient.organisation !== organisation || !(releasing || processGuides.some(sameAddress(change.recipient))))) {
      throw malformed("it appoints a recipient the directory does not list as a process guide of its organisation");
    }
    if (signers === null) {
      throw new ProtocolError("no-directory", "the recipient directory could not be verified, so no office message can be");
    }
    const forged = () =>
      new ProtocolError(
        "forged-office-message",
        "an office message is not signed by a key the recipient directory lists for its sender: someone other than that recipient wrote it",
      );
    let signer;
    try {
      signer = officeKeyBytes(message.signer);
    } catch {
      throw forged();
    }
    const listed = signers.some(
      (candidate) => candidate.organisation === organisation && candidate.recipient === recipient && candidate.key === bytesToHex(signer),
    );
    if (!listed || !isSignedBy(message, signer)) throw forged();
    const missing = missingBefore("office", office.get(bytesToHex(signer)) ?? 0, message.sequence);
    office.set(bytesToHex(signer), message.sequence);
    if (change) {
      guides = guides.filter((guide) => !sameAddress(guide)(change.recipient));
      if (change.joined) guides.push(change.recipient);
    }
    return missing;
  }

  const outcomes = entries.map((entry) => {
    if (!("message" in entry)) return { ok: false, reason: entry.error };
    try {
      return { ok: true, missingBefore: admit(entry.message, entry.author) };
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      return { ok: false, reason: error };
    }
  });
  return { outcomes, nextReporterSequence: reporter + 1, guides, recordingVerified };
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

/** Whether every recipient of an organisation has 1 to 32 age keys and 1 to 32 office keys. */
function isWellFormedOrganisation(organisation) {
  const isList = (keys) => Array.isArray(keys) && keys.length >= 1 && keys.length <= 32;
  return (
    Array.isArray(organisation?.recipients) &&
    organisation.recipients.every(
      (recipient) =>
        isList(recipient?.keys) &&
        isList(recipient.signing_keys) &&
        recipient.signing_keys.every((key) => typeof key === "string" && bech32KeyBytes(key, "mpok") !== null),
    )
  );
}

/**
 * Verifies a signed directory against the pinned key and today's date (YYYY-MM-DD) and
 * returns the directory (format 2: each recipient lists its age keys and its office keys).
 * Refuses another key, a bad signature, another format or expiry.
 */
export function verifyDirectory(signedText, pinnedKey, today) {
  const directory = verifySignedDirectory(signedText, pinnedKey);
  if (today > directory.expires_on) {
    throw new ProtocolError("directory-expired", `the directory expired on ${directory.expires_on}`, {
      expiredOn: directory.expires_on,
    });
  }
  return directory;
}

/** The version a signed directory claims, unverified (only to ask for the next page of a history). */
export function claimedDirectoryVersion(signedText) {
  return JSON.parse(decoder.decode(base64.decode(JSON.parse(signedText).payload))).version;
}

/** A signed directory's hash (base64url), which the next version names as `previous`. */
export function directoryHash(signedText) {
  const payload = base64.decode(JSON.parse(signedText).payload);
  return base64urlnopad.encode(sha256(concat(DIRECTORY_HASH_LABEL, payload)));
}

/**
 * Checks that `currentText` honestly continues the directory version `pinnedVersion` with
 * hash `pinnedHash` (written into the page), through `historyTexts` (every version after the
 * pinned one, in order, as the relay serves them), as the Rust crate's `verify_continuation`
 * does: each signed by the pinned key, numbered one more, naming the hash of the one before;
 * a fork, a gap or a version swapped in the middle throws `directory-history`.
 */
export function verifyContinuation(pinnedKey, pinnedVersion, pinnedHash, historyTexts, currentText) {
  const refused = (why) =>
    new ProtocolError("directory-history", `the directory's history does not continue the version this page vouches for: ${why}`);
  const current = verifySignedDirectory(currentText, pinnedKey);
  const currentHash = directoryHash(currentText);
  if (current.version < pinnedVersion) throw refused(`version ${current.version} is older than version ${pinnedVersion}`);
  if (current.version === pinnedVersion) {
    if (currentHash !== pinnedHash) throw refused(`version ${pinnedVersion} is not the one vouched for (a fork)`);
    return current;
  }
  let expectedVersion = pinnedVersion;
  let expectedPrevious = pinnedHash;
  for (const text of historyTexts) {
    const directory = verifySignedDirectory(text, pinnedKey);
    if (directory.version <= pinnedVersion) continue;
    expectedVersion += 1;
    if (directory.version !== expectedVersion) throw refused(`version ${expectedVersion} is missing (a gap)`);
    if (directory.previous !== expectedPrevious) {
      throw refused(`version ${directory.version} does not name version ${directory.version - 1} as the one it continues`);
    }
    expectedPrevious = directoryHash(text);
    if (directory.version === current.version) break;
  }
  if (expectedVersion !== current.version) throw refused(`the history stops at version ${expectedVersion} (a gap)`);
  if (expectedPrevious !== currentHash) throw refused(`the history's version ${current.version} is not the directory served now`);
  return current;
}

/** Verifies a signed directory's signature and format against the pinned key (no expiry). */
function verifySignedDirectory(signedText, pinnedKey) {
  const pinned = directoryKeyBytes(pinnedKey);
  let envelope;
  try {
    envelope = JSON.parse(signedText);
  } catch {
    throw new ProtocolError("malformed-directory", "the directory is not valid JSON");
  }
  if (envelope?.["meldpunt-signed-directory"] !== DIRECTORY_FORMAT_VERSION || typeof envelope.signing_key !== "string") {
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
  if (
    directory?.["meldpunt-directory"] !== DIRECTORY_FORMAT_VERSION ||
    !Array.isArray(directory.organisations) ||
    !directory.organisations.every(isWellFormedOrganisation)
  ) {
    throw new ProtocolError("malformed-directory", "the directory is not in a format this page knows");
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

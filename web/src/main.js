// The web form with JavaScript on: takes over the report and check forms that the relay
// renders, so that sealing and opening happen here, in the browser, and only ciphertext
// and mailbox tokens reach the relay (through /api/v1, the same API the CLI uses).
//
// This script must never send a receipt code, a reply key or plaintext anywhere, never
// store anything (no cookies, no localStorage), and never load anything from elsewhere.

import * as protocol from "./protocol.js";

const page = {
  directoryKey: document.body.dataset.directoryKey,
  directoryVersion: document.body.dataset.directoryVersion ? Number(document.body.dataset.directoryVersion) : null,
  directoryHash: document.body.dataset.directoryHash ?? null,
  language: document.body.dataset.language,
  maxAttachment: Number(document.body.dataset.maxAttachment),
  text: JSON.parse(document.getElementById("meldpunt-text")?.textContent ?? "{}"),
};

// What the conversation says about a message it cannot show, and about messages missing
// before one, in the page's language. The relay's page texts do not carry these, so they
// are here, in both languages.
const conversationText = {
  nl: {
    title: "Een bericht kon niet worden gelezen",
    reason: "Reden:",
    report: "Uw melding zelf kon niet worden gelezen of gecontroleerd, dus dit gesprek kan niet worden getoond.",
    reasons: {
      "wrong-mailbox": "het hoort bij een ander gesprek.",
      "wrong-author": "het past niet bij de afzender die de server heeft vastgelegd.",
      "out-of-sequence": "het staat niet in de juiste volgorde: het is herhaald of verplaatst.",
      "thread-without-report": "het gesprek begint niet met een melding.",
      "foreign-report": "de melding in deze brievenbus is niet geschreven met uw ontvangstcode: ze is vervangen.",
      "forged-follow-up": "het is niet ondertekend met de sleutel van uw ontvangstcode.",
      "forged-office-message": "het is niet ondertekend door de ontvanger die het als afzender noemt.",
      "sender-not-addressed": "het komt van een ontvanger die u niet hebt gekozen.",
      "opening-mismatch": "het antwoordt op een ander eerste bericht dan het uwe: het is verplaatst.",
      "no-directory": "de lijst met ontvangers kon niet worden gecontroleerd.",
      unopened: "het kan niet worden geopend; het is mogelijk gewijzigd.",
    },
    missing: "eerder(e) bericht(en) van deze afzender ontbreken: de server heeft ze achtergehouden.",
  },
  en: {
    title: "A message could not be read",
    reason: "Reason:",
    report: "Your report itself could not be read or verified, so this conversation cannot be shown.",
    reasons: {
      "wrong-mailbox": "it belongs to another conversation.",
      "wrong-author": "it does not fit the sender the server recorded.",
      "out-of-sequence": "it is out of sequence: repeated or moved.",
      "thread-without-report": "the conversation does not start with a report.",
      "foreign-report": "the report in this mailbox was not written with your receipt code: it was replaced.",
      "forged-follow-up": "it is not signed with the key of your receipt code.",
      "forged-office-message": "it is not signed by the recipient it names as its sender.",
      "sender-not-addressed": "it comes from a recipient you did not choose.",
      "opening-mismatch": "it answers another first message than yours: it was moved.",
      "no-directory": "the list of recipients could not be verified.",
      unopened: "it cannot be opened; it may have been altered.",
    },
    missing: "earlier message(s) from this sender are missing: the server withheld them.",
  },
}[page.language === "en" ? "en" : "nl"];

// ---------------------------------------------------------------------------------------
// Small DOM helpers

function element(name, attributes = {}, ...children) {
  const node = document.createElement(name);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === false || value === undefined || value === null) continue;
    node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

/** Replaces a node's children, flattening lists and leaving out absent ones. */
function fill(node, ...children) {
  node.replaceChildren(...children.flat(Infinity).filter((child) => child !== null && child !== undefined));
}

function sizeText(bytes) {
  return bytes >= 1 << 20 ? `${Math.floor(bytes / (1 << 20))} MiB` : `${Math.max(1, Math.floor(bytes / 1024))} KiB`;
}

// What the page says while the anti-abuse work runs, in both languages: how long it takes
// on average on this device, honestly (the wait is random: one in twenty waits three times
// the average), and how long it has run.
const stampText = {
  nl: {
    average: (seconds) =>
      `op dit apparaat gemiddeld ${seconds} s; de duur is toeval: één keer op de twintig duurt het meer dan drie keer zo lang`,
    elapsed: (seconds) => `bezig sinds ${seconds} s`,
    tried: (count) => `${count} pogingen`,
  },
  en: {
    average: (seconds) =>
      `about ${seconds} s on this device on average; the wait is random: one time in twenty it takes more than three times as long`,
    elapsed: (seconds) => `running for ${seconds} s`,
    tried: (count) => `${count} attempts`,
  },
};

function stampProgress(difficulty, tried, rate, elapsedMilliseconds) {
  const words = stampText[page.language] ?? stampText.nl;
  const parts = [words.tried(tried.toLocaleString(page.language)), words.elapsed(Math.round(elapsedMilliseconds / 1000))];
  if (rate > 0 && Number.isInteger(difficulty)) {
    parts.unshift(words.average(Math.max(1, Math.round(2 ** difficulty / rate))));
  }
  return `${page.text.workingStamp} (${parts.join("; ")})`;
}

/**
 * Solves a stamp in the stamp worker, so that the page never freezes; where a worker cannot
 * run (its script refused or missing), in the page, which yields between batches.
 */
function solveOffThePage(challenge, mailboxId, progress) {
  const inPage = () => protocol.solveStamp(challenge, mailboxId, progress);
  if (typeof Worker !== "function") return inPage();
  return new Promise((resolve, reject) => {
    let worker;
    try {
      worker = new Worker("/static/meldpunt-stamp.js");
    } catch {
      resolve(inPage());
      return;
    }
    worker.onmessage = ({ data }) => {
      if (data.stamp) {
        worker.terminate();
        resolve(data.stamp);
      } else if (data.error === "malformed-challenge") {
        worker.terminate();
        reject(new protocol.ProtocolError(data.error, data.message));
      } else if (data.error) {
        // Anything else (WebCrypto refusing in the worker, say): solved in the page instead.
        worker.terminate();
        resolve(inPage());
      } else {
        progress(data.tried, data.rate);
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      worker.terminate();
      resolve(inPage());
    };
    worker.postMessage({ challenge, mailboxId: Array.from(mailboxId) });
  });
}

function status(form, message) {
  const line = form.querySelector(".status");
  if (line) line.textContent = message;
}

function clearErrors(form) {
  for (const node of document.querySelectorAll(".field-error")) node.remove();
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  const summary = document.getElementById("error-summary");
  if (summary) summary.hidden = true;
}

/** Shows errors as the server does: a summary linking to the fields, a message at each. */
function showErrors(form, errors) {
  clearErrors(form);
  let summary = document.getElementById("error-summary");
  if (!summary) {
    summary = element("div", { class: "error-summary", id: "error-summary", role: "alert", tabindex: "-1" });
    form.before(summary);
  }
  fill(
    summary,
    element("h2", {}, page.text.errorSummary),
    element("ul", {}, errors.map(([field, message]) => element("li", {}, element("a", { href: `#${field}` }, message)))),
  );
  summary.hidden = false;
  for (const [field, message] of errors) {
    const target = document.getElementById(field);
    if (!target) continue;
    const note = element("p", { class: "field-error", id: `${field}-error` }, message);
    const label = form.querySelector(`label[for="${field}"]`);
    if (target.tagName === "FIELDSET") {
      target.querySelector("legend")?.after(note);
    } else {
      (label?.nextElementSibling?.classList.contains("hint") ? label.nextElementSibling : label ?? target).after(note);
      target.setAttribute("aria-invalid", "true");
    }
    const described = new Set((target.getAttribute("aria-describedby") ?? "").split(" ").filter(Boolean));
    described.add(`${field}-error`);
    target.setAttribute("aria-describedby", [...described].join(" "));
  }
  summary.focus();
}

function busy(form, on) {
  for (const button of form.querySelectorAll("button")) button.disabled = on;
}

// ---------------------------------------------------------------------------------------
// The relay

class RelayError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function relay(path, { method = "GET", token, headers = {}, body } = {}) {
  const response = await fetch(path, {
    method,
    body,
    credentials: "omit",
    cache: "no-store",
    referrerPolicy: "no-referrer",
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body ? { "Content-Type": "application/octet-stream" } : {}),
      ...headers,
    },
  });
  if (!response.ok) {
    let detail = { error: "http", message: `HTTP ${response.status}` };
    try {
      detail = await response.json();
    } catch {
      // The status alone says enough.
    }
    throw new RelayError(response.status, detail.error, detail.message);
  }
  return response;
}

function today() {
  return new Date().toISOString().slice(0, 10);
}

async function verifiedDirectory() {
  const response = await relay("/api/v1/directory");
  const text = await response.text();
  const directory = protocol.verifyDirectory(text, page.directoryKey, today());
  // A page that vouches for a directory version checks that the one served continues it.
  if (page.directoryVersion !== null && directory.version !== page.directoryVersion) {
    const history = [];
    let after = page.directoryVersion;
    for (let pages = 0; pages < 400; pages += 1) {
      const answer = await (await relay(`/api/v1/directory/history?after=${after}`)).json();
      history.push(...answer.directories);
      if (!answer.more || answer.directories.length === 0) break;
      after = protocol.claimedDirectoryVersion(answer.directories.at(-1));
    }
    protocol.verifyContinuation(page.directoryKey, page.directoryVersion, page.directoryHash, history, text);
  } else if (page.directoryVersion !== null) {
    protocol.verifyContinuation(page.directoryKey, page.directoryVersion, page.directoryHash, [], text);
  }
  return directory;
}

function describe(error) {
  if (error instanceof RelayError) return `${page.text.errorRelay} ${error.message}`;
  if (error instanceof protocol.ProtocolError && error.kind.startsWith("directory")) {
    return `${page.text.errorDirectory} (${error.message})`;
  }
  return `${page.text.errorRelay} ${error.message}`;
}

async function readFile(input) {
  const file = input?.files?.[0];
  if (!file) return null;
  return { name: file.name, content: new Uint8Array(await file.arrayBuffer()) };
}

/** What is wrong with a form's text and attachment, as [field, message] pairs. */
function textAndAttachmentErrors(form, body) {
  const errors = [];
  if (body.trim() === "") errors.push(["body", page.text.errorEmptyBody]);
  else if (protocol.textEncoder.encode(body).length > protocol.MAXIMUM_BODY_LENGTH) {
    errors.push(["body", page.text.errorBodyTooLong]);
  }
  const file = form.querySelector("#attachment")?.files?.[0];
  if (file && file.size > page.maxAttachment) {
    errors.push(["attachment", `${page.text.errorAttachmentTooLarge} (${sizeText(page.maxAttachment)})`]);
  }
  return errors;
}

async function uploadAttachment(token, keys, file) {
  const { reference, sealed } = await protocol.sealAttachment(keys, file.name, file.content);
  file.content.fill(0);
  await relay(`/api/v1/mailbox/attachments/${reference.location}`, { method: "PUT", token, body: sealed });
  return reference;
}

// ---------------------------------------------------------------------------------------
// Report

/**
 * Seals and sends the report (or, on the ask page, the consultation) the form describes.
 * `consultation`, on a consultation's page, is `{derived, messages}`: the consultation as its
 * receipt code opened it, carried into the report when the reporter ticks the box.
 */
async function submitReport(form, consultation = null) {
  const conversation = form.dataset.conversation === "consultation" ? "consultation" : "report";
  const carry = consultation !== null && form.querySelector("#carry-consultation")?.checked === true;
  const organisation = form.querySelector("input[name=organisation]:checked")?.value;
  const recipients = [...form.querySelectorAll("input[name=recipient]:checked")]
    .map((box) => box.value.split("/"))
    .filter(([organisationId]) => organisationId === organisation)
    .map(([, recipient]) => recipient);
  const body = form.querySelector("#body").value;
  const errors = [];
  if (!organisation) errors.push(["organisation", page.text.errorNoOrganisation]);
  else if (recipients.length === 0) errors.push(["recipients", page.text.errorNoRecipient]);
  errors.push(...textAndAttachmentErrors(form, body));
  if (errors.length > 0) return showErrors(form, errors);
  clearErrors(form);

  status(form, page.text.working);
  const directory = await verifiedDirectory();
  // The questionnaire is the verified directory's, never the page's: the fields only say
  // what was typed.
  const questions =
    conversation === "report" ? (directory.organisations.find((candidate) => candidate.id === organisation)?.questions ?? []) : [];
  const checked = protocol.checkAnswers(questions, typedAnswers(form, organisation, questions));
  if (checked.problems) {
    status(form, "");
    return showErrors(
      form,
      checked.problems.map(({ question, problem }) => {
        const label = questions.find((candidate) => candidate.id === question)?.label[page.language === "en" ? "en" : "nl"] ?? question;
        return [`answer-${organisation}-${question}`, `${label}: ${page.text.answerProblems[problem]}`];
      }),
    );
  }
  // A consultation goes to confidential advisers only, as the directory says they are.
  const roles = directory.organisations
    .find((candidate) => candidate.id === organisation)
    ?.recipients.filter((candidate) => recipients.includes(candidate.id))
    .map((candidate) => candidate.role);
  if (conversation === "consultation" && !roles?.every((role) => ADVISER_ROLES.includes(role))) {
    status(form, "");
    return showErrors(form, [["recipients", page.text.errorNotAdviser]]);
  }
  const { keys, addresses } = protocol.recipientKeys(directory, organisation, recipients);
  const entropy = protocol.generateEntropy();
  const derived = await protocol.deriveKeys(entropy);
  const sealTo = [...keys, derived.replyRecipient];
  const file = await readFile(form.querySelector("#attachment"));
  let sealedAttachment = null;
  if (file) {
    sealedAttachment = await protocol.sealAttachment(sealTo, file.name, file.content);
    file.content.fill(0);
  }
  let encoded;
  try {
    encoded = protocol.encodeMessage({
      kind: "report",
      mailbox: derived.mailboxIdWire,
      sequence: 1,
      writtenOn: today(),
      body,
      attachments: sealedAttachment ? [sealedAttachment.reference] : [],
      replyKey: derived.replyRecipient,
      followUpKey: derived.followUpKey,
      recipients: addresses,
      conversation,
      answers: checked.answers,
      earlierConsultation: carry
        ? protocol.carryConsultation(consultation.derived.followUpSeed, consultation.messages, derived.mailboxIdWire)
        : undefined,
    });
  } catch (error) {
    if (!(carry && error instanceof protocol.ProtocolError && error.kind === "too-large")) throw error;
    status(form, "");
    return showErrors(form, [["carry", page.text.errorCarryTooLong]]);
  }
  const sealed = await protocol.seal(sealTo, encoded);
  encoded.fill(0);

  // A stamp can go stale while it is solved (the relay raised its difficulty, or the
  // challenge expired): then solve a new challenge, up to three times.
  for (let attempt = 1; ; attempt += 1) {
    const challenge = await (await relay("/api/v1/challenge")).json();
    // The relay learns which recipients the report went to, so that only their office
    // sessions reach the mailbox.
    const headers = {
      "Meldpunt-Organisation": organisation,
      "Meldpunt-Recipients": addresses.map((address) => address.recipient).join(","),
    };
    if (challenge.required) {
      const started = Date.now();
      const difficulty = challenge.difficulty;
      status(form, page.text.workingStamp);
      headers["Meldpunt-Stamp"] = await solveOffThePage(challenge.challenge, derived.mailboxId, (tried, rate) =>
        status(form, stampProgress(difficulty, tried, rate, Date.now() - started)),
      );
    }
    status(form, page.text.working);
    try {
      await relay("/api/v1/mailboxes", { method: "POST", token: derived.token, headers, body: sealed });
      break;
    } catch (error) {
      const stale = error instanceof RelayError && ["stamp-outdated", "stamp-expired"].includes(error.code);
      if (!stale || attempt >= 3) throw error;
    }
  }

  // From here on the report exists: the receipt code must be shown whatever happens next.
  const notes = [];
  if (sealedAttachment) {
    try {
      await relay(`/api/v1/mailbox/attachments/${sealedAttachment.reference.location}`, {
        method: "PUT",
        token: derived.token,
        body: sealedAttachment.sealed,
      });
    } catch (error) {
      notes.push(`${describe(error)} (${sealedAttachment.reference.name})`);
    }
  }
  showReceipt(protocol.writeReceiptCode(entropy), notes, conversation);
  entropy.fill(0);
}

/**
 * What the questionnaire's fields of `organisation` say, by question id, as the relay reads
 * them without JavaScript: several boxes joined by commas, a period as `from/to`.
 */
function typedAnswers(form, organisation, questions) {
  const typed = {};
  const values = (name) => [...form.querySelectorAll(`[name="${CSS.escape(name)}"]`)]
    .filter((input) => !["radio", "checkbox"].includes(input.type) || input.checked)
    .map((input) => input.value);
  for (const question of questions) {
    const name = `answer:${organisation}:${question.id}`;
    if (question.kind === "period") {
      const from = values(`${name}:from`).join("");
      const to = values(`${name}:to`).join("");
      typed[question.id] = from.trim() === "" && to.trim() === "" ? "" : `${from}/${to}`;
    } else {
      typed[question.id] = values(name).join(question.kind === "multiple-choice" ? "," : "");
    }
  }
  return typed;
}

const ADVISER_ROLES = ["internal-confidential-adviser", "external-confidential-adviser"];

function showReceipt(code, notes, conversation) {
  const main = document.getElementById("content");
  const query = page.language === "en" ? "?lang=en" : "";
  const consultation = conversation === "consultation";
  const title = consultation ? page.text.askReceiptTitle : page.text.receiptTitle;
  fill(
    main,
    element("h1", {}, title),
    element("p", {}, consultation ? page.text.askReceiptLead : page.text.receiptLead),
    element("p", { class: "receipt-code", id: "receipt-code", "aria-label": page.text.receiptCodeLabel }, code),
    element("ul", { class: "warning" }, page.text.receiptWarning.map((line) => element("li", {}, line))),
    notes.map((note) => element("p", { class: "field-error" }, note)),
    element("p", {}, page.text.receiptNext),
    element("p", {}, element("a", { href: `/check${query}` }, page.text.checkTitle)),
  );
  document.title = `${title} — Meldpunt`;
  main.focus();
}

// ---------------------------------------------------------------------------------------
// Conversation

function codeError(error) {
  switch (error.kind) {
    case "receipt-code-length":
      return page.text.errorCodeLength;
    case "receipt-code-character":
      return page.text.errorCodeCharacter;
    default:
      return error.detail?.suspectGroup
        ? `${page.text.errorCodeChecksum} ${page.text.errorCodeChecksumGroup} ${error.detail.suspectGroup}.`
        : page.text.errorCodeChecksum;
  }
}

/** Why a message cannot be shown, in a few words (never anything of its content). */
function unreadableReason(reason) {
  const { reasons } = conversationText;
  return `${conversationText.reason} ${Object.keys(reasons).includes(reason?.kind) ? reasons[reason.kind] : reasons.unopened}`;
}

/**
 * Opens every message of the conversation and checks the thread against the directory
 * (null if it could not be verified). A message that cannot be opened or does not fit stays
 * in its place as a mark, so that no message can hide the others; only without its report
 * is there no conversation to show. Returns the messages, each with its outcome, the report
 * and the sequence number of the reporter's next follow-up.
 */
async function openConversation(derived, directory) {
  const listing = await (await relay("/api/v1/mailbox/messages?limit=1000", { token: derived.token })).json();
  const entries = [];
  for (const listed of listing.messages) {
    const sealed = new Uint8Array(
      await (await relay(`/api/v1/mailbox/messages/${listed.position}`, { token: derived.token })).arrayBuffer(),
    );
    try {
      entries.push({ author: listed.author, message: protocol.decodeMessage(await protocol.open(derived.replyIdentities, sealed)) });
    } catch (error) {
      entries.push({ author: listed.author, error });
    }
  }
  // The report must carry the keys this receipt code derives (as the Rust readers check it).
  const { outcomes, nextReporterSequence, guides, recordingVerified } = protocol.checkThread(derived.mailboxIdWire, directory, entries, {
    replyKeys: derived.replyRecipients,
    followUpKey: derived.followUpKey,
  });
  const messages = entries.map((entry, index) => ({ ...entry, outcome: outcomes[index] }));
  const report = messages.find(({ message, outcome }) => outcome.ok && message.kind === "report")?.message;
  if (!report) {
    const first = outcomes[0];
    const why = first ? `${conversationText.report} ${unreadableReason(first.reason)}` : conversationText.report;
    throw new protocol.ProtocolError("tampered", why);
  }
  return { messages, report, nextReporterSequence, guides, recordingVerified };
}

/** Who wrote a verified message (an office message's sender is in the directory it was verified with). */
function authorName(directory, message) {
  if (message.kind === "report" && message.conversation === "consultation") return page.text.threadYouQuestion;
  if (message.kind === "report" && message.earlierConsultation) {
    return `${page.text.threadYou} — ${page.text.threadCarried} ${message.earlierConsultation.messages.length}`;
  }
  if (message.kind === "report") return message.recording ? page.text.threadRecord : page.text.threadYou;
  if (message.kind === "follow-up") {
    if (message.purpose === "evaluation") return page.text.threadYouEvaluation;
    if (message.purpose === "confirmation") return page.text.threadYouConfirmation;
    if (message.purpose === "correction") return page.text.threadYouCorrection;
    if (!message.sharedIdentity) return page.text.threadYouFollowUp;
    const shared = recipientName(directory, message.sharedIdentity.with);
    return `${page.text.threadYouFollowUp} — ${page.text.threadIdentityShared} ${shared}`;
  }
  const name = recipientName(directory, message.from);
  if (message.kind === "acknowledgement") return `${name} (${page.text.threadAcknowledgement})`;
  return message.purpose === "closing" ? `${name} (${page.text.threadClosing})` : name;
}

/** A recipient's name in the page's language (its address when the directory lacks it). */
function recipientName(directory, address) {
  const recipient = directory.organisations
    .find((candidate) => candidate.id === address.organisation)
    ?.recipients.find((candidate) => candidate.id === address.recipient);
  if (!recipient) return `${address.organisation}/${address.recipient}`;
  return recipient.name[page.language] ?? recipient.name.nl;
}

async function download(derived, reference, button) {
  button.disabled = true;
  try {
    const sealed = new Uint8Array(
      await (await relay(`/api/v1/mailbox/attachments/${reference.location}`, { token: derived.token })).arrayBuffer(),
    );
    const content = await protocol.openAttachment(derived.replyIdentities, reference, sealed);
    const url = URL.createObjectURL(new Blob([content], { type: "application/octet-stream" }));
    const link = element("a", { href: url, download: reference.name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (error) {
    button.after(element("p", { class: "field-error", role: "alert" }, describe(error)));
  } finally {
    button.disabled = false;
  }
}

function messageArticle(derived, directory, author, message, report) {
  return element(
    "article",
    { class: author === "office" ? "message office" : "message" },
    element("h2", {}, authorName(directory, message)),
    element("p", { class: "meta" }, `${page.text.threadWritten} ${message.writtenOn}`),
    element("p", { class: "body" }, message.body),
    answersList(directory, message, report),
    message.attachments.map((reference) => {
      const label = `${reference.name} (${sizeText(reference.size)})`;
      if (author !== "office") return element("p", { class: "attachment" }, label);
      const button = element("button", { type: "button" }, `${page.text.threadDownload} ${label}`);
      button.addEventListener("click", () => download(derived, reference, button));
      return element("p", { class: "download" }, button);
    }),
  );
}

/** A report's answers to its organisation's questionnaire, or an evaluation's to its evaluation questions. */
function answersList(directory, message, report) {
  if (Object.keys(message.answers ?? {}).length === 0) return null;
  const organisationId = report.recipients[0]?.organisation;
  const organisation = directory?.organisations.find((candidate) => candidate.id === organisationId);
  const questions = message.kind === "report" ? (organisation?.questions ?? []) : message.purpose === "evaluation" ? evaluationQuestions(directory, organisationId) : [];
  const shown = protocol.describeAnswers(questions, message.answers, page.language === "en" ? "en" : "nl");
  return [
    element("h3", {}, page.text.threadAnswers),
    element(
      "dl",
      { class: "answers" },
      shown.map(({ question, label, values }) => [element("dt", {}, label ?? question), element("dd", {}, values.join(", "))]),
    ),
  ];
}

/** Says that `count` earlier messages of the next message's author never arrived. */
function missingNote(count) {
  return element("p", { class: "missing", role: "note" }, `${count} ${conversationText.missing}`);
}

function unreadableArticle(reason) {
  return element(
    "article",
    { class: "message unreadable" },
    element("h2", {}, conversationText.title),
    element("p", { class: "meta" }, unreadableReason(reason)),
  );
}

async function showConversation(derived, notice) {
  let directory = null;
  try {
    directory = await verifiedDirectory();
  } catch {
    // Office messages then cannot be verified and show as unreadable; sending a follow-up
    // verifies the directory again.
  }
  const conversation = await openConversation(derived, directory);
  const main = document.getElementById("content");
  const articles = conversation.messages.map(({ author, message, outcome }) =>
    outcome.ok
      ? [outcome.missingBefore > 0 ? missingNote(outcome.missingBefore) : null, messageArticle(derived, directory, author, message, conversation.report)]
      : unreadableArticle(outcome.reason),
  );
  const form = element(
    "form",
    { id: "follow-up-form", novalidate: true },
    element("label", { for: "body" }, page.text.followUpBody),
    element("p", { class: "hint", id: "body-hint" }, page.text.bodyHint),
    element("textarea", { id: "body", name: "body", rows: "8", "aria-describedby": "body-hint" }),
    element("label", { for: "attachment" }, page.text.attachmentLabel),
    element("p", { class: "hint", id: "attachment-hint" }, sizeText(page.maxAttachment)),
    element("input", { type: "file", id: "attachment", name: "attachment", "aria-describedby": "attachment-hint" }),
    element("p", { class: "status", id: "status", role: "status", "aria-live": "polite" }),
    element("button", { type: "submit" }, page.text.followUpSubmit),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(form, () => sendFollowUp(form, derived, conversation));
  });
  const consultation = conversation.report.conversation === "consultation";
  const title = consultation ? page.text.threadConsultationTitle : page.text.threadTitle;
  let convert = null;
  if (consultation) {
    const button = element("button", { type: "button", id: "convert-button" }, page.text.convertTitle);
    button.addEventListener("click", () => showConvertForm(derived, conversation));
    convert = element(
      "section",
      { id: "convert", "aria-labelledby": "convert-title" },
      element("h2", { id: "convert-title" }, page.text.convertTitle),
      element("p", {}, page.text.convertLead),
      element("p", {}, button),
    );
  }
  fill(
    main,
    element("h1", {}, title),
    consultation ? element("p", { class: "notice" }, page.text.threadConsultationNote) : null,
    notice ? element("p", { class: "notice", role: "status" }, notice) : null,
    articles,
    conversation.messages.some(({ author }) => author === "office") ? null : element("p", {}, page.text.threadNoReply),
    recordSection(derived, conversation, directory),
    element("h2", {}, page.text.followUpTitle),
    form,
    evaluationSection(derived, conversation, directory),
    convert,
  );
  document.title = `${title} — Meldpunt`;
  main.focus();
}

/** What a report carries of a consultation: every message of it that opened and fits. */
function carriedFrom(derived, conversation) {
  return {
    derived,
    messages: conversation.messages.filter(({ outcome }) => outcome.ok).map(({ message }) => message),
  };
}

/**
 * The report form the relay rendered for a consultation (the page was loaded without
 * JavaScript, which then came on): the consultation is opened here, with the code in the
 * form's hidden field, and carried from the browser, as on a page the script rendered.
 */
async function submitServerRenderedReport(form) {
  const typed = form.querySelector("input[name=consultation_code]")?.value;
  if (!typed || !form.querySelector("#carry-consultation")?.checked) return submitReport(form);
  let entropy;
  try {
    entropy = protocol.parseReceiptCode(typed);
  } catch (error) {
    return showErrors(form, [["carry", codeError(error)]]);
  }
  const derived = await protocol.deriveKeys(entropy);
  entropy.fill(0);
  let directory = null;
  try {
    directory = await verifiedDirectory();
  } catch {
    // The advisers' answers then cannot be verified and are not carried.
  }
  const conversation = await openConversation(derived, directory);
  if (conversation.report.conversation !== "consultation") {
    return showErrors(form, [["carry", page.text.errorCarryNotConsultation]]);
  }
  return submitReport(form, carriedFrom(derived, conversation));
}

/**
 * The report form under a consultation: the recipients of the directory to choose from, and
 * whether to carry the consultation along (unticked: the report says nothing of it).
 */
async function showConvertForm(derived, conversation) {
  const directory = await verifiedDirectory();
  const organisationId = conversation.report.recipients[0].organisation;
  const name = (names) => names[page.language] ?? names.nl;
  const organisations = directory.organisations.filter((candidate) => candidate.recipients.length > 0);
  const form = element(
    "form",
    { id: "report-form", novalidate: true, "data-conversation": "report" },
    element("p", {}, page.text.convertLead),
    element(
      "fieldset",
      { id: "organisation" },
      element("legend", {}, page.text.reportOrganisation),
      organisations.map((organisation) =>
        element(
          "div",
          { class: "choice" },
          element("input", {
            type: "radio",
            name: "organisation",
            id: `organisation-${organisation.id}`,
            value: organisation.id,
            ...(organisation.id === organisationId ? { checked: true } : {}),
          }),
          element("label", { for: `organisation-${organisation.id}` }, name(organisation.name)),
        ),
      ),
    ),
    element(
      "fieldset",
      { id: "recipients", "aria-describedby": "recipients-hint" },
      element("legend", {}, page.text.reportRecipients),
      element("p", { class: "hint", id: "recipients-hint" }, page.text.reportRecipientsHint),
      organisations.flatMap((organisation) =>
        organisation.recipients.map((recipient) =>
          element(
            "div",
            { class: "choice" },
            element("input", {
              type: "checkbox",
              name: "recipient",
              id: `recipient-${organisation.id}-${recipient.id}`,
              value: `${organisation.id}/${recipient.id}`,
              ...(recipient.role === "integrity-office" && organisation.id === organisationId ? { checked: true } : {}),
            }),
            element("label", { for: `recipient-${organisation.id}-${recipient.id}` }, `${name(organisation.name)}: ${name(recipient.name)}`),
          ),
        ),
      ),
    ),
    element(
      "fieldset",
      { id: "carry", "aria-describedby": "carry-hint" },
      element("legend", {}, page.text.convertTitle),
      element("p", { class: "hint", id: "carry-hint" }, page.text.convertCarryHint),
      element(
        "div",
        { class: "choice" },
        element("input", { type: "checkbox", name: "carry", id: "carry-consultation", value: "1" }),
        element("label", { for: "carry-consultation" }, page.text.convertCarry),
      ),
    ),
    element("label", { for: "body" }, page.text.reportBody),
    element("p", { class: "hint", id: "body-hint" }, page.text.bodyHint),
    element("textarea", { id: "body", name: "body", rows: "14", "aria-describedby": "body-hint" }),
    element("label", { for: "attachment" }, page.text.attachmentLabel),
    element("p", { class: "hint", id: "attachment-hint" }, sizeText(page.maxAttachment)),
    element("input", { type: "file", id: "attachment", name: "attachment", "aria-describedby": "attachment-hint" }),
    element("p", { class: "status", id: "status", role: "status", "aria-live": "polite" }),
    element("button", { type: "submit" }, page.text.reportSubmit),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(form, () => submitReport(form, carriedFrom(derived, conversation)));
  });
  const main = document.getElementById("content");
  fill(main, element("h1", {}, page.text.convertTitle), form);
  document.title = `${page.text.convertTitle} — Meldpunt`;
  main.focus();
}

async function sendFollowUp(form, derived, conversation) {
  const body = form.querySelector("#body").value;
  const errors = [];
  errors.push(...textAndAttachmentErrors(form, body));
  if (errors.length > 0) return showErrors(form, errors);
  clearErrors(form);
  status(form, page.text.working);
  const file = await readFile(form.querySelector("#attachment"));
  await sealFollowUp(derived, conversation, { body, file });
  await showConversation(derived, page.text.followUpSent);
}

/** The evaluation form's answers, checked against the verified directory's evaluation questions, sealed as a follow-up. */
async function sendEvaluation(form, derived, conversation) {
  const body = form.querySelector("#evaluation-body").value;
  const organisation = form.dataset.organisation;
  const directory = await verifiedDirectory();
  const questions = evaluationQuestions(directory, organisation);
  const checked = protocol.checkAnswers(questions, typedAnswers(form, organisation, questions));
  const language = page.language === "en" ? "en" : "nl";
  if (checked.problems) {
    return showErrors(
      form,
      checked.problems.map(({ question, problem }) => {
        const label = questions.find((candidate) => candidate.id === question)?.label[language] ?? question;
        return [`answer-${organisation}-${question}`, `${label}: ${page.text.answerProblems[problem]}`];
      }),
    );
  }
  if (Object.keys(checked.answers).length === 0 && body.trim() === "") {
    return showErrors(form, [["evaluation-body", page.text.errorEvaluationEmpty]]);
  }
  if (protocol.textEncoder.encode(body).length > protocol.MAXIMUM_BODY_LENGTH) {
    return showErrors(form, [["evaluation-body", page.text.errorBodyTooLong]]);
  }
  clearErrors(form);
  status(form, page.text.working);
  await sealFollowUp(derived, conversation, { body, answers: checked.answers, purpose: "evaluation" });
  await showConversation(derived, page.text.evaluationSent);
}

/** The evaluation questions of an organisation in the verified directory: its own, else the defaults. */
function evaluationQuestions(directory, organisationId) {
  const organisation = directory?.organisations.find((candidate) => candidate.id === organisationId);
  return organisation?.evaluation?.length ? organisation.evaluation : page.text.defaultEvaluation;
}

/** Seals a follow-up (text, an attachment, answers, a purpose) to the conversation's recipients and sends it. */
async function sealFollowUp(derived, conversation, { body, file = null, answers = {}, purpose = "message" }) {
  const directory = await verifiedDirectory();
  const keys = [];
  // The recipients the report chose, and the process guides appointed since.
  for (const address of [...conversation.report.recipients, ...conversation.guides]) {
    for (const key of protocol.recipientKeys(directory, address.organisation, [address.recipient]).keys) {
      if (!keys.includes(key)) keys.push(key);
    }
  }
  // The reply key the report carries: the hybrid one, or the classic one of an older report.
  // (as this code derives it: the report's spelling of it was checked to be the same key).
  keys.push(derived.replyRecipients.find((key) => protocol.sameAgeRecipient(key, conversation.report.replyKey)));
  const attachments = file ? [await uploadAttachment(derived.token, keys, file)] : [];
  const followUp = protocol.signFollowUp(
    {
      kind: "follow-up",
      mailbox: derived.mailboxIdWire,
      sequence: conversation.nextReporterSequence,
      writtenOn: today(),
      body,
      attachments,
      answers,
      purpose,
    },
    derived.followUpSeed,
  );
  const encoded = protocol.encodeMessage(followUp);
  const sealed = await protocol.seal(keys, encoded);
  encoded.fill(0);
  await relay("/api/v1/mailbox/messages", { method: "POST", token: derived.token, body: sealed });
}

/**
 * One question's fields as the relay renders them (`web::questions`): the same ids and
 * names, so that answers are read the same way in both modes.
 */
function questionField(organisation, question, language) {
  const id = `answer-${organisation}-${question.id}`;
  const name = `answer:${organisation}:${question.id}`;
  const label = `${question.label[language]}${question.required ? " *" : ""}`;
  const yesNo = [
    { id: "yes", label: { nl: "Ja", en: "Yes" } },
    { id: "no", label: { nl: "Nee", en: "No" } },
  ];
  const dateHint = language === "en" ? "As YYYY-MM-DD, for example 2026-03-01." : "Als JJJJ-MM-DD, bijvoorbeeld 2026-03-01.";
  switch (question.kind) {
    case "choice":
    case "multiple-choice":
    case "yes-no": {
      const type = question.kind === "multiple-choice" ? "checkbox" : "radio";
      const options = question.kind === "yes-no" ? yesNo : question.options;
      return element(
        "fieldset",
        { id, class: "question" },
        element("legend", {}, label),
        options.map((option) =>
          element(
            "div",
            { class: "choice" },
            element("input", { type, name, id: `${id}-${option.id}`, value: option.id }),
            element("label", { for: `${id}-${option.id}` }, option.label[language]),
          ),
        ),
      );
    }
    case "date":
      return [
        element("label", { for: id }, label),
        element("p", { class: "hint", id: `${id}-hint` }, dateHint),
        element("input", { type: "date", id, name, "aria-describedby": `${id}-hint` }),
      ];
    case "period":
      return element(
        "fieldset",
        { id, class: "question", "aria-describedby": `${id}-hint` },
        element("legend", {}, label),
        element("p", { class: "hint", id: `${id}-hint` }, dateHint),
        element("label", { for: `${id}-from` }, language === "en" ? "From" : "Van"),
        element("input", { type: "date", id: `${id}-from`, name: `${name}:from` }),
        element("label", { for: `${id}-to` }, language === "en" ? "To (inclusive)" : "Tot en met"),
        element("input", { type: "date", id: `${id}-to`, name: `${name}:to` }),
      );
    default:
      return [element("label", { for: id }, label), element("input", { type: "text", id, name, maxlength: "1000" })];
  }
}

/** For the office's record of an oral report: the form to confirm or correct it. */
function recordSection(derived, conversation, directory) {
  const recording = conversation.report.recording;
  if (!recording) return null;
  const channel = recording.channel === "meeting" ? page.text.recordMeeting : page.text.recordTelephone;
  const by = directory ? recipientName(directory, recording.by) : recording.by.recipient;
  const unverified = conversation.recordingVerified
    ? null
    : element("p", { class: "missing", role: "note", id: "record-unverified" }, page.text.recordUnverified);
  const form = element(
    "form",
    { id: "record-form", novalidate: true },
    element(
      "fieldset",
      { id: "record-purpose" },
      element("legend", {}, page.text.recordQuestion),
      [
        ["confirmation", page.text.recordAgree],
        ["correction", page.text.recordCorrect],
      ].map(([value, label]) =>
        element(
          "div",
          { class: "choice" },
          element("input", { type: "radio", name: "purpose", id: `record-${value}`, value, checked: value === "confirmation" }),
          element("label", { for: `record-${value}` }, label),
        ),
      ),
    ),
    element("label", { for: "record-body" }, page.text.recordBody),
    element("textarea", { id: "record-body", name: "body", rows: "5" }),
    element("p", { class: "status", id: "record-status", role: "status", "aria-live": "polite" }),
    element("button", { type: "submit" }, page.text.recordSubmit),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(form, async () => {
      const purpose = form.querySelector("#record-correction").checked ? "correction" : "confirmation";
      const body = form.querySelector("#record-body").value;
      if (purpose === "correction" && body.trim() === "") return showErrors(form, [["record-body", page.text.errorCorrectionEmpty]]);
      if (protocol.textEncoder.encode(body).length > protocol.MAXIMUM_BODY_LENGTH) {
        return showErrors(form, [["record-body", page.text.errorBodyTooLong]]);
      }
      clearErrors(form);
      status(form, page.text.working);
      await sealFollowUp(derived, conversation, { body, purpose });
      await showConversation(derived, purpose === "correction" ? page.text.recordCorrected : page.text.recordConfirmed);
    });
  });
  return element(
    "section",
    { id: "record", "aria-labelledby": "record-title" },
    element("h2", { id: "record-title" }, page.text.recordTitle),
    element("p", {}, `${page.text.recordLead} ${by} (${channel}).`),
    unverified,
    form,
  );
}

/** Once the office closed the case: the form to evaluate the process. */
function evaluationSection(derived, conversation, directory) {
  const closed =
    conversation.report.conversation !== "consultation" &&
    conversation.messages.some(({ message, outcome }) => outcome.ok && message.purpose === "closing");
  if (!closed || !directory) return null;
  const organisation = conversation.report.recipients[0].organisation;
  const language = page.language === "en" ? "en" : "nl";
  const form = element(
    "form",
    { id: "evaluation-form", novalidate: true, "data-organisation": organisation },
    evaluationQuestions(directory, organisation).map((question) => questionField(organisation, question, language)),
    element("label", { for: "evaluation-body" }, page.text.evaluationBody),
    element("textarea", { id: "evaluation-body", name: "body", rows: "4" }),
    element("p", { class: "status", id: "evaluation-status", role: "status", "aria-live": "polite" }),
    element("button", { type: "submit" }, page.text.evaluationSubmit),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(form, () => sendEvaluation(form, derived, conversation));
  });
  return element(
    "section",
    { id: "evaluation", "aria-labelledby": "evaluation-title" },
    element("h2", { id: "evaluation-title" }, page.text.evaluationTitle),
    element("p", {}, page.text.evaluationLead),
    form,
  );
}

async function submitCheck(form) {
  const input = form.querySelector("#receipt_code");
  let entropy;
  try {
    entropy = protocol.parseReceiptCode(input.value);
  } catch (error) {
    return showErrors(form, [["receipt_code", codeError(error)]]);
  }
  clearErrors(form);
  status(form, page.text.working);
  const derived = await protocol.deriveKeys(entropy);
  entropy.fill(0);
  try {
    await showConversation(derived);
  } catch (error) {
    if (error instanceof RelayError && error.code === "mailbox-not-found") {
      status(form, "");
      return showErrors(form, [["receipt_code", page.text.errorCodeUnknown]]);
    }
    throw error;
  }
}

// ---------------------------------------------------------------------------------------

/** Runs a form's action, showing any failure next to the form instead of losing it. */
async function run(form, action) {
  busy(form, true);
  try {
    await action();
  } catch (error) {
    status(form, "");
    const field = form.querySelector("#receipt_code")
      ? "receipt_code"
      : (["evaluation-body", "record-body"].find((id) => form.querySelector(`#${id}`)) ?? "body");
    showErrors(form, [[field, error instanceof protocol.ProtocolError && error.kind === "tampered" ? error.message : describe(error)]]);
  } finally {
    busy(form, false);
  }
}

function takeOver(id, action) {
  const form = document.getElementById(id);
  if (!form) return;
  form.noValidate = true;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(form, () => action(form));
  });
}

const mode = document.getElementById("mode");
if (mode && document.getElementById("report-form")) {
  mode.dataset.mode = "script";
  mode.textContent = page.text.modeScript;
} else if (mode && document.getElementById("check-form")) {
  mode.dataset.mode = "script";
  mode.textContent = page.text.modeScriptCheck;
}
takeOver("report-form", submitServerRenderedReport);
takeOver("check-form", submitCheck);
// The no-script conversation page (opened by the server) stays as it is: its forms post.
document.documentElement.dataset.script = "on";

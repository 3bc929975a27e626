// The age-encryption npm package (typage), an independent age implementation, as a command
// for crypto/tests/interop_typage.rs: the Rust crate's hybrid post-quantum (mlkem768x25519)
// and classic files must open here, and files sealed here must open there.
//
//   node scripts/age-interop.mjs keygen            -> a hybrid identity and its recipient
//   node scripts/age-interop.mjs seal RECIPIENT…   stdin -> an age file on stdout
//   node scripts/age-interop.mjs open IDENTITY…    an age file on stdin -> its plaintext
//
// Identities are read from the environment variable AGE_INTEROP_IDENTITIES (one per line),
// never from argv, so that a secret never shows in a process listing.

import * as age from "age-encryption";

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return new Uint8Array(Buffer.concat(chunks));
}

const [command, ...recipients] = process.argv.slice(2);
try {
  if (command === "keygen") {
    const identity = await age.generateHybridIdentity();
    process.stdout.write(`${identity}\n${await age.identityToRecipient(identity)}\n`);
  } else if (command === "seal") {
    const encrypter = new age.Encrypter();
    for (const recipient of recipients) encrypter.addRecipient(recipient);
    process.stdout.write(await encrypter.encrypt(await readStdin()));
  } else if (command === "open") {
    const decrypter = new age.Decrypter();
    for (const identity of (process.env.AGE_INTEROP_IDENTITIES ?? "").split("\n").filter(Boolean)) {
      decrypter.addIdentity(identity);
    }
    process.stdout.write(await decrypter.decrypt(await readStdin(), "uint8array"));
  } else {
    throw new Error(`unknown command ${command}`);
  }
} catch (error) {
  process.stderr.write(`age-interop: ${error.message}\n`);
  process.exit(1);
}

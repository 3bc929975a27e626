// The error every protocol step throws: a stable `kind` for code and tests, a sentence for
// people. In its own module so that the stamp worker can throw it without the rest.

export class ProtocolError extends Error {
  constructor(kind, message, detail = {}) {
    super(message);
    this.name = "ProtocolError";
    this.kind = kind;
    this.detail = detail;
  }
}

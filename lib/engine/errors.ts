// The engine's own error: a refusal or failure said in a database team's words, with the configuration field at
// fault (forms show the message next to it) and a hint where one helps. In a room of its own, so that modules the
// table context depends on can raise it without importing the context.
export class RefreshError extends Error {
  /** The config field at fault, when there is one. */
  readonly field?: string;
  readonly hint?: string;
  constructor(message: string, opts: { field?: string; hint?: string } = {}) {
    super(message);
    this.name = "RefreshError";
    this.field = opts.field;
    this.hint = opts.hint;
  }
}

/** A refresh refused because its environment is in a blackout window (the web answers 409, the CLI exits 4). */
export class BlackoutError extends RefreshError {
  constructor(
    readonly environment: string,
    readonly window: string,
    readonly until: Date,
  ) {
    super(`environment ${environment} is in its blackout window "${window}" until ${until.toISOString().slice(0, 16).replace("T", " ")} UTC: no refresh starts before then`);
    this.name = "BlackoutError";
  }
}

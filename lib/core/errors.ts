/**
 * Errors the library raises on purpose. Each names the thing that is wrong, so a user reading only the
 * message knows what to fix. Catch `IapoError` to tell our errors from bugs.
 */
export class IapoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A configuration value (option, environment variable, preset name) is missing, unknown or out of range. */
export class ConfigError extends IapoError {}

/** A name (environment, optimizer, notebook, backend...) is not one the library knows. */
export class UnknownNameError extends IapoError {
  constructor(kind: string, name: string, known: readonly string[]) {
    super(`unknown ${kind} "${name}"; known: ${known.join(", ")}`);
  }
}

/** A numeric value that must be finite is NaN or infinite (actions, losses, parameters). */
export class NonFiniteError extends IapoError {}

/** A file on disk (run log, checkpoint, notebook) cannot be parsed. */
export class CorruptFileError extends IapoError {}

import { IapoError } from "../core/errors";

/** An action of the wrong shape (length, type) for the env it was given to. */
export class ActionError extends IapoError {}

/** An env used out of order: step before reset, after the episode ended, or after dispose. */
export class EnvPhaseError extends IapoError {}

/** A saved state that does not belong to this env (other task, wrong sizes, malformed). */
export class EnvStateError extends IapoError {}

/**
 * The library's defaults that the CLI's help shows too. They live apart from the modules that apply them, so that
 * the CLI can name them without loading those modules (and what they load) before a command runs.
 */
export const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_REPUBLISH_MS = 5_000;
export const DEFAULT_MIN_VALIDITY_MS = 5 * 60_000;

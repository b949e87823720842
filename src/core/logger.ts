/** Where the library writes its --verbose lines: the CLI passes one that writes to stderr, a program its own. */
export type Logger = (line: string) => void;

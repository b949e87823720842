import { C8yTokenError, EXIT_CODES } from '../core/errors.ts';

const controller = new AbortController();
const INTERRUPTING_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Aborted by SIGINT or SIGTERM, so every wait of a command ends at once and cleans up after itself. */
export const interrupted: AbortSignal = controller.signal;

function interrupt(signal: (typeof INTERRUPTING_SIGNALS)[number]): void {
  const kind = signal === 'SIGINT' ? 'sigint' : 'sigterm';
  // A second signal means the user will not wait for the clean-up.
  if (controller.signal.aborted) process.exit(EXIT_CODES[kind]);
  controller.abort(new C8yTokenError(kind, `interrupted by ${signal}`));
}

/** `exec` stops listening once its command runs: the signals are then forwarded to the command. */
export function listenForInterruptions(listen: boolean): void {
  for (const signal of INTERRUPTING_SIGNALS) {
    if (listen) process.on(signal, interrupt);
    else process.off(signal, interrupt);
  }
}

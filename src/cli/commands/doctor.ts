import { CHECK_NAMES, type DoctorCheck, type DoctorOptions, runDoctor } from '../doctor/checks.ts';
import { EXIT_CODES } from '../../core/errors.ts';
import { skipWasmTierUp } from '../../core/http/agent.ts';
import { write } from '../output.ts';

export interface DoctorCommandOptions extends DoctorOptions {
  json: boolean;
}

const LABEL: Record<DoctorCheck['status'] | 'skipped', string> = {
  ok: 'ok    ',
  warn: 'warn  ',
  failed: 'failed',
  skipped: 'skip  ',
};

/** Prints the report, and only the report: the exit code is the first failed check's, with no line after it. */
export async function doctor(options: DoctorCommandOptions): Promise<void> {
  await skipWasmTierUp();
  // Lines appear as each check finishes: a slow round trip should not look like a hang. On a terminal, a line on
  // stderr also says what is being waited for.
  const printLine = (check: DoctorCheck) =>
    process.stdout.write(reportLine(check.status, check.name, check.summary, check.hint));
  const onStart = process.stderr.isTTY
    ? (name: DoctorCheck['name']) => process.stderr.write(`checking ${name} …\n`)
    : undefined;
  const checks = await runDoctor(options, options.json ? undefined : printLine, onStart);
  const failures = checks.filter((check) => check.status === 'failed');
  if (options.json) {
    const plain = checks.map(({ error: _error, ...check }) => check);
    await write(process.stdout, `${JSON.stringify({ ok: failures.length === 0, checks: plain }, null, 2)}\n`);
  } else if (process.stdout.isTTY) {
    await write(process.stdout, skippedLines(checks));
  }
  await write(process.stdout, '');
  if (failures[0]) process.exitCode = failures[0].error?.exitCode ?? EXIT_CODES.other;
}

function reportLine(label: keyof typeof LABEL, name: string, summary: string, hint?: string): string {
  return `${LABEL[label]}  ${name.padEnd(13)} ${summary}${hint ? `\n${' '.repeat(8)}hint: ${hint}` : ''}\n`;
}

/** The checks after a failure that ended the run, for a reader on a terminal: what was not tried, and why. */
function skippedLines(checks: DoctorCheck[]): string {
  const end = checks.at(-1);
  if (end?.status !== 'failed') return '';
  // `issuer` is checked only when thin-edge names the tenant: not worth a line where it may not apply.
  const skipped = CHECK_NAMES.slice(CHECK_NAMES.indexOf(end.name) + 1).filter((name) => name !== 'issuer');
  return skipped.map((name) => reportLine('skipped', name, `not run: the ${end.name} check failed`)).join('');
}

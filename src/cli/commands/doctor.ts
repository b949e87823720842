import { type DoctorCheck, type DoctorOptions, runDoctor } from '../doctor/checks.ts';
import { C8yTokenError } from '../../core/errors.ts';
import { skipWasmTierUp } from '../../core/http/agent.ts';
import { write } from '../output.ts';

export interface DoctorCommandOptions extends DoctorOptions {
  json: boolean;
}

const LABEL: Record<DoctorCheck['status'], string> = { ok: 'ok    ', warn: 'warn  ', failed: 'failed' };

export async function doctor(options: DoctorCommandOptions): Promise<void> {
  await skipWasmTierUp();
  // Lines appear as each check finishes: a slow round trip should not look like a hang.
  const printLine = (check: DoctorCheck) => {
    const hint = check.hint ? `\n${' '.repeat(8)}hint: ${check.hint}` : '';
    process.stdout.write(`${LABEL[check.status]}  ${check.name.padEnd(13)} ${check.summary}${hint}\n`);
  };
  const checks = await runDoctor(options, options.json ? undefined : printLine);
  const failures = checks.filter((check) => check.status === 'failed');
  if (options.json) {
    const plain = checks.map(({ error: _error, ...check }) => check);
    await write(process.stdout, `${JSON.stringify({ ok: failures.length === 0, checks: plain }, null, 2)}\n`);
  }
  await write(process.stdout, '');
  const first = failures[0];
  if (first) {
    throw new C8yTokenError(first.error?.kind ?? 'other', `doctor: the ${first.name} check failed`);
  }
}

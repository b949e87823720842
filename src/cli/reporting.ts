import { C8yTokenError, describeError, render, type SettingNames, type Wording } from '../core/errors.ts';
import { diagnosticStream } from './output.ts';

/** What the parsed command line says about reporting a failure. */
export interface Reporting {
  verbose: boolean;
  quiet: boolean;
}

/** Each setting a core error can point to, by the flag that sets it. */
export const SETTING_FLAGS: SettingNames = {
  url: '--url',
  minValidity: '--min-validity',
  mqttHost: '--mqtt-host',
  mqttPort: '--mqtt-port',
  mqttCafile: '--mqtt-cafile',
  mqttCert: '--mqtt-cert',
  mqttKey: '--mqtt-key',
  mqttUsername: '--mqtt-username',
  mqttPasswordFile: '--mqtt-password-file',
  topicPrefix: '--topic-prefix',
  profile: '--profile',
  connectTimeout: '--connect-timeout',
  cacert: '--cacert',
  insecure: '-k',
  verbose: '--verbose',
  paginate: '--paginate',
  maxTime: '--max-time',
  retry: '--retry',
};

/** The error's message and hint as the command line shows them: settings named by their flags. */
export function describeFailure(error: C8yTokenError): { message: string; hint: string | undefined } {
  return describeError(error, SETTING_FLAGS);
}

/** Text from the core as the command line shows it: settings named by their flags. */
export function inFlags(text: string | Wording): string {
  return render(text, SETTING_FLAGS);
}

/** The one place where failures become exit codes and messages. */
export function reportError(error: unknown, { verbose, quiet }: Reporting): number {
  if (error instanceof C8yTokenError) {
    // curl's -s hides failures, not mistakes on the command line (a file to upload that cannot be read is one).
    if (quiet && error.kind !== 'usage' && error.kind !== 'read') return error.exitCode;
    const { message, hint } = describeFailure(error);
    const lines = [`c8y-token: ${message}`];
    if (hint) lines.push(`  ${hint}`);
    if (verbose && error.detail) lines.push(`  detail: ${error.detail}`);
    diagnosticStream().write(`${lines.join('\n')}\n`);
    return error.exitCode;
  }
  diagnosticStream().write(
    `c8y-token: unexpected error; please report it with the output of --verbose\n${(error as Error)?.stack ?? String(error)}\n`,
  );
  return 1;
}

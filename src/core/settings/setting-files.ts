import { open } from 'node:fs/promises';
import { C8yTokenError } from '../errors.ts';
import { describeSystemError } from '../system-errors.ts';
import type { BrokerSettings } from './resolve.ts';

/** The settings that name a file the broker connection reads, with what the file is and thin-edge's key for it. */
const FILE_SETTINGS = [
  ['caFile', 'MQTT CA file', 'mqtt.client.auth.ca_file'],
  ['certFile', 'MQTT client certificate', 'mqtt.client.auth.cert_file'],
  ['keyFile', 'MQTT client key', 'mqtt.client.auth.key_file'],
  ['passwordFile', 'MQTT password file', 'mqtt.client.auth.password_file'],
] as const;

/**
 * Fails (kind `usage`) when a file the settings name cannot be read, before any cached token is looked at: a typo
 * is then reported at once, not later when the cached token has expired and the broker must be asked.
 */
export async function assertSettingFilesReadable(settings: BrokerSettings): Promise<void> {
  await Promise.all(
    FILE_SETTINGS.map(async ([key, what, tedgeKey]) => {
      const path = settings[key];
      if (path === undefined) return;
      const problem = await unreadable(path);
      if (problem)
        throw new C8yTokenError('usage', `cannot read the ${what} ${path}: ${problem}`, {
          hint: `check the path, and ${tedgeKey} in \`tedge config list\``,
        });
    }),
  );
}

/** Why the file cannot be read, or undefined when it can. */
async function unreadable(path: string): Promise<string | undefined> {
  try {
    const handle = await open(path, 'r');
    try {
      return (await handle.stat()).isFile() ? undefined : 'not a regular file';
    } finally {
      await handle.close();
    }
  } catch (error) {
    return describeSystemError(error);
  }
}

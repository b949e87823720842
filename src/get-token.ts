import { resolveSettings, type ResolveOptions, type SettingsInput } from './config.ts';
import type { DeviceToken } from './token/claims.ts';
import { requestToken, type RequestOptions } from './token/request.ts';

export interface GetTokenOptions extends SettingsInput, RequestOptions {
  env?: ResolveOptions['env'];
}

/** Resolves the broker settings as the CLI does and asks the cloud bridge for a fresh device token. */
export async function getToken(options: GetTokenOptions = {}): Promise<DeviceToken> {
  const settings = await resolveSettings(options, options.env ? { env: options.env } : {});
  return requestToken(settings, options);
}

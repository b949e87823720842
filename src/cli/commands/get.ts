import { getToken, type GetTokenOptions } from '../../core/get-token.ts';
import { stdoutCarriesData, write } from '../output.ts';
import type { DeviceToken } from '../../core/token/claims.ts';

export const TOKEN_FORMATS = ['token', 'json', 'header'] as const;
export type TokenFormat = (typeof TOKEN_FORMATS)[number];

export interface GetCommandOptions extends GetTokenOptions {
  format: TokenFormat;
}

export async function get(options: GetCommandOptions): Promise<void> {
  stdoutCarriesData();
  const token = await getToken(options);
  await write(process.stdout, `${formatToken(token, options.format)}\n`);
}

export function formatToken(token: DeviceToken, format: TokenFormat): string {
  switch (format) {
    case 'token':
      return token.token;
    case 'header':
      return `Authorization: Bearer ${token.token}`;
    case 'json':
      return JSON.stringify(
        {
          token: token.token,
          baseUrl: token.baseUrl,
          tenant: token.tenant,
          user: token.user,
          expiresAt: token.expiresAt?.toISOString(),
          clockOffsetMs: token.clockOffsetMs,
          claims: token.claims,
        },
        null,
        2,
      );
  }
}

import { skipWasmTierUp } from '../http/agent.ts';
import { curl as request, type CurlOptions } from '../http/curl.ts';

export type CurlCommandOptions = CurlOptions;

export async function curl(options: CurlCommandOptions): Promise<void> {
  await skipWasmTierUp();
  await request(options, process);
}

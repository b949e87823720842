import { skipWasmTierUp } from '../../core/http/agent.ts';
import { curl as request, type CurlOptions } from '../curl/run.ts';
import { stdoutCarriesData } from '../output.ts';

export type CurlCommandOptions = CurlOptions;

export async function curl(options: CurlCommandOptions): Promise<void> {
  stdoutCarriesData();
  await skipWasmTierUp();
  await request(options, process);
}

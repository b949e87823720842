import { appendFileSync } from 'node:fs';
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

/**
 * Preloaded with `--import`, appends the URL of every module Node loads to $C8Y_TOKEN_MODULE_LOG, so a test can see
 * which parts of the bundle a command pulled in. Node runs module hooks in a worker thread, from this same file.
 */
if (isMainThread) register(import.meta.url);

type Load = (url: string, context: object) => Promise<unknown>;

export async function load(url: string, context: object, nextLoad: Load): Promise<unknown> {
  appendFileSync(process.env.C8Y_TOKEN_MODULE_LOG ?? '/dev/null', `${url}\n`);
  return nextLoad(url, context);
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.ts';

export interface DocExample {
  lang: 'js' | 'ts';
  code: string;
  /** The `## ` heading the example is under ('' before the first). */
  section: string;
}

/** The fenced `js` and `ts` examples of a Markdown file of the repository, in order. */
export function docExamples(file: string): DocExample[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  let section = '';
  const examples: DocExample[] = [];
  for (const [, heading, lang, code] of text.matchAll(/^## (.*)$|^```(js|ts)\n([\s\S]*?)^```$/gm)) {
    if (heading !== undefined) section = heading;
    else examples.push({ lang: lang as DocExample['lang'], code: code!, section });
  }
  return examples;
}

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Metafile } from 'esbuild';

/**
 * The license of every npm package whose code went into the bundle: the bundle is a copy of their code, and
 * the Debian package has no node_modules where their license files would otherwise be.
 */
export async function thirdPartyLicenses(bundle: string, metafile: Metafile, root: string): Promise<string> {
  const packageDirs = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const dir = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1];
      if (dir && bytesInOutput > 0) packageDirs.add(dir);
    }
  }
  const sections = [];
  for (const dir of [...packageDirs].sort()) {
    const pkg = JSON.parse(await readFile(join(root, dir, 'package.json'), 'utf8')) as Record<string, string>;
    const licenseFile = (await readdir(join(root, dir))).find((name) => /^(licen[cs]e|copying)/i.test(name));
    const text = licenseFile ? await readFile(join(root, dir, licenseFile), 'utf8') : `License: ${pkg.license}\n`;
    const title = `${pkg.name} ${pkg.version} (${pkg.license})`;
    sections.push(`${title}\n${'-'.repeat(title.length)}\n\n${text.trim()}\n`);
  }
  return `The c8y-token ${bundle} bundle contains code from these packages:\n\n${sections.join('\n\n')}`;
}

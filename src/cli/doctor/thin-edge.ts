import { findExecutable, tedgeConfigFiles } from '../../core/settings/tedge-files.ts';
import type { ResolvedSettings } from '../../core/settings/resolve.ts';

export interface ThinEdgeFacts {
  /** The tedge executable on PATH; undefined when thin-edge is not installed (or not on PATH). */
  tedge: string | undefined;
  /** The configuration files that exist, of those tedge reads. */
  files: string[];
}

/** What doctor says about thin-edge itself: which tedge was asked, and which of its files it had to read. */
export async function thinEdgeFacts(configDir: string | undefined, env: NodeJS.ProcessEnv): Promise<ThinEdgeFacts> {
  const [tedge, files] = await Promise.all([findExecutable('tedge', env.PATH ?? ''), tedgeConfigFiles(configDir)]);
  return { tedge: tedge?.path, files: files.filter((file) => file.stats?.isFile()).map((file) => file.path) };
}

/** `tedge /usr/bin/tedge read /etc/tedge/tedge.toml, ...; built-in bridge, user device (tedge)`. */
export function describeThinEdge(facts: ThinEdgeFacts, settings: ResolvedSettings): string {
  const read = facts.files.length > 0 ? `read ${facts.files.join(', ')}` : 'found none of its configuration files';
  const tedge = facts.tedge ? `tedge ${facts.tedge} ${read}` : "tedge not found on PATH: thin-edge's settings unknown";
  const bridge =
    settings.bridgeKind === 'built-in'
      ? 'built-in bridge (mqtt.bridge.built_in=true)'
      : settings.bridgeKind === 'mosquitto'
        ? 'mosquitto bridge (mqtt.bridge.built_in=false)'
        : 'bridge kind not configured';
  const user = settings.username
    ? `broker user ${settings.username} (${settings.sources.username})` +
      (settings.passwordFile ? `, password from ${settings.passwordFile}` : ', no password')
    : 'no broker user';
  return `${tedge}; ${bridge}; ${user}`;
}

import { DEFAULT_MIN_VALIDITY_MS, DEFAULT_REPUBLISH_MS, DEFAULT_TIMEOUT_MS } from '../core/defaults.ts';
import type { CurlCommandOptions } from './commands/curl.ts';
import type { GetTokenOptions } from '../core/get-token.ts';
import type { DataArg } from './curl/data.ts';
import { interrupted } from './interruption.ts';
import { verboseLogger, warn } from './output.ts';

/** Options every command that talks to the broker shares, as commander hands them over. */
export interface BrokerFlags {
  mqttHost?: string;
  mqttPort?: number;
  mqttCafile?: string;
  mqttCapath?: string;
  mqttCert?: string;
  mqttKey?: string;
  mqttUsername?: string;
  mqttPasswordFile?: string;
  topicPrefix?: string;
  profile?: string;
  configDir?: string;
  timeout: number;
  republish: number;
  /** false with --no-cache; absent (as is minValidity) for doctor, which always asks the bridge. */
  cache?: boolean;
  minValidity?: number;
  verbose?: boolean;
}

/** `env` and `exec` (and every command that calls the tenant) take the tenant URL override. */
export interface UrlFlags {
  url?: string;
}

/**
 * The flags commander gives `get` (with `format: 'token'`) and `curl PATH` when the command line holds nothing else
 * (test/cli.test.ts compares them).
 */
export const DEFAULT_FLAGS: BrokerFlags = {
  timeout: DEFAULT_TIMEOUT_MS,
  republish: DEFAULT_REPUBLISH_MS,
  minValidity: DEFAULT_MIN_VALIDITY_MS,
  cache: true,
};

/** How `curl` and `doctor` reach the tenant, as commander hands them over. */
export interface ConnectionFlags {
  insecure?: boolean;
  cacert?: string;
  capath?: string;
  proxy?: string;
  noproxy?: string;
}

/** `curl`'s own options, as commander hands them over. */
export interface CurlFlags extends BrokerFlags, UrlFlags, ConnectionFlags {
  request?: string;
  header?: string[];
  form?: string[];
  get?: boolean;
  urlQuery?: string[];
  include?: boolean;
  head?: boolean;
  output?: string;
  dumpHeader?: string;
  stderr?: string;
  writeOut?: string;
  fail?: boolean;
  failWithBody?: boolean;
  silent?: boolean;
  /** false with --no-progress-meter. */
  progressMeter?: boolean;
  userAgent?: string;
  referer?: string;
  range?: string;
  compressed?: boolean;
  uploadFile?: string;
  continueAt?: number | '-';
  createDirs?: boolean;
  location?: boolean;
  maxRedirs?: number;
  maxTime?: number;
  connectTimeout?: number;
  retry?: number;
  retryDelay?: number;
  retryMaxTime?: number;
  retryConnrefused?: boolean;
  retryAllErrors?: boolean;
  paginate?: boolean;
  pageSize?: number;
  pretty?: boolean;
  raw?: boolean;
}

/** Turns commander's flags into the library's options: the library never sees argv's shape. */
export function tokenOptions(flags: BrokerFlags): GetTokenOptions {
  return {
    signal: interrupted,
    mqttHost: flags.mqttHost,
    mqttPort: flags.mqttPort,
    mqttCafile: flags.mqttCafile,
    mqttCapath: flags.mqttCapath,
    mqttCert: flags.mqttCert,
    mqttKey: flags.mqttKey,
    mqttUsername: flags.mqttUsername,
    mqttPasswordFile: flags.mqttPasswordFile,
    topicPrefix: flags.topicPrefix,
    profile: flags.profile,
    configDir: flags.configDir,
    timeoutMs: flags.timeout,
    republishMs: flags.republish,
    cache: flags.cache,
    minValidity: flags.minValidity,
    log: verboseLogger(flags.verbose === true),
    warn,
  };
}

export function connectionOptions(flags: ConnectionFlags) {
  return {
    insecure: flags.insecure,
    cacert: flags.cacert,
    capath: flags.capath,
    proxy: flags.proxy,
    noProxy: flags.noproxy,
  };
}

/** `data` holds -d, --data-binary, --data-raw and --json in command-line order; `version` names c8y-token to the tenant. */
export function curlOptions(path: string, flags: CurlFlags, data: DataArg[], version: string): CurlCommandOptions {
  return {
    ...tokenOptions(flags),
    ...connectionOptions(flags),
    path,
    url: flags.url,
    method: flags.request,
    headers: flags.header,
    data,
    form: flags.form,
    get: flags.get,
    urlQuery: flags.urlQuery,
    head: flags.head,
    include: flags.include,
    output: flags.output,
    dumpHeader: flags.dumpHeader,
    stderr: flags.stderr,
    writeOut: flags.writeOut,
    fail: flags.fail,
    failWithBody: flags.failWithBody,
    silent: flags.silent,
    verbose: flags.verbose,
    location: flags.location,
    maxRedirects: flags.maxRedirs,
    progressMeter: flags.progressMeter,
    createDirs: flags.createDirs,
    referer: flags.referer,
    range: flags.range,
    compressed: flags.compressed,
    uploadFile: flags.uploadFile,
    continueAt: flags.continueAt,
    maxTimeMs: flags.maxTime,
    tenantConnectTimeoutMs: flags.connectTimeout,
    retry: flags.retry,
    retryDelayMs: flags.retryDelay,
    retryMaxTimeMs: flags.retryMaxTime,
    retryConnRefused: flags.retryConnrefused,
    retryAllErrors: flags.retryAllErrors,
    paginate: flags.paginate,
    pageSize: flags.pageSize,
    pretty: flags.pretty ? true : flags.raw ? false : undefined,
    userAgent: flags.userAgent ?? `c8y-token/${version}`,
  };
}

import { readFileSync } from 'node:fs';
import { isToken } from '../http/http-chars.js';
import { SettingError } from './settings.js';

/** What the proxy hands its upstream beside the traffic: the stdio child's environment, the HTTP upstream's extra headers. */
export interface ProxyExtras {
  /** Variables the stdio child gets beside the SDK's default few (HOME, PATH, ...). */
  env: Record<string, string>;
  /** Headers sent on every request to the HTTP upstream (Authorization, an API key). */
  headers: Record<string, string>;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Headers the proxy sets per request itself, or that belong to one hop. */
const RESERVED = new Set(['host', 'content-length', 'content-type', 'accept', 'accept-encoding', 'connection', 'transfer-encoding', 'mcp-session-id', 'mcp-protocol-version', 'last-event-id']);

/**
 * `--env KEY` (the value from mcp-exporter's own environment) or `--env KEY=VALUE`;
 * `--upstream-header "Name: value"`; `--upstream-header-file "Name: /path"` (the value is
 * the file's content, its last line break dropped: for secrets). Errors name the flag and
 * the variable or header, never a value.
 */
export function proxyExtras(
  given: { env?: readonly string[]; header?: readonly string[]; headerFile?: readonly string[] },
  environment: Readonly<Record<string, string | undefined>>,
  read: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): ProxyExtras {
  const env: Record<string, string> = {};
  for (const item of given.env ?? []) {
    const eq = item.indexOf('=');
    const name = eq === -1 ? item : item.slice(0, eq);
    if (!ENV_NAME.test(name)) throw new SettingError(`--env: "${name.slice(0, 64)}" is not a variable name; use --env NAME or --env NAME=value`);
    const value = eq === -1 ? environment[name] : item.slice(eq + 1);
    if (value === undefined) throw new SettingError(`--env ${name}: not set in mcp-exporter's environment; set it, or give --env ${name}=value`);
    env[name] = value;
  }
  const headers: Record<string, string> = {};
  const add = (flag: string, item: string, value: (rest: string, name: string) => string): void => {
    const colon = item.indexOf(':');
    const name = (colon === -1 ? item : item.slice(0, colon)).trim();
    if (colon === -1 || !isToken(name)) throw new SettingError(`${flag}: expected "Name: value", got a header without a valid name`);
    if (RESERVED.has(name.toLowerCase())) throw new SettingError(`${flag} ${name}: the proxy sets this header itself`);
    const text = value(item.slice(colon + 1).trim(), name);
    if (/[\r\n\0]/.test(text)) throw new SettingError(`${flag} ${name}: the value has a line break or NUL`);
    headers[name.toLowerCase()] = text;
  };
  for (const item of given.header ?? []) add('--upstream-header', item, (rest) => rest);
  for (const item of given.headerFile ?? []) {
    add('--upstream-header-file', item, (path, name) => {
      try {
        return read(path).replace(/\r?\n$/, '');
      } catch (error) {
        throw new SettingError(`--upstream-header-file ${name}: cannot read ${path} (${(error as { code?: string }).code ?? 'error'})`);
      }
    });
  }
  return { env, headers };
}

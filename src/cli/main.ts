#!/usr/bin/env node
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { VERSION } from '../version.js';
import { helpText } from './help.js';
import { splitCommand } from '../proxy/relay-bridge.js';
import { loadgenHelp, runLoadgen } from './loadgen.js';
import { runServe } from './serve.js';
import { proxyExtras, type ProxyExtras } from './proxy-options.js';
import { DEFINITIONS, resolveSettings, SettingError } from './settings.js';

const version = VERSION;

/** Exit code for a bad command line or setting, as most CLIs use for usage errors. */
const USAGE_ERROR = 2;

function fail(message: string): never {
  process.stderr.write(`mcp-exporter: ${message}\n`);
  process.exit(USAGE_ERROR);
}

async function main(argv: string[]): Promise<void> {
  // Commands with flags of their own take the rest of the line.
  if (argv[0] === 'loadgen') {
    const rest = argv.slice(1);
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(loadgenHelp());
      return;
    }
    try {
      await runLoadgen(rest);
    } catch (error) {
      if (error instanceof SettingError) fail(error.message);
      throw error;
    }
    return;
  }
  const options: ParseArgsConfig['options'] = {
    'no-monitoring': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean' },
    stdio: { type: 'string' },
    upstream: { type: 'string' },
    env: { type: 'string', multiple: true },
    'upstream-header': { type: 'string', multiple: true },
    'upstream-header-file': { type: 'string', multiple: true },
  };
  for (const def of DEFINITIONS) options[def.flag] = { type: 'string' };
  let values: Record<string, string | boolean | string[] | undefined>;
  let positionals: string[];
  try {
    const parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    values = parsed.values as Record<string, string | boolean | string[] | undefined>;
    positionals = parsed.positionals;
  } catch (error) {
    fail(`${error instanceof Error ? error.message : String(error)}; see mcp-exporter --help`);
  }
  const [command = 'serve', ...rest] = positionals;
  if (values.help === true || command === 'help') {
    // The command named on the line, not the default one: bare --help is the global help.
    const topic = command === 'help' ? rest[0] : positionals[0];
    if (topic === 'loadgen') process.stdout.write(loadgenHelp());
    else process.stdout.write(helpText(version, topic === 'serve' || topic === 'proxy' ? topic : undefined));
    return;
  }
  if (values.version === true || command === 'version') {
    process.stdout.write(`mcp-exporter ${version}\n`);
    return;
  }
  if (command !== 'serve' && command !== 'proxy') fail(`unknown command "${command}"; commands: serve, proxy, loadgen, help, version`);
  let stdio: string[] | undefined;
  let upstream: URL | undefined;
  if (command === 'proxy' && typeof values.upstream === 'string') {
    if (values.stdio !== undefined) fail('proxy: give --stdio or --upstream, not both');
    try {
      upstream = new URL(values.upstream);
    } catch {
      fail(`--upstream: "${values.upstream}" is not a URL; use e.g. http://127.0.0.1:8080/mcp`);
    }
    if (upstream.protocol !== 'http:' && upstream.protocol !== 'https:') fail(`--upstream: "${values.upstream}" is not an http(s) URL`);
  } else if (command === 'proxy') {
    if (typeof values.stdio !== 'string') fail('proxy: --stdio "<command> [args]" or --upstream <url> is required, e.g. --stdio "npx -y @modelcontextprotocol/server-everything"');
    try {
      stdio = splitCommand(values.stdio);
    } catch (error) {
      fail(`--stdio: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (stdio.length === 0) fail('--stdio: the command is empty');
  } else if (values.stdio !== undefined || values.upstream !== undefined) {
    fail('--stdio and --upstream go with the proxy command: mcp-exporter proxy --stdio "<command>"');
  }
  if (rest.length > 0) fail(`unexpected argument "${rest[0]}"; see mcp-exporter --help`);
  const list = (name: string): string[] => (values[name] as string[] | undefined) ?? [];
  if (!stdio && list('env').length > 0) fail('--env goes with proxy --stdio: it sets the stdio child\'s environment');
  if (!upstream && list('upstream-header').length + list('upstream-header-file').length > 0) fail('--upstream-header goes with proxy --upstream');
  let extras: ProxyExtras;
  try {
    extras = proxyExtras({ env: list('env'), header: list('upstream-header'), headerFile: list('upstream-header-file') }, process.env);
  } catch (error) {
    if (error instanceof SettingError) fail(error.message);
    throw error;
  }
  for (const name of ['env', 'upstream-header', 'upstream-header-file']) delete values[name];

  let settings;
  try {
    settings = resolveSettings(values as Record<string, string | boolean | undefined>, process.env);
  } catch (error) {
    if (error instanceof SettingError) fail(error.message);
    throw error;
  }
  await runServe(settings, version, stdio ? { stdio, env: extras.env } : upstream ? { upstream, headers: extras.headers } : {});
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`mcp-exporter: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

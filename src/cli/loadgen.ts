import { parseArgs, type ParseArgsConfig } from 'node:util';
import { LoadGenerator, type LoadOptions, type LoadSummary } from '../loadgen/load-generator.js';
import { pad } from './help.js';
import { SettingError } from './settings.js';

/** Flags of `loadgen`, their defaults and help, in --help order. */
export const LOADGEN_FLAGS = [
  { flag: 'url', shown: '<mcp url>', help: 'MCP endpoint to drive; repeat for several (sessions alternate).' },
  { flag: 'rate', shown: '5', help: 'New sessions per second.' },
  { flag: 'calls', shown: '3', help: 'Tool calls per session.' },
  { flag: 'error-share', shown: '0.1', help: 'Share of calls that fail on purpose (tool errors).' },
  { flag: 'idle-share', shown: '0.1', help: 'Share of sessions that end without DELETE (left to the idle timeout).' },
  { flag: 'drop-share', shown: '0.05', help: 'Share of sessions that drop their connection mid-call.' },
  { flag: 'duration', shown: '60', help: 'Seconds to keep starting sessions (0: no time limit; needs --sessions).' },
  { flag: 'sessions', shown: '0', help: 'Stop after this many sessions (0: no count limit).' },
  { flag: 'concurrency', shown: '50', help: 'Sessions running at once at most.' },
  { flag: 'modern-share', shown: '0', help: 'Share of clients that speak the 2026-07-28 revision (SDK v2 client pinned to it; the server must speak it too).' },
  { flag: 'listen-share', shown: '0.5', help: 'Share of those that hold a subscriptions/listen stream while they call.' },
  { flag: 'seed', shown: '1', help: 'Seed of the random choices, so runs repeat.' },
  { flag: 'client-names', shown: '<names>', help: 'Client names used in turn, comma-separated (default claude-desktop,cursor,vscode,zed,inspector).' },
] as const;

function number(raw: string | undefined, fallback: number, where: string, min: number, max: number, whole: boolean): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max || (whole && !Number.isInteger(value))) {
    throw new SettingError(`${where}: "${raw}" is out of range; use ${whole ? 'a whole number' : 'a number'} from ${min} to ${max}`);
  }
  return value;
}

/** Parses `loadgen` arguments into load options. Throws SettingError. */
export function parseLoadgenArgs(argv: readonly string[]): LoadOptions {
  const options: ParseArgsConfig['options'] = { url: { type: 'string', multiple: true } };
  for (const { flag } of LOADGEN_FLAGS) if (flag !== 'url') options[flag] = { type: 'string' };
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    const parsed = parseArgs({ args: [...argv], options, allowPositionals: false, strict: true });
    values = parsed.values as Record<string, string | string[] | boolean | undefined>;
  } catch (error) {
    throw new SettingError(`${error instanceof Error ? error.message : String(error)}; see mcp-exporter loadgen --help`);
  }
  const text = (name: string): string | undefined => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };
  const urls = Array.isArray(values.url) ? values.url : [];
  if (urls.length === 0) throw new SettingError('--url: at least one MCP endpoint is required, e.g. --url http://127.0.0.1:3000/mcp');
  for (const url of urls) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new SettingError(`--url: "${url}" is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new SettingError(`--url: "${url}" is not an http(s) URL`);
  }
  const load: LoadOptions = {
    urls,
    rate: number(text('rate'), 5, '--rate', 0.01, 10_000, false),
    callsPerSession: number(text('calls'), 3, '--calls', 0, 10_000, true),
    errorShare: number(text('error-share'), 0.1, '--error-share', 0, 1, false),
    idleShare: number(text('idle-share'), 0.1, '--idle-share', 0, 1, false),
    dropShare: number(text('drop-share'), 0.05, '--drop-share', 0, 1, false),
    modernShare: number(text('modern-share'), 0, '--modern-share', 0, 1, false),
    listenShare: number(text('listen-share'), 0.5, '--listen-share', 0, 1, false),
    durationSeconds: number(text('duration'), 60, '--duration', 0, 86_400, false),
    maxSessions: number(text('sessions'), 0, '--sessions', 0, 10_000_000, true),
    concurrency: number(text('concurrency'), 50, '--concurrency', 1, 100_000, true),
    seed: number(text('seed'), 1, '--seed', 0, 2 ** 32 - 1, true),
    clientNames: (text('client-names') ?? 'claude-desktop,cursor,vscode,zed,inspector').split(',').map((n) => n.trim()).filter((n) => n !== ''),
  };
  if (load.idleShare + load.dropShare > 1) {
    throw new SettingError(`--idle-share + --drop-share: ${load.idleShare + load.dropShare} is over 1`);
  }
  if (load.durationSeconds === 0 && load.maxSessions === 0) {
    throw new SettingError('--duration: 0 needs --sessions, so the run ends by itself');
  }
  if (load.clientNames.length === 0) throw new SettingError('--client-names: give at least one name');
  return load;
}

export function loadgenHelp(): string {
  const width = 34;
  return [
    'usage: mcp-exporter loadgen --url <mcp url> [<flags>]',
    '',
    'Real MCP client traffic for demos, dashboards and alert tests: sessions that open,',
    'call tools, fail, go idle, drop their connection and close. Progress goes to stderr',
    'every second; the summary is printed to stderr and, as JSON, to stdout.',
    '',
    'Flags:',
    ...LOADGEN_FLAGS.map(({ flag, shown, help }) => `${pad(`      --${flag}=${shown}`, width)}${help}`),
    '',
    'Exit code 0 when the run ended, 1 when no session could start (the summary says why),',
    '2 for a bad flag.',
    '',
  ].join('\n');
}

function progressLine(elapsed: number, active: number, s: LoadSummary): string {
  return `[${elapsed.toFixed(1).padStart(6)}s] sessions ${s.sessionsStarted} started, ${active} running, ${s.sessionsFailed} failed | calls ${s.calls}: ${s.callsOk} ok, ${s.toolErrors} tool errors, ${s.callsFailed} failed`;
}

function summaryText(s: LoadSummary): string {
  const rows: [string, number | string][] = [
    ['elapsed (s)', s.elapsedSeconds],
    ['sessions started', s.sessionsStarted],
    ['  ended by DELETE', s.deleted],
    ['  left idle', s.idled],
    ['  dropped mid-call', s.dropped],
    ['clients of 2026-07-28 (no session)', s.modernClients],
    ['  with a listen stream', s.listens],
    ['sessions that failed to start', s.sessionsFailed],
    ['tool calls', s.calls],
    ['  ok', s.callsOk],
    ['  tool errors', s.toolErrors],
    ['  failed (dropped or refused)', s.callsFailed],
  ];
  const failures = Object.entries(s.failures);
  return [
    'summary:',
    ...rows.map(([label, value]) => `  ${label.padEnd(32)}${String(value).padStart(10)}`),
    ...(failures.length ? ['failures, by reason:', ...failures.map(([reason, count]) => `  ${reason.padEnd(32)}${String(count).padStart(10)}`)] : []),
  ].join('\n');
}

/** `mcp-exporter loadgen`: runs, reports progress, prints the summary; SIGINT/SIGTERM stop it early. */
export async function runLoadgen(argv: readonly string[]): Promise<void> {
  const options = parseLoadgenArgs(argv);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const generator = new LoadGenerator(options);
  process.stderr.write(
    `loadgen: ${options.rate}/s new sessions to ${options.urls.length} endpoint(s), ${options.callsPerSession} calls each` +
      `${options.durationSeconds > 0 ? `, for ${options.durationSeconds}s` : ''}${options.maxSessions > 0 ? `, ${options.maxSessions} sessions at most` : ''}\n`,
  );
  const summary = await generator.run(stop.signal, ({ elapsedSeconds, active, summary: s }) => {
    process.stderr.write(`${progressLine(elapsedSeconds, active, s)}\n`);
  });
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.stderr.write(`${summaryText(summary)}\n`);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  // Nothing could start: the target is wrong or down. Say why and fail, so scripts notice.
  const started = summary.sessionsStarted + summary.modernClients;
  if (started === 0 && summary.sessionsFailed > 0) {
    const [reason = 'unknown'] = Object.keys(summary.failures);
    process.stderr.write(`loadgen: none of ${summary.sessionsFailed} sessions could start (${reason}); is the server at ${options.urls.join(', ')} up?\n`);
    process.exitCode = 1;
  }
}

/**
 * The README and docs/ as a reader follows them: every relative link lands on a file (and a
 * heading) that exists, the README stays a first screen and a few more, and the alert rules'
 * runbook links point into this repository as package.json names it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFINITIONS } from '../src/cli/settings.js';
import { shippedRules } from './prometheus-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOCS = ['README.md', 'CHANGELOG.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

/** The anchors GitHub gives a Markdown file's headings: lower case, spaces to -, other punctuation dropped. */
const anchors = (markdown: string): string[] =>
  [...markdown.replace(/```[\s\S]*?```/g, '').matchAll(/^#{1,6} (.+)$/gm)].map((m) => (m[1] ?? '').trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-'));

describe('the documentation', () => {
  it('has a README of about 200 lines at most', () => {
    expect(read('README.md').split('\n').length).toBeLessThanOrEqual(200);
  });

  it('links only to files and headings that exist', () => {
    const broken: string[] = [];
    for (const file of DOCS) {
      const text = read(file).replace(/```[\s\S]*?```/g, '');
      for (const [, target = ''] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) continue;
        const [path = '', anchor] = target.split('#');
        const resolved = path === '' ? file : normalize(join(dirname(file), path));
        if (!existsSync(join(ROOT, resolved))) broken.push(`${file}: ${target} (no ${resolved})`);
        else if (anchor !== undefined && resolved.endsWith('.md') && !anchors(read(resolved)).includes(anchor)) broken.push(`${file}: ${target} (no heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('links every document of docs/ from the README', () => {
    const readme = read('README.md');
    expect(DOCS.filter((file) => file.startsWith('docs/') && !readme.includes(`](${file})`))).toEqual([]);
  });

  it("points every alert's runbook_url into the repository package.json names", () => {
    const manifest = JSON.parse(read('package.json')) as { repository: { url: string }; homepage: string; bugs: { url: string } };
    const repository = manifest.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');
    expect([manifest.homepage, manifest.bugs.url]).toEqual([`${repository}#readme`, `${repository}/issues`]);
    const rules = shippedRules();
    expect(rules.length).toBeGreaterThanOrEqual(9);
    expect(rules.filter((rule) => !rule.annotations?.runbook_url?.startsWith(`${repository}/blob/main/docs/runbooks.md#`)).map((rule) => rule.alert)).toEqual([]);
  });

  it('lists every setting in docs/settings.md with its flag and its environment variable', () => {
    const settings = read('docs/settings.md');
    const missing = DEFINITIONS.filter((def) => !settings.includes(`| \`--${def.flag}\` | \`${def.env}\` |`)).map((def) => def.flag);
    expect(missing).toEqual([]);
  });
});

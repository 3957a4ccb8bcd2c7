/**
 * `npm ci` on a clean machine warns about nothing the project can avoid: every package of the
 * lockfile with an install script is decided in package.json's `allowScripts` (npm 11 warns
 * about each one that is not), so a new dependency with a script shows here first.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const json = <T>(file: string): T => JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as T;

describe('install scripts', () => {
  it('are each allowed or denied in package.json, and none is needed', () => {
    const lock = json<{ packages: Record<string, { hasInstallScript?: boolean }> }>('package-lock.json');
    const withScripts = [...new Set(Object.entries(lock.packages).filter(([, entry]) => entry.hasInstallScript).map(([path]) => path.split('node_modules/').at(-1) ?? ''))].sort();
    const { allowScripts } = json<{ allowScripts?: Record<string, boolean> }>('package.json');
    // esbuild's postinstall checks the platform binary npm already installs as an optional
    // dependency; protobufjs's only warns about version schemes. The suite runs without either.
    expect(allowScripts).toEqual({ esbuild: false, protobufjs: false });
    expect(withScripts).toEqual(Object.keys(allowScripts ?? {}).sort());
  });

  it('the CLI package decides the same for what it installs (its npm-shrinkwrap.json)', () => {
    const shrinkwrap = json<{ packages: Record<string, { hasInstallScript?: boolean }> }>('cli/npm-shrinkwrap.json');
    const withScripts = [...new Set(Object.entries(shrinkwrap.packages).filter(([, entry]) => entry.hasInstallScript).map(([path]) => path.split('node_modules/').at(-1) ?? ''))].sort();
    const { allowScripts } = json<{ allowScripts?: Record<string, boolean> }>('cli/package.json');
    expect(allowScripts).toEqual({ protobufjs: false });
    expect(withScripts).toEqual(Object.keys(allowScripts ?? {}).sort());
  });
});

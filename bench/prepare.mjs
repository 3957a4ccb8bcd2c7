// Before the bench: dist-bench gets the package.json the compiled code reads its version
// from, and bench/baseline gets the SDKs as users install them (npm ci from its own lockfile),
// unless they are there already.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, statSync } from 'node:fs';

copyFileSync('package.json', 'dist-bench/package.json');
const installed = 'bench/baseline/node_modules/.package-lock.json';
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync('bench/baseline/package-lock.json').mtimeMs) {
  process.stderr.write('bench: installing the baseline SDKs in bench/baseline (npm ci)\n');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--silent'], { cwd: 'bench/baseline', stdio: 'inherit' });
}

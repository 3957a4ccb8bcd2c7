// Writes cli/npm-shrinkwrap.json from the repository's package-lock.json: the CLI package's
// dependency tree at exactly the versions the repository installs and tests. Run it
// (`npm run cli:lock`) after changing a dependency of the CLI or updating the lockfile; the
// package test fails while the two disagree.
import { execFileSync } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';

const cli = new URL('../cli/', import.meta.url);
rmSync(new URL('npm-shrinkwrap.json', cli), { force: true });
copyFileSync(new URL('../package-lock.json', import.meta.url), new URL('package-lock.json', cli));
const npm = (args) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd: cli, stdio: 'inherit' });
// npm keeps every locked version that still fits and drops what the CLI does not need.
npm(['install', '--package-lock-only', '--ignore-scripts']);
npm(['shrinkwrap']);

// Stages the CLI package (cli/): builds the repository, then copies the build, the license,
// the dashboards and the alert rules into cli/. `npm pack ./cli` runs it (prepack); the
// package ships the whole build, so the command never mixes with a library copy of
// another version that a project may have installed.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const cli = new URL('../cli/', import.meta.url);
execFileSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
for (const path of ['dist', 'LICENSE', 'grafana', 'prometheus']) rmSync(new URL(path, cli), { recursive: true, force: true });
cpSync(new URL('dist', root), new URL('dist', cli), { recursive: true });
cpSync(new URL('LICENSE', root), new URL('LICENSE', cli));
for (const path of ['grafana/dashboards', 'grafana/provisioning', 'prometheus']) cpSync(new URL(path, root), new URL(path, cli), { recursive: true });

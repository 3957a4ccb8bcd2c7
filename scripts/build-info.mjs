// Writes dist/build-info.json: the commit mcp_exporter_build_info reports. `npm run build` runs it.
// MCP_EXPORTER_REVISION wins (a Docker build has no .git: pass --build-arg REVISION=$(git rev-parse --short=12 HEAD)).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

let revision = process.env.MCP_EXPORTER_REVISION || '';
if (!revision) {
  try {
    revision = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    revision = 'unknown';
  }
}
writeFileSync(new URL('../dist/build-info.json', import.meta.url), `${JSON.stringify({ revision })}\n`);

import { collectDefaultMetrics, type Registry } from 'prom-client';
import { addBuildInfo } from './build-info.js';

/**
 * prom-client's default gauges that end in `_total`, which `promtool check metrics`
 * rejects; each is the sum of a gauge that stays (e.g. nodejs_active_handles{type}).
 */
const LINT_FAILING = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** Adds process and Node.js runtime metrics (CPU, memory, event-loop lag) and `mcp_exporter_build_info` to `registry`. */
export function addProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  addBuildInfo(registry);
  for (const name of LINT_FAILING) registry.removeSingleMetric(name);
}

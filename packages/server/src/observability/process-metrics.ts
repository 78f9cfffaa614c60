import { readdirSync, statSync } from 'node:fs';
import { Gauge, collectDefaultMetrics, type Registry } from 'prom-client';

/**
 * prom-client defaults that enumerate every handle (every socket) at each scrape: with 10k
 * connections one scrape spent ~20 ms of the node's CPU on them. `tidings_connections` counts
 * the connections instead.
 */
const PER_HANDLE_DEFAULTS = ['nodejs_active_handles', 'nodejs_active_handles_total', 'nodejs_active_resources', 'nodejs_active_resources_total'];

/**
 * Open file descriptors. Linux ≥ 6.2 reports their count as the size of `/proc/self/fd`, read in
 * one stat; older kernels report 0, and the directory is listed as prom-client does (one entry per
 * descriptor: ~13 ms a scrape with 10k connections).
 */
function openFds(): number {
  const size = statSync('/proc/self/fd').size;
  return size > 0 ? size : readdirSync('/proc/self/fd').length - 1;
}

/**
 * Registers the exporter's process and Node.js metrics (CPU, memory, heap, event-loop lag, GC,
 * file descriptors, version) in `registry`, without those whose scrape costs grow with the
 * number of connections.
 */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of PER_HANDLE_DEFAULTS) registry.removeSingleMetric(name);
  if (registry.getSingleMetric('process_open_fds') === undefined) return;
  registry.removeSingleMetric('process_open_fds');
  new Gauge({
    name: 'process_open_fds', help: 'Number of open file descriptors.', registers: [registry],
    collect() {
      try {
        this.set(openFds());
      } catch {
        // no /proc: leave the last value
      }
    },
  });
}

import { describe, expect, it } from 'vitest';
import { Counter, Gauge, Histogram, Registry as MetricsRegistry } from 'prom-client';
import { aggregateMetrics } from '../src/workers/cluster-metrics.js';

describe('aggregateMetrics (the sum behind /metrics under --workers)', () => {
  it('sums counters and histograms by label set, and gauges by their aggregator', async () => {
    const processes = [3, 4].map((n) => {
      const registry = new MetricsRegistry();
      const c = new Counter({ name: 'c_total', help: 'c', labelNames: ['k'], registers: [registry] });
      c.inc({ k: 'a' }, n);
      if (n === 4) c.inc({ k: 'b' });
      new Histogram({ name: 'h', help: 'h', buckets: [1], registers: [registry] }).observe(n / 4);
      new Gauge({ name: 'g', help: 'g', registers: [registry] }).set(n);
      new Gauge({ name: 'healthy', help: 'h', aggregator: 'min', registers: [registry] }).set(n === 3 ? 0 : 1);
      return registry.getMetricsAsJSON();
    });
    const text = await aggregateMetrics(await Promise.all(processes)).metrics();
    expect(text).toMatch(/^c_total\{k="a"\} 7$/m);
    expect(text).toMatch(/^c_total\{k="b"\} 1$/m);
    expect(text).toMatch(/^h_bucket\{le="1"\} 2$/m);
    expect(text).toMatch(/^h_sum 1\.75$/m);
    expect(text).toMatch(/^g 7$/m);
    expect(text).toMatch(/^healthy 0$/m);
  });
});

// The workers' one admin listener (METRICS_PORT) when `up --turbo` spreads the work loops over threads: /metrics
// is every thread's registry summed as prom-client's AggregatorRegistry does (counters and histograms add up,
// per-loop series stay apart), /healthz and /readyz fail when any thread's loops do.
import { AggregatorRegistry } from 'prom-client';
import type { Config } from '../config.js';
import type { Deadline } from '../platform/deadline.js';
import type { HttpService } from '../platform/http-service.js';
import type { Component } from '../platform/lifecycle.js';
import type { Logger } from '../platform/logger.js';
import { renderMetrics } from '../platform/metrics.js';
import type { ThreadComponent } from './thread-component.js';

export class ThreadsAdmin implements Component {
  readonly name = 'worker-admin';
  private service?: HttpService;

  constructor(
    private readonly threads: ThreadComponent[],
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  /** The threads' registries as one (this process's Node metrics appended, as every /metrics has them). */
  async render(): Promise<string> {
    const all = await Promise.all(this.threads.map((t) => t.metrics()));
    return renderMetrics(AggregatorRegistry.aggregate(all));
  }

  async start(): Promise<void> {
    const { createHttpService } = await import('../platform/http-service.js');
    const { server, worker } = this.config;
    const first = async (pick: 'live' | 'ready') => {
      const health = await Promise.all(this.threads.map((t) => t.health()));
      return health.map((h) => h[pick]).find((r) => r !== null) ?? null;
    };
    this.service = await createHttpService(
      { service: 'worker', replica: server.hostname, server, logger: this.logger, metrics: () => this.render() },
      async (app) => {
        app.health.live = () => first('live');
        app.health.ready = () => first('ready');
      },
    );
    await this.service.listen(worker.metricsPort, server.host);
  }

  async stop(deadline: Deadline): Promise<void> {
    await this.service?.close(0, deadline);
  }
}

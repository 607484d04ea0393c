// The Kubernetes HorizontalPodAutoscaler's algorithm (autoscaling/v2, an Object metric with a Value target), pure:
// desired = ceil(current × metric / target) unless the ratio is within the tolerance; then the stabilization windows
// (the lowest recommendation of the scale-up window, the highest of the scale-down window), then the rate policies
// and min/max — in the order of kube-controller-manager's normalizeDesiredReplicasWithBehaviors. Times in seconds.

export interface ScalingPolicy {
  type: 'Pods' | 'Percent';
  value: number;
  periodSeconds: number;
}

export interface ScalingRules {
  stabilizationWindowSeconds: number;
  selectPolicy: 'Max' | 'Min' | 'Disabled';
  policies: ScalingPolicy[];
}

export interface Behavior {
  scaleUp: ScalingRules;
  scaleDown: ScalingRules;
}

export interface HpaSpec {
  minReplicas: number;
  maxReplicas: number;
  /** The metric's target value (the slide: 0.1 s of latency). */
  target: number;
  /** kube-controller-manager's --horizontal-pod-autoscaler-tolerance (0.1). */
  tolerance: number;
  behavior: Behavior;
}

/** autoscaling/v2's defaults when `behavior` is left out: up at once (double or +4 per 15 s), down after 300 s. */
export const V2_DEFAULT_BEHAVIOR: Behavior = {
  scaleUp: {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ],
  },
  scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
};

/** The slide's HPA (k8s/hpa-v2-pa-httplat.yaml): only the windows set, 60 s up and 180 s down; policies default. */
export const SLIDE_BEHAVIOR: Behavior = {
  scaleUp: { ...V2_DEFAULT_BEHAVIOR.scaleUp, stabilizationWindowSeconds: 60 },
  scaleDown: { ...V2_DEFAULT_BEHAVIOR.scaleDown, stabilizationWindowSeconds: 180 },
};

export const SLIDE_SPEC: HpaSpec = { minReplicas: 1, maxReplicas: 20, target: 0.1, tolerance: 0.1, behavior: SLIDE_BEHAVIOR };

export type Limit = 'ScaleUpStabilized' | 'ScaleDownStabilized' | 'ScaleUpLimit' | 'ScaleDownLimit' | 'TooManyReplicas' | 'TooFewReplicas';

export interface Decision {
  at: number;
  current: number;
  metric: number;
  target: number;
  /** metric / target */
  ratio: number;
  withinTolerance: boolean;
  /** What the metric alone asks for (current when within tolerance). */
  proposed: number;
  /** After the stabilization windows. */
  stabilized: number;
  /** What the HPA sets. */
  desired: number;
  /** Why desired differs from proposed, in the controller's condition reasons (empty when it does not). */
  limitedBy: Limit[];
  reason: string;
}

interface Recommendation {
  at: number;
  replicas: number;
}
interface ScaleEvent {
  at: number;
  change: number;
}

/** One HPA's memory: its recent recommendations and scale events, as the controller keeps them per HPA. */
export class Hpa {
  private recommendations: Recommendation[] = [];
  private readonly upEvents: ScaleEvent[] = [];
  private readonly downEvents: ScaleEvent[] = [];

  constructor(readonly spec: HpaSpec) {}

  /** One reconciliation at `now` (seconds) with `current` replicas and the metric's value. */
  decide(now: number, current: number, metric: number): Decision {
    const { spec } = this;
    const ratio = metric / spec.target;
    const withinTolerance = Math.abs(1 - ratio) <= spec.tolerance;
    const proposed = withinTolerance ? current : Math.ceil(current * ratio);
    const stabilized = this.stabilize(now, current, proposed);
    const { replicas: desired, limit } =
      // Outside min–max the controller sets the bound before it looks at any metric.
      current > spec.maxReplicas
        ? { replicas: spec.maxReplicas, limit: 'TooManyReplicas' as const }
        : current < spec.minReplicas
          ? { replicas: spec.minReplicas, limit: 'TooFewReplicas' as const }
          : this.rate(now, current, stabilized);
    const limitedBy: Limit[] = [];
    if (stabilized !== proposed) limitedBy.push(proposed >= current ? 'ScaleUpStabilized' : 'ScaleDownStabilized');
    if (limit && desired !== stabilized) limitedBy.push(limit);
    if (desired !== current) this.record(now, desired - current);
    return {
      at: now,
      current,
      metric,
      target: spec.target,
      ratio,
      withinTolerance,
      proposed,
      stabilized,
      desired,
      limitedBy,
      reason: explain(this, current, proposed, stabilized, desired, withinTolerance, ratio, limitedBy),
    };
  }

  private stabilize(now: number, current: number, proposed: number): number {
    const { scaleUp, scaleDown } = this.spec.behavior;
    const upCutoff = now - scaleUp.stabilizationWindowSeconds;
    const downCutoff = now - scaleDown.stabilizationWindowSeconds;
    let up = proposed;
    let down = proposed;
    for (const r of this.recommendations) {
      if (r.at > upCutoff) up = Math.min(up, r.replicas);
      if (r.at > downCutoff) down = Math.max(down, r.replicas);
    }
    // Keep what a window may still need; the controller reuses one old slot, we drop all the old ones.
    const oldest = Math.min(upCutoff, downCutoff);
    this.recommendations = this.recommendations.filter((r) => r.at > oldest);
    this.recommendations.push({ at: now, replicas: proposed });
    return Math.min(Math.max(current, up), down);
  }

  private changedWithin(events: ScaleEvent[], now: number, period: number): number {
    return events.filter((e) => e.at > now - period).reduce((sum, e) => sum + e.change, 0);
  }

  private rate(now: number, current: number, wanted: number): { replicas: number; limit: Limit | null } {
    const { minReplicas, maxReplicas, behavior } = this.spec;
    if (wanted > current) {
      const limit = this.limit(now, current, behavior.scaleUp, 'up');
      const scaleUpLimit = Math.max(limit, current);
      const allowed = Math.min(maxReplicas, scaleUpLimit);
      const why: Limit = maxReplicas > scaleUpLimit ? 'ScaleUpLimit' : 'TooManyReplicas';
      return wanted > allowed ? { replicas: allowed, limit: why } : { replicas: wanted, limit: null };
    }
    if (wanted < current) {
      const limit = this.limit(now, current, behavior.scaleDown, 'down');
      const scaleDownLimit = Math.min(limit, current);
      const allowed = Math.max(minReplicas, scaleDownLimit);
      const why: Limit = minReplicas < scaleDownLimit ? 'ScaleDownLimit' : 'TooFewReplicas';
      return wanted < allowed ? { replicas: allowed, limit: why } : { replicas: wanted, limit: null };
    }
    return { replicas: wanted, limit: null };
  }

  /** calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors. */
  private limit(now: number, current: number, rules: ScalingRules, direction: 'up' | 'down'): number {
    if (rules.selectPolicy === 'Disabled') return current;
    const proposals = rules.policies.map((p) => {
      const added = this.changedWithin(this.upEvents, now, p.periodSeconds);
      const removed = -this.changedWithin(this.downEvents, now, p.periodSeconds);
      const periodStart = current - added + removed;
      if (direction === 'up') return p.type === 'Pods' ? periodStart + p.value : Math.ceil(periodStart * (1 + p.value / 100));
      return p.type === 'Pods' ? periodStart - p.value : Math.trunc(periodStart * (1 - p.value / 100));
    });
    // The largest change for Max (up: the highest limit; down: the lowest), the smallest for Min.
    const pickHigh = (direction === 'up') === (rules.selectPolicy === 'Max');
    return pickHigh ? Math.max(...proposals) : Math.min(...proposals);
  }

  private record(now: number, change: number): void {
    const longest = Math.max(...[...this.spec.behavior.scaleUp.policies, ...this.spec.behavior.scaleDown.policies].map((p) => p.periodSeconds), 0);
    for (const list of [this.upEvents, this.downEvents]) while (list.length > 0 && list[0]!.at <= now - longest) list.shift();
    (change > 0 ? this.upEvents : this.downEvents).push({ at: now, change });
  }
}

function explain(hpa: Hpa, current: number, proposed: number, stabilized: number, desired: number, within: boolean, ratio: number, limits: Limit[]): string {
  const { scaleUp, scaleDown } = hpa.spec.behavior;
  const base = within
    ? `metric/target ${ratio.toFixed(2)} within the ${Math.round(hpa.spec.tolerance * 100)} % tolerance: no change proposed`
    : `ceil(${current} × ${ratio.toFixed(2)}) = ${proposed}`;
  const parts = [base];
  if (limits.includes('ScaleUpStabilized'))
    parts.push(`held at ${stabilized} by the scale-up window (lowest recommendation of the last ${scaleUp.stabilizationWindowSeconds} s)`);
  if (limits.includes('ScaleDownStabilized'))
    parts.push(`held at ${stabilized} by the scale-down window (highest recommendation of the last ${scaleDown.stabilizationWindowSeconds} s)`);
  if (limits.includes('ScaleUpLimit')) parts.push(`limited to ${desired} by the scale-up policies`);
  if (limits.includes('ScaleDownLimit')) parts.push(`limited to ${desired} by the scale-down policies`);
  if (limits.includes('TooManyReplicas')) parts.push(`capped at maxReplicas ${desired}`);
  if (limits.includes('TooFewReplicas')) parts.push(`floored at minReplicas ${desired}`);
  parts.push(desired === current ? `stays at ${current}` : `${current} → ${desired}`);
  return parts.join('; ');
}

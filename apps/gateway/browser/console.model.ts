/**
 * The operator console's model, without DOM: it turns successive `GET /admin/overview` answers
 * (gauges and cumulative counters per instance) into the charts' time series, the way Prometheus'
 * `rate()` and `histogram_quantile()` would, and keeps the last 15 minutes.
 */

/** How much history the console keeps and charts. */
export const WINDOW_MS = 15 * 60_000;

/** The part of one instance's overview the console reads (see `GET /admin/overview`). */
export interface InstanceFigures {
  readonly instance: string;
  readonly at: number;
  readonly startedAt: number;
  readonly connections: number;
  readonly published: number;
  readonly delivered: number;
  readonly slowConsumerCuts: number;
  readonly shed: Readonly<Record<string, number>>;
  readonly latency: { readonly buckets: readonly number[]; readonly count: number };
}

/** The part of `GET /admin/overview` the model reads. */
export interface OverviewFigures {
  readonly at: number;
  readonly latencyBuckets: readonly number[];
  readonly instances: readonly InstanceFigures[];
}

/** One point of every chart, at `t` (epoch seconds). Rates are per second; null: no data. */
export interface Point {
  readonly t: number;
  readonly streams: Readonly<Record<string, number>>;
  readonly publishRate: number | null;
  readonly deliveryRate: number | null;
  readonly shedRate: number | null;
  readonly slowRate: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

/** The increase of a counter between two reads; a restart (counter went down) counts from 0. */
export function counterIncrease(current: number, previous: number, restarted = false): number {
  return restarted || current < previous ? current : current - previous;
}

/**
 * The `q` quantile (0..1) of a histogram given as cumulative counts per upper bound (`bounds`)
 * followed by the +Inf count, interpolated linearly inside the bucket as Prometheus'
 * `histogram_quantile` does. Null when the histogram is empty. In the +Inf bucket it answers the
 * highest finite bound.
 */
export function histogramQuantile(
  q: number,
  bounds: readonly number[],
  cumulative: readonly number[],
): number | null {
  const total = cumulative[cumulative.length - 1] ?? 0;
  if (total <= 0 || bounds.length === 0) return null;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if (cumulative[i] >= rank) {
      const lower = i === 0 ? 0 : bounds[i - 1];
      const below = i === 0 ? 0 : cumulative[i - 1];
      const inBucket = cumulative[i] - below;
      if (inBucket <= 0) return lower;
      return lower + (bounds[i] - lower) * ((rank - below) / inBucket);
    }
  }
  return bounds[bounds.length - 1];
}

const shedTotal = (f: InstanceFigures) => Object.values(f.shed).reduce((s, n) => s + n, 0);

/** Turns overview answers into chart points, keeping {@link WINDOW_MS} of them. */
export class ConsoleHistory {
  readonly points: Point[] = [];
  private previous = new Map<string, InstanceFigures>();

  constructor(private readonly windowMs = WINDOW_MS) {}

  /** Adds the point for `overview` (rates against the previous answer of each instance). */
  add(overview: OverviewFigures): Point {
    let publish = 0;
    let deliver = 0;
    let shed = 0;
    let slow = 0;
    let compared = 0;
    const latency: number[] = new Array<number>(overview.latencyBuckets.length + 1).fill(0);
    const streams: Record<string, number> = {};
    for (const now of overview.instances) {
      streams[now.instance] = now.connections;
      const before = this.previous.get(now.instance);
      const seconds = before ? (now.at - before.at) / 1000 : 0;
      if (!before || seconds <= 0) continue;
      const restarted = now.startedAt !== before.startedAt;
      const inc = (a: number, b: number) => counterIncrease(a, b, restarted);
      compared++;
      publish += inc(now.published, before.published) / seconds;
      deliver += inc(now.delivered, before.delivered) / seconds;
      shed += inc(shedTotal(now), shedTotal(before)) / seconds;
      slow += inc(now.slowConsumerCuts, before.slowConsumerCuts) / seconds;
      now.latency.buckets.forEach((n, i) => {
        if (i < latency.length) latency[i] += inc(n, before.latency.buckets[i] ?? 0);
      });
    }
    this.previous = new Map(overview.instances.map((i) => [i.instance, i]));
    const toMs = (v: number | null) => (v === null ? null : v * 1000);
    const rate = (v: number) => (compared > 0 ? v : null);
    const point: Point = {
      t: overview.at / 1000,
      streams,
      publishRate: rate(publish),
      deliveryRate: rate(deliver),
      shedRate: rate(shed),
      slowRate: rate(slow),
      p50Ms: toMs(histogramQuantile(0.5, overview.latencyBuckets, latency)),
      p99Ms: toMs(histogramQuantile(0.99, overview.latencyBuckets, latency)),
    };
    this.points.push(point);
    const oldest = (overview.at - this.windowMs) / 1000;
    while (this.points.length > 0 && this.points[0].t < oldest) this.points.shift();
    return point;
  }

  /** Every instance seen in the window, sorted. */
  instances(): string[] {
    const ids = new Set<string>();
    for (const p of this.points) for (const id of Object.keys(p.streams)) ids.add(id);
    return [...ids].sort();
  }

  /** `[times, ...one array per selector]`, the aligned data a uPlot chart takes. */
  series(...selectors: ((p: Point) => number | null)[]): (number | null)[][] {
    return [this.points.map((p) => p.t), ...selectors.map((f) => this.points.map(f))];
  }
}

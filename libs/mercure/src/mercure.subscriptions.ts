import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { ClusterBus } from '@herald/cluster';
import { MercureHub } from './mercure.hub';
import { MERCURE_MODULE_OPTIONS } from './mercure.module-definition';
import type { MercureModuleOptions } from './mercure.options';
import type { MercureSubscribeRequest } from './mercure.request';
import {
  MercureSubscriptionStore,
  type MercureSubscriptionDoc,
} from './mercure.subscription-store';
import { payloadFor, type MercureGrants } from './mercure.tokens';

/** Fixed JSON-LD context of Mercure documents. */
export const MERCURE_CONTEXT = 'https://mercure.rocks/';
/** Path of the subscriptions API and prefix of subscription topics. */
export const SUBSCRIPTIONS_PATH = '/.well-known/mercure/subscriptions';
const CLUSTER_QUERY = 'mercure.subscriptions';
/** How often an instance looks for dead instances' subscriptions to announce as terminated. */
const REAP_EVERY_MS = 5_000;

/** The topic (and API URL) of one subscription. */
export function subscriptionTopic(selector: string, subscriber: string): string {
  return `${SUBSCRIPTIONS_PATH}/${encodeURIComponent(selector)}/${encodeURIComponent(subscriber)}`;
}

/**
 * Active subscriptions (MERCURE_SUBSCRIPTIONS=true): a private update on
 * `/.well-known/mercure/subscriptions/{selector}/{subscriber}` when a stream opens and when it
 * ends for any reason (client gone, cut, drain, revoked, and on another instance once this one
 * stopped heartbeating), and the cluster-wide list the subscriptions API serves.
 */
@Injectable()
export class MercureSubscriptions implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('MercureSubscriptions');
  private readonly local = new Map<string, MercureSubscriptionDoc>();
  private reaper: NodeJS.Timeout | undefined;

  constructor(
    @Inject(MERCURE_MODULE_OPTIONS) private readonly options: MercureModuleOptions,
    private readonly hub: MercureHub,
    private readonly store: MercureSubscriptionStore,
    @Optional() private readonly bus?: ClusterBus,
  ) {}

  get enabled(): boolean {
    return this.options.subscriptions;
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    this.bus?.answer(CLUSTER_QUERY, () => [...this.local.values()]);
    if (this.options.store.driver === 'redis' && this.bus !== undefined) {
      this.reaper = setInterval(() => void this.reap(), REAP_EVERY_MS);
      this.reaper.unref();
    }
  }

  async onModuleDestroy(): Promise<void> {
    if (this.reaper !== undefined) clearInterval(this.reaper);
    await this.store.close();
  }

  /** Announces a stream's subscriptions; `end()` (exactly once) announces their end. */
  track(request: MercureSubscribeRequest, grants: MercureGrants | undefined): { end(): void } {
    if (!this.enabled) return { end: () => undefined };
    const subscriber = `urn:uuid:${randomUUID()}`;
    const docs = request.selectors.map((s): MercureSubscriptionDoc => {
      const payload = payloadFor(grants, s.selector.raw);
      return {
        id: subscriptionTopic(s.selector.raw, subscriber),
        type: 'Subscription',
        topic: s.selector.raw,
        match: s.selector.raw,
        matchType: s.matchType,
        subscriber,
        active: true,
        ...(payload !== undefined ? { payload } : {}),
      };
    });
    for (const d of docs) this.local.set(d.id, d);
    const instance = this.options.instanceId;
    void this.store.add(instance, docs).catch((err: unknown) => this.warn('store', err));
    void this.announce(docs);
    let ended = false;
    return {
      end: () => {
        if (ended) return;
        ended = true;
        for (const d of docs) this.local.delete(d.id);
        void this.store
          .remove(
            instance,
            docs.map((d) => d.id),
          )
          .catch((err: unknown) => this.warn('store', err));
        void this.announce(docs.map((d) => ({ ...d, active: false })));
      },
    };
  }

  /** Every active subscription, on every live instance. */
  async list(): Promise<MercureSubscriptionDoc[]> {
    if (this.bus === undefined) return [...this.local.values()];
    const answers = await this.bus.collect<MercureSubscriptionDoc[]>(
      CLUSTER_QUERY,
      undefined,
      2000,
    );
    const out = new Map<string, MercureSubscriptionDoc>();
    for (const a of answers) for (const d of a.answer) out.set(d.id, d);
    return [...out.values()];
  }

  private async announce(docs: readonly MercureSubscriptionDoc[]): Promise<void> {
    for (const doc of docs) {
      try {
        await this.hub.publish({
          topics: [doc.id],
          data: JSON.stringify({ '@context': MERCURE_CONTEXT, ...doc }),
          private: true,
          id: `urn:uuid:${randomUUID()}`,
        });
      } catch (err) {
        this.warn('announce', err);
      }
    }
  }

  private async reap(): Promise<void> {
    const bus = this.bus;
    if (bus === undefined) return;
    try {
      const live = new Set(await bus.instances());
      live.add(this.options.instanceId);
      const dead = await this.store.reap(live);
      if (dead.length > 0) {
        this.logger.log(`announcing ${dead.length} subscriptions of stopped instances as ended`);
        await this.announce(dead.map((d) => ({ ...d, active: false })));
      }
    } catch (err) {
      this.warn('reap', err);
    }
  }

  private warn(what: string, err: unknown): void {
    this.logger.warn(`subscriptions ${what} failed: ${String(err)}`);
  }
}

/** Options shared by every adapter. */
interface CommonBrokerOptions {
  /** Retained events per topic (HISTORY_SIZE). */
  readonly historySize: number;
  /** Maximum age of retained events in ms (HISTORY_TTL_S); also the idempotency-key lifetime. */
  readonly historyTtlMs: number;
}

/** In-process broker for one instance (BROKER=memory). */
export interface MemoryBrokerModuleOptions extends CommonBrokerOptions {
  readonly driver: 'memory';
}

/** Options of {@link BrokerModule}, discriminated on `driver`. */
export type BrokerModuleOptions = MemoryBrokerModuleOptions;

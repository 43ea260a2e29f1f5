import { Injectable } from '@nestjs/common';
import { StreamAdmission } from '@herald/streams';
import type { ClientIdentity } from './client.key';
import { ConnectRateLimiter } from './connect-rate.limiter';
import { ConnectionCaps, type CapLimit, type ConnectionLease } from './connection-caps.service';

/** Why a stream was refused for now (the shed reason of CONTRACT section 1). */
export type AdmissionRefusal = 'rate-limited' | 'capacity';

/** The outcome of {@link LimitsStreamAdmission.admit}. */
export type Admission =
  | { readonly admitted: true; readonly lease: ConnectionLease }
  | {
      readonly admitted: false;
      readonly reason: AdmissionRefusal;
      /** Earliest useful retry for a rate refusal (0 for capacity). */
      readonly retryAfterMs: number;
      /** The cap that was full, for a capacity refusal. */
      readonly limit?: CapLimit;
    };

/**
 * The streams' {@link StreamAdmission} port: decides whether a new stream may open, the connect
 * token bucket first, then the connection caps. An admitted stream holds a lease that must be
 * released when it closes.
 */
@Injectable()
export class LimitsStreamAdmission extends StreamAdmission {
  constructor(
    private readonly rate: ConnectRateLimiter,
    private readonly caps: ConnectionCaps,
  ) {
    super();
  }

  override async admit(client: ClientIdentity): Promise<Admission> {
    const rate = await this.rate.check(client);
    if (!rate.allowed) {
      return { admitted: false, reason: 'rate-limited', retryAfterMs: rate.retryAfterMs };
    }
    const cap = await this.caps.acquire(client);
    if (!cap.admitted) {
      return { admitted: false, reason: 'capacity', retryAfterMs: 0, limit: cap.limit };
    }
    return { admitted: true, lease: cap.lease };
  }
}

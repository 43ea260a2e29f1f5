import type { IncomingMessage } from 'node:http';
import type { TopicFilter } from '@herald/topics';

/** Who holds a stream, as the stream pipeline needs to know it. */
export interface StreamPrincipal {
  /** Token `sub`; undefined for anonymous clients. */
  readonly sub: string | undefined;
  /** Token `exp` (epoch ms): the stream is warned before and ends at it. Undefined: never. */
  readonly expiresAt: number | undefined;
  /** Token `iat` (epoch ms), for the revocation check. */
  readonly issuedAt: number | undefined;
}

/** The identity a stream is admitted (and counted) under. */
export interface StreamClient {
  readonly sub?: string;
  readonly ip: string;
  /** Credentials expiry (epoch ms), as {@link StreamPrincipal.expiresAt}. */
  readonly expiresAt?: number;
  /** The request's id (X-Request-Id), for the connection's log lines. */
  readonly requestId?: string;
}

/** A held connection slot; released exactly once when the stream closes (or never opens). */
export interface StreamLease {
  release(): void;
}

/** The outcome of {@link StreamAdmission.admit}. */
export type StreamAdmissionResult =
  | { readonly admitted: true; readonly lease: StreamLease }
  | {
      readonly admitted: false;
      readonly reason: 'rate-limited' | 'capacity';
      /** Earliest useful retry (0 when unknown). */
      readonly retryAfterMs: number;
    };

/**
 * Port: the connect rate limit and the connection caps (implemented by `@herald/limits`). An
 * admitted stream holds its lease until it closes.
 */
export abstract class StreamAdmission {
  abstract admit(client: StreamClient): Promise<StreamAdmissionResult>;
}

/**
 * Port: who may stream what (implemented by `@herald/auth`). Both methods throw the auth lib's
 * domain errors, which the application's exception filter maps to HTTP (401/403/204, or a shed
 * when the revocation store cannot answer).
 */
export abstract class StreamAuthorization {
  /**
   * The principal the route's guard authenticated, allowed to read every one of `filters` and
   * not already expired.
   * @throws when unauthenticated (401) or outside its grants (403).
   */
  abstract authorize(req: IncomingMessage, filters: readonly TopicFilter[]): StreamPrincipal;

  /**
   * Checked again right before the stream opens, after admission awaited: expiry and revocation.
   * @throws when the token expired (401), was revoked, or the check could not run.
   */
  abstract revalidate(principal: StreamPrincipal): Promise<void>;

  /**
   * The stream opened and Nest's side of its request is over: what authentication left on `req`
   * (e.g. the principal) is not read again and may be dropped, so an idle stream does not keep it.
   */
  release(_req: IncomingMessage): void {}
}

/** Port: the client IP a stream is counted under (per-IP caps, connect rate, the admin list). */
export abstract class ClientAddress {
  abstract ipOf(req: IncomingMessage): string;
}

/** {@link ClientAddress} as the socket peer (an app that runs behind no proxy). */
export class SocketClientAddress extends ClientAddress {
  ipOf(req: IncomingMessage): string {
    const address = (req.socket.remoteAddress ?? 'unknown').toLowerCase();
    return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  }
}

/** An open stream as the {@link StreamPresence} port sees it. */
export interface PresenceMember {
  /** The connection's id (unique per stream). */
  readonly id: string;
  /** Token `sub`; undefined for anonymous clients (counted, never listed). */
  readonly sub: string | undefined;
  readonly filters: readonly TopicFilter[];
  /** The stream's request (its query names what the member asked for, e.g. `presence=events`). */
  readonly req: IncomingMessage;
  /** Sends a `herald.*` event with the stream's current cursor as id (never moves it). */
  notify(type: string, data: unknown): void;
}

/** A stream's presence, released exactly once when the stream closes. */
export interface PresenceHandle {
  leave(): void;
}

/**
 * Port, optional: who is subscribed to a topic (implemented by `@herald/presence`). `check` runs
 * before admission and throws an HTTP error (400) for a bad request; `enter` runs once the stream
 * is open, and the pipeline calls the handle's `leave` on every way the stream closes.
 */
export abstract class StreamPresence {
  abstract check(req: IncomingMessage, filters: readonly TopicFilter[]): void;
  abstract enter(member: PresenceMember): PresenceHandle | undefined;
}

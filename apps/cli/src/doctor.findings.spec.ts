import { describe, expect, it } from 'vitest';
import { diagnose } from './doctor.findings';
import type { ProbeResult, StreamObservation } from './doctor.probe';

const SSE = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
};

function result(
  stream: Partial<StreamObservation>,
  url = 'http://127.0.0.1:3000/events?topic=t',
): ProbeResult {
  return {
    url,
    idleMs: 3000,
    stream: {
      status: 200,
      httpVersion: '1.1',
      headers: SSE,
      connectedAt: 5,
      headersAt: 10,
      firstByteAt: 11,
      chunks: [11, 1011, 2011],
      comments: [
        { at: 1011, chunk: 1 },
        { at: 2011, chunk: 2 },
      ],
      retries: [{ at: 11, chunk: 0, value: 3000 }],
      events: [],
      ...stream,
    },
  };
}

const bySeverity = (r: ProbeResult) =>
  Object.fromEntries(diagnose(r).map((f) => [f.id, f.severity]));

describe('diagnose', () => {
  it('should find nothing wrong when bytes come at once and heartbeats one by one', () => {
    const findings = diagnose(result({}));
    expect(findings.filter((f) => f.severity === 'error' || f.severity === 'warn')).toEqual([]);
    expect(bySeverity(result({}))).toMatchObject({ heartbeats: 'ok', 'idle-cut': 'ok' });
  });

  it('should call heartbeats that arrive in one read a burst, with the buffering fixes', () => {
    const burst = result({
      chunks: [2500],
      firstByteAt: 2500,
      comments: [0, 1, 2].map(() => ({ at: 2500, chunk: 0 })),
    });
    const findings = diagnose(burst);
    expect(bySeverity(burst)).toMatchObject({ 'first-bytes': 'error', heartbeats: 'error' });
    expect(findings.find((f) => f.id === 'heartbeats')?.fix?.nginx).toMatch(/proxy_buffering off/);
  });

  it('should report a stream that ends while idle as a proxy timeout', () => {
    const cut = result({
      chunks: [11],
      comments: [],
      endedAt: 2011,
      endReason: 'connection reset',
    });
    const finding = diagnose(cut).find((f) => f.id === 'idle-cut');
    expect(finding?.severity).toBe('error');
    expect(finding?.title).toMatch(/cut after 2\.0 s, 2\.0 s after its last byte/);
    expect(finding?.fix?.alb).toMatch(/idle_timeout/);
  });

  it('should not blame the proxy for a drain', () => {
    const drained = result({
      endedAt: 2100,
      events: [{ at: 2100, chunk: 3, event: 'herald.drain', data: '{}' }],
    });
    expect(bySeverity(drained)['idle-cut']).toBe('warn');
  });

  it('should report held headers, and a compressing hop that buffers', () => {
    expect(bySeverity(result({ status: undefined, headersHeld: true }))['first-bytes']).toBe(
      'error',
    );
    const gz = result({
      headers: { ...SSE, 'content-encoding': 'gzip' },
      firstByteAt: 4000,
      chunks: [4000],
    });
    expect(bySeverity(gz)).toMatchObject({ 'first-bytes': 'error', compression: 'error' });
  });

  it('should check HTTP/2, certificate and HSTS on https', () => {
    const https = {
      ...result({}, 'https://events.example.com/events?topic=t'),
      tls: {
        protocol: 'TLSv1.3',
        alpn: 'http/1.1' as const,
        authorized: true,
        validTo: 'Jan 1 00:00:00 2999 GMT',
      },
    };
    expect(bySeverity(https)).toMatchObject({ tls: 'ok', http2: 'warn', hsts: 'warn' });
  });
});

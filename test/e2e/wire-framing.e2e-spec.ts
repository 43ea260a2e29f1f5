import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionRegistry } from '@herald/streams';
import { startTestGateway, type Gateway } from '../support/gateway';
import { publish } from '../support/sse-client';
import { waitFor } from '../support/wait';

/** A raw HTTP client on one socket: every byte the gateway sent, as it sent it. */
class RawStream {
  readonly socket: net.Socket;
  private bytes = Buffer.alloc(0);
  ended = false;

  constructor(port: number, request: string) {
    this.socket = net.connect({ port, host: '127.0.0.1' });
    this.socket.on('error', () => undefined);
    this.socket.on('data', (d: Buffer) => (this.bytes = Buffer.concat([this.bytes, d])));
    this.socket.on('end', () => (this.ended = true));
    this.socket.write(request);
  }

  get head(): string {
    const at = this.bytes.indexOf('\r\n\r\n');
    return at < 0 ? '' : this.bytes.subarray(0, at).toString('latin1');
  }

  get chunked(): boolean {
    return /\r\ntransfer-encoding: chunked/i.test(this.head);
  }

  /**
   * The body as the client decodes it: HTTP/1.1 chunks parsed strictly (a malformed size line or
   * a missing CRLF throws), or the raw bytes after the head when not chunked.
   */
  body(): { text: string; terminated: boolean } {
    const at = this.bytes.indexOf('\r\n\r\n');
    if (at < 0) return { text: '', terminated: false };
    const raw = this.bytes.subarray(at + 4);
    if (!this.chunked) return { text: raw.toString('utf8'), terminated: false };
    const parts: Buffer[] = [];
    let pos = 0;
    for (;;) {
      const eol = raw.indexOf('\r\n', pos);
      if (eol < 0) return { text: Buffer.concat(parts).toString('utf8'), terminated: false };
      const line = raw.subarray(pos, eol).toString('latin1');
      if (!/^[0-9a-f]+$/i.test(line))
        throw new Error(`bad chunk size line ${JSON.stringify(line)}`);
      const size = parseInt(line, 16);
      const start = eol + 2;
      if (size === 0) {
        const rest = raw.subarray(start).toString('latin1');
        if (rest !== '\r\n' && rest !== '') throw new Error(`bytes after the last chunk: ${rest}`);
        return { text: Buffer.concat(parts).toString('utf8'), terminated: rest === '\r\n' };
      }
      if (raw.length < start + size + 2) {
        return { text: Buffer.concat(parts).toString('utf8'), terminated: false };
      }
      if (raw.subarray(start + size, start + size + 2).toString('latin1') !== '\r\n') {
        throw new Error('chunk not followed by CRLF');
      }
      parts.push(raw.subarray(start, start + size));
      pos = start + size + 2;
    }
  }

  /** The SSE events of the body (comments skipped), each line checked to be an SSE line. */
  events(): { id?: string; event?: string; data: string }[] {
    const { text } = this.body();
    const out: { id?: string; event?: string; data: string }[] = [];
    const blocks = text.split('\n\n');
    blocks.pop(); // an incomplete tail
    for (const block of blocks) {
      const ev: { id?: string; event?: string; data: string } = { data: '' };
      let any = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const m = /^(id|event|data|retry): ?(.*)$/.exec(line);
        if (!m) throw new Error(`not an SSE line: ${JSON.stringify(line)}`);
        any = true;
        if (m[1] === 'id') ev.id = m[2];
        else if (m[1] === 'event') ev.event = m[2];
        else if (m[1] === 'data') ev.data = ev.data === '' ? m[2] : `${ev.data}\n${m[2]}`;
      }
      if (any && (ev.id !== undefined || ev.event !== undefined || ev.data !== '')) out.push(ev);
    }
    return out;
  }
}

describe('bytes on the wire (chunked and not, single, joined and corked flushes)', () => {
  let gw: Gateway;
  let port: number;

  beforeAll(async () => {
    gw = await startTestGateway({ HEARTBEAT_MS: '60000' });
    port = Number(new URL(gw.url).port);
  });
  afterAll(async () => {
    await gw.app.close().catch(() => undefined);
  });

  it('should frame every flush path correctly for HTTP/1.1, HTTP/1.1 Connection: close and HTTP/1.0 readers of the same fan-out, and end them cleanly at drain', async () => {
    const get = (version: string, extra = '') =>
      `GET /events?topic=wire/t HTTP/${version}\r\nHost: x\r\nAccept: text/event-stream\r\n${extra}\r\n`;
    // Interleaved so one run flushes the same frames for chunked and unchunked responses.
    const clients = [
      new RawStream(port, get('1.1')),
      new RawStream(port, get('1.0')),
      new RawStream(port, get('1.1', 'Connection: close\r\n')),
      new RawStream(port, get('1.0')),
      new RawStream(port, get('1.1')),
    ];
    const registry = gw.app.get(ConnectionRegistry);
    await waitFor(() => registry.size === clients.length, 'all streams open');
    await waitFor(() => clients.every((c) => c.body().text.startsWith('retry:')), 'retry frames');
    expect(clients.map((c) => c.chunked)).toEqual([true, false, true, false, true]);

    const expected: string[] = [];
    // One event (one-frame write), ten small ones (joined), ten of 4 KB (corked, > 16 KiB).
    for (const batch of [
      [{ topic: 'wire/t', data: 'one' }],
      Array.from({ length: 10 }, (_, i) => ({ topic: 'wire/t', data: `small-${i}` })),
      Array.from({ length: 10 }, (_, i) => ({ topic: 'wire/t', data: `${i}`.repeat(4000) })),
      [{ topic: 'wire/t', data: 'last' }],
    ]) {
      expect((await publish(gw.url, { events: batch })).status).toBe(202);
      for (const e of batch) expected.push(JSON.stringify(e.data));
    }
    for (const c of clients) {
      await waitFor(() => c.events().length >= expected.length, 'every event');
      expect(c.events().map((e) => e.data)).toEqual(expected);
    }

    await gw.app.close();
    for (const c of clients) {
      await waitFor(() => c.ended, 'the stream to end');
      const events = c.events();
      expect(events.at(-1)?.event).toBe('herald.drain');
      expect(events.length).toBe(expected.length + 1);
      if (c.chunked) expect(c.body().terminated).toBe(true);
      c.socket.destroy();
    }
  });
});

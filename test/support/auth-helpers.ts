import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Outcome of one guarded request; a 200 stream is aborted at once. */
export interface Attempt {
  readonly status: number;
  readonly body: string;
  readonly challenge: string | null;
}

/** `GET <base><path>` as an event-stream client; returns status, body text and challenge. */
export async function attemptStream(
  base: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<Attempt> {
  const controller = new AbortController();
  const res = await fetch(`${base}${path}`, {
    headers: { Accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  });
  const challenge = res.headers.get('www-authenticate');
  if (res.status === 200 && res.headers.get('content-type')?.startsWith('text/event-stream')) {
    controller.abort();
    return { status: 200, body: '', challenge };
  }
  return { status: res.status, body: await res.text(), challenge };
}

/** A loopback HTTP server counting every request it gets (to prove no outbound fetch). */
export interface TrapServer {
  readonly url: string;
  readonly hits: string[];
  close(): Promise<void>;
}

/** Starts a {@link TrapServer} serving an empty JWKS to anything. */
export async function startTrapServer(): Promise<TrapServer> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"keys":[]}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

import {
  connect,
  constants,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type IncomingHttpStatusHeader,
  type SecureClientSessionOptions,
} from 'node:http2';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** A real HTTP/2 client session (ALPN `h2` only) trusting `ca`. */
export function connectH2(
  url: string,
  ca: Buffer,
  options: SecureClientSessionOptions = {},
): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(url, { ca, ALPNProtocols: ['h2'], ...options });
    session.once('error', reject);
    session.once('connect', () => {
      session.off('error', reject);
      session.on('error', () => undefined);
      resolve(session);
    });
  });
}

/** One SSE stream on an HTTP/2 session, parsed with eventsource-parser. */
export class H2SseStream {
  readonly events: EventSourceMessage[] = [];
  /** `retry:` values in arrival order. */
  readonly retries: number[] = [];
  /** Comment lines (heartbeats are `: ...`). */
  readonly comments: string[] = [];
  headers: IncomingHttpHeaders & IncomingHttpStatusHeader = {};
  /** Body bytes received. */
  bytes = 0;
  ended = false;
  /** RST_STREAM code when the server reset the stream. */
  rstCode: number | undefined;
  readonly closed: Promise<void>;
  readonly response: Promise<void>;

  constructor(readonly stream: ClientHttp2Stream) {
    const parser = createParser({
      onEvent: (e) => this.events.push(e),
      onRetry: (ms) => this.retries.push(ms),
      onComment: (c) => this.comments.push(c),
    });
    this.response = new Promise((resolve, reject) => {
      stream.once('response', (headers) => {
        this.headers = headers;
        resolve();
      });
      stream.once('error', reject);
    });
    // A stream refused before its response is seen through `ended`/`rstCode`, not a rejection.
    this.response.catch(() => undefined);
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.bytes += Buffer.byteLength(chunk);
      parser.feed(chunk);
    });
    stream.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      stream.once('close', () => {
        this.ended = true;
        if (stream.rstCode !== undefined && stream.rstCode !== constants.NGHTTP2_NO_ERROR) {
          this.rstCode = stream.rstCode;
        }
        resolve();
      }),
    );
  }

  /** Events other than Herald's own (`herald.*`). */
  get dataEvents(): EventSourceMessage[] {
    return this.events.filter((e) => !(e.event ?? '').startsWith('herald.'));
  }

  close(): void {
    this.stream.close();
  }
}

/** Opens `GET path` as an event stream on `session`. */
export function openH2Stream(
  session: ClientHttp2Session,
  path: string,
  headers: Record<string, string> = {},
): H2SseStream {
  const stream = session.request({
    ':method': 'GET',
    ':path': path,
    accept: 'text/event-stream',
    ...headers,
  });
  return new H2SseStream(stream);
}

/** One request on `session`: status, headers, the whole body as text, and the stream. */
export function h2Request(
  session: ClientHttp2Session,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  stream: ClientHttp2Stream;
}> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': method, ':path': path, ...headers });
    let status = 0;
    let responseHeaders: IncomingHttpHeaders = {};
    let text = '';
    stream.setEncoding('utf8');
    stream.once('response', (h) => {
      status = Number(h[':status']);
      responseHeaders = h;
    });
    stream.on('data', (chunk: string) => (text += chunk));
    stream.once('end', () => resolve({ status, headers: responseHeaders, body: text, stream }));
    stream.once('error', reject);
    stream.end(body);
  });
}

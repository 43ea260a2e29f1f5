/**
 * The demo page (`GET /`): subscribe with the browser helper, watch events, publish in
 * development, and count gaps. No inline script or style: it runs under `script-src 'self'`,
 * `style-src 'self'`, `connect-src 'self'`.
 */
import { HeraldClient, type HeraldEvent, type HeraldState } from './herald-client.js';

const MAX_ROWS = 200;
const meta = (name: string) =>
  document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? '';
/** Set by the server: `development` unless NODE_ENV=production. */
const mode = meta('herald-mode');
/** `/dev/token` when the server runs in development without a JWT key (CONTRACT section 3). */
const devTokenUrl = meta('herald-dev-token');

function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el as T;
}

function list(value: string): string[] {
  return value
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** What the page counts. */
const stats = { events: 0, gaps: 0, duplicates: 0, resets: 0, reconnects: 0 };

function render(): void {
  $('n-events').textContent = String(stats.events);
  $('n-gaps').textContent = String(stats.gaps);
  $('n-dups').textContent = String(stats.duplicates);
  $('n-resets').textContent = String(stats.resets);
  $('n-reconnects').textContent = String(stats.reconnects);
  $('n-gaps').parentElement?.classList.toggle('bad', stats.gaps > 0);
  $('n-dups').parentElement?.classList.toggle('bad', stats.duplicates > 0);
  $('cursor').textContent = client?.cursor ?? '-';
}

/**
 * Gap check. Each demo page publishes `{"demo": {"from", "topic", "seq"}, "data"}`, numbering
 * its events 1, 2, 3 per topic and type. For every (publisher, topic, type) this page expects the
 * next number; a skipped number is a gap, a repeated or older one a duplicate. Events from
 * elsewhere (curl, services) carry no number and are not checked.
 */
const expected = new Map<string, number>();

type Check = 'ok' | 'gap' | 'duplicate' | 'first' | 'unchecked';

function check(event: HeraldEvent): Check {
  const demo = (event.data as { demo?: { from?: unknown; topic?: unknown; seq?: unknown } } | null)
    ?.demo;
  if (
    typeof demo !== 'object' ||
    demo === null ||
    typeof demo.from !== 'string' ||
    typeof demo.topic !== 'string' ||
    typeof demo.seq !== 'number'
  ) {
    return 'unchecked';
  }
  const key = `${demo.from} ${demo.topic} ${event.type}`;
  const next = expected.get(key);
  if (next !== undefined && demo.seq < next) {
    stats.duplicates++;
    return 'duplicate';
  }
  expected.set(key, demo.seq + 1);
  if (next === undefined) return 'first';
  if (demo.seq > next) {
    stats.gaps += demo.seq - next;
    return 'gap';
  }
  return 'ok';
}

const MARKS: Record<Check, string> = {
  ok: '✓',
  first: '✓',
  gap: 'gap',
  duplicate: 'dup',
  unchecked: '',
};

function row(event: HeraldEvent, mark: string, kind: string): void {
  const tr = document.createElement('tr');
  tr.dataset.id = event.id;
  tr.dataset.type = event.type;
  tr.className = kind;
  const cells = [
    new Date().toLocaleTimeString(undefined, { hour12: false }),
    event.id,
    event.type,
    typeof event.data === 'string' ? event.data : JSON.stringify(event.data),
    mark,
  ];
  for (const text of cells) {
    const td = document.createElement('td');
    td.textContent = text;
    tr.append(td);
  }
  const log = $('log');
  log.prepend(tr);
  while (log.childElementCount > MAX_ROWS) log.lastElementChild?.remove();
  $('empty').hidden = true;
}

let client: HeraldClient | undefined;
let tokens: DevTokens = {};
const heard = new Set<string>();

function showState(state: HeraldState | 'reset', detail = ''): void {
  const pill = $('state');
  pill.dataset.state = state;
  $('state-text').textContent = detail ? `${state} · ${detail}` : state;
}

function listen(type: string): void {
  if (!client || heard.has(type) || type.startsWith('herald.')) return;
  heard.add(type);
  client.on(type, (event) => {
    stats.events++;
    const result = check(event);
    row(event, MARKS[result], result === 'gap' || result === 'duplicate' ? 'bad' : '');
    if ($('state').dataset.state === 'reset') showState(client?.state ?? 'open');
    render();
  });
}

function connect(): void {
  client?.close();
  expected.clear();
  heard.clear();
  const topics = list($<HTMLInputElement>('topics').value);
  if (topics.length === 0) {
    showState('closed', 'enter a topic');
    return;
  }
  let opened = false;
  client = new HeraldClient({
    topics,
    ...($<HTMLInputElement>('latest').checked ? { since: 'latest' as const } : {}),
    token: tokens.subscribe,
    onStateChange: (state, detail) => {
      if (state === 'open' && opened) stats.reconnects++;
      if (state === 'open') opened = true;
      const hint =
        detail.retryAfterMs !== undefined
          ? `retry in ${(detail.retryAfterMs / 1000).toFixed(1)} s`
          : (detail.reason ?? '');
      showState(state, hint);
      render();
    },
    onReset: (reason) => {
      // The server lost history we needed: a real app refetches its state here. Expectations
      // restart, because numbers missed before a reset are reported by the reset, not as gaps.
      stats.resets++;
      expected.clear();
      showState('reset', reason);
      render();
    },
    refreshToken: async () => {
      tokens = await devTokens();
      return tokens.subscribe;
    },
  });
  for (const type of ['herald.reset', 'herald.shed', 'herald.drain', 'herald.token-expiring']) {
    client.on(type, (event) => row(event, '', 'gateway'));
  }
  for (const type of ['message', ...list($<HTMLInputElement>('types').value)]) listen(type);
  client.connect();
  render();
}

/** Tokens from `GET /dev/token` (development only); empty when Herald runs without auth. */
interface DevTokens {
  readonly subscribe?: string;
  readonly publish?: string;
}

async function devTokens(): Promise<DevTokens> {
  if (!devTokenUrl) return {};
  try {
    const res = await fetch(devTokenUrl, { headers: { Accept: 'application/json, text/plain' } });
    if (res.status !== 200) return {};
    const text = (await res.text()).trim();
    try {
      const body = JSON.parse(text) as Record<string, unknown>;
      const pick = (...keys: string[]) =>
        keys.map((k) => body[k]).find((v): v is string => typeof v === 'string');
      const any = pick('token', 'access_token', 'accessToken');
      return {
        subscribe: pick('subscribe', 'subscriber', 'subscribeToken', 'subscriberToken') ?? any,
        publish: pick('publish', 'publisher', 'publishToken', 'publisherToken') ?? any,
      };
    } catch {
      return text ? { subscribe: text, publish: text } : {};
    }
  } catch {
    return {};
  }
}

const publisherId = Math.random().toString(36).slice(2, 8);
const sequences = new Map<string, number>();

async function publish(): Promise<void> {
  const topic = $<HTMLInputElement>('ptopic').value.trim();
  const type = $<HTMLInputElement>('ptype').value.trim() || 'message';
  const count = Math.min(100, Math.max(1, Number($<HTMLInputElement>('pcount').value) || 1));
  let data: unknown;
  try {
    data = JSON.parse($<HTMLTextAreaElement>('pdata').value || 'null');
  } catch {
    $('pubres').textContent = 'data must be JSON';
    return;
  }
  listen(type);
  const events = Array.from({ length: count }, () => {
    const key = `${topic} ${type}`;
    const seq = (sequences.get(key) ?? 0) + 1;
    sequences.set(key, seq);
    return { topic, type, data: { demo: { from: publisherId, topic, seq }, data } };
  });
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (tokens.publish) headers.Authorization = `Bearer ${tokens.publish}`;
  try {
    const res = await fetch('/events', {
      method: 'POST',
      headers,
      body: JSON.stringify(count === 1 ? events[0] : { events }),
    });
    const text = await res.text();
    if (res.status === 202) {
      const body = JSON.parse(text) as { id?: string; ids?: string[] };
      $('pubres').textContent = body.ids
        ? `202 accepted: ${body.ids.length} events, last id ${body.ids.at(-1) ?? ''}`
        : `202 accepted: id ${body.id ?? ''}`;
    } else {
      $('pubres').textContent =
        `${res.status} ${text.length > 160 ? `${text.slice(0, 160)}…` : text}`;
      // Nothing was published: give the numbers back (unless a later publish took more) so
      // the gap check stays honest.
      const key = `${topic} ${type}`;
      if (sequences.get(key) === events[events.length - 1].data.demo.seq) {
        sequences.set(key, events[0].data.demo.seq - 1);
      }
    }
    $('pubres').classList.toggle('bad', res.status !== 202);
  } catch (error: unknown) {
    $('pubres').textContent = `publish failed: ${String(error)}`;
  }
}

let auto: ReturnType<typeof setInterval> | undefined;

async function main(): Promise<void> {
  $('sub').addEventListener('submit', (ev) => {
    ev.preventDefault();
    connect();
  });
  $('resume').addEventListener('click', () => client?.reconnect());
  $('close').addEventListener('click', () => client?.close());
  if (mode === 'development') {
    $('publish-card').hidden = false;
    $('pub').addEventListener('submit', (ev) => {
      ev.preventDefault();
      void publish();
    });
    $('auto').addEventListener('change', () => {
      if (auto !== undefined) clearInterval(auto);
      auto = $<HTMLInputElement>('auto').checked
        ? setInterval(() => void publish(), 500)
        : undefined;
    });
    tokens = await devTokens();
    $('tokeninfo').textContent = tokens.publish
      ? 'Using a development token from /dev/token.'
      : 'No development token: publishing without one.';
  }
  connect();
}

void main();

/**
 * The demo page's presence panel (CONTRACT section 10): join a topic under PRESENCE_TOPICS with
 * a name, see who else is there, updated on `herald.join` / `herald.leave` (and refetched on a
 * `herald.presence` summary after a join storm). Self-contained: its own stream
 * (`?presence=events`), its own token (`/dev/token` with the chosen name in development), its
 * own elements (`#presence-*`); nothing shared with the rest of the page.
 */

const meta = (name: string) =>
  document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? '';
/** PRESENCE_TOPICS as the server runs it (empty: presence is off and the panel stays hidden). */
const presenceTopics = meta('herald-presence');
const devTokenUrl = meta('herald-dev-token');

function el<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} missing`);
  return found as T;
}

interface Subscriber {
  readonly sub: string;
  readonly connections: number;
  readonly instances: readonly string[];
}

interface PresencePage {
  readonly connections: number;
  readonly users: number;
  readonly subscribers: readonly Subscriber[];
  readonly next: string | null;
}

let source: EventSource | undefined;
let token = '';
let topic = '';
let refetching: Promise<void> | undefined;
let again = false;

function showStatus(text: string, bad = false): void {
  const p = el('presence-status');
  p.textContent = text;
  p.classList.toggle('bad', bad);
}

async function tokenFor(name: string): Promise<string> {
  if (!devTokenUrl) return '';
  const sep = devTokenUrl.includes('?') ? '&' : '?';
  const res = await fetch(`${devTokenUrl}${sep}sub=${encodeURIComponent(name)}`, {
    headers: { Accept: 'application/json' },
  });
  if (res.status !== 200) return '';
  const body = (await res.json()) as { token?: unknown };
  return typeof body.token === 'string' ? body.token : '';
}

function render(page: PresencePage): void {
  const list = el('presence-list');
  list.replaceChildren(
    ...page.subscribers.map((s) => {
      const li = document.createElement('li');
      li.dataset.sub = s.sub;
      li.textContent = s.connections > 1 ? `${s.sub} (${s.connections} connections)` : s.sub;
      return li;
    }),
  );
  el('presence-users').textContent = String(page.users);
  el('presence-connections').textContent = String(page.connections);
}

/** Reads `GET /presence` (one refetch at a time; a change meanwhile refetches once more). */
function refetch(): Promise<void> {
  if (refetching) {
    again = true;
    return refetching;
  }
  refetching = (async () => {
    do {
      again = false;
      const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
      const res = await fetch(`/presence?topic=${encodeURIComponent(topic)}&limit=1000`, {
        headers,
      });
      if (res.status !== 200) {
        const body = (await res.json().catch(() => ({}))) as { message?: string };
        showStatus(`${res.status}: ${body.message ?? 'presence unavailable'}`, true);
        return;
      }
      render((await res.json()) as PresencePage);
    } while (again);
  })().finally(() => (refetching = undefined));
  return refetching;
}

function note(kind: string, data: string): void {
  try {
    const d = JSON.parse(data) as { sub?: string };
    if (d.sub !== undefined) showStatus(`${d.sub} ${kind === 'herald.join' ? 'joined' : 'left'}`);
  } catch {
    // not for us
  }
}

async function join(): Promise<void> {
  leave();
  topic = el<HTMLInputElement>('presence-topic').value.trim();
  const name = el<HTMLInputElement>('presence-name').value.trim();
  if (!topic) return showStatus('enter a topic', true);
  token = name ? await tokenFor(name) : '';
  const params = new URLSearchParams({ topic, presence: 'events' });
  if (token) params.set('access_token', token);
  const es = new EventSource(`/events?${params.toString()}`);
  source = es;
  el('presence-card').dataset.state = 'connecting';
  es.addEventListener('open', () => {
    el('presence-card').dataset.state = 'open';
    showStatus(`present on ${topic} as ${name || 'anonymous'}`);
    void refetch();
  });
  for (const type of ['herald.join', 'herald.leave']) {
    es.addEventListener(type, (ev) => {
      note(type, (ev as MessageEvent<string>).data);
      void refetch();
    });
  }
  es.addEventListener('herald.presence', () => void refetch());
  es.addEventListener('error', () => {
    if (es.readyState === EventSource.CLOSED) showStatus('stream refused or closed', true);
  });
}

function leave(): void {
  source?.close();
  source = undefined;
  el('presence-card').dataset.state = 'closed';
}

function main(): void {
  if (!presenceTopics) return;
  el('presence-card').hidden = false;
  el('presence-patterns').textContent = presenceTopics;
  const name = el<HTMLInputElement>('presence-name');
  if (!name.value) name.value = `guest-${Math.random().toString(36).slice(2, 6)}`;
  el('presence-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void join();
  });
  el('presence-leave').addEventListener('click', () => {
    leave();
    showStatus('left');
  });
}

main();
export {};

/**
 * The demo page's Mercure section (`GET /` with MERCURE=on): subscribe to `/.well-known/mercure`
 * with a native EventSource by selector (1.0 `match` / `match_urlpattern`, 0.x `topic`), and
 * publish a form-encoded update. Self-contained: its own elements (`#mercure-*`), its own module.
 */

const HUB = '/.well-known/mercure';
const MAX_ROWS = 200;

/** MERCURE_PROTOCOL when the hub is on (`v1`, `legacy`, `both`), else `off`. */
const hubMode =
  document.querySelector('meta[name="herald-mercure"]')?.getAttribute('content') ?? 'off';

function el<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(`mercure-${id}`);
  if (!found) throw new Error(`#mercure-${id} missing`);
  return found as T;
}

/** One value per line, blank lines dropped. */
function lines(value: string): string[] {
  return value
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);
}

let source: EventSource | undefined;
let types = new Set<string>();

function setState(state: 'open' | 'connecting' | 'closed', detail = ''): void {
  const pill = el('state');
  pill.dataset.state = state;
  pill.textContent = detail ? `${state} · ${detail}` : state;
}

function row(id: string, type: string, data: string): void {
  const tr = document.createElement('tr');
  tr.dataset.id = id;
  tr.dataset.type = type;
  for (const text of [new Date().toLocaleTimeString(undefined, { hour12: false }), id, type]) {
    const td = document.createElement('td');
    td.textContent = text;
    tr.append(td);
  }
  const td = document.createElement('td');
  const pre = document.createElement('pre');
  pre.textContent = data;
  td.append(pre);
  tr.append(td);
  const log = el('log');
  log.prepend(tr);
  while (log.childElementCount > MAX_ROWS) log.lastElementChild?.remove();
  el('empty').hidden = true;
}

/**
 * Stores the subscriber token as the cookie its dialect reads (an EventSource cannot send an
 * Authorization header). A real application sets it HttpOnly from its server instead.
 */
function setTokenCookie(param: string, token: string): void {
  const legacy = param === 'topic';
  const name = legacy ? 'mercureAuthorization' : '__Secure-mercure_access_token';
  const other = legacy ? '__Secure-mercure_access_token' : 'mercureAuthorization';
  // `__Secure-` cookies need Secure (browsers accept it on https and on localhost).
  const attrs = (secure: boolean) =>
    `; Path=${HUB}; SameSite=Strict${secure || location.protocol === 'https:' ? '; Secure' : ''}`;
  document.cookie = `${other}=${attrs(!legacy)}; Max-Age=0`;
  document.cookie = token
    ? `${name}=${encodeURIComponent(token)}${attrs(!legacy)}`
    : `${name}=${attrs(!legacy)}; Max-Age=0`;
}

function subscribe(): void {
  source?.close();
  const param = el<HTMLSelectElement>('kind').value;
  const selectors = lines(el<HTMLTextAreaElement>('selectors').value);
  if (selectors.length === 0) {
    setState('closed', 'enter a selector');
    return;
  }
  setTokenCookie(param, el<HTMLInputElement>('subtoken').value.trim());
  const query = new URLSearchParams();
  for (const s of selectors) query.append(param, s);
  const url = `${HUB}?${query.toString()}`;
  el('url').textContent = url;
  setState('connecting');
  const es = new EventSource(url, { withCredentials: true });
  source = es;
  types = new Set();
  const listen = (type: string) => {
    if (types.has(type)) return;
    types.add(type);
    es.addEventListener(type, (ev) => {
      const m = ev as MessageEvent<string>;
      row(m.lastEventId, type, m.data);
    });
  };
  for (const type of [
    'message',
    ...lines(el<HTMLInputElement>('types').value.replace(/,/g, '\n')),
  ]) {
    listen(type);
  }
  es.onopen = () => setState('open');
  es.onerror = () =>
    setState(
      es.readyState === EventSource.CLOSED ? 'closed' : 'connecting',
      es.readyState === EventSource.CLOSED ? 'refused (see the network tab)' : 'reconnecting',
    );
}

async function publish(): Promise<void> {
  const form = new URLSearchParams();
  const topics = lines(el<HTMLTextAreaElement>('ptopics').value);
  for (const t of topics) form.append('topic', t);
  form.append('data', el<HTMLTextAreaElement>('pdata').value);
  if (el<HTMLInputElement>('pprivate').checked) form.append('private', 'on');
  const type = el<HTMLInputElement>('ptype').value.trim();
  if (type) {
    form.append('type', type);
    if (source && !types.has(type)) {
      types.add(type);
      const es = source;
      es.addEventListener(type, (ev) => {
        const m = ev as MessageEvent<string>;
        row(m.lastEventId, type, m.data);
      });
    }
  }
  const id = el<HTMLInputElement>('pid').value.trim();
  if (id) form.append('id', id);
  const token = el<HTMLInputElement>('pubtoken').value.trim();
  const result = el('pubres');
  try {
    const res = await fetch(HUB, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: form.toString(),
    });
    const text = await res.text();
    result.textContent =
      res.status === 200
        ? `200 published: id ${text}`
        : `${res.status} ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
    result.dataset.id = res.status === 200 ? text : '';
    result.classList.toggle('bad', res.status !== 200);
  } catch (error: unknown) {
    result.textContent = `publish failed: ${String(error)}`;
    result.classList.add('bad');
  }
}

function main(): void {
  if (hubMode === 'off') return;
  el('card').hidden = false;
  el('protocol').textContent = hubMode;
  const kind = el<HTMLSelectElement>('kind');
  for (const option of Array.from(kind.options)) {
    const legacy = option.value === 'topic';
    option.disabled = (legacy && hubMode === 'v1') || (!legacy && hubMode === 'legacy');
  }
  if (kind.selectedOptions[0]?.disabled) {
    kind.value = hubMode === 'legacy' ? 'topic' : 'match';
  }
  el('sub').addEventListener('submit', (ev) => {
    ev.preventDefault();
    subscribe();
  });
  el('close').addEventListener('click', () => {
    source?.close();
    setState('closed');
  });
  el('pub').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void publish();
  });
}

main();

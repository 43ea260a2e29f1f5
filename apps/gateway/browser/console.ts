/**
 * The operator console (`GET /console`): polls `GET /admin/overview` and `GET /admin/connections`
 * with the operator's admin token (or the auth cookie), charts the last 15 minutes with uPlot
 * (loaded as a classic script before this module), lists instances, top topics and connections,
 * and kicks or revokes. No inline script or style: it runs under the demo page's strict CSP.
 */
import type uPlotType from 'uplot';
import { ConsoleHistory, type OverviewFigures, type Point } from './console.model.js';

declare const uPlot: typeof uPlotType;

const TOKEN_KEY = 'herald.console.token';
const MAX_ROWS = 200;
const LARGE_LIST = 1000;
const LARGE_LIST_MS = 10_000;
const params = new URLSearchParams(location.search);
/** Poll period: 2 s, or `?interval=<ms>` (at least 250). */
const INTERVAL_MS = Math.max(250, Number(params.get('interval')) || 2000);

interface InstanceOverview extends Readonly<Record<string, unknown>> {
  readonly instance: string;
  readonly startedAt: number;
  readonly ready: boolean;
  readonly draining: boolean;
  readonly broker: { readonly driver: string; readonly status: string; readonly message?: string };
  readonly eventLoopDelayMs: number;
  readonly connections: number;
}

interface Overview extends OverviewFigures {
  readonly instances: readonly (InstanceOverview & OverviewFigures['instances'][number])[];
  readonly missing: readonly string[];
  readonly totals: {
    readonly instances: number;
    readonly ready: number;
    readonly connections: number;
    readonly published: number;
    readonly delivered: number;
    readonly slowConsumerCuts: number;
    readonly shed: number;
  };
  readonly topTopics: readonly { readonly topic: string; readonly subscribers: number }[];
  readonly topTopicsExact: boolean;
}

interface Connection {
  readonly id: string;
  readonly sub: string | null;
  readonly ip: string;
  readonly topics: readonly string[];
  readonly connectedAt: string;
  readonly bytesSent: number;
  readonly instance: string;
}

function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el as T;
}

function cell(text: string, className = ''): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function showState(state: 'idle' | 'live' | 'auth' | 'error', text: string): void {
  $('state').dataset.state = state;
  $('state-text').textContent = text;
}

const fmt = (v: number | null | undefined, digits = 1) =>
  v === null || v === undefined ? '-' : v.toFixed(digits);

// --- auth ----------------------------------------------------------------------------------

let token = sessionStorage.getItem(TOKEN_KEY) ?? '';

/** Admin API call with the pasted token (Bearer) or, without one, the same-origin cookie. */
function api(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token) headers.set('Authorization', `Bearer ${token}`);
  return fetch(path, { ...init, headers, credentials: 'same-origin', cache: 'no-store' });
}

async function errorText(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { message?: unknown };
    return `${res.status} ${typeof body.message === 'string' ? body.message : res.statusText}`;
  } catch {
    return `${res.status} ${res.statusText}`;
  }
}

// --- charts --------------------------------------------------------------------------------

const PALETTE = ['#5b4cdb', '#12b76a', '#f79009', '#2e90fa', '#f04438', '#9e77ed', '#0ba5ec'];

interface Chart {
  plot: uPlotType | undefined;
  key: string;
  readonly el: HTMLElement;
}

const history = new ConsoleHistory();
const charts: Record<string, Chart> = {};

function chart(id: string): Chart {
  return (charts[id] ??= { plot: undefined, key: '', el: $(id) });
}

/**
 * Draws `data` in the chart `id` with one series per label, rebuilding the plot when the labels
 * change (an instance joined or left). Sets `data-points` (non-null values) and `data-max` on
 * the container, which tests and humans can read.
 */
function draw(id: string, labels: readonly string[], data: (number | null)[][]): void {
  const c = chart(id);
  const key = labels.join('\u0000');
  const width = Math.max(280, c.el.clientWidth);
  if (!c.plot || c.key !== key) {
    c.plot?.destroy();
    c.el.replaceChildren();
    c.plot = new uPlot(
      {
        width,
        height: 180,
        series: [
          {},
          ...labels.map((label, i) => ({
            label,
            stroke: PALETTE[i % PALETTE.length],
            width: 2,
            spanGaps: false,
          })),
        ],
        axes: [{}, { size: 56 }],
        scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(1, max, min)] } },
        legend: { live: false },
      },
      data as uPlotType.AlignedData,
      c.el,
    );
    c.key = key;
  } else {
    if (c.plot.width !== width) c.plot.setSize({ width, height: 180 });
    c.plot.setData(data as uPlotType.AlignedData);
  }
  let points = 0;
  let max = 0;
  for (const values of data.slice(1)) {
    for (const v of values) {
      if (v === null) continue;
      points++;
      max = Math.max(max, v);
    }
  }
  c.el.dataset.points = String(points);
  c.el.dataset.max = String(max);
}

function drawCharts(): void {
  const ids = history.instances();
  draw(
    'chart-streams',
    ids,
    history.series(...ids.map((id) => (p: Point) => p.streams[id] ?? null)),
  );
  draw(
    'chart-throughput',
    ['publishes/s', 'deliveries/s'],
    history.series(
      (p) => p.publishRate,
      (p) => p.deliveryRate,
    ),
  );
  draw(
    'chart-latency',
    ['p50 ms', 'p99 ms'],
    history.series(
      (p) => p.p50Ms,
      (p) => p.p99Ms,
    ),
  );
  draw(
    'chart-refusals',
    ['sheds/s', 'slow-consumer cuts/s'],
    history.series(
      (p) => p.shedRate,
      (p) => p.slowRate,
    ),
  );
}

// --- overview ------------------------------------------------------------------------------

/** The latest non-null value of `f` in the window (a rate needs two answers). */
function latest(f: (p: Point) => number | null): number | null {
  for (let i = history.points.length - 1; i >= 0; i--) {
    const v = f(history.points[i]);
    if (v !== null) return v;
  }
  return null;
}

function renderOverview(o: Overview): void {
  const t = o.totals;
  $('t-instances').textContent = `${t.ready}/${t.instances}`;
  $('t-streams').textContent = String(t.connections);
  $('t-published').textContent = String(t.published);
  $('t-delivered').textContent = String(t.delivered);
  $('t-shed').textContent = String(t.shed);
  $('t-slow').textContent = String(t.slowConsumerCuts);
  $('t-publish-rate').textContent = fmt(latest((p) => p.publishRate));
  $('t-delivery-rate').textContent = fmt(latest((p) => p.deliveryRate));
  $('t-p50').textContent = fmt(
    latest((p) => p.p50Ms),
    2,
  );
  $('t-p99').textContent = fmt(
    latest((p) => p.p99Ms),
    2,
  );

  const rows = o.instances.map((i) => {
    const tr = document.createElement('tr');
    tr.dataset.instance = i.instance;
    tr.append(
      cell(i.instance, 'mono'),
      cell(i.ready ? 'ready' : 'not ready', i.ready ? 'ok' : 'bad'),
      cell(
        `${i.broker.driver} ${i.broker.status}${i.broker.message ? ` (${i.broker.message})` : ''}`,
        i.broker.status === 'up' ? 'ok' : 'bad',
      ),
      cell(i.draining ? 'draining' : 'no', i.draining ? 'warn' : ''),
      cell(String(i.eventLoopDelayMs)),
      cell(String(i.connections)),
      cell(new Date(i.startedAt).toLocaleString()),
    );
    return tr;
  });
  $('instances').replaceChildren(...rows);
  const missing = $('missing');
  missing.hidden = o.missing.length === 0;
  missing.textContent = `Alive but not answering: ${o.missing.join(', ')}`;

  $('topics').replaceChildren(
    ...o.topTopics.map((topic) => {
      const tr = document.createElement('tr');
      tr.dataset.topic = topic.topic;
      tr.append(cell(topic.topic, 'mono'), cell(String(topic.subscribers)));
      return tr;
    }),
  );
  $('topics-note').textContent = o.topTopicsExact ? '' : '(approximate: many distinct topics)';
}

// --- connections ---------------------------------------------------------------------------

let connections: readonly Connection[] = [];

function filterValue(id: string): string {
  return $<HTMLInputElement>(id).value.trim().toLowerCase();
}

/** Connections passing the filters: each filter is a case-insensitive substring. */
function filtered(): Connection[] {
  const sub = filterValue('f-sub');
  const ip = filterValue('f-ip');
  const topic = filterValue('f-topic');
  const instance = filterValue('f-instance');
  const has = (value: string, wanted: string) => !wanted || value.toLowerCase().includes(wanted);
  return connections.filter(
    (c) =>
      has(c.sub ?? '', sub) &&
      has(c.ip, ip) &&
      has(c.instance, instance) &&
      (!topic || c.topics.some((t) => has(t, topic))),
  );
}

function button(text: string, action: string, className = ''): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  b.dataset.action = action;
  if (className) b.className = className;
  return b;
}

/** Rows by connection id: kept across polls so buttons stay put under the pointer. */
const rows = new Map<string, { tr: HTMLTableRowElement; bytes: HTMLTableCellElement }>();

function connectionRow(c: Connection): HTMLTableRowElement {
  const known = rows.get(c.id);
  if (known) {
    known.bytes.textContent = String(c.bytesSent);
    return known.tr;
  }
  const tr = document.createElement('tr');
  tr.dataset.id = c.id;
  tr.dataset.sub = c.sub ?? '';
  const actions = document.createElement('td');
  actions.className = 'actions';
  actions.append(button('kick', 'kick'));
  if (c.sub !== null) actions.append(button('revoke', 'revoke', 'danger'));
  const bytes = cell(String(c.bytesSent));
  tr.append(
    cell(c.sub ?? '(anonymous)', 'mono'),
    cell(c.ip, 'mono'),
    cell(c.topics.join(' '), 'mono'),
    cell(c.instance, 'mono'),
    cell(new Date(c.connectedAt).toLocaleTimeString(undefined, { hour12: false })),
    bytes,
    actions,
  );
  rows.set(c.id, { tr, bytes });
  return tr;
}

function renderConnections(): void {
  const shown = filtered();
  $('conn-count').textContent =
    shown.length === connections.length
      ? `(${connections.length})`
      : `(${shown.length} of ${connections.length})`;
  const live = new Set(connections.map((c) => c.id));
  for (const id of rows.keys()) if (!live.has(id)) rows.delete(id);
  const wanted = shown.slice(0, MAX_ROWS).map(connectionRow);
  const body = $('connections');
  const same =
    body.children.length === wanted.length && wanted.every((tr, i) => body.children[i] === tr);
  if (!same) body.replaceChildren(...wanted);
}

function report(text: string, ok: boolean): void {
  const el = $('action-result');
  el.textContent = text;
  el.dataset.ok = String(ok);
}

async function kick(id: string): Promise<void> {
  const res = await api(`/admin/connections/${encodeURIComponent(id)}`, { method: 'DELETE' });
  if (res.status === 204) report(`closed ${id}`, true);
  else report(`kick ${id}: ${await errorText(res)}`, false);
  listNow = true;
  await poll();
}

async function revoke(sub: string): Promise<void> {
  const res = await api('/admin/revocations', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ sub }),
  });
  if (res.ok) {
    const body = (await res.json()) as { closed: number };
    report(`revoked ${sub}: ${body.closed} stream(s) closed, older tokens refused`, true);
  } else report(`revoke ${sub}: ${await errorText(res)}`, false);
  listNow = true;
  await poll();
}

/** Revoking is final for the subject's current tokens: the first click arms, the second acts. */
function onAction(event: Event): void {
  const target = event.target as HTMLElement;
  const b = target.closest('button');
  const row = target.closest('tr');
  if (!b || !row) return;
  if (b.dataset.action === 'kick') void kick(row.dataset.id ?? '');
  if (b.dataset.action === 'revoke') {
    const sub = row.dataset.sub ?? '';
    if (b.dataset.armed !== 'true') {
      b.dataset.armed = 'true';
      b.textContent = `revoke ${sub}?`;
      setTimeout(() => {
        delete b.dataset.armed;
        b.textContent = 'revoke';
      }, 10_000);
      return;
    }
    void revoke(sub);
  }
}

// --- polling -------------------------------------------------------------------------------

let polling: Promise<void> | undefined;
let listedAt = 0;
/** Set by kick and revoke: the next round lists connections whatever their number. */
let listNow = true;

/**
 * The full connection list is the heavy call: every round up to {@link LARGE_LIST} streams,
 * every {@link LARGE_LIST_MS} above (or at once after a kick or revoke).
 */
function listDue(streams: number): boolean {
  const due = listNow || streams <= LARGE_LIST || Date.now() - listedAt >= LARGE_LIST_MS;
  listNow = false;
  return due;
}

/** One round: overview, then connections; one at a time. */
function poll(): Promise<void> {
  polling ??= (async () => {
    try {
      const res = await api('/admin/overview?topics=20');
      if (res.status === 401 && devToken && (await devLogin())) return;
      if (res.status === 401 || res.status === 403) {
        showState('auth', `${await errorText(res)}: paste an admin token`);
        return;
      }
      if (!res.ok) {
        showState('error', await errorText(res));
        return;
      }
      const overview = (await res.json()) as Overview;
      history.add(overview);
      renderOverview(overview);
      drawCharts();
      if (listDue(overview.totals.connections)) {
        const list = await api('/admin/connections');
        if (list.ok) {
          connections = ((await list.json()) as { connections: Connection[] }).connections;
          listedAt = Date.now();
          renderConnections();
        }
      }
      showState('live', `live · ${new Date(overview.at).toLocaleTimeString()}`);
    } catch (err) {
      showState('error', `unreachable: ${String(err)}`);
    } finally {
      polling = undefined;
    }
  })();
  return polling;
}

$('auth').addEventListener('submit', (e) => {
  e.preventDefault();
  token = $<HTMLInputElement>('token').value.trim();
  devToken = false;
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
  $<HTMLInputElement>('token').value = '';
  void poll();
});
$('forget').addEventListener('click', () => {
  token = '';
  devToken = false;
  sessionStorage.removeItem(TOKEN_KEY);
  void poll();
});
$('filters').addEventListener('input', renderConnections);
$('filters').addEventListener('submit', (e) => e.preventDefault());
$('connections').addEventListener('click', onAction);
window.addEventListener('resize', drawCharts);

/**
 * In development without a JWT key the server names `/dev/token` in a meta tag: with no token of
 * the operator's in this tab, the console uses a development admin token from it (and a fresh
 * one when that expires) instead of asking for one.
 */
const devTokenUrl =
  document.querySelector('meta[name="herald-dev-token"]')?.getAttribute('content') ?? '';
let devToken = false;

async function devLogin(): Promise<boolean> {
  if (!devTokenUrl || (token && !devToken)) return false;
  try {
    const res = await fetch(devTokenUrl, { cache: 'no-store' });
    if (!res.ok) return false;
    token = ((await res.json()) as { token: string }).token;
    devToken = true;
    return true;
  } catch {
    return false;
  }
}

async function start(): Promise<void> {
  if (!token) await devLogin();
  await poll();
  setInterval(() => void poll(), INTERVAL_MS);
}

void start();

const $ = (id) => document.getElementById(id);
let source;
let token;

// Development only: GET /dev/token (absent in production, where the demo runs without a token).
async function refreshToken() {
  const res = await fetch('/dev/token?role=publisher&topics=**').catch(() => undefined);
  token = res?.ok ? (await res.json()).token : undefined;
}

function show(state) {
  $('state').textContent = state;
}

function row(e) {
  const tr = document.createElement('tr');
  for (const text of [new Date().toLocaleTimeString(), e.lastEventId, e.type, e.data]) {
    const td = document.createElement('td');
    const code = document.createElement('code');
    code.textContent = text;
    td.append(code);
    tr.append(td);
  }
  $('log').prepend(tr);
}

async function connect() {
  source?.close();
  await refreshToken();
  const params = new URLSearchParams();
  if (token) params.set('access_token', token);
  for (const t of $('topics')
    .value.split(',')
    .map((s) => s.trim())
    .filter(Boolean))
    params.append('topic', t);
  source = new EventSource(`/events?${params}`);
  show('connecting');
  source.onopen = () => show('open');
  source.onerror = () => show(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
  source.onmessage = row;
  for (const type of ['herald.reset', 'herald.drain', 'herald.shed', 'herald.token-expiring']) {
    source.addEventListener(type, (e) => {
      row(e);
      if (type === 'herald.reset') show('reset');
      if (type === 'herald.shed') show('shed');
      if (type === 'herald.token-expiring') void connect();
    });
  }
  const known = new Set(['message']);
  source.addEventListener = source.addEventListener.bind(source);
  window.heraldListen = (type) => {
    if (!known.has(type)) {
      known.add(type);
      source.addEventListener(type, row);
    }
  };
  window.heraldListen($('ptype').value);
}

$('sub').addEventListener('submit', (ev) => {
  ev.preventDefault();
  void connect();
});
$('close').addEventListener('click', () => {
  source?.close();
  show('closed');
});
$('pub').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  let data;
  try {
    data = JSON.parse($('pdata').value);
  } catch {
    $('pubres').textContent = 'data must be JSON';
    return;
  }
  window.heraldListen?.($('ptype').value);
  const res = await fetch('/events', {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ topic: $('ptopic').value, type: $('ptype').value, data }),
  });
  $('pubres').textContent = `${res.status} ${await res.text()}`;
});
void connect();

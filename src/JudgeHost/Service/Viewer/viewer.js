// JudgeHost viewer: browse judged JSONL files (judge, best-of-n, dpo output) and stored jobs of `judgehost serve`.
// Plain JS, no build step. Reads /v1/files, /v1/jobs, /v1/eval and media through /v1/media (the media-root guard).
'use strict';

const PAGE = 1000;          // records per /v1/files or /v1/jobs page (the server's largest)
const MAX_RECORDS = 20000;  // records loaded per source
const FRAMES = 8;           // frames in a video's strip

const state = {
  files: [], jobs: [], source: null, requestsName: null,
  items: [], total: 0, shown: [], selected: null, evalCache: new Map(),
};

const $ = (id) => document.getElementById(id);

// ---------- small DOM helpers (text only through textContent: records are untrusted) ----------
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}
const badge = (text, cls) => el('span', { class: `badge ${cls || ''}`, text });
const fmt = (x) => (x === null || x === undefined ? '—' : typeof x === 'number' ? String(Math.round(x * 1000) / 1000) : String(x));

async function api(url) {
  const response = await fetch(url);
  const body = await response.text();
  let json = null;
  try { json = body ? JSON.parse(body) : null; } catch { /* not JSON */ }
  if (!response.ok) {
    throw new Error((json && (json.detail || json.title)) || `${response.status} ${response.statusText}`);
  }
  return json;
}

function showMessage(text, isError) {
  const m = $('message');
  m.textContent = text || '';
  m.hidden = !text;
  m.classList.toggle('error', !!isError);
}

// ---------- records -> items ----------
function kindOf(r) {
  if (r && Array.isArray(r.matches)) return 'best-of-n';
  if (r && (r.pairs !== undefined || r.dropped !== undefined || r.mode !== undefined)) return 'dpo';
  if (r && r.task !== undefined && (r.samples !== undefined || r.verdict !== undefined || r.status !== undefined)) return 'judge';
  if (r && (r.instruction !== undefined || r.messages !== undefined)) return 'request';
  return 'unknown';
}

function agreementOf(values) {
  const known = values.filter((v) => v === true || v === false);
  if (known.length === 0) return 'n/a';
  return known.includes(false) ? 'disagree' : 'agree';
}

function instructionOf(request) {
  if (!request) return null;
  if (request.instruction) return request.instruction;
  if (Array.isArray(request.messages)) {
    const users = request.messages.filter((m) => m.role === 'user');
    const last = users[users.length - 1];
    return last ? (typeof last.content === 'string' ? last.content : JSON.stringify(last.content)) : null;
  }
  return null;
}

function normalize(record, request) {
  const kind = kindOf(record);
  const item = { id: String(record.id ?? '(no id)'), kind, record, request: request || null, status: record.status || '—' };
  if (kind === 'judge') {
    item.task = record.task;
    item.judgments = [record];
    item.agreement = agreementOf([record.orders_agree]);
    item.parseFailure = record.status === 'unparsed';
  } else if (kind === 'best-of-n') {
    item.task = `best-of-n/${record.method || '?'}`;
    item.judgments = record.judgments || [];
    item.agreement = agreementOf([...(record.matches || []).map((m) => m.orders_agree), ...item.judgments.map((j) => j.orders_agree)]);
    item.parseFailure = (record.parse_failures || 0) > 0;
  } else if (kind === 'dpo') {
    item.task = `dpo/${record.mode || '?'}`;
    item.request = item.request || record.prompt || null;
    item.judgments = record.judgments || [];
    item.agreement = agreementOf(item.judgments.map((j) => j.orders_agree));
    item.parseFailure = (record.parse_failures || 0) > 0;
  } else {
    item.task = record.task || kind;
    item.judgments = [];
    item.agreement = 'n/a';
    item.parseFailure = false;
  }
  const req = item.request || (kind === 'request' ? record : null);
  item.instruction = instructionOf(req);
  item.media = (req && Array.isArray(req.media)) ? req.media : [];
  item.searchText = [item.id, item.instruction || '', JSON.stringify(record.candidates || req?.candidates || [])].join('\n').toLowerCase();
  return item;
}

// ---------- loading ----------
async function loadAll(base) {
  const records = [];
  let total = 0;
  for (let offset = 0; offset < MAX_RECORDS; offset += PAGE) {
    const page = await api(`${base}${base.includes('?') ? '&' : '?'}offset=${offset}&limit=${PAGE}`);
    total = page.total;
    records.push(...page.records);
    if (records.length >= total || page.records.length === 0) break;
  }
  return { records, total };
}

const encodeName = (name) => name.split('/').map(encodeURIComponent).join('/');
const sourceUrl = (src) => (src.type === 'job' ? `/v1/jobs/${encodeName(src.name)}/results` : `/v1/files/${encodeName(src.name)}`);

async function guessRequests(name, records) {
  // A judge output (or a best-of-n record) carries no instruction, candidates or media: find the input file beside
  // it (or beside the job store) whose ids match.
  const ids = new Set(records.slice(0, 50).map((r) => String(r.id)));
  const folder = name.includes('/') ? name.slice(0, name.lastIndexOf('/') + 1) : '';
  const siblings = state.files.filter((f) => f !== name && f.startsWith(folder) && !f.slice(folder.length).includes('/')).slice(0, 20);
  for (const f of siblings) {
    try {
      const page = await api(`/v1/files/${encodeName(f)}?offset=0&limit=50`);
      const hits = page.records.filter((r) => kindOf(r) === 'request' && ids.has(String(r.id)));
      if (hits.length > 0) return f;
    } catch { /* unreadable sibling: skip */ }
  }
  return null;
}

async function loadSource() {
  const value = $('source').value;
  if (!value) return;
  const [type, ...rest] = value.split(':');
  const src = { type, name: rest.join(':') };
  state.source = src;
  document.body.dataset.state = 'loading';
  showMessage('');
  try {
    const { records, total } = await loadAll(sourceUrl(src));
    let requestsName = $('requests').value;
    if (requestsName === '(auto)') {
      const needsRequests = records.some((r) => ['judge', 'best-of-n'].includes(kindOf(r)));
      requestsName = needsRequests ? await guessRequests(src.name, records) : null;
    } else if (requestsName === '(none)') {
      requestsName = null;
    }
    state.requestsName = requestsName;
    const byId = new Map();
    if (requestsName) {
      const req = await loadAll(`/v1/files/${encodeName(requestsName)}`);
      for (const r of req.records) byId.set(String(r.id), r);
    }
    state.items = records.map((r) => normalize(r, byId.get(String(r.id))));
    state.total = total;
    $('source-info').textContent = `${records.length}${total > records.length ? ` of ${total}` : ''} records`
      + (requestsName ? ` · requests: ${requestsName}` : '');
    fillFilterOptions();
    applyFilters();
    updateUrl();
    if (!$('summary-view').hidden) await renderSummary();
    document.body.dataset.state = 'ready';
  } catch (e) {
    state.items = [];
    applyFilters();
    showMessage(`Could not load ${src.name}: ${e.message}`, true);
    document.body.dataset.state = 'error';
  }
}

function fillFilterOptions() {
  for (const [id, key] of [['filter-task', 'task'], ['filter-status', 'status']]) {
    const select = $(id);
    const keep = select.value;
    select.replaceChildren(el('option', { value: '', text: 'all' }));
    const values = [...new Set(state.items.map((i) => i[key]))].sort();
    for (const v of values) select.append(el('option', { value: v, text: `${v} (${state.items.filter((i) => i[key] === v).length})` }));
    select.value = values.includes(keep) ? keep : '';
  }
}

// ---------- list and filters ----------
function applyFilters() {
  const task = $('filter-task').value;
  const agreement = $('filter-agreement').value;
  const parse = $('filter-parse').value;
  const status = $('filter-status').value;
  const query = $('filter-search').value.trim().toLowerCase();
  state.shown = state.items.filter((i) => (!task || i.task === task)
    && (!agreement || i.agreement === agreement)
    && (!parse || (parse === 'failure') === i.parseFailure)
    && (!status || i.status === status)
    && (!query || i.searchText.includes(query)));
  $('count').textContent = `${state.shown.length} of ${state.items.length} items`;
  const list = $('items');
  list.replaceChildren(...state.shown.map((item) => {
    const li = el('li', { 'data-id': item.id, class: state.selected === item ? 'selected' : '', onclick: () => select(item) },
      el('span', { class: 'item-id', text: item.id }),
      el('span', {}, badge(item.status, item.status), ' ', item.agreement !== 'n/a' ? badge(item.agreement === 'agree' ? 'agree' : 'disagree', item.agreement) : ''),
      el('span', { class: 'item-sub', text: `${item.task} · ${summaryOf(item)}` }));
    return li;
  }));
  if (state.selected && !state.shown.includes(state.selected)) {
    state.selected = null;
  }
  if (!state.selected && state.shown.length > 0) {
    const wanted = new URLSearchParams(location.search).get('item');
    select(state.shown.find((i) => i.id === wanted) || state.shown[0]);
  } else if (state.shown.length === 0) {
    $('detail').replaceChildren(el('p', { class: 'hint', text: state.items.length ? 'No item matches the filters.' : 'No records.' }));
  }
  updateUrl();
}

function summaryOf(item) {
  const r = item.record;
  if (item.kind === 'judge') return verdictText(r.verdict) || r.error || '';
  if (item.kind === 'best-of-n') return r.choice !== undefined && r.choice !== null ? `chose #${r.choice}` : (r.error || r.status);
  if (item.kind === 'dpo') return `${(r.pairs || []).length} pair(s) kept, ${(r.dropped || []).length} dropped`;
  return item.instruction || '';
}

function select(item) {
  state.selected = item;
  for (const li of $('items').children) li.classList.toggle('selected', li.dataset.id === item.id);
  renderDetail(item);
  updateUrl();
}

function updateUrl() {
  const p = new URLSearchParams();
  if (state.source) p.set(state.source.type, state.source.name);
  const req = $('requests').value;
  if (req && req !== '(auto)') p.set('requests', req);
  for (const [id, key] of [['filter-task', 'task'], ['filter-agreement', 'agreement'], ['filter-parse', 'parse'], ['filter-status', 'status'], ['filter-search', 'q']]) {
    if ($(id).value) p.set(key, $(id).value);
  }
  if (state.selected) p.set('item', state.selected.id);
  if (!$('summary-view').hidden) p.set('view', 'summary');
  history.replaceState(null, '', `${location.pathname}?${p}`);
}

// ---------- verdicts and reasoning ----------
function verdictText(v) {
  if (!v) return '';
  switch (v.kind) {
    case 'score': return `score ${fmt(v.score)}`;
    case 'pair': {
      const outcome = { A: 'A better', B: 'B better', tie: 'tie', both_bad: 'both bad' }[v.outcome] || v.outcome;
      return v.score_a !== undefined && v.score_a !== null ? `${outcome} (A ${fmt(v.score_a)}, B ${fmt(v.score_b)})` : outcome;
    }
    case 'ranking': return `ranking ${v.ranking}${v.scores ? ` (scores ${v.scores.map(fmt).join(', ')})` : ''}${v.tied_scores ? ', tied scores' : ''}`;
    case 'binary': return v.yes ? 'yes' : 'no';
    case 'unparsed': return `unparsed: ${v.reason || ''}`;
    default: return JSON.stringify(v);
  }
}

// The reasoning inside <think>…</think> and the answer after the last </think> (a prefilled "<think>" is not in the raw text).
function splitReasoning(raw) {
  const text = raw || '';
  const close = text.lastIndexOf('</think>');
  const open = text.indexOf('<think>');
  if (close < 0) {
    return open >= 0 ? { think: text.slice(open + 7).trim(), answer: '', closed: false } : { think: '', answer: text.trim(), closed: false };
  }
  const start = open >= 0 && open < close ? open + 7 : 0;
  return { think: text.slice(start, close).trim(), answer: text.slice(close + 8).trim(), closed: true };
}

function renderSample(s) {
  const { think, answer, closed } = splitReasoning(s.raw);
  const flags = [`${s.tokens} tokens`, s.truncated ? 'truncated' : null, s.waits ? `${s.waits} wait(s)` : null, s.forced_answer ? 'answer forced' : null].filter(Boolean).join(' · ');
  return el('div', { class: 'sample', 'data-order': s.order },
    el('div', {}, el('span', { class: 'sample-verdict', text: `sample ${s.sample}: ${verdictText(s.verdict)}` }), ' ', el('small', { class: 'hint', text: flags })),
    think ? el('div', { class: 'reasoning', title: closed ? 'reasoning (<think>)' : 'reasoning, never closed', text: think }) : el('div', { class: 'hint', text: 'no <think> reasoning' }),
    answer ? el('div', { class: 'answer', text: answer }) : null,
    el('details', {}, el('summary', { text: 'raw sample' }), el('pre', { class: 'raw', text: s.raw || '' })));
}

function agreementBadge(j) {
  if (j.orders_agree === true) return badge('orders agree', 'agree');
  if (j.orders_agree === false) return badge('orders disagree', 'disagree');
  const both = (j.samples || []).some((x) => x.order === 'BA');
  return both ? badge('agreement unknown: a verdict is unreadable', 'na') : badge('single order', 'na');
}

// One judge result: verdict, both-order agreement with the AB and BA samples side by side, reasoning, raw text.
function renderJudgment(j) {
  const samples = j.samples || [];
  const orders = [...new Set(samples.map((s) => s.order))];
  const box = el('div', { class: 'judgment-body' },
    el('p', {}, el('span', { class: 'verdict', text: verdictText(j.verdict) || j.status }), ' ', badge(j.status, j.status),
      j.unparsed_samples ? [' ', badge(`${j.unparsed_samples} unreadable sample(s)`, 'unparsed')] : null),
    j.error ? el('p', { class: 'media-error', text: j.error }) : null,
    el('p', { class: 'tokens hint', text: `prompt ${fmt(j.prompt_tokens)} tokens, generated ${fmt(j.generated_tokens)}, ${fmt(j.elapsed_ms)} ms` }));
  if (orders.includes('BA')) {
    box.append(el('div', { class: 'agreement' }, el('strong', { text: 'Both orders: ' }), agreementBadge(j)));
  }
  const columns = el('div', { class: 'orders' });
  for (const order of orders) {
    const title = order === 'AB' ? 'Order AB (A shown first)' : order === 'BA' ? 'Order BA (B shown first; verdicts mapped back to A/B)' : `Order ${order}`;
    columns.append(el('section', { class: 'order', 'data-order': order }, el('h4', { text: title }), samples.filter((s) => s.order === order).map(renderSample)));
  }
  box.append(columns);
  return box;
}

// ---------- media ----------
const mediaUrl = (path) => `/v1/media?path=${encodeURIComponent(path)}`;

function mediaError(figure, url) {
  // The <img>/<audio> error event says nothing: ask the server for its problem detail.
  fetch(url).then((r) => r.json().catch(() => ({}))).then((p) => {
    figure.append(el('div', { class: 'media-error', text: p.detail || 'could not be loaded' }));
  }).catch(() => figure.append(el('div', { class: 'media-error', text: 'could not be loaded' })));
}

function renderMedia(m) {
  const caption = el('figcaption', { text: `${m.modality}: ${m.path ?? m.value ?? ''}` });
  const fig = el('figure', { class: `media-item ${m.modality}` });
  if (!m.path && m.modality !== 'molecule') {
    fig.append(el('div', { class: 'hint', text: m.value || '(no path)' }), caption);
    return fig;
  }
  switch (m.modality) {
    case 'image': {
      const url = mediaUrl(m.path);
      const img = el('img', { class: 'image', src: url, alt: m.path, onerror: () => mediaError(fig, url) });
      fig.append(img, caption);
      break;
    }
    case 'audio': {
      const url = mediaUrl(m.path);
      fig.append(el('audio', { controls: true, preload: 'metadata', src: url, onerror: () => mediaError(fig, url) }), caption);
      break;
    }
    case 'video': {
      const strip = el('div', { class: 'frame-strip' });
      fig.append(strip, caption, el('details', {}, el('summary', { text: 'play video' }), el('video', { controls: true, preload: 'none', src: mediaUrl(m.path), width: 480 })));
      api(`/v1/media/video?path=${encodeURIComponent(m.path)}&frames=${FRAMES}`).then((v) => {
        caption.textContent += ` · ${fmt(v.duration_s)} s, ${v.width}x${v.height}`;
        strip.append(...v.frames.map((f) => el('figure', {}, el('img', { class: 'frame', src: f.url, alt: `frame at ${f.time_s} s` }), el('figcaption', { text: `${f.time_s} s` }))));
      }).catch((e) => strip.append(el('div', { class: 'media-error', text: e.message })));
      break;
    }
    case 'molecule': {
      const q = m.path ? `path=${encodeURIComponent(m.path)}` : `value=${encodeURIComponent(m.value || '')}`;
      const body = el('div', { class: 'molecule-body' });
      fig.append(body, caption);
      api(`/v1/media/molecule?${q}`).then((mol) => {
        if (mol.svg) {
          body.append(el('img', { class: 'molecule-drawing', alt: m.value || m.path, src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(mol.svg)}` }));
        }
        body.append(el('div', { class: 'hint', text: mol.drawing }), renderStructure(mol));
      }).catch((e) => body.append(el('div', { class: 'media-error', text: e.message })));
      break;
    }
    default: {
      const url = mediaUrl(m.path);
      fig.append(el('a', { href: url, text: 'open file' }), caption);
    }
  }
  return fig;
}

function renderStructure(mol) {
  const atoms = el('table', { class: 'atoms' }, el('tr', {}, ['#', 'atom', 'charge', 'H', 'aromatic'].map((h) => el('th', { text: h }))),
    mol.atoms.map((a) => el('tr', {}, [a.index, a.symbol, a.charge, a.hydrogens, a.aromatic ? 'yes' : ''].map((v) => el('td', { text: String(v) })))));
  const bonds = el('table', { class: 'bonds' }, el('tr', {}, ['atoms', 'type'].map((h) => el('th', { text: h }))),
    mol.bonds.map((b) => el('tr', {}, el('td', { text: `${mol.atoms[b.begin].symbol}${b.begin}–${mol.atoms[b.end].symbol}${b.end}` }), el('td', { text: b.type }))));
  return el('details', {}, el('summary', { text: `structure: ${mol.atoms.length} atoms, ${mol.bonds.length} bonds` }), atoms, bonds);
}

// ---------- candidates ----------
const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function candidateCards(item) {
  const r = item.record;
  if (item.kind === 'best-of-n' || item.kind === 'dpo') {
    const chosen = item.kind === 'best-of-n' ? r.choice : null;
    const kept = item.kind === 'dpo' ? new Set((r.pairs || []).map((p) => p.chosen_index)) : new Set();
    return (r.candidates || []).map((c) => el('div', { class: `candidate${c.index === chosen || kept.has(c.index) ? ' winner' : ''}`, 'data-index': c.index },
      el('header', {}, el('span', { text: `#${c.index}${c.index === chosen ? ' — chosen' : ''}${kept.has(c.index) ? ' — chosen in a pair' : ''}` }),
        el('small', { class: 'hint', text: [c.source, c.temperature !== undefined && c.temperature !== null ? `T=${c.temperature}` : null, c.score !== undefined && c.score !== null ? `score ${fmt(c.score)}` : null, c.wins !== undefined && c.wins !== null ? `wins ${fmt(c.wins)}` : null, c.rank ? `rank ${c.rank}` : null].filter(Boolean).join(' · ') })),
      el('div', { class: 'text', text: c.text }),
      c.judged_text && c.judged_text !== c.text ? el('details', {}, el('summary', { text: 'as judged' }), el('div', { class: 'text', text: c.judged_text })) : null));
  }
  const candidates = item.request?.candidates || [];
  const v = r.verdict || {};
  return candidates.map((text, i) => {
    const letter = letters[i];
    let note = '';
    let winner = false;
    if (v.kind === 'pair') {
      winner = v.outcome === letter;
      const score = i === 0 ? v.score_a : v.score_b;
      note = score !== undefined && score !== null ? `score ${fmt(score)}` : '';
    } else if (v.kind === 'ranking' && v.ranking) {
      const pos = v.ranking.indexOf(letter);
      winner = pos === 0;
      note = [pos >= 0 ? `rank ${pos + 1}` : null, v.scores ? `score ${fmt(v.scores[i])}` : null].filter(Boolean).join(' · ');
    } else if (v.kind === 'score') {
      note = `score ${fmt(v.score)}`;
    } else if (v.kind === 'binary') {
      note = v.yes ? 'yes' : 'no';
    }
    const label = item.task === 'pairwise' || item.task === 'ranking' ? letter : `Candidate ${i + 1}`;
    return el('div', { class: `candidate${winner ? ' winner' : ''}`, 'data-index': i },
      el('header', {}, el('span', { text: label }), el('small', { class: 'hint', text: note })), el('div', { class: 'text', text }));
  });
}

function table(headers, rows) {
  return el('table', {}, el('tr', {}, headers.map((h) => el('th', { text: h }))), rows.map((row) => el('tr', {}, row.map((c) => el('td', {}, c)))));
}

// ---------- detail ----------
function renderDetail(item) {
  const r = item.record;
  const d = $('detail');
  d.replaceChildren();
  d.append(el('h2', { text: item.id }),
    el('p', {}, badge(item.status, item.status), ' ', el('span', { class: 'hint', text: `${item.kind} · ${item.task}` }),
      r.label !== undefined && r.label !== null ? el('span', { class: 'label' }, ' · label ', el('strong', { text: typeof r.label === 'string' ? r.label : JSON.stringify(r.label) })) : null));
  if (r.error) d.append(el('p', { class: 'media-error', text: r.error }));
  if (item.instruction) d.append(el('h3', { text: 'Instruction' }), el('div', { class: 'instruction', text: item.instruction }));
  else if (item.kind === 'judge' || item.kind === 'best-of-n') d.append(el('p', { class: 'hint', text: 'The request (instruction, candidates, media) is not in this file: pick its input JSONL under "Requests".' }));
  if (item.media.length) d.append(el('h3', { text: 'Media' }), el('div', { class: 'media' }, item.media.map(renderMedia)));
  const cards = candidateCards(item);
  if (cards.length) d.append(el('h3', { text: 'Candidates' }), el('div', { class: 'candidates' }, cards));

  if (item.kind === 'judge') {
    d.append(el('h3', { text: 'Verdict and reasoning' }), renderJudgment(r));
    return;
  }
  if (item.kind === 'best-of-n') {
    if (r.tie_break) d.append(el('p', { class: 'hint', text: `tie among ${r.tie_break.tied.join(', ')} broken by ${r.tie_break.rule}: picked #${r.tie_break.picked}` }));
    if ((r.matches || []).length) {
      d.append(el('h3', { text: 'Matches' }), table(['round', 'match', 'outcome', 'orders', 'winner', 'decided by'],
        r.matches.map((m) => [String(m.round), `#${m.a} vs #${m.b}`, m.outcome, m.orders_agree === true ? badge('agree', 'agree') : m.orders_agree === false ? badge('disagree', 'disagree') : '—', m.winner === null || m.winner === undefined ? '—' : `#${m.winner}`, m.decided_by])));
    }
  }
  if (item.kind === 'dpo') {
    if ((r.pairs || []).length) {
      d.append(el('h3', { text: 'Pairs kept' }), table(['chosen', 'rejected', 'scores'],
        r.pairs.map((p) => [`#${p.chosen_index}`, `#${p.rejected_index}`, `${fmt(p.chosen_score)} vs ${fmt(p.rejected_score)}`])));
    }
    if ((r.dropped || []).length) {
      d.append(el('h3', { text: 'Pairs dropped' }), table(['pair', 'reason', 'detail'], r.dropped.map((x) => [`#${x.a} vs #${x.b}`, x.reason, x.detail || ''])));
    }
  }
  if (item.judgments.length) {
    d.append(el('h3', { text: `Judgments (${item.judgments.length})` }));
    item.judgments.forEach((j, n) => d.append(el('details', { class: 'judgment', open: n === 0 && item.judgments.length === 1 },
      el('summary', {}, `${j.id} · ${j.task} · ${verdictText(j.verdict) || j.status} `, j.orders_agree !== undefined && j.orders_agree !== null ? agreementBadge(j) : ''),
      renderJudgment(j))));
  }
}

// ---------- summary ----------
function countBy(items, key) {
  const counts = new Map();
  for (const i of items) counts.set(i[key], (counts.get(i[key]) || 0) + 1);
  return [...counts.entries()].sort((a, b) => String(a[0]).localeCompare(String(b[0])));
}

async function renderSummary() {
  const s = $('summary');
  s.replaceChildren();
  const items = state.items;
  const byTask = countBy(items, 'task');
  s.append(el('section', { id: 'summary-counts' }, el('h2', { text: `${items.length} items (${state.shown.length} shown by the filters)` }),
    table(['task', 'items', 'ok', 'parse failures', 'errors', 'orders agree', 'orders disagree'], byTask.map(([task, n]) => {
      const of = items.filter((i) => i.task === task);
      return [task, String(n), String(of.filter((i) => i.status === 'ok').length), String(of.filter((i) => i.parseFailure).length),
        String(of.filter((i) => i.status === 'error').length), String(of.filter((i) => i.agreement === 'agree').length), String(of.filter((i) => i.agreement === 'disagree').length)];
    }))));
  if (!state.source || state.source.type !== 'file' || !items.some((i) => i.kind === 'judge')) {
    s.append(el('p', { class: 'hint', text: 'eval metrics are computed for judged JSONL files with labels (the output of `judgehost judge`).' }));
    return;
  }
  const section = el('section', { id: 'summary-eval' }, el('h2', { text: 'eval (as `judgehost eval`)' }));
  s.append(section);
  try {
    const key = state.source.name;
    const ev = state.evalCache.get(key) || await api(`/v1/eval/${encodeName(key)}`);
    state.evalCache.set(key, ev);
    if (ev.tasks.length === 0) {
      section.append(el('p', { class: 'hint', text: `No labelled results among ${ev.judge_results} judge results: eval needs a "label" on each request.` }));
      return;
    }
    section.append(table(['task', 'items', 'unparsed', 'errors', 'metrics'], ev.tasks.map((t) => [t.task, String(t.items), String(t.unparsed), String(t.errors),
      Object.entries(t.metrics).map(([k, v]) => `${k} ${v === null ? 'n/a' : fmt(v)}`).join(', ')])));
    section.append(el('div', { class: 'plots' }, ev.tasks.filter((t) => t.plot).map((t) => el('figure', {},
      el('img', { class: 'plot', src: t.plot, alt: `${t.task} ${t.plot_title}` }), el('figcaption', { text: `${t.task}: ${t.plot_title}` })))));
  } catch (e) {
    section.append(el('p', { class: 'media-error', text: e.message }));
  }
}

function showTab(summary) {
  $('items-view').hidden = summary;
  $('summary-view').hidden = !summary;
  $('tab-items').classList.toggle('active', !summary);
  $('tab-summary').classList.toggle('active', summary);
  if (summary) renderSummary();
  updateUrl();
}

// ---------- start ----------
async function start() {
  const params = new URLSearchParams(location.search);
  try {
    const [files, jobs] = await Promise.all([api('/v1/files'), api('/v1/jobs')]);
    state.files = files;
    state.jobs = jobs;
  } catch (e) {
    showMessage(`${e.message}`, true);
    document.body.dataset.state = 'error';
    return;
  }
  const source = $('source');
  source.append(el('option', { value: '', text: state.files.length + state.jobs.length ? '— pick a file or job —' : '— no files or jobs under the data root —' }));
  if (state.files.length) source.append(el('optgroup', { label: 'JSONL files' }, state.files.map((f) => el('option', { value: `file:${f}`, text: f }))));
  if (state.jobs.length) source.append(el('optgroup', { label: 'Stored jobs' }, state.jobs.map((j) => el('option', { value: `job:${j.name}`, text: `${j.name} (${j.kind || 'unreadable'}, ${j.finished ?? 0} finished)` }))));
  const requests = $('requests');
  requests.append(el('option', { value: '(auto)', text: '(auto: input file beside it)' }), el('option', { value: '(none)', text: '(none)' }),
    ...state.files.map((f) => el('option', { value: f, text: f })));

  for (const [id, key] of [['filter-agreement', 'agreement'], ['filter-parse', 'parse'], ['filter-search', 'q']]) {
    if (params.get(key)) $(id).value = params.get(key);
  }
  if (params.get('requests')) requests.value = params.get('requests');
  const wanted = params.get('file') ? `file:${params.get('file')}` : params.get('job') ? `job:${params.get('job')}` : '';
  if (wanted && [...source.options].some((o) => o.value === wanted)) source.value = wanted;

  source.addEventListener('change', () => { state.selected = null; loadSource(); });
  requests.addEventListener('change', loadSource);
  for (const id of ['filter-task', 'filter-agreement', 'filter-parse', 'filter-status']) {
    $(id).addEventListener('change', () => { applyFilters(); if (!$('summary-view').hidden) renderSummary(); });
  }
  $('filter-search').addEventListener('input', applyFilters);
  document.addEventListener('keydown', (e) => {
    // j/k or the arrow keys walk the list (not while typing in a field).
    if (e.target.closest('input, select, textarea') || e.ctrlKey || e.metaKey || e.altKey) return;
    const step = { ArrowDown: 1, j: 1, ArrowUp: -1, k: -1 }[e.key];
    if (!step || state.shown.length === 0) return;
    const at = state.shown.indexOf(state.selected);
    const next = state.shown[Math.min(state.shown.length - 1, Math.max(0, at + step))];
    select(next);
    $('items').querySelector(`li[data-id="${CSS.escape(next.id)}"]`)?.scrollIntoView({ block: 'nearest' });
    e.preventDefault();
  });
  $('tab-items').addEventListener('click', () => showTab(false));
  $('tab-summary').addEventListener('click', () => showTab(true));

  if (source.value) {
    await loadSource();
    for (const [id, key] of [['filter-task', 'task'], ['filter-status', 'status']]) {
      if (params.get(key)) { $(id).value = params.get(key); }
    }
    applyFilters();
    if (params.get('view') === 'summary') showTab(true);
  } else {
    document.body.dataset.state = 'ready';
  }
}

start();

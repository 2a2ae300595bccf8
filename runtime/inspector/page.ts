// The inspector's page: one HTML document with its CSS and script inline, so it needs nothing but
// the runtime's own server (no CDN, no build). It loads each machine's SVG from /charts, then
// follows /events (Server-Sent Events): `actor` messages move the highlight, `timeline` messages
// fill the list beside the charts.
//
// Spawned actors (one per alert) share their machine's chart: each live one gets a panel of its
// own, which goes when the actor ends; while none lives, the machine shows its bare chart.

/** The page for these chart names (in panel order). */
export function inspectorPage(names: readonly string[]): string {
  // `<` escaped so no name can close the script element.
  const machines = JSON.stringify(names).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>avs-device inspector</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${CSS}</style>
</head>
<body>
<header>
  <h1>avs-device inspector</h1>
  <span id="status" data-status="connecting">connecting…</span>
</header>
<main id="panels" aria-label="machines"></main>
<aside>
  <div class="filters">
    <label><input type="checkbox" data-kind="directive" checked> directives</label>
    <label><input type="checkbox" data-kind="event" checked> events</label>
    <label><input type="checkbox" data-kind="state" checked> states</label>
  </div>
  <ol id="timeline" aria-label="timeline, newest first"></ol>
  <section id="detail" hidden>
    <h2 id="detail-title"></h2>
    <pre id="detail-json"></pre>
  </section>
</aside>
<script>const MACHINES = ${machines};
${SCRIPT}</script>
</body>
</html>
`;
}

const CSS = `
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; }
body { display: grid; grid-template-columns: 1fr minmax(320px, 30%); grid-template-rows: auto 1fr; font: 13px/1.4 system-ui, sans-serif; color: #263238; background: #eceff1; }
header { grid-column: 1 / 3; display: flex; align-items: baseline; gap: 1em; padding: 6px 12px; background: #37474f; color: #fff; }
header h1 { font-size: 15px; margin: 0; font-weight: 600; }
#status[data-status="live"] { color: #a5d6a7; }
#status[data-status="reconnecting"] { color: #ffcc80; }
main { overflow: auto; padding: 8px; display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 8px; align-content: start; }
.machine { display: contents; }
.panel { background: #fff; border: 1px solid #cfd8dc; border-radius: 6px; padding: 6px 8px; min-width: 0; }
.panel[hidden] { display: none; }
@media (min-width: 1300px) { .panel.wide { grid-column: span 2; } }
.panel h2 { margin: 0 0 4px; font-size: 13px; display: flex; justify-content: space-between; gap: 1em; }
.panel h2 .state { font-weight: normal; font-family: ui-monospace, monospace; color: #e65100; text-align: right; }
.panel.placeholder h2 .state, .panel.ended h2 .state { color: #90a4ae; }
.panel.ended { opacity: 0.6; }
.chart { overflow: auto; }
.chart svg { max-width: 100%; height: auto; display: block; }
.chart g.node.active > path, .chart g.node.active > polygon, .chart g.node.active > ellipse { fill: #ffe082; stroke: #e65100; stroke-width: 2px; }
.chart g.node.active > text { font-weight: bold; }
.chart g.cluster.active > path, .chart g.cluster.active > polygon { stroke: #e65100; stroke-width: 2px; }
aside { display: flex; flex-direction: column; min-height: 0; border-left: 1px solid #cfd8dc; background: #fff; }
.filters { padding: 6px 8px; border-bottom: 1px solid #eceff1; display: flex; gap: 1em; }
#timeline { list-style: none; margin: 0; padding: 0; overflow: auto; flex: 1 1 auto; min-height: 0; }
#timeline li { padding: 3px 8px; border-bottom: 1px solid #f1f3f4; cursor: pointer; display: grid; grid-template-columns: auto auto 1fr; gap: 0.6em; font-family: ui-monospace, monospace; font-size: 12px; }
#timeline li:hover { background: #f5f5f5; }
#timeline li.selected { background: #e3f2fd; }
#timeline li .kind { font-weight: 600; }
#timeline li.directive .kind { color: #1565c0; }
#timeline li.event .kind { color: #2e7d32; }
#timeline li.state .kind { color: #e65100; }
#timeline li .time { color: #90a4ae; }
#timeline.hide-directive li.directive, #timeline.hide-event li.event, #timeline.hide-state li.state { display: none; }
#detail { border-top: 2px solid #cfd8dc; max-height: 45%; display: flex; flex-direction: column; min-height: 0; }
#detail h2 { font-size: 13px; margin: 0; padding: 4px 8px; background: #eceff1; }
#detail pre { margin: 0; padding: 6px 8px; overflow: auto; font-size: 12px; }
`;

// Plain ES2020 run by the browser as is. Text from the runtime only ever goes in through
// textContent; the one innerHTML is the SVG the runtime rendered itself.
const SCRIPT = `
'use strict';
const panels = document.getElementById('panels');
const timeline = document.getElementById('timeline');
const status = document.getElementById('status');
const detail = document.getElementById('detail');
const charts = new Map();
const boxes = new Map();
const actorPanels = new Map();
const TIMELINE_LIMIT = 1000;
let lastSeq = 0;

function svgOf(text) {
  const at = text.indexOf('<svg');
  return at >= 0 ? text.slice(at) : '';
}

function makePanel(machine, key) {
  const panel = document.createElement('section');
  panel.className = 'panel' + (key ? '' : ' placeholder');
  panel.dataset.machine = machine;
  if (key) panel.dataset.actor = key;
  const h2 = document.createElement('h2');
  const title = document.createElement('span');
  title.className = 'title';
  title.textContent = key && key !== machine ? machine + ' · ' + key : machine;
  const state = document.createElement('span');
  state.className = 'state';
  state.textContent = key ? '' : 'no actor';
  h2.append(title, state);
  const chart = document.createElement('div');
  chart.className = 'chart';
  chart.innerHTML = svgOf(charts.get(machine) || '');
  // A wide chart (many labelled edges side by side) gets two columns where there is room.
  const svg = chart.querySelector('svg');
  if (svg && parseFloat(svg.getAttribute('width') || '0') > 1000) panel.classList.add('wide');
  panel.append(h2, chart);
  return panel;
}

function short(id, machineId) {
  return id.startsWith(machineId + '.') ? id.slice(machineId.length + 1) : id;
}

function refreshPlaceholder(machine) {
  const box = boxes.get(machine);
  if (!box) return;
  const placeholder = box.querySelector('.panel.placeholder');
  placeholder.hidden = box.querySelectorAll('.panel:not(.placeholder)').length > 0;
}

function applyActor(actor) {
  const box = boxes.get(actor.machine);
  if (!box) return;
  const live = actor.status === 'active';
  let panel = actorPanels.get(actor.key);
  if (!live && actor.spawned) {
    if (panel) panel.remove();
    actorPanels.delete(actor.key);
    refreshPlaceholder(actor.machine);
    return;
  }
  if (!panel) {
    panel = makePanel(actor.machine, actor.key);
    actorPanels.set(actor.key, panel);
    box.append(panel);
  }
  panel.classList.toggle('ended', !live);
  panel.dataset.state = actor.leaves.join(' ');
  panel.querySelector('.state').textContent = actor.leaves.map((id) => short(id, actor.machineId)).join(', ') + (live ? '' : ' (' + actor.status + ')');
  for (const el of panel.querySelectorAll('.chart .active')) el.classList.remove('active');
  for (const id of actor.active) {
    const el = panel.querySelector('[id="' + CSS.escape('state:' + id) + '"]');
    if (el) el.classList.add('active');
  }
  refreshPlaceholder(actor.machine);
}

function clock(at) {
  const d = new Date(at);
  const pad = (n, w) => String(n).padStart(w, '0');
  return pad(d.getHours(), 2) + ':' + pad(d.getMinutes(), 2) + ':' + pad(d.getSeconds(), 2) + '.' + pad(d.getMilliseconds(), 3);
}

function select(li, entry) {
  for (const el of timeline.querySelectorAll('li.selected')) el.classList.remove('selected');
  li.classList.add('selected');
  detail.hidden = false;
  document.getElementById('detail-title').textContent = entry.kind + ' ' + entry.name + ' · ' + clock(entry.at);
  document.getElementById('detail-json').textContent = JSON.stringify(entry.json, null, 2);
}

function addEntry(entry) {
  if (entry.seq <= lastSeq) return;
  lastSeq = entry.seq;
  const li = document.createElement('li');
  li.className = entry.kind;
  li.dataset.seq = String(entry.seq);
  li.dataset.kind = entry.kind;
  for (const [cls, text] of [['time', clock(entry.at)], ['kind', entry.kind], ['name', entry.name]]) {
    const span = document.createElement('span');
    span.className = cls;
    span.textContent = text;
    li.append(span);
  }
  li.addEventListener('click', () => select(li, entry));
  timeline.prepend(li);
  while (timeline.children.length > TIMELINE_LIMIT) timeline.lastElementChild.remove();
}

for (const box of document.querySelectorAll('.filters input')) {
  box.addEventListener('change', () => timeline.classList.toggle('hide-' + box.dataset.kind, !box.checked));
}

function connect() {
  const source = new EventSource('/events');
  source.addEventListener('open', () => { status.dataset.status = 'live'; status.textContent = 'live'; });
  source.addEventListener('error', () => { status.dataset.status = 'reconnecting'; status.textContent = 'reconnecting…'; });
  source.addEventListener('actor', (e) => applyActor(JSON.parse(e.data)));
  source.addEventListener('timeline', (e) => addEntry(JSON.parse(e.data)));
}

Promise.all(MACHINES.map((name) => fetch('/charts/' + encodeURIComponent(name) + '.svg').then((r) => (r.ok ? r.text() : ''))))
  .then((svgs) => {
    MACHINES.forEach((name, i) => {
      charts.set(name, svgs[i]);
      const box = document.createElement('div');
      box.className = 'machine';
      box.dataset.machine = name;
      box.append(makePanel(name, undefined));
      boxes.set(name, box);
      panels.append(box);
    });
    document.body.dataset.ready = 'true';
    connect();
  });
`;

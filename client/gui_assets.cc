// The static files of `parley gui`: one page, its style and its script.
// Plain HTML, CSS and JavaScript with no external resource (no CDN, no
// font), so the UI works offline and the Content-Security-Policy can be
// default-src 'self' with no inline script. The script puts every value
// from the API in the page as text (textContent), never as HTML.

#include "client/gui.h"

namespace parley {
namespace {

constexpr char kIndexHtml[] = R"GUI(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Parley</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header id="statusbar">
  <strong>Parley</strong>
  <span id="me"></span>
  <span id="server-state" class="pill">checking the server…</span>
  <span id="outbox-state" class="pill"></span>
  <span id="synced" class="muted"></span>
</header>
<nav>
  <button type="button" class="tab" data-view="notifications">Notifications</button>
  <button type="button" class="tab" data-view="channels">Channels</button>
  <button type="button" class="tab" data-view="outbox">Outbox</button>
  <button type="button" class="tab" data-view="notify" id="notify-tab" hidden>Notify</button>
</nav>
<div id="banner" class="banner" hidden></div>
<main>

<section id="view-notifications" hidden>
  <div class="split">
    <div class="pane list">
      <table id="notification-list">
        <thead><tr><th>Id</th><th>Kind</th><th>Ver</th><th>Overall</th></tr></thead>
        <tbody></tbody>
      </table>
      <p id="notifications-empty" class="muted" hidden>No notifications.</p>
    </div>
    <div class="pane detail" id="notification-detail" hidden>
      <h2 id="nd-title"></h2>
      <ul id="nd-summary" class="facts"></ul>
      <h3>Parties</h3>
      <table id="nd-parties">
        <thead><tr><th>Party</th><th>State</th><th>Logged</th><th>Delivered</th>
          <th>Acknowledged receipt</th><th>Objected</th><th>Escalation</th></tr></thead>
        <tbody></tbody>
      </table>

      <div id="party-actions" class="actions" hidden>
        <p class="note">Acknowledging receipt says that you received this
          notification, nothing more: it does not authorise the movement.</p>
        <button type="button" id="ack-button">Acknowledge receipt</button>
        <button type="button" id="object-button">Object…</button>
        <form id="object-form" hidden>
          <label for="object-reason">Reason (readable by the coordinator and
            mediators only)</label>
          <textarea id="object-reason" rows="3" required></textarea>
          <button type="submit">Send objection</button>
          <button type="button" id="object-close">Close</button>
        </form>
      </div>

      <div id="issuer-actions" class="actions" hidden>
        <form id="status-form">
          <label for="status-select">Post status</label>
          <select id="status-select">
            <optgroup label="Status update">
              <option>departed</option><option>at-checkpoint</option>
              <option>delayed</option><option>halted</option>
              <option>incident</option><option>arrived</option>
            </optgroup>
            <optgroup label="Outcome (final)">
              <option>facilitated</option><option>impeded</option>
              <option>denied</option>
            </optgroup>
          </select>
          <input id="status-note" placeholder="note (optional)" maxlength="2000">
          <button type="submit">Post</button>
        </form>
        <button type="button" id="amend-button">Amend…</button>
        <button type="button" id="cancel-button">Cancel notification…</button>
        <form id="cancel-form" hidden>
          <label for="cancel-reason">Reason (encrypted to the audience)</label>
          <textarea id="cancel-reason" rows="2" required></textarea>
          <button type="submit">Cancel this notification</button>
          <button type="button" id="cancel-close">Close</button>
        </form>
      </div>
      <p id="nd-result" class="result" hidden></p>

      <h3 id="nd-content-title">Content</h3>
      <pre id="nd-content"></pre>
      <h3>Events</h3>
      <ol id="nd-events"></ol>
    </div>
  </div>
</section>

<section id="view-channels" hidden>
  <div class="split">
    <div class="pane list">
      <ul id="channel-list" class="plain"></ul>
      <p id="channels-note" class="muted" hidden></p>
    </div>
    <div class="pane detail" id="channel-detail" hidden>
      <h2 id="cd-title"></h2>
      <p id="cd-members" class="muted"></p>
      <p id="cd-older" class="muted" hidden></p>
      <ol id="cd-messages" class="messages"></ol>
      <form id="send-form">
        <label for="send-text">Message</label>
        <textarea id="send-text" rows="3" required></textarea>
        <button type="submit">Send</button>
      </form>
      <p id="cd-result" class="result" hidden></p>
    </div>
  </div>
</section>

<section id="view-outbox" hidden>
  <p>Work signed on this device and not yet accepted by the server.
    It is sent in order when the server answers.</p>
  <button type="button" id="sync-button">Sync now</button>
  <p id="ob-result" class="result" hidden></p>
  <table id="outbox-list">
    <thead><tr><th>Id</th><th>Kind</th><th>Channel</th><th>Status</th>
      <th>Queued</th><th>Attempts</th><th>Detail</th><th>Actions</th></tr></thead>
    <tbody></tbody>
  </table>
  <p id="outbox-empty" class="muted" hidden>The outbox is empty: everything was sent.</p>
</section>

<section id="view-notify" hidden>
  <h2 id="nf-title">New notification</h2>
  <p class="note">It goes only to the parties you name (and the mediators and
    your organisation's coordinators), encrypted end to end. A party that
    acknowledges receipt says it received it, nothing more.</p>
  <form id="notify-form" novalidate>
    <div class="field" data-field="kind" id="nf-kind">
      <span class="label">Kind</span>
      <label class="inline"><input type="radio" name="kind" value="movement" checked> Movement</label>
      <label class="inline"><input type="radio" name="kind" value="site"> Static site</label>
    </div>
    <div class="field" data-field="id">
      <label for="nf-id">Id (empty: one is made up)</label>
      <input id="nf-id" name="id" maxlength="64" autocomplete="off">
    </div>
    <div class="field" data-field="to">
      <label for="nf-to">Parties, comma separated</label>
      <input id="nf-to" name="to" autocomplete="off">
      <p id="nf-parties" class="hint"></p>
    </div>
    <div class="field" data-field="contact">
      <label for="nf-contact">24/7 contact: name, then phone, email or radio:CHANNEL</label>
      <input id="nf-contact" name="contact" placeholder="Ops desk,+41221234567">
    </div>

    <fieldset id="nf-movement">
      <legend>Movement</legend>
      <div class="field" data-field="type">
        <label for="nf-movement-type">Movement type</label>
        <select id="nf-movement-type" name="type">
          <option>staff</option><option selected>cargo</option><option>evacuation</option>
          <option>medical</option><option>other</option>
        </select>
      </div>
      <div class="field" data-field="emergency">
        <label for="nf-emergency">Emergency: the justification (empty: not an emergency)</label>
        <input id="nf-emergency" name="emergency">
      </div>
      <div class="field" data-field="route">
        <label for="nf-route">Route: GeoJSON LineString ([longitude, latitude] positions) or GPX</label>
        <textarea id="nf-route" name="route" rows="4" spellcheck="false"></textarea>
        <input type="file" id="nf-route-file" accept=".geojson,.json,.gpx" data-into="nf-route">
      </div>
      <div class="field" data-field="checkpoints">
        <label for="nf-checkpoints">Checkpoints: one LAT,LON a line (optional)</label>
        <textarea id="nf-checkpoints" name="checkpoints" rows="2" spellcheck="false"></textarea>
      </div>
      <div class="field" data-field="holding_points">
        <label for="nf-holding-points">Holding points: one LAT,LON a line (optional)</label>
        <textarea id="nf-holding-points" name="holding_points" rows="2" spellcheck="false"></textarea>
      </div>
      <div class="field" data-field="depart">
        <label for="nf-depart">Departure (UTC, RFC 3339; EARLIEST/LATEST for a window; or +48h)</label>
        <input id="nf-depart" name="depart" placeholder="2026-05-04T06:00:00Z">
      </div>
      <div class="field" data-field="arrive">
        <label for="nf-arrive">Arrival (as departure)</label>
        <input id="nf-arrive" name="arrive">
      </div>
      <div class="field" data-field="return_depart">
        <label for="nf-return-depart">Return leg departure (optional)</label>
        <input id="nf-return-depart" name="return_depart">
      </div>
      <div class="field" data-field="return_arrive">
        <label for="nf-return-arrive">Return leg arrival</label>
        <input id="nf-return-arrive" name="return_arrive">
      </div>
      <div class="field" data-field="ack_by">
        <label for="nf-ack-by">Acknowledge receipt by (optional; before departure)</label>
        <input id="nf-ack-by" name="ack_by">
      </div>
      <div class="field" data-field="vehicles">
        <label for="nf-vehicles">Vehicles: COUNTxTYPE:armoured or soft-skin, comma separated</label>
        <input id="nf-vehicles" name="vehicles" placeholder="2xtruck:soft-skin,1x4x4:armoured">
      </div>
      <div class="field" data-field="personnel">
        <label for="nf-personnel">Personnel (count; names are never required)</label>
        <input id="nf-personnel" name="personnel" inputmode="numeric">
      </div>
      <div class="field" data-field="cargo">
        <label for="nf-cargo">Cargo summary</label>
        <input id="nf-cargo" name="cargo">
      </div>
      <div class="field" data-field="radio_frequencies">
        <label for="nf-radio">Radio frequencies carried, comma separated</label>
        <input id="nf-radio" name="radio_frequencies">
      </div>
      <div class="field" data-field="satellite_phones">
        <label for="nf-satphones">Satellite phones carried, comma separated</label>
        <input id="nf-satphones" name="satellite_phones">
      </div>
    </fieldset>

    <fieldset id="nf-site" hidden>
      <legend>Static site</legend>
      <div class="field" data-field="name">
        <label for="nf-name">Site name</label>
        <input id="nf-name" name="name">
      </div>
      <div class="field" data-field="type">
        <label for="nf-site-type">Site type</label>
        <select id="nf-site-type" name="type">
          <option>health-facility</option><option>warehouse</option><option>office</option>
          <option>guesthouse</option><option>school</option><option>water-point</option>
          <option>distribution-point</option>
        </select>
      </div>
      <div class="field" data-field="critical_infrastructure">
        <label class="inline"><input type="checkbox" id="nf-critical" name="critical_infrastructure">
          Critical infrastructure</label>
      </div>
      <div class="field" data-field="points">
        <label for="nf-points">Location: one LAT,LON a line</label>
        <textarea id="nf-points" name="points" rows="2" spellcheck="false"></textarea>
      </div>
      <div class="field" data-field="polygon">
        <label for="nf-polygon">or a GeoJSON Polygon ([longitude, latitude] positions)</label>
        <textarea id="nf-polygon" name="polygon" rows="3" spellcheck="false"></textarea>
        <input type="file" id="nf-polygon-file" accept=".geojson,.json" data-into="nf-polygon">
      </div>
      <div class="field" data-field="function">
        <label for="nf-function">Humanitarian function as of today</label>
        <input id="nf-function" name="function">
      </div>
      <div class="field" data-field="markings">
        <label for="nf-markings">Markings (optional)</label>
        <input id="nf-markings" name="markings">
      </div>
      <div class="field" data-field="review_by">
        <label for="nf-review-by">Review by (optional)</label>
        <input id="nf-review-by" name="review_by">
      </div>
      <div class="field" data-field="deactivated" id="nf-deactivated-field" hidden>
        <label class="inline"><input type="checkbox" id="nf-deactivated" name="deactivated">
          Deactivated (no longer in use)</label>
      </div>
    </fieldset>

    <button type="submit" id="nf-submit">Send notification</button>
    <button type="button" id="nf-leave-amend" hidden>Stop amending</button>
  </form>
  <p id="nf-result" class="result" hidden></p>
</section>

</main>
<footer><details><summary>Notices</summary><ol id="notices"></ol></details></footer>
</body>
</html>
)GUI";

constexpr char kAppCss[] = R"GUI(* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: #1b1b1b; background: #f6f6f4; }
header#statusbar { display: flex; flex-wrap: wrap; gap: .6em; align-items: center;
  padding: .5em .8em; background: #20303f; color: #fff; }
.pill { padding: .1em .6em; border-radius: 1em; background: #556; }
.pill.ok { background: #2d6a3e; }
.pill.bad { background: #9b2c2c; }
.pill.warn { background: #8a5a00; }
.muted { color: #666; }
header .muted { color: #cbd3da; }
nav { display: flex; gap: .3em; padding: .4em .8em 0; border-bottom: 1px solid #ccc; }
nav .tab { border: 1px solid #ccc; border-bottom: none; background: #e8e8e4; padding: .4em 1em; cursor: pointer; }
nav .tab.active { background: #fff; font-weight: bold; }
main { padding: .8em; }
.banner { margin: .5em .8em 0; padding: .5em .8em; background: #fde8e8; border: 1px solid #e2a0a0; }
.split { display: flex; gap: 1em; align-items: flex-start; }
.pane { background: #fff; border: 1px solid #ddd; padding: .6em; min-width: 0; }
.pane.list { flex: 0 0 36%; max-height: 80vh; overflow: auto; }
.pane.detail { flex: 1 1 auto; }
@media (max-width: 800px) { .split { flex-direction: column; } .pane.list { flex-basis: auto; width: 100%; } .pane.detail { width: 100%; } }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .25em .4em; border-bottom: 1px solid #eee; vertical-align: top; }
tbody tr.selectable { cursor: pointer; }
tbody tr.selectable:hover, tbody tr.selected { background: #eef3f8; }
.state-objected, .state-overdue { color: #9b2c2c; font-weight: bold; }
.state-acknowledged-receipt, .state-acknowledged-by-all { color: #2d6a3e; }
.late { color: #9b2c2c; font-weight: bold; }
ul.plain { list-style: none; margin: 0; padding: 0; }
ul.plain li button { width: 100%; text-align: left; padding: .4em; border: none; background: none; cursor: pointer; }
ul.plain li button.selected { background: #eef3f8; font-weight: bold; }
ul.facts { margin: 0; padding-left: 1.2em; }
ol.messages { list-style: none; padding: 0; max-height: 50vh; overflow: auto; }
ol.messages li { padding: .3em 0; border-bottom: 1px solid #eee; white-space: pre-wrap; word-break: break-word; }
ol.messages li.queued { color: #8a5a00; }
.meta { color: #666; font-size: 90%; }
pre { background: #f3f3f0; padding: .5em; overflow: auto; max-height: 40vh; }
.actions { margin: .8em 0; padding: .5em; border: 1px solid #ddd; background: #fafaf8; }
.actions form { margin-top: .5em; }
.note { margin-top: 0; }
textarea, input, select { font: inherit; }
textarea { width: 100%; display: block; margin: .3em 0; }
form label { display: block; font-weight: bold; }
#status-form label { display: inline; margin-right: .4em; }
button { font: inherit; padding: .3em .8em; }
.result { padding: .4em .6em; background: #eef6ee; border: 1px solid #b6d6b6; }
.result.error { background: #fde8e8; border-color: #e2a0a0; }
.result.queued { background: #fff4dc; border-color: #e2c27a; }
footer { padding: 0 .8em .8em; color: #555; }
#notify-form { max-width: 52em; }
#notify-form fieldset { margin: .8em 0; border: 1px solid #ddd; background: #fff; }
#notify-form input:not([type]), #notify-form select { width: 100%; }
.field { margin: .4em 0; }
.field .label { display: block; font-weight: bold; }
form label.inline { display: inline; font-weight: normal; margin-right: 1em; }
.hint { margin: .2em 0; color: #666; font-size: 90%; }
.field-error { margin: .2em 0; color: #9b2c2c; font-weight: bold; }
[aria-invalid="true"] { border: 2px solid #9b2c2c; }
td.actions button { margin: 0 .2em .2em 0; }
)GUI";

constexpr char kAppJs[] = R"GUI(// parley gui: the page. It talks only to the local parley process that
// served it, with the session token from the address it was opened with.
// Every value from the API is put in the page as text, never as HTML.
'use strict';

const POLL_MS = 4000;
const ui = { token: null, me: null, view: 'notifications', channel: null,
             notification: null, busy: false, again: false,
             detail: null,    // the notification shown, as the API gave it
             amend: null };   // {id, version, form}: the notify form amends

// ---------------------------------------------------------------------------
// Plumbing

class ApiError extends Error {
  constructor(message, code, status, data) {
    super(message);
    this.code = code;
    this.status = status;
    this.data = data || {};
  }
}

function readToken() {
  const match = /(?:^#|&)token=([0-9a-f]{64})(?:&|$)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem('parley-token', match[1]);
    // Keep the token out of the address bar and the history.
    history.replaceState(null, '', location.pathname);
  }
  return sessionStorage.getItem('parley-token');
}

async function api(path, body) {
  const options = { headers: { 'Authorization': 'Bearer ' + ui.token }, cache: 'no-store' };
  if (body !== undefined) {
    options.method = 'POST';
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (e) {
    throw new ApiError('parley gui does not answer: is it still running in its terminal?', 'gui_down', 0);
  }
  let data = {};
  try { data = await response.json(); } catch (e) { /* not JSON */ }
  if (!response.ok) {
    throw new ApiError(data.error || ('HTTP ' + response.status), data.code || 'http_' + response.status,
      response.status, data);
  }
  data.httpStatus = response.status;
  return data;
}

// el('td', {class: 'x'}, 'text', child...): an element whose strings are text.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value !== undefined && value !== null) node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const $ = (id) => document.getElementById(id);

function show(id, visible) { $(id).hidden = !visible; }

function millis(ms) {
  return ms ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-';
}

function when(text) { return text ? text.replace('T', ' ') : '-'; }

function setResult(id, text, kind) {
  const node = $(id);
  node.textContent = text;
  node.className = 'result' + (kind ? ' ' + kind : '');
  node.hidden = !text;
}

function setBanner(text) {
  $('banner').textContent = text || '';
  show('banner', !!text);
}

function failed(error) {
  if (error.code === 'missing_token' || error.code === 'wrong_token') {
    setBanner(error.message);
  }
  return error.message;
}

// ---------------------------------------------------------------------------
// Status bar

async function refreshStatus() {
  const status = await api('/api/status');
  ui.me = status.me;
  show('notify-tab', status.me.role === 'coordinator');
  $('me').textContent = status.me.name + ' (' + status.me.role + ', ' + status.me.organisation + ')';
  const server = status.server;
  const serverPill = $('server-state');
  if (!server.known) {
    serverPill.textContent = 'server ' + server.address + ': checking…';
    serverPill.className = 'pill';
  } else if (server.reachable) {
    serverPill.textContent = 'server ' + server.address + ': reachable';
    serverPill.className = 'pill ok';
  } else {
    serverPill.textContent = 'server ' + server.address + ': not reachable (' + (server.error || 'no answer') + ')';
    serverPill.className = 'pill bad';
  }
  const outbox = status.outbox;
  const outboxPill = $('outbox-state');
  if (outbox.waiting === 0 && outbox.held === 0) {
    outboxPill.textContent = 'outbox empty';
    outboxPill.className = 'pill ok';
  } else {
    let text = outbox.waiting + ' queued, not yet sent';
    if (outbox.held > 0) text += '; ' + outbox.held + ' held (see Outbox)';
    outboxPill.textContent = text;
    outboxPill.className = 'pill ' + (outbox.held > 0 ? 'bad' : 'warn');
  }
  $('synced').textContent = server.synced_at_ms ? 'last fetched ' + millis(server.synced_at_ms) : '';
  $('notices').replaceChildren(...status.notices.map((n) => el('li', {}, n)));
}

// ---------------------------------------------------------------------------
// Notifications

async function refreshNotifications() {
  const data = await api('/api/notifications');
  const rows = data.notifications.map((n) => {
    const overall = el('span', { class: 'state-' + n.overall }, n.overall_words);
    const row = el('tr', { class: 'selectable' + (n.id === ui.notification ? ' selected' : '') },
      el('td', {}, n.id), el('td', {}, n.kind), el('td', {}, n.version),
      el('td', {}, overall, n.late ? el('span', { class: 'late' }, ' LATE') : null));
    row.addEventListener('click', () => openNotification(n.id));
    return row;
  });
  $('notification-list').tBodies[0].replaceChildren(...rows);
  show('notifications-empty', rows.length === 0);
  if (ui.notification) await refreshNotificationDetail();
}

async function openNotification(id) {
  ui.notification = id;
  setResult('nd-result', '');
  show('object-form', false);
  show('cancel-form', false);
  for (const row of $('notification-list').tBodies[0].rows) {
    row.classList.toggle('selected', row.cells[0].textContent === id);
  }
  try {
    await refreshNotificationDetail();
  } catch (e) {
    setResult('nd-result', failed(e), 'error');
  }
}

async function refreshNotificationDetail() {
  const n = await api('/api/notification?id=' + encodeURIComponent(ui.notification));
  if (n.id !== ui.notification) return;  // another one was opened meanwhile
  show('notification-detail', true);
  $('nd-title').textContent = n.id + ' — version ' + n.version + ' (' + n.kind + ')';
  const facts = [
    el('li', {}, 'Issued by ' + n.issuer + ', ' + n.organisation),
    el('li', {}, 'Overall: ', el('span', { class: 'state-' + n.overall }, n.overall_words)),
  ];
  if (n.late) facts.push(el('li', { class: 'late' }, 'LATE: notified below the required lead time (logged and flagged)'));
  if (n.emergency) facts.push(el('li', {}, 'Emergency'));
  if (n.depart_at) facts.push(el('li', {}, 'Departure: ' + when(n.depart_at)));
  if (n.ack_by) facts.push(el('li', {}, 'Acknowledge receipt by: ' + when(n.ack_by)));
  if (n.valid_from || n.valid_until) {
    facts.push(el('li', {}, 'Valid: ' + when(n.valid_from) + ' to ' + when(n.valid_until)));
  }
  ui.detail = n;
  $('nd-summary').replaceChildren(...facts);
  $('nd-parties').tBodies[0].replaceChildren(...n.parties.map((p) => el('tr', {},
    el('td', {}, p.party),
    el('td', { class: 'state-' + p.state }, p.state_words),
    el('td', {}, when(p.logged_at)), el('td', {}, when(p.delivered_at)),
    el('td', {}, when(p.acknowledged_receipt_at)), el('td', {}, when(p.objected_at)),
    el('td', {}, p.escalation))));

  const me = ui.me || {};
  const addressed = me.role === 'party' && n.parties.some((p) => p.party === me.name);
  const issuer = me.role === 'coordinator' && n.issuer === me.name;
  show('party-actions', addressed);
  show('issuer-actions', issuer);

  const latest = n.versions.length ? n.versions[n.versions.length - 1] : null;
  $('nd-content-title').textContent = latest ? 'Content (version ' + latest.version + ')' : 'Content';
  $('nd-content').textContent = !latest ? '(not available)'
    : latest.content ? JSON.stringify(latest.content, null, 2) : latest.error;
  $('nd-events').replaceChildren(...n.events.map((e) => el('li', {},
    '#' + e.index + ' ' + millis(e.logged_at_ms) + '  ' + e.text + (e.error ? ' [' + e.error + ']' : ''))));
}

async function notificationAction(path, body, confirmText) {
  if (confirmText && !window.confirm(confirmText)) return;
  setResult('nd-result', 'working…');
  try {
    const reply = await api(path, Object.assign({ id: ui.notification }, body));
    setResult('nd-result', reply.message, reply.queued ? 'queued' : '');
    show('object-form', false);
    show('cancel-form', false);
    await refreshNotifications();
  } catch (e) {
    setResult('nd-result', failed(e), 'error');
  }
}

// ---------------------------------------------------------------------------
// Channels

async function refreshChannels() {
  const data = await api('/api/channels');
  $('channel-list').replaceChildren(...data.channels.map((c) => {
    const button = el('button', { type: 'button', class: c.name === ui.channel ? 'selected' : null }, c.name);
    button.addEventListener('click', () => openChannel(c));
    return el('li', {}, button);
  }));
  const note = data.offline
    ? 'Server not reachable (' + data.error + '): channels known from this device only.'
    : (data.channels.length === 0 ? 'You are not in any channel yet.' : '');
  $('channels-note').textContent = note;
  show('channels-note', !!note);
  if (ui.channel) await refreshMessages();
}

async function openChannel(channel) {
  ui.channel = channel.name;
  $('cd-title').textContent = channel.name;
  $('cd-members').textContent = channel.members.length ? 'Members: ' + channel.members.join(', ') : '';
  setResult('cd-result', '');
  show('channel-detail', true);
  for (const b of $('channel-list').querySelectorAll('button')) {
    b.classList.toggle('selected', b.textContent === channel.name);
  }
  try {
    await refreshMessages();
  } catch (e) {
    setResult('cd-result', failed(e), 'error');
  }
}

function messageItem(m) {
  let body = m.text;
  if (m.error) body = '(could not be opened: ' + m.error + ')';
  else if (body === undefined) body = '[' + (m.filename ? 'file ' + m.filename : m.content_type) + ', ' + m.size + ' bytes]';
  let relay = null;
  if (m.relay && m.relay.mode === 'verbatim') {
    relay = el('div', { class: 'meta' }, 'relayed verbatim by ' + m.relay.by + ', originally from ' +
      m.relay.original_sender + (m.relay.original_verified ? ' (verified)' : ' (NOT verified)'));
  } else if (m.relay && m.relay.mode === 'anonymous') {
    relay = el('div', { class: 'meta' }, 'relayed by ' + m.relay.by + ' without attribution');
  }
  return el('li', {}, el('div', { class: 'meta' }, '#' + m.index + '  ' + millis(m.created_at * 1000) + '  ' + m.sender),
    body, relay);
}

async function refreshMessages() {
  const name = ui.channel;
  const data = await api('/api/messages?channel=' + encodeURIComponent(name));
  if (name !== ui.channel) return;
  const items = data.messages.map(messageItem);
  for (const q of data.queued) {
    items.push(el('li', { class: 'queued' },
      el('div', { class: 'meta' }, 'queued, not yet sent (' + q.status + ')  ' + millis(q.queued_at_ms)),
      q.text !== undefined ? q.text : '[' + q.kind + ']'));
  }
  const list = $('cd-messages');
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  list.replaceChildren(...items);
  if (atBottom) list.scrollTop = list.scrollHeight;
  $('cd-older').textContent = data.older_not_shown ? data.older_not_shown + ' older message(s) not shown' : '';
  show('cd-older', data.older_not_shown > 0);
}

async function sendMessage(event) {
  event.preventDefault();
  const text = $('send-text').value;
  if (!ui.channel || !text.trim()) return;
  setResult('cd-result', 'sending…');
  try {
    const reply = await api('/api/send', { channel: ui.channel, text: text });
    $('send-text').value = '';
    setResult('cd-result', reply.message, reply.queued ? 'queued' : '');
    await refreshMessages();
  } catch (e) {
    setResult('cd-result', failed(e), 'error');
  }
}

// ---------------------------------------------------------------------------
// Outbox

async function refreshOutbox() {
  const data = await api('/api/outbox');
  $('outbox-list').tBodies[0].replaceChildren(...data.outbox.map((item) => {
    const held = item.status === 'held';
    const resend = el('button', { type: 'button', class: 'resend' }, held ? 'Seal again and send' : 'Send now');
    resend.addEventListener('click', () => outboxAction('resend', item));
    const drop = el('button', { type: 'button', class: 'drop' }, 'Drop…');
    drop.addEventListener('click', () => outboxAction('drop', item));
    return el('tr', { 'data-id': item.id },
      el('td', {}, item.id), el('td', {}, item.kind), el('td', {}, item.channel),
      el('td', { class: held ? 'state-objected' : null }, item.status),
      el('td', {}, millis(item.queued_at_ms)), el('td', {}, item.attempts),
      el('td', {}, (item.description ? item.description + ' ' : '') + (item.held_reason
        ? 'refused by the server: ' + item.held_reason
        : (item.preview !== undefined ? item.preview : '') + (item.last_error ? ' — last error: ' + item.last_error : ''))),
      el('td', { class: 'actions' }, resend, drop));
  }));
  show('outbox-empty', data.outbox.length === 0);
}

async function outboxAction(action, item) {
  const held = item.status === 'held';
  if (action === 'drop') {
    const question = held
      ? 'Drop ' + item.id + '? The server refused it; it will not be sent.'
      : 'Drop ' + item.id + '? It is still waiting and may already have reached the server: dropping it ' +
        'here does not take it back there. It will not be sent from this device.';
    if (!window.confirm(question)) return;
  }
  setResult('ob-result', action === 'drop' ? 'dropping…' : 'sending…');
  try {
    const body = action === 'drop' ? { id: item.id, force: !held } : { id: item.id };
    const reply = await api('/api/outbox/' + action, body);
    setResult('ob-result', reply.message, reply.httpStatus === 202 ? 'queued' : '');
  } catch (e) {
    setResult('ob-result', failed(e), 'error');
  }
  refresh();
}

async function syncNow() {
  $('sync-button').disabled = true;
  setResult('ob-result', 'sending the outbox and fetching…');
  try {
    const reply = await api('/api/sync', {});
    setResult('ob-result', reply.message);
  } catch (e) {
    setResult('ob-result', failed(e), 'error');
  } finally {
    $('sync-button').disabled = false;
    refresh();
  }
}

// ---------------------------------------------------------------------------
// Notify and amend (coordinators)

function notifyKind() {
  if (ui.amend) return ui.amend.form.kind;
  return document.querySelector('#nf-kind input[name="kind"]:checked').value;
}

// The .field elements in use: the common ones and the chosen kind's.
function activeFields() {
  const kind = notifyKind();
  return [...$('notify-form').querySelectorAll('.field')].filter((f) => {
    const set = f.closest('fieldset');
    return !set || set.id === 'nf-' + kind;
  });
}

function fieldInput(field) { return field.querySelector('[name]:not([type="radio"]):not([type="file"])'); }

function fieldValue(input) { return input.type === 'checkbox' ? input.checked : input.value; }

function setFieldValue(input, value) {
  if (input.type === 'checkbox') input.checked = !!value;
  else input.value = value === undefined || value === null ? '' : String(value);
}

function showKind() {
  const kind = notifyKind();
  show('nf-movement', kind === 'movement');
  show('nf-site', kind === 'site');
  show('nf-deactivated-field', kind === 'site' && !!ui.amend);
}

function clearFormProblems() {
  for (const node of $('notify-form').querySelectorAll('.field-error')) node.remove();
  for (const node of $('notify-form').querySelectorAll('[aria-invalid]')) node.removeAttribute('aria-invalid');
}

// Each problem under its field; those without one in the summary.
function showFormProblems(error) {
  clearFormProblems();
  const problems = (error.data && error.data.problems && error.data.problems.length)
    ? error.data.problems : [{ field: error.data ? error.data.field : '', message: error.message }];
  const unplaced = [];
  let first = null;
  for (const p of problems) {
    const field = activeFields().find((f) => f.dataset.field === p.field);
    if (!field) {
      unplaced.push(p.message);
      continue;
    }
    field.append(el('p', { class: 'field-error', role: 'alert', 'data-error-for': p.field }, p.message));
    const input = fieldInput(field) || field.querySelector('input');
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      if (!first) first = input;
    }
  }
  const placed = problems.length - unplaced.length;
  let summary = 'Not sent: ';
  if (placed > 0) summary += placed === 1 ? 'see the field marked below. ' : placed + ' problems, see the fields marked below. ';
  summary += unplaced.join('; ');
  setResult('nf-result', summary.trim(), 'error');
  if (first) first.focus();
}

// The form as the API takes it: every field in use for a new notification;
// for an amendment only those changed (a return leg's two times together).
function collectForm() {
  const body = {};
  for (const field of activeFields()) {
    const name = field.dataset.field;
    if (name === 'kind') continue;
    const input = fieldInput(field);
    if (!input) continue;
    body[name] = fieldValue(input);
  }
  if (!ui.amend) {
    body.kind = notifyKind();
    delete body.deactivated;
    return body;
  }
  const before = ui.amend.form;
  const changed = { id: ui.amend.id };
  for (const [name, value] of Object.entries(body)) {
    if (name === 'id') continue;
    const old = before[name] === undefined ? (typeof value === 'boolean' ? false : '') : before[name];
    if (value !== old) changed[name] = value;
  }
  if ('return_depart' in changed || 'return_arrive' in changed) {
    changed.return_depart = body.return_depart;
    changed.return_arrive = body.return_arrive;
  }
  return changed;
}

async function submitNotify(event) {
  event.preventDefault();
  clearFormProblems();
  const amending = ui.amend;
  const body = collectForm();
  if (amending && Object.keys(body).length === 1) {
    setResult('nf-result', 'Nothing changed: edit a field to amend ' + amending.id + '.', 'error');
    return;
  }
  setResult('nf-result', amending ? 'sealing the new version…' : 'sealing and sending…');
  $('nf-submit').disabled = true;
  try {
    const reply = await api(amending ? '/api/notification/amend' : '/api/notify', body);
    leaveAmend();
    $('notify-form').reset();
    showKind();
    setResult('nf-result', reply.message, reply.queued ? 'queued' : '');
    selectView('notifications');
    await openNotification(reply.id);
    setResult('nd-result', reply.message, reply.queued ? 'queued' : '');
  } catch (e) {
    if (e.status === 400 && e.data && 'problems' in e.data) showFormProblems(e);
    else setResult('nf-result', failed(e), 'error');
  } finally {
    $('nf-submit').disabled = false;
  }
}

function startAmend() {
  const n = ui.detail;
  if (!n || !n.form) {
    setResult('nd-result', 'The current version could not be opened, so it cannot be amended here.', 'error');
    return;
  }
  ui.amend = { id: n.id, version: n.version, form: n.form };
  $('notify-form').reset();
  clearFormProblems();
  setResult('nf-result', '');
  for (const radio of document.querySelectorAll('#nf-kind input[name="kind"]')) {
    radio.checked = radio.value === n.form.kind;
    radio.disabled = true;
  }
  showKind();
  for (const field of activeFields()) {
    const input = fieldInput(field);
    if (input && field.dataset.field in n.form) setFieldValue(input, n.form[field.dataset.field]);
  }
  $('nf-id').readOnly = true;
  $('nf-title').textContent = 'Amend ' + n.id + ' (version ' + n.version + ' becomes ' + (n.version + 1) +
    '; acknowledgements of receipt start again)';
  $('nf-submit').textContent = 'Send amended version';
  show('nf-leave-amend', true);
  selectView('notify');
}

function leaveAmend() {
  ui.amend = null;
  for (const radio of document.querySelectorAll('#nf-kind input[name="kind"]')) radio.disabled = false;
  $('nf-id').readOnly = false;
  $('nf-title').textContent = 'New notification';
  $('nf-submit').textContent = 'Send notification';
  show('nf-leave-amend', false);
  showKind();
}

async function refreshParties() {
  try {
    const data = await api('/api/parties');
    const names = data.parties.map((p) => p.name + (p.organisation ? ' (' + p.organisation + ')' : ''));
    $('nf-parties').textContent = names.length ? 'Parties: ' + names.join(', ') : 'No parties are enrolled yet.';
  } catch (e) {
    $('nf-parties').textContent = 'The list of parties is not available (' + e.message + ').';
  }
}

function loadFileInto(input) {
  const file = input.files && input.files[0];
  if (!file) return;
  const reader = new FileReader();
  reader.addEventListener('load', () => { $(input.dataset.into).value = String(reader.result); });
  reader.readAsText(file);
}

// ---------------------------------------------------------------------------
// Views and polling

function selectView(view) {
  ui.view = view;
  for (const tab of document.querySelectorAll('nav .tab')) {
    tab.classList.toggle('active', tab.dataset.view === view);
  }
  for (const name of ['notifications', 'channels', 'outbox', 'notify']) show('view-' + name, name === view);
  if (view === 'notify') refreshParties();
  refresh();
}

// One refresh at a time; a request made meanwhile runs once it is done.
async function refresh() {
  if (ui.busy) {
    ui.again = true;
    return;
  }
  ui.busy = true;
  try {
    await refreshStatus();
    if (ui.view === 'notifications') await refreshNotifications();
    else if (ui.view === 'channels') await refreshChannels();
    else if (ui.view === 'outbox') await refreshOutbox();
    setBanner('');
  } catch (e) {
    setBanner(failed(e));
  } finally {
    ui.busy = false;
    if (ui.again) {
      ui.again = false;
      refresh();
    }
  }
}

function start() {
  ui.token = readToken();
  if (!ui.token) {
    setBanner('No session token: open the address that `parley gui` printed in its terminal (it ends in #token=…).');
    return;
  }
  for (const tab of document.querySelectorAll('nav .tab')) {
    tab.addEventListener('click', () => selectView(tab.dataset.view));
  }
  $('ack-button').addEventListener('click', () => notificationAction('/api/notification/acknowledge', {},
    'Acknowledge receipt of ' + ui.notification + '? This says you received it, nothing more.'));
  $('object-button').addEventListener('click', () => { show('object-form', true); $('object-reason').focus(); });
  $('object-close').addEventListener('click', () => show('object-form', false));
  $('object-form').addEventListener('submit', (event) => {
    event.preventDefault();
    notificationAction('/api/notification/object', { reason: $('object-reason').value })
      .then(() => { if ($('object-form').hidden) $('object-reason').value = ''; });
  });
  $('cancel-button').addEventListener('click', () => { show('cancel-form', true); $('cancel-reason').focus(); });
  $('cancel-close').addEventListener('click', () => show('cancel-form', false));
  $('cancel-form').addEventListener('submit', (event) => {
    event.preventDefault();
    notificationAction('/api/notification/cancel', { reason: $('cancel-reason').value },
      'Cancel ' + ui.notification + ' for every party?');
  });
  $('status-form').addEventListener('submit', (event) => {
    event.preventDefault();
    notificationAction('/api/notification/status',
      { status: $('status-select').value, note: $('status-note').value });
  });
  $('send-form').addEventListener('submit', sendMessage);
  $('amend-button').addEventListener('click', startAmend);
  $('notify-form').addEventListener('submit', submitNotify);
  $('nf-leave-amend').addEventListener('click', () => {
    leaveAmend();
    $('notify-form').reset();
    clearFormProblems();
    setResult('nf-result', '');
  });
  for (const radio of document.querySelectorAll('#nf-kind input[name="kind"]')) {
    radio.addEventListener('change', () => { clearFormProblems(); showKind(); });
  }
  for (const input of document.querySelectorAll('#notify-form input[type="file"]')) {
    input.addEventListener('change', () => loadFileInto(input));
  }
  $('sync-button').addEventListener('click', syncNow);
  selectView('notifications');
  setInterval(refresh, POLL_MS);
}

document.addEventListener('DOMContentLoaded', start);
)GUI";

}  // namespace

const std::vector<GuiAsset>& GuiAssets() {
  static const std::vector<GuiAsset>* const assets = new std::vector<GuiAsset>{
      {"/", "text/html; charset=utf-8", kIndexHtml},
      {"/app.css", "text/css; charset=utf-8", kAppCss},
      {"/app.js", "text/javascript; charset=utf-8", kAppJs},
  };
  return *assets;
}

}  // namespace parley

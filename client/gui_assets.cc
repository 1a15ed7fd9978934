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
      <th>Queued</th><th>Attempts</th><th>Detail</th></tr></thead>
    <tbody></tbody>
  </table>
  <p id="outbox-empty" class="muted" hidden>The outbox is empty: everything was sent.</p>
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
)GUI";

constexpr char kAppJs[] = R"GUI(// parley gui: the page. It talks only to the local parley process that
// served it, with the session token from the address it was opened with.
// Every value from the API is put in the page as text, never as HTML.
'use strict';

const POLL_MS = 4000;
const ui = { token: null, me: null, view: 'notifications', channel: null,
             notification: null, busy: false, again: false };

// ---------------------------------------------------------------------------
// Plumbing

class ApiError extends Error {
  constructor(message, code, status) { super(message); this.code = code; this.status = status; }
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
    throw new ApiError(data.error || ('HTTP ' + response.status), data.code || 'http_' + response.status, response.status);
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
  $('outbox-list').tBodies[0].replaceChildren(...data.outbox.map((item) => el('tr', {},
    el('td', {}, item.id), el('td', {}, item.kind), el('td', {}, item.channel),
    el('td', { class: item.status === 'held' ? 'state-objected' : null }, item.status),
    el('td', {}, millis(item.queued_at_ms)), el('td', {}, item.attempts),
    el('td', {}, item.held_reason ? 'refused: ' + item.held_reason + ' (resend or drop it with `parley outbox`)'
      : (item.preview !== undefined ? item.preview : '') + (item.last_error ? ' — last error: ' + item.last_error : '')))));
  show('outbox-empty', data.outbox.length === 0);
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
// Views and polling

function selectView(view) {
  ui.view = view;
  for (const tab of document.querySelectorAll('nav .tab')) {
    tab.classList.toggle('active', tab.dataset.view === view);
  }
  for (const name of ['notifications', 'channels', 'outbox']) show('view-' + name, name === view);
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
    else await refreshOutbox();
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

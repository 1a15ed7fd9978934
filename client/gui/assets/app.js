// parley gui: the page. It talks only to the local parley process that
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

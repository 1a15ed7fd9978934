// Drives the page of a running `parley gui` in jsdom (Debian: node-jsdom),
// as a person would in a browser: the page and its script come from the
// real server, and every API call the script makes goes to it with the
// real fetch of Node. Run by tests/integration/gui_test.cc:
//
//   node page_test.js coordinator URL   notify form: a bad field is shown
//                                       at that field, then a good one
//                                       notifies mv-page; Amend... sends
//                                       only the field changed (version 2)
//   node page_test.js party URL ID      the notification list shows ID;
//                                       opening it and clicking
//                                       "Acknowledge receipt" records it
//
// URL is the address `parley gui` printed (with #token=...). Prints one
// JSON object on success (exit 0); on failure the reason on stderr
// (exit 1); exit 3 if jsdom is not installed.
'use strict';

let JSDOM, VirtualConsole;
try {
  ({ JSDOM, VirtualConsole } = require('jsdom'));
} catch (e) {
  console.error('jsdom is not installed: apt-get install node-jsdom ' +
                '(PARLEY_TEST_PACKAGES in deploy/debian-deps.sh); ' + e.message);
  process.exit(3);
}

const STEP_MS = 30000;

function fail(message) {
  throw new Error(message);
}

// Waits until predicate() returns a truthy value, and returns it.
async function until(what, predicate, timeoutMs = STEP_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value;
    try {
      value = predicate();
    } catch (e) {
      value = undefined;
    }
    if (value) return value;
    if (Date.now() > deadline) fail('timed out waiting for ' + what);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function loadPage(url) {
  const base = new URL(url);
  const response = await fetch(new URL('/', base));
  if (!response.ok) fail('GET / answered ' + response.status);
  const csp = response.headers.get('content-security-policy') || '';
  if (!csp.includes("script-src 'self'")) fail('the page has no script-src CSP: ' + csp);
  const html = await response.text();
  const errors = [];
  const confirms = [];
  const calls = [];
  const virtualConsole = new VirtualConsole();
  virtualConsole.on('jsdomError', (e) => errors.push(String(e && e.message || e)));
  virtualConsole.on('error', (...args) => errors.push(args.join(' ')));
  const dom = new JSDOM(html, {
    url: url,  // with the #token fragment, as the browser opens it
    runScripts: 'dangerously',
    resources: 'usable',  // /app.js and /app.css from the server
    pretendToBeVisual: true,
    virtualConsole,
    beforeParse(window) {
      // jsdom has no fetch: Node's, for the same origin only.
      window.fetch = async (input, init) => {
        const target = new URL(String(input), window.location.href);
        if (target.origin !== base.origin) fail('the page fetched another origin: ' + target);
        calls.push({ method: (init && init.method) || 'GET', path: target.pathname,
                     auth: !!(init && init.headers && init.headers.Authorization),
                     body: init && init.body ? JSON.parse(init.body) : undefined });
        return fetch(target, init);
      };
      window.confirm = (question) => {
        confirms.push(question);
        return true;
      };
    },
  });
  const window = dom.window;
  await until('the page script to start', () => calls.length > 0);
  if (window.location.hash !== '') fail('the token stayed in the address: ' + window.location.href);
  return { dom, window, document: window.document, errors, confirms, calls };
}

function visible(node) {
  for (let n = node; n; n = n.parentElement) {
    if (n.hidden) return false;
  }
  return !!node;
}

function text(node) {
  return node ? node.textContent.trim() : '';
}

function setValue(page, id, value) {
  const input = page.document.getElementById(id);
  if (!input) fail('no input #' + id);
  input.value = value;
  input.dispatchEvent(new page.window.Event('input', { bubbles: true }));
}

function submit(page, formId) {
  const form = page.document.getElementById(formId);
  form.dispatchEvent(new page.window.Event('submit', { bubbles: true, cancelable: true }));
}

async function coordinator(url) {
  const page = await loadPage(url);
  const doc = page.document;
  const tab = await until('the Notify tab (coordinators only)',
    () => visible(doc.getElementById('notify-tab')) && doc.getElementById('notify-tab'));
  tab.click();
  await until('the notify form', () => visible(doc.getElementById('notify-form')));

  setValue(page, 'nf-id', 'mv-page');
  setValue(page, 'nf-to', 'partya, partyb');
  setValue(page, 'nf-contact', 'Ops desk,+41221234567');
  // A Point is not a route: the error must be shown at the route field.
  setValue(page, 'nf-route', '{"type":"Point","coordinates":[36.2,37.1]}');
  setValue(page, 'nf-depart', '+72h');
  setValue(page, 'nf-arrive', '+75h');
  setValue(page, 'nf-ack-by', '+48h');
  setValue(page, 'nf-vehicles', '1xtruck:soft-skin');
  setValue(page, 'nf-personnel', '2');
  setValue(page, 'nf-cargo', 'water');
  submit(page, 'notify-form');
  const routeError = await until('an error at the route field',
    () => doc.querySelector('#nf-movement .field[data-field="route"] .field-error'));
  const routeMessage = text(routeError);
  if (!routeMessage.startsWith('route:')) fail('the route error does not name its field: ' + routeMessage);
  if (doc.getElementById('nf-route').getAttribute('aria-invalid') !== 'true') {
    fail('the route input is not marked invalid');
  }
  const others = [...doc.querySelectorAll('.field-error')].filter((e) => e !== routeError);
  if (others.length) fail('errors at other fields too: ' + others.map(text).join(' | '));
  const summary = doc.getElementById('nf-result');
  if (!visible(summary) || !summary.className.includes('error')) fail('no error summary');

  // Corrected: sent, and the page shows the new notification.
  setValue(page, 'nf-route',
    '{"type":"LineString","coordinates":[[36.20,37.10],[36.30,37.15],[36.40,37.20]]}');
  submit(page, 'notify-form');
  await until('the notification view with mv-page',
    () => visible(doc.getElementById('view-notifications')) &&
          text(doc.getElementById('nd-title')).startsWith('mv-page'));
  const result = await until('the notify result',
    () => text(doc.getElementById('nd-result')).startsWith('notified') && text(doc.getElementById('nd-result')));
  if (doc.querySelectorAll('.field-error').length) fail('field errors left after success');

  // Amend: the form starts from version 1; only the changed field is sent.
  await until('the issuer actions', () => visible(doc.getElementById('issuer-actions')));
  doc.getElementById('amend-button').click();
  await until('the amend form', () => visible(doc.getElementById('notify-form')) &&
    text(doc.getElementById('nf-title')).startsWith('Amend mv-page'));
  if (doc.getElementById('nf-cargo').value !== 'water') fail('cargo not filled in: ' + doc.getElementById('nf-cargo').value);
  if (!doc.getElementById('nf-route').value.includes('LineString')) fail('route not filled in');
  if (!doc.getElementById('nf-id').readOnly) fail('the id of an amendment is editable');
  setValue(page, 'nf-cargo', 'water and medicine');
  submit(page, 'notify-form');
  const amended = await until('the amend result',
    () => text(doc.getElementById('nd-result')).startsWith('notified mv-page version 2') &&
          text(doc.getElementById('nd-result')));
  const amendPost = page.calls.filter((c) => c.path === '/api/notification/amend').pop();
  if (!amendPost) fail('no amend request');
  const sent = Object.keys(amendPost.body).sort().join(',');
  if (sent !== 'cargo,id') fail('the amendment sent more than the change: ' + sent);

  const posts = page.calls.filter((c) => c.method === 'POST');
  if (!page.calls.every((c) => c.auth)) fail('an API call without the token');
  page.dom.window.close();
  return { route_error: routeMessage, result, amended, posts: posts.map((c) => c.path),
           errors: page.errors };
}

async function party(url, id) {
  const page = await loadPage(url);
  const doc = page.document;
  const row = await until('the notification list to show ' + id,
    () => [...doc.querySelectorAll('#notification-list tbody tr')]
      .find((r) => r.cells[0] && r.cells[0].textContent === id));
  const listed = [...row.cells].map(text);
  row.click();
  await until('the detail of ' + id, () => text(doc.getElementById('nd-title')).startsWith(id));
  await until('the party actions', () => visible(doc.getElementById('party-actions')));
  if (visible(doc.getElementById('issuer-actions'))) fail('a party sees the issuer actions');
  if (visible(doc.getElementById('notify-tab'))) fail('a party sees the Notify tab');
  const content = text(doc.getElementById('nd-content'));
  doc.getElementById('ack-button').click();
  const result = await until('the acknowledgement result',
    () => text(doc.getElementById('nd-result')).startsWith('acknowledged receipt') &&
          text(doc.getElementById('nd-result')));
  const state = await until('the party row to say acknowledged receipt',
    () => [...doc.querySelectorAll('#nd-parties tbody tr')]
      .map((r) => [...r.cells].map(text))
      .find((cells) => cells[0] === 'partya' && cells[1] === 'acknowledged receipt'));
  page.dom.window.close();
  return { listed, content_has_cargo: content.includes('water'), confirm: page.confirms,
           result, state, errors: page.errors };
}

(async () => {
  const [scenario, url, id] = process.argv.slice(2);
  let out;
  if (scenario === 'coordinator') out = await coordinator(url);
  else if (scenario === 'party') out = await party(url, id);
  else fail('unknown scenario ' + scenario);
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(0);
})().catch((e) => {
  console.error(e && e.stack || String(e));
  process.exit(1);
});

// The workspace page: shows what /ui/state renders and reports what the person does. It decides
// nothing itself: a click names the message and the button's place in it, a submit sends what was
// typed, and the server sends the bot what Slack would.
const $ = (id) => document.getElementById(id);
const ui = {
  user: sessionStorage.getItem('user') ?? '',
  view: '',
  thread: null,
  modal: null,
  homeOpenedFor: '',
};

function viewFromHash() {
  const m = /^#\/(.+)$/.exec(location.hash);
  return m ? decodeURIComponent(m[1]) : '';
}

async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return res.json();
}

let pending = null;
function refreshSoon() {
  if (pending) return;
  pending = setTimeout(() => {
    pending = null;
    void refresh();
  }, 30);
}

/** Values typed in the open modal, by block and action id (kept across a redraw of the same view). */
function enteredValues(form) {
  const values = {};
  for (const el of form.querySelectorAll('[data-block-id][data-action-id]')) {
    const block = el.dataset.blockId;
    const action = el.dataset.actionId;
    values[block] ??= {};
    if (el.type === 'radio') {
      if (el.checked) values[block][action] = el.value;
      else values[block][action] ??= null;
    } else if (el.type === 'checkbox') {
      const list = Array.isArray(values[block][action]) ? values[block][action] : [];
      if (el.checked) list.push(el.value);
      values[block][action] = list;
    } else {
      values[block][action] = el.value === '' ? null : el.value;
    }
  }
  return values;
}

function restoreValues(form, values) {
  for (const el of form.querySelectorAll('[data-block-id][data-action-id]')) {
    const v = values[el.dataset.blockId]?.[el.dataset.actionId];
    if (v === undefined) continue;
    if (el.type === 'radio') el.checked = v === el.value;
    else if (el.type === 'checkbox') el.checked = Array.isArray(v) && v.includes(el.value);
    else el.value = v ?? '';
  }
}

function showModal(modal) {
  const root = $('modal-root');
  if (!modal) {
    root.innerHTML = '';
    ui.modal = null;
    return;
  }
  const same = ui.modal && ui.modal.id === modal.id;
  const changed =
    !same ||
    ui.modal.hash !== modal.hash ||
    JSON.stringify(ui.modal.errors) !== JSON.stringify(modal.errors) ||
    ui.modal.failure !== modal.failure;
  if (!changed) return;
  const form = root.querySelector('form');
  const kept = same && form ? enteredValues(form) : null;
  root.innerHTML = modal.html;
  const fresh = root.querySelector('form');
  if (kept && fresh) restoreValues(fresh, kept);
  ui.modal = { id: modal.id, hash: modal.hash, errors: modal.errors, failure: modal.failure };
  const focus =
    root.querySelector('[aria-invalid="true"]') ??
    root.querySelector('input, textarea, select') ??
    root.querySelector('[role="dialog"] button');
  focus?.focus();
}

/** Replaces a region only when its content changed (what the person is reading stays put). */
const shown = new WeakMap();
function setHtml(el, html) {
  if (shown.get(el) === html) return false;
  shown.set(el, html);
  el.innerHTML = html;
  return true;
}

async function refresh() {
  const params = new URLSearchParams({ user: ui.user, view: ui.view });
  if (ui.thread) params.set('thread', ui.thread);
  const s = await (await fetch(`/ui/state?${params}`)).json();
  const select = $('as-user');
  if (select.options.length === 0) {
    for (const u of s.users) select.add(new Option(u.name, u.id));
  }
  ui.user = s.me;
  select.value = s.me;
  if (s.view !== ui.view) {
    ui.view = s.view;
    if (viewFromHash() !== s.view) history.replaceState(null, '', `#/${s.view}`);
  }
  setHtml($('sidebar'), s.sidebar);
  $('pane-title').textContent = s.title;
  document.title = `${s.title} · sandbox workspace`;
  const list = $('messages');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  if (setHtml(list, s.main) && atBottom) list.scrollTop = list.scrollHeight;
  const composer = $('composer');
  composer.hidden = s.view === 'home';
  $('composer-label').textContent = `Message ${s.title}`;
  $('composer-input').placeholder = `Message ${s.title}`;
  const pane = $('thread-pane');
  pane.hidden = !s.thread;
  setHtml($('thread'), s.thread ?? '');
  showModal(s.modal);
  if (s.view === 'home' && ui.homeOpenedFor !== ui.user) {
    ui.homeOpenedFor = ui.user;
    void post('/ui/home', { user: ui.user });
  }
}

function navigate() {
  const v = viewFromHash();
  if (v === ui.view) return;
  ui.view = v;
  ui.thread = null;
  ui.homeOpenedFor = '';
  void refresh();
}

async function click(button) {
  const article = button.closest('article[data-ts]');
  if (!article) return;
  if (button.dataset.url) window.open(button.dataset.url, '_blank', 'noopener');
  await post('/ui/click', {
    user: ui.user,
    channel: article.dataset.channel,
    ts: article.dataset.ts,
    ephemeral: article.hasAttribute('data-ephemeral'),
    block: Number(button.dataset.block),
    element: button.dataset.element === undefined ? null : Number(button.dataset.element),
  });
  refreshSoon();
}

function confirmThen(button) {
  const template = button.parentElement.querySelector('template.confirm-template');
  const root = $('confirm-root');
  root.replaceChildren(template.content.cloneNode(true));
  const close = () => {
    root.replaceChildren();
    button.focus();
  };
  root.querySelector('[data-deny]').addEventListener('click', close);
  const ok = root.querySelector('[data-confirmed]');
  ok.addEventListener('click', () => {
    root.replaceChildren();
    void click(button);
  });
  ok.focus();
}

document.addEventListener('click', (ev) => {
  const target = ev.target instanceof Element ? ev.target : null;
  if (!target) return;
  const button = target.closest('button.bk-button[data-block]');
  if (button) {
    ev.preventDefault();
    if (button.hasAttribute('data-confirm')) confirmThen(button);
    else void click(button);
    return;
  }
  const thread = target.closest('button.thread-link');
  if (thread) {
    ui.thread = thread.dataset.thread;
    void refresh();
    return;
  }
  if (target.closest('#close-thread')) {
    ui.thread = null;
    void refresh();
    return;
  }
  if (target.closest('[data-close-view]') && ui.modal) {
    void post('/ui/close', { user: ui.user, viewId: ui.modal.id }).then(refresh);
  }
});

document.addEventListener('submit', (ev) => {
  const form = ev.target;
  if (!(form instanceof HTMLFormElement)) return;
  ev.preventDefault();
  if (form.classList.contains('modal-form')) {
    void post('/ui/submit', { user: ui.user, viewId: form.dataset.viewId, values: enteredValues(form) }).then(
      refresh,
    );
  } else if (form.id === 'composer') {
    const input = $('composer-input');
    const text = input.value;
    input.value = '';
    void post('/ui/message', {
      user: ui.user,
      channel: ui.view,
      text,
      ...(ui.thread && { thread: ui.thread }),
    }).then(refresh);
  }
});

document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape') {
    if ($('confirm-root').childElementCount > 0) $('confirm-root').replaceChildren();
    else if (ui.modal) void post('/ui/close', { user: ui.user, viewId: ui.modal.id }).then(refresh);
  }
  if (ev.key === 'Enter' && !ev.shiftKey && ev.target === $('composer-input')) {
    ev.preventDefault();
    $('composer').requestSubmit();
  }
});

$('as-user').addEventListener('change', (ev) => {
  ui.user = ev.target.value;
  sessionStorage.setItem('user', ui.user);
  ui.thread = null;
  ui.modal = null;
  $('modal-root').innerHTML = '';
  ui.homeOpenedFor = '';
  void refresh();
});

window.addEventListener('hashchange', navigate);
ui.view = viewFromHash();
// Changes in AWS alone show on the AWS page; what the bot then posts arrives as its own change.
new EventSource('/ui/events').addEventListener('change', (ev) => {
  if (JSON.parse(ev.data).kind !== 'aws') refreshSoon();
});
void refresh();

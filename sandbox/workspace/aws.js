// The AWS page: shows /aws/state and posts the changes a person makes; redraws on every change.
const root = document.getElementById('aws-root');

async function refresh() {
  const s = await (await fetch('/aws/state')).json();
  root.innerHTML = s.html;
}

async function act(body, button) {
  for (const b of root.querySelectorAll('button')) b.disabled = true;
  const note = root.querySelector('.aws-note');
  if (note) note.textContent = body.op === 'run-scheduler' ? 'Scanning…' : 'Working…';
  try {
    await fetch('/aws/act', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } finally {
    await refresh();
    button?.focus();
  }
}

root.addEventListener('click', (ev) => {
  const button = ev.target instanceof Element ? ev.target.closest('button[data-aws-op]') : null;
  if (!button) return;
  const { awsOp: _flag, ...data } = button.dataset;
  void act(data, button);
});

root.addEventListener('submit', (ev) => {
  const form = ev.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-aws-form')) return;
  ev.preventDefault();
  const data = Object.fromEntries(new FormData(form));
  void act({ op: 'add-analyzer', ...data });
});

let pending = null;
new EventSource('/ui/events').addEventListener('change', (ev) => {
  if (JSON.parse(ev.data).kind !== 'aws' || pending) return;
  pending = setTimeout(() => {
    pending = null;
    void refresh();
  }, 50);
});
void refresh();

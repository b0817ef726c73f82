// The operator view: long-polls /desk/api/state and keeps one card per
// open prompt, oldest first. Typed answers survive updates; a prompt
// answered elsewhere is withdrawn from the page.
'use strict';
const csrf = document.querySelector('meta[name=csrf]').content;
const cards = new Map();
let version = 0;
let skew = 0;

const el = (tag, props, ...kids) => {
  const e = Object.assign(document.createElement(tag), props || {});
  for (const k of kids) e.append(k);
  return e;
};

async function post(id, fields) {
  const r = await fetch('/desk/prompt/' + id, {
    method: 'POST',
    headers: { 'x-csrf-token': csrf, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
    credentials: 'same-origin',
  });
  let body = {};
  try { body = await r.json(); } catch (_) { body = { error: 'the desk did not answer (' + r.status + ')' }; }
  return body;
}

function card(p) {
  const msg = el('p', { className: 'msg' });
  const input = el('input', {
    type: p.what === 'OTP' ? 'password' : 'text', name: 'answer', autocomplete: 'off',
    inputMode: p.what === 'OTP' ? 'numeric' : 'text', required: true,
    placeholder: p.what === 'OTP' ? '6 digits' : p.what === 'repair' ? 'a number, a target, or a word' : 'the characters',
  });
  const send = el('button', { type: 'submit', className: 'send' }, 'Send');
  const form = el('form', {}, input, send);
  const box = el('article', { className: 'card prompt' });
  box.dataset.id = p.id;
  box.dataset.what = p.what;
  box.dataset.gstin = p.gstin;
  const again = p.attempt > 1 ? ' (try ' + p.attempt + ')' : '';
  box.append(el('h2', {}, p.what + again + ' · GSTIN ' + p.gstin));
  box.append(el('p', { className: 'meta' }, p.portal + ' portal · ' + p.screen + ' › ' + p.step + ' · ',
    el('span', { className: 'age' })));
  // A repair question keeps its lines: the numbered candidates.
  if (p.prompt) box.append(el(p.what === 'repair' ? 'pre' : 'p', {}, p.prompt));
  if (p.mobile) box.append(el('p', { className: 'meta' }, 'sent to mobile ' + p.mobile));
  const link = el('p', { className: 'meta link' });
  box.append(link);
  if (p.what === 'captcha') box.append(el('img', { className: 'captcha', src: '/desk/prompt/' + p.id + '/image', alt: 'captcha' }));
  box.append(form);
  if (p.can_renew) {
    const renew = el('button', { type: 'button', className: 'second renew' }, p.what === 'OTP' ? 'Send a new OTP' : 'New image');
    renew.onclick = async () => {
      box.dataset.state = 'sending';
      msg.textContent = 'asking the portal…';
      show(await post(p.id, { action: 'renew' }));
    };
    form.append(renew);
  }
  box.append(msg);
  const c = { box, p, link, closed: false };
  const show = (r) => {
    msg.className = 'msg ' + (r.ok ? 'good' : 'bad');
    msg.textContent = r.ok ? 'sent: the browser carries on' : r.error;
    box.dataset.state = r.ok ? 'sent' : r.gone ? 'gone' : 'refused';
    if (r.ok || r.gone) { input.disabled = true; send.disabled = true; }
    if (c.closed) setTimeout(() => box.remove(), 2000);
  };
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    send.disabled = true;
    box.dataset.state = 'sending';
    const r = await post(p.id, { action: 'answer', answer: input.value });
    input.value = '';
    send.disabled = false;
    show(r);
  };
  return c;
}

function render(s) {
  version = s.version;
  skew = Date.now() - s.now_ms;
  for (const k of ['done', 'failed', 'running', 'total']) document.getElementById(k).textContent = s.progress[k];
  document.getElementById('waiting').textContent = s.prompts.length;
  const open = new Set(s.prompts.map((p) => p.id));
  for (const [id, c] of cards) if (!open.has(id)) withdraw(id, c);
  const list = document.getElementById('prompts');
  for (const p of s.prompts) {
    let c = cards.get(p.id);
    if (!c) { c = card(p); cards.set(p.id, c); list.append(c.box); }
    c.p = p;
    c.link.textContent = p.link === 'sent' ? 'link sent to the taxpayer' : p.link === 'expired' ? "the taxpayer's link expired" : '';
  }
  document.getElementById('empty').hidden = s.prompts.length > 0;
  ages();
}

// A prompt no longer open: yours fades, anyone else's says it was withdrawn.
// One still being sent waits for its reply, which may come after this.
function withdraw(id, c) {
  cards.delete(id);
  c.closed = true;
  const state = c.box.dataset.state;
  if (state === 'sending') return;
  if (state !== 'sent') {
    if (state !== 'gone') c.box.dataset.state = 'withdrawn';
    const msg = c.box.querySelector('.msg');
    msg.className = 'msg';
    msg.textContent = 'withdrawn: answered elsewhere, or no longer needed';
    for (const b of c.box.querySelectorAll('input, button')) b.disabled = true;
  }
  setTimeout(() => c.box.remove(), state === 'sent' ? 2000 : 8000);
}

function ages() {
  const now = Date.now() - skew;
  for (const c of cards.values()) {
    const secs = Math.max(0, Math.round((now - c.p.opened_ms) / 1000));
    c.box.querySelector('.age').textContent = 'waiting ' + (secs < 90 ? secs + ' s' : Math.round(secs / 60) + ' min');
  }
}

async function poll() {
  const status = document.getElementById('status');
  for (;;) {
    try {
      const r = await fetch('/desk/api/state?since=' + version, { credentials: 'same-origin' });
      if (r.status === 401) { location.href = '/desk/login'; return; }
      if (!r.ok) throw new Error('status ' + r.status);
      render(await r.json());
      status.textContent = 'live';
    } catch (e) {
      status.textContent = 'the desk is not answering (the batch may have ended); retrying…';
      await new Promise((ok) => setTimeout(ok, 2000));
    }
  }
}

setInterval(ages, 1000);
poll();

// What stands on the page now where a flow's target stood. arguments:
// [mark or null, tokens (ids, names, texts the old targets named), need,
// CSS selectors of the screen's other targets]. With a mark: describes that
// element. Else: the visible element of the right kind, not another
// target's, most like any token by id, name, label or text, if close enough.
const [mark, tokens, need, others, limit] = arguments;
// This document and its same-origin frames, as the walk's finds look.
const docs = [document];
for (let i = 0; i < window.frames.length; i++) { try { const d = window.frames[i].document; if (d && d.documentElement) docs.push(d); } catch (_) {} }
const everywhere = sel => docs.flatMap(d => Array.from(d.querySelectorAll(sel)));
const taken = new Set();
for (const sel of others || []) { try { everywhere(sel).forEach(e => taken.add(e)); } catch (_) {} }
const clean = s => (s || '').trim().replace(/\s+/g, ' ').slice(0, 80);
const labelOf = e => {
  let l = '';
  if (e.id) { const f = e.ownerDocument.querySelector('label[for="' + CSS.escape(e.id) + '"]'); if (f) l = f.innerText; }
  if (!l) { const p = e.closest('label'); if (p && p !== e) l = p.innerText; }
  return clean(l || e.getAttribute('aria-label') || e.getAttribute('placeholder') || e.getAttribute('title'));
};
const count = sel => { try { return everywhere(sel).length; } catch (_) { return 0; } };
const desc = e => {
  const tag = e.tagName.toLowerCase(), name = e.getAttribute('name') || '';
  return {
    tag, id: e.id || '', name, type: e.getAttribute('type') || '', label: labelOf(e),
    // A button made of an input reads its value.
    text: tag === 'input' && ['submit', 'button', 'reset'].includes(e.type) ? clean(e.value)
      : ['input', 'select', 'textarea'].includes(tag) ? '' : clean(e.innerText || e.getAttribute('alt')),
    unique_id: !!e.id && count('#' + CSS.escape(e.id)) === 1,
    unique_name: !!name && count(tag + '[name="' + CSS.escape(name) + '"]') === 1,
    score: 1,
  };
};
if (mark) {
  const e = document.querySelector('[data-einvreg-target="' + mark + '"]');
  return e ? desc(e) : null;
}
const kinds = {
  fill: 'input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=image]),textarea,select',
  click: 'button,a,input[type=submit],input[type=button],input[type=image],input[type=radio],input[type=checkbox],[role=button]',
  see: 'input:not([type=hidden]),textarea,select,button,a,img,table,[id]',
};
// The part of a name that says what it is: no ASP.NET container prefix
// (every WebForms id shares it) and no type prefix (btn, txt, ...).
const core = s => (s || '').replace(/^.*ContentPlaceHolder\d*[_$]/, '').replace(/^(btn|txt|lnk|ddl|lbl|rbl|chk|img|menu)(?=[A-Z_])/, '');
const norm = s => core(s).toLowerCase().replace(/[^a-z0-9]/g, '');
const lev = (a, b) => {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 0; i < a.length; i++) {
    const cur = [i + 1];
    for (let j = 0; j < b.length; j++) cur.push(Math.min(prev[j] + (a[i] === b[j] ? 0 : 1), prev[j + 1] + 1, cur[j] + 1));
    prev = cur;
  }
  return prev[b.length];
};
const like = (x, y) => {
  const a = norm(x), b = norm(y);
  if (!a || !b) return 0;
  if (a === b) return 1;
  const short = Math.min(a.length, b.length), long = Math.max(a.length, b.length);
  if (short >= 4 && (a.includes(b) || b.includes(a))) return 0.6 + 0.4 * short / long;
  return 1 - lev(a, b) / long;
};
const visible = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && (e.ownerDocument.defaultView || window).getComputedStyle(e).visibility !== 'hidden'; };
// Words shared, a word's stem (its first 5 letters) counting: "Register
// for API" is like "API Registration" though no spelling is close.
const words = s => core(s).replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z0-9]+/).filter(w => w.length > 1 && !['txt', 'btn', 'lnk', 'ctl00', 'menu', 'contentplaceholder1'].includes(w)).map(w => w.slice(0, 5));
const overlap = (x, y) => {
  const a = new Set(words(x)), b = new Set(words(y));
  if (!a.size || !b.size) return 0;
  let n = 0; for (const w of a) if (b.has(w)) n++;
  return 0.9 * n / Math.max(a.size, b.size);
};
if (limit) {
  const all = [];
  for (const e of everywhere(kinds[need] || kinds.see)) {
    if (!visible(e) || taken.has(e) || (need !== 'see' && e.disabled)) continue;
    const d = desc(e);
    let score = 0;
    for (const t of tokens) for (const v of [d.id, d.name, d.label, d.text]) score = Math.max(score, like(t, v), overlap(t, v));
    if (d.id || d.name || d.label || d.text) all.push(Object.assign(d, { score }));
  }
  all.sort((a, b) => b.score - a.score);
  return all.slice(0, limit);
}
let best = null;
for (const e of everywhere(kinds[need] || kinds.see)) {
  if (!visible(e) || taken.has(e)) continue;
  const d = desc(e);
  for (const t of tokens) for (const v of [d.id, d.name, d.label, d.text]) {
    const s = Math.max(like(t, v), overlap(t, v));
    if (!best || s > best.score) best = Object.assign({}, d, { score: s });
  }
}
return best && best.score >= 0.5 ? best : null;

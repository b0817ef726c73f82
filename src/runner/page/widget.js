// A dropdown widget (a box that opens a list, maybe with a search field)
// standing for a hidden <select> or for none. Modes:
//   stand: tag what a person clicks to open the marked dropdown, `tag`;
//          'native' when the marked element is a <select> shown as one.
//   items: wait up to `ms` for the opened list (any item; with `exact`,
//          the item that reads `want`), tag that item (item) and a
//          focused search field (search).
//   shows: the text the widget box shows now.
const [mode, mark, tag, want, ms, exact, done] = arguments;
const T = 'data-einvreg-target';
const byMark = m => document.querySelector('[' + T + '="' + m + '"]');
// Items a list may hold; those already shown before the widget opened
// (a menu, another list) are not its items.
const candidates = () => Array.from(document.querySelectorAll('[role=option],li')).filter(x => x.tagName !== 'OPTION' && __vis(x));
if (mode === 'stand') {
  const e = byMark(mark);
  if (!e) return done('gone');
  if (e.tagName === 'SELECT' && __vis(e)) return done('native');
  const w = e.tagName === 'SELECT' ? __stand(e) : e;
  if (!w) return done('gone');
  w.setAttribute(T, tag);
  window.__einvregShown = new Set(candidates());
  return done('widget');
}
if (mode === 'shows') {
  const w = byMark(mark);
  return done(w ? __norm(w.innerText || w.textContent) : null);
}
const text = x => __norm(x.innerText || x.textContent);
const before = window.__einvregShown || new Set();
const items = () => {
  const fresh = candidates().filter(x => !before.has(x));
  const opts = fresh.filter(x => x.getAttribute('role') === 'option');
  return opts.length ? opts : fresh;
};
const ok = xs => exact ? xs.some(x => text(x) === want) : xs.length > 0;
const finish = xs => {
  const hit = xs.find(x => text(x) === want);
  if (hit) { hit.scrollIntoView({ block: 'nearest' }); hit.setAttribute(T, tag.item); }
  const a = document.activeElement;
  const search = !!a && a.tagName === 'INPUT' && __vis(a) && /^(text|search)$/.test(a.type || 'text');
  if (search) a.setAttribute(T, tag.search);
  done({ hit: !!hit, search, texts: xs.slice(0, 200).map(text) });
};
const first = items();
if (ok(first)) finish(first);
else __waitFor(first, items, ok, ms, 100, finish);

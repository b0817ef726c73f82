// Shared by every page script einvreg runs (see mod.rs): finding targets
// by css/xpath/text/label, visibility, and the interrupt watch.
function __vis(el){ if(!el || !el.isConnected) return false; if(!el.getClientRects().length) return false;
  const cs = (el.ownerDocument.defaultView || window).getComputedStyle(el); if(cs.visibility === 'hidden' || cs.display === 'none') return false;
  const f = el.ownerDocument === document ? null : el.ownerDocument.defaultView.frameElement; return !f || __vis(f); }
// How deep frames are searched: portals nest a frame in a frame, rarely more.
var __FRAME_DEPTH=3;
// This document and those of its same-origin frames, frames within them
// down to __FRAME_DEPTH, frames' last (the walk switches into a frame to
// act there). Another origin's frame cannot be read, nor what it holds.
function __docs(){ const ds=[document];
  const walk=(w,depth)=>{ for(let i=0;i<w.frames.length;i++){ try{ const f=w.frames[i], d=f.document;
    if(d && d.documentElement){ ds.push(d); if(depth<__FRAME_DEPTH) walk(f, depth+1); } }catch(_){} } };
  walk(window, 1); return ds; }
// The path of indices (each among its parent's window.frames) to the frame
// holding el, or null when el is in this document.
function __frameOf(el){ if(el.ownerDocument===document) return null;
  const path=(w,depth)=>{ for(let i=0;i<w.frames.length;i++){ try{ const f=w.frames[i];
    if(f.document===el.ownerDocument) return [i];
    if(depth<__FRAME_DEPTH){ const p=path(f, depth+1); if(p) return [i].concat(p); } }catch(_){} } return null; };
  return path(window, 1); }
function __norm(s){ return (s||'').replace(/\s+/g,' ').trim(); }
function __lnorm(s){ return __norm(s).replace(/[\s:*]+$/,'').toLowerCase(); }
function __byText(t, doc){ const want=__norm(t), out=new Set();
  const ctl = l => l.control || l.querySelector('input,select,textarea');
  doc.querySelectorAll('button,a,label,span,input').forEach(e=>{
    if(e.tagName==='INPUT'){
      if(e.type==='radio'||e.type==='checkbox'){ const n=e.nextSibling; if(n && n.nodeType===3 && __norm(n.textContent)===want) out.add(e); }
      else if((e.type==='submit'||e.type==='button') && __norm(e.value)===want) out.add(e);
      return; }
    if(__norm(e.innerText||e.textContent)!==want) return;
    const c = e.tagName==='LABEL' ? ctl(e) : null;
    out.add(c && (c.type==='radio'||c.type==='checkbox') ? c : e); });
  return Array.from(out); }
function __names(c){ const ns=[];
  if(c.labels) for(const l of c.labels) ns.push(l.innerText||l.textContent);
  const al=c.getAttribute('aria-label'); if(al) ns.push(al);
  if(c.placeholder) ns.push(c.placeholder);
  const cell=c.closest('td,th'); const prev=cell && cell.previousElementSibling; if(prev) ns.push(prev.innerText||prev.textContent);
  return ns.map(__lnorm).filter(x=>x); }
function __byLabel(t, doc){ const want=__lnorm(t), exact=[], part=[];
  doc.querySelectorAll('input:not([type=hidden]),select,textarea').forEach(c=>{ const ns=__names(c);
    if(ns.some(n=>n===want)) exact.push(c); else if(ns.some(n=>n.includes(want))) part.push(c); });
  return exact.length ? exact : part; }
function __allIn(doc, kind, expr){ if(kind==='css') return Array.from(doc.querySelectorAll(expr));
  if(kind==='text') return __byText(expr, doc);
  if(kind==='label') return __byLabel(expr, doc);
  if(kind!=='xpath') throw new Error('unsupported');
  const r = doc.evaluate(expr, doc, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
  const out=[]; for(let i=0;i<r.snapshotLength;i++){ const n=r.snapshotItem(i); if(n.nodeType===1) out.push(n); } return out; }
// Matches in this document first, then in its frames.
function __all(kind, expr){ return __docs().flatMap(d=>__allIn(d, kind, expr)); }
function __find(list, need){ const report=[];
  for(let i=0;i<list.length;i++){ let els; try{ els=__all(list[i][0], list[i][1]); }catch(e){ report.push(list[i][0]==='unsupported'?'unsupported':'invalid'); continue; }
    if(!els.length){ report.push('none'); continue; }
    const vis = els.filter(e=>__vis(e) || (need==='pick' && __stand(e))); if(!vis.length){ report.push('hidden'); continue; }
    const ok = need==='fill' ? vis.filter(e=>!e.disabled && !e.readOnly) : need==='click'||need==='pick' ? vis.filter(e=>!e.disabled) : vis;
    if(!ok.length){ report.push('disabled'); continue; }
    return {index:i, report:report, el:ok[0]}; }
  return {index:-1, report:report, el:null}; }
// The visible widget that stands for a hidden <select> (select2, chosen,
// a portal's own): a combobox or widget-like sibling, else the first
// visible sibling after it; null for a visible select or none.
function __stand(s){ if(!s || s.tagName!=='SELECT' || __vis(s) || !s.parentElement) return null;
  const near=Array.from(s.parentElement.children).filter(x=>x!==s && !['SELECT','SCRIPT','LABEL'].includes(x.tagName) && __vis(x));
  const widgety=x=>x.getAttribute('role')==='combobox' || /select|combo|chosen|dropdown|choice/i.test(typeof x.className==='string' ? x.className : '');
  return near.find(widgety) || near.find(x=>s.compareDocumentPosition(x) & Node.DOCUMENT_POSITION_FOLLOWING) || null; }
function __watch(list){ let text=null;
  for(let i=0;i<list.length;i++){ const w=list[i];
    if(!w.page) continue;
    if(w.url && !location.href.includes(w.url)) continue;
    if(!w.els.every(g=>__find(g,'see').el)) continue;
    if(w.texts.length){ if(text===null) text=document.body ? document.body.innerText : '';
      if(!w.texts.every(t=>text.includes(t))) continue; }
    return w.i; }
  return -1; }
// Calls finish(r) once look() gives an r that ok(r) accepts, re-looking
// on every DOM change and page load (and every `every` ms, for changes no
// mutation shows; 0: never), or with the last look after `ms`: a wait that
// resolves in the page instead of a poll over WebDriver.
function __waitFor(first, look, ok, ms, every, finish){ let last=first, over=false;
  const end=()=>{ if(over) return; over=true; obs.disconnect(); clearInterval(iv); clearTimeout(to); removeEventListener('load', check); finish(last); };
  const check=()=>{ if(over) return; last=look(); if(ok(last)) end(); };
  const obs=new MutationObserver(check);
  obs.observe(document, {subtree:true, childList:true, attributes:true, characterData:true});
  addEventListener('load', check);
  const iv=every ? setInterval(check, every) : 0; const to=setTimeout(()=>{ if(!over){ last=look(); end(); } }, ms); }
// Scrolls el into view if it is not, then whether another element is at
// its centre (WebDriver's "element click intercepted", checked here).
function __covered(el){ let q = el.getBoundingClientRect();
  if (q.top < 0 || q.left < 0 || q.bottom > innerHeight || q.right > innerWidth) { el.scrollIntoView({block:'center', inline:'nearest'}); q = el.getBoundingClientRect(); }
  const h = document.elementFromPoint(q.left + q.width / 2, q.top + q.height / 2);
  return !!h && h !== el && !el.contains(h); }
// How long the page has been still, in ms: no DOM change of its own, no
// request of its own in flight, loaded and not leaving; -1 while it is not.
// The watchers go in once per document; a page first seen now counts from
// now. einvreg's own marks (data-einvreg-*) are not changes.
function __still(){ const w=window;
  if(!w.__einvregStill){ const s=w.__einvregStill={changed:performance.now(), busy:0, leaving:false};
    const touch=()=>{ s.changed=performance.now(); };
    const ours=r=>r.type==='attributes' && (r.attributeName||'').startsWith('data-einvreg');
    new MutationObserver(rs=>{ if(!rs.every(ours)) touch(); }).observe(document,{subtree:true,childList:true,attributes:true,characterData:true});
    addEventListener('beforeunload',()=>{ s.leaving=true; });
    addEventListener('pageshow',()=>{ s.leaving=false; touch(); });
    const X=XMLHttpRequest.prototype, send=X.send;
    X.send=function(){ s.busy++; touch(); this.addEventListener('loadend',()=>{ s.busy--; touch(); }); return send.apply(this, arguments); };
    if(w.fetch){ const f=w.fetch; w.fetch=function(){ s.busy++; touch(); const done=()=>{ s.busy--; touch(); };
      return f.apply(this, arguments).then(r=>{ done(); return r; }, e=>{ done(); throw e; }); }; } }
  const s=w.__einvregStill;
  if(s.busy>0 || s.leaving || document.readyState!=='complete') return -1;
  return Math.round(performance.now()-s.changed); }

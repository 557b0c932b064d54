// Tandem's in-page perception walk. Evaluated as an expression that yields a function, then
// called with the options below; runs in Tandem's isolated world, so page scripts cannot
// tamper with the builtins it uses. Returns an array: [json, element0, element1, ...], where
// json describes the candidates and remote frames and elementN are their DOM nodes (the
// caller turns those into backendNodeIds). Interactivity is decided in Rust from the raw
// facts gathered here; this script only does what needs the live DOM: geometry, computed
// styles, visibility and hit tests.
(function (opt) {
  const VW = opt.vw || innerWidth, VH = opt.vh || innerHeight;
  // Elements with click-like event listeners, which this world cannot see: the page-world
  // pass of walk.rs lists them as indices into querySelectorAll('*'), trusted only while the
  // document still has as many elements.
  let heard = null;
  if (opt.lh && opt.lh.length) {
    const all = document.querySelectorAll('*');
    if (all.length === opt.ln) {
      heard = new Set();
      for (const i of opt.lh) if (all[i]) heard.add(all[i]);
    }
  }
  const SKIP = new Set(['script', 'style', 'noscript', 'template', 'head', 'meta', 'link',
    'title', 'base', 'svg', 'math', 'canvas', 'picture', 'source', 'track', 'br', 'wbr']);
  const NATIVE = new Set(['a', 'button', 'input', 'select', 'textarea', 'summary', 'label',
    'option', 'video', 'audio']);
  // Native elements that do something: links with a target, labels with a control, media
  // with controls, options outside a <select> (which lists its own).
  function nativeControl(el, tag) {
    switch (tag) {
      case 'a': return el.hasAttribute('href');
      case 'label': return !!el.control;
      case 'video': case 'audio': return el.controls;
      case 'option': return !el.closest('select');
      case 'input': return el.type !== 'hidden';
      default: return true;
    }
  }
  const ROLES = new Set(['button', 'link', 'menuitem', 'menuitemcheckbox', 'menuitemradio',
    'option', 'radio', 'checkbox', 'switch', 'tab', 'textbox', 'searchbox', 'combobox',
    'slider', 'spinbutton', 'listbox', 'treeitem', 'gridcell']);
  const INLINE = new Set(['a', 'span', 'b', 'i', 'em', 'strong', 'small', 'label', 'code',
    'abbr', 'sub', 'sup', 'mark', 'time', 'u', 's', 'q', 'cite', 'font', 'img', 'bdi']);
  const SECRET_AC = /^(cc-|one-time-code|current-password|new-password)/;
  const els = [];
  const out = [];
  const frames = [];
  const text = [];
  let above = 0, below = 0, total = 0, textLen = 0;
  const TEXT_MAX = opt.textMax || 8000;

  // With secrets to hide, texts are cut KEEP characters later (the longest secret): Rust
  // redacts them before cutting them to `max`, so a secret starting within is seen whole.
  const KEEP = opt.keep || 0;
  function clean(s, max) {
    if (!s) return '';
    s = String(s).replace(/\s+/g, ' ').trim();
    return s.length > max + KEEP ? s.slice(0, max + KEEP - 1) + '…' : s;
  }
  // Whether a text of at most `max` characters was cut (or will be, in Rust).
  const cutShort = (t, max) => t.length > max || t.endsWith('…');

  // Whether the element is the top-most thing at (x, y) in its own document, through every
  // shadow root on the way; x, y in that document's viewport coordinates.
  function hits(el, x, y) {
    let node = el;
    for (let depth = 0; depth < 32; depth++) {
      const root = node.getRootNode();
      if (!root.elementFromPoint) return true;
      const hit = root.elementFromPoint(x, y);
      if (!hit || !(hit === node || node.contains(hit))) return false;
      if (root.host) { node = root.host; continue; }
      return true;
    }
    return true;
  }

  // Whether some part of the element's in-viewport box is not covered by another element.
  // Boxes outside the viewport cannot be hit-tested and count as uncovered.
  function uncovered(el, r, ctx) {
    const x0 = Math.max(r.left + ctx.ox, ctx.cl, 0), x1 = Math.min(r.right + ctx.ox, ctx.cr, VW);
    const y0 = Math.max(r.top + ctx.oy, ctx.ct, 0), y1 = Math.min(r.bottom + ctx.oy, ctx.cb, VH);
    if (x1 <= x0 || y1 <= y0) return true;
    const w = x1 - x0, h = y1 - y0;
    const points = [[0.5, 0.5], [0.25, 0.25], [0.75, 0.25], [0.25, 0.75], [0.75, 0.75],
      [0.1, 0.5], [0.9, 0.5]];
    for (const [fx, fy] of points) {
      if (hits(el, x0 + w * fx - ctx.ox, y0 + h * fy - ctx.oy)) return true;
    }
    return false;
  }

  const NAMED_BY_CONTENT = new Set(['a', 'button', 'summary', 'option', 'label']);
  const CONTROL = 'a[href],button,input,select,textarea,summary,[role=button],[role=link],' +
    '[role=option],[role=checkbox],[role=radio],[role=tab],[role=menuitem],[role=switch]';

  // Rendered text of an element without the text of the controls inside it, up to ~120
  // characters.
  function ownText(el) {
    let s = '';
    const visit = (node) => {
      for (let c = node.firstChild; c && s.length < 120; c = c.nextSibling) {
        if (c.nodeType === 3) s += ' ' + c.data;
        else if (c.nodeType === 1 && !SKIP.has(c.localName) && !c.matches(CONTROL) &&
                 c.checkVisibility()) visit(c);
      }
    };
    visit(el);
    return s;
  }

  function labelText(el) {
    const labels = el.labels;
    if (!labels || !labels.length) return '';
    let s = '';
    for (const l of labels) s += ' ' + (l.innerText || l.textContent || '');
    return s;
  }

  function labelledBy(el) {
    const ids = el.getAttribute('aria-labelledby');
    if (!ids) return '';
    const root = el.getRootNode();
    let s = '';
    for (const id of ids.split(/\s+/)) {
      const ref = root.getElementById ? root.getElementById(id) : null;
      if (ref) s += ' ' + (ref.innerText || ref.textContent || '');
    }
    return s;
  }

  function facts(el, tag, r, ctx, st, style, scroll) {
    const f = { t: tag, x: Math.round(r.left + ctx.ox), y: Math.round(r.top + ctx.oy),
      w: Math.round(r.width), h: Math.round(r.height) };
    const a = (n) => el.getAttribute(n);
    const role = a('role'); if (role) f.r = role;
    const type = a('type'); if (type) f.ty = type.toLowerCase();
    const name = clean(labelledBy(el), 100) || clean(a('aria-label'), 100);
    if (name) f.al = name;
    if (tag === 'input' || tag === 'select' || tag === 'textarea' || tag === 'meter' || tag === 'progress') {
      const lt = clean(labelText(el), 100); if (lt) f.lb = lt;
    }
    const alt = a('alt'); if (alt) f.alt = clean(alt, 100);
    const title = a('title'); if (title) f.ti = clean(title, 100);
    const ph = a('placeholder'); if (ph) f.ph = clean(ph, 100);
    if (tag !== 'input' && tag !== 'select' && tag !== 'textarea') {
      // A generic clickable container is named by its own text, not by the controls inside
      // it, which get lines of their own.
      let t = (role === null && !NAMED_BY_CONTENT.has(tag)) ? clean(ownText(el), 120) : clean(el.innerText, 120);
      if (!t) {
        const img = el.querySelector && el.querySelector('img[alt],[aria-label]');
        if (img) t = clean(img.getAttribute('alt') || img.getAttribute('aria-label'), 100);
      }
      if (t) f.tx = t;
    }
    if (tag === 'a') { const href = a('href'); if (href !== null) f.hr = href; }
    if (tag === 'input' || tag === 'textarea') {
      const secret = (f.ty === 'password') || SECRET_AC.test(a('autocomplete') || '');
      const v = el.value;
      if (v) f.v = secret ? '•••' : clean(v, 100);
      if (f.ty === 'checkbox' || f.ty === 'radio') f.ck = el.indeterminate ? 'mixed' : !!el.checked;
      if (tag === 'input' && (f.ty === 'submit' || f.ty === 'button' || f.ty === 'reset') && !f.v)
        f.v = f.ty === 'reset' ? 'Reset' : f.ty === 'submit' ? 'Submit' : '';
    }
    if (tag === 'select') {
      const o = el.selectedOptions && el.selectedOptions[0];
      if (o) f.v = clean(o.label || o.text, 100);
      const opts = [];
      for (const op of el.options) { if (opts.length >= 12) break; opts.push(clean(op.label || op.text, 40)); }
      f.op = opts; f.on = el.options.length;
      if (el.multiple) f.mu = 1;
    }
    if (tag === 'label' && el.control) {
      const c = el.control;
      f.lc = c.localName + (c.type ? ':' + c.type : '');
      if (c.type === 'checkbox' || c.type === 'radio') f.ck = !!c.checked;
    }
    for (const k of ['aria-checked', 'aria-expanded', 'aria-selected', 'aria-pressed', 'aria-valuenow', 'aria-haspopup']) {
      const v = a(k); if (v !== null) { (f.aria || (f.aria = {}))[k.slice(5)] = v; }
    }
    if (el.disabled || a('aria-disabled') === 'true') f.di = 1;
    if (a('onclick') !== null) f.oc = 1;
    const tabindex = a('tabindex'); if (tabindex !== null) f.tb = parseInt(tabindex, 10);
    if (el.isContentEditable && !(el.parentElement && el.parentElement.isContentEditable)) {
      f.ce = 1; if (!f.tx) f.tx = clean(el.innerText, 100);
    }
    if (style && style.cursor === 'pointer' && !st.pointer) f.cp = 1;
    if (scroll) f.sc = scroll;
    if ((tag === 'video' || tag === 'audio') && el.controls) f.co = 1;
    if (ctx.frame) f.fr = 1;
    if (el.getRootNode() !== ctx.doc) f.sh = 1;
    if (tag === 'input' && el.required) f.rq = 1;
    return f;
  }

  // Scroll container: scrollable content and a computed overflow that lets the user scroll.
  function scrollInfo(el, style) {
    const dy = el.scrollHeight - el.clientHeight, dx = el.scrollWidth - el.clientWidth;
    if (dy <= 2 && dx <= 2) return null;
    const oy = style.overflowY, ox = style.overflowX;
    const canY = dy > 2 && (oy === 'auto' || oy === 'scroll');
    const canX = dx > 2 && (ox === 'auto' || ox === 'scroll');
    if (!canY && !canX) return null;
    return [Math.round(el.scrollTop), Math.round(dy - el.scrollTop), Math.round(el.clientHeight),
      Math.round(el.scrollLeft), Math.round(dx - el.scrollLeft)];
  }

  let cur = '';
  function flush() {
    if (cur) { text.push(cur); cur = ''; }
  }

  function walk(el, ctx, st) {
    const tag = el.localName;
    if (SKIP.has(tag)) return;
    total++;
    const r = el.getBoundingClientRect();
    const top = r.top + ctx.oy, bottom = r.bottom + ctx.oy, left = r.left + ctx.ox, right = r.right + ctx.ox;
    const box = r.width > 0 && r.height > 0;
    const inBand = box && bottom > ctx.ct && top < ctx.cb && right > ctx.cl && left < ctx.cr;
    const inView = inBand && bottom > 0 && top < VH;
    const role = el.getAttribute('role');
    const quick = (NATIVE.has(tag) && nativeControl(el, tag)) || (role !== null && ROLES.has(role)) ||
      el.hasAttribute('onclick') || el.hasAttribute('contenteditable') ||
      (el.hasAttribute('tabindex') && el.getAttribute('tabindex') !== '-1');
    let child;
    let style = null;
    // A listener-only element is kept unless it turns out to hold other controls: then it is
    // a container that delegates clicks (a React root, a list), not a control itself.
    let delegate = null, mark = 0;
    if (inBand) {
      style = getComputedStyle(el);
      const pointer = style.cursor === 'pointer';
      const visible = el.checkVisibility({ opacityProperty: true, visibilityProperty: true });
      const scroll = (tag !== 'html' && tag !== 'body') ? scrollInfo(el, style) : null;
      let emitted = false, covered = false;
      const listened = !quick && !pointer && !st.pointer && heard !== null && heard.has(el);
      const clickable = quick || (pointer && !st.pointer) || listened;
      if (visible && (clickable || scroll) && tag !== 'iframe' &&
          tag !== 'frame' && tag !== 'html' && tag !== 'body') {
        if (!inView || uncovered(el, r, ctx)) {
          els.push(el);
          const f = facts(el, tag, r, ctx, st, style, scroll);
          out.push(f);
          if (listened) { f.ls = 1; delegate = f; mark = out.length; }
          // A control's text is its name, so it is not repeated as page text; but a scroll
          // container's content, or a clickable region with more text than a name holds
          // (a whole card list with a click handler), stays page text.
          emitted = clickable && !listened && !(f.tx && cutShort(f.tx, 120));
        } else {
          covered = true;
        }
      }
      child = { pointer, inside: st.inside || emitted, visible: visible && !covered };
    } else {
      if (quick && box && !ctx.frame) {
        if (bottom <= ctx.bt) above++; else if (top >= ctx.bb) below++;
      }
      child = { pointer: false, inside: st.inside, visible: true };
    }
    if (tag === 'iframe' || tag === 'frame') {
      if (!inBand || !child.visible || (inView && !uncovered(el, r, ctx))) return;
      let doc = null;
      try { doc = el.contentDocument; } catch (e) { doc = null; }
      const cs = style;
      const pl = parseFloat(cs.paddingLeft) || 0, pt = parseFloat(cs.paddingTop) || 0;
      const ox = left + el.clientLeft + pl, oy = top + el.clientTop + pt;
      const cw = el.clientWidth - pl - (parseFloat(cs.paddingRight) || 0);
      const ch = el.clientHeight - pt - (parseFloat(cs.paddingBottom) || 0);
      const sub = { ox, oy, frame: true, cl: Math.max(ctx.cl, ox), ct: Math.max(ctx.ct, oy),
        cr: Math.min(ctx.cr, ox + cw), cb: Math.min(ctx.cb, oy + ch), bt: ctx.bt, bb: ctx.bb };
      if (doc && doc.documentElement) {
        sub.doc = doc;
        flush();
        walk(doc.documentElement, sub, { pointer: false, inside: false, visible: true });
        flush();
      } else {
        els.push(el);
        frames.push({ e: els.length - 1, at: out.length, ox, oy, cl: sub.cl, ct: sub.ct, cr: sub.cr, cb: sub.cb });
      }
      return;
    }
    // Content of an element that clips its overflow is seen only through its box.
    let inner = ctx;
    if (style && tag !== 'html' && tag !== 'body' &&
        (style.overflowX !== 'visible' || style.overflowY !== 'visible')) {
      inner = Object.assign({}, ctx);
      const cl = left + el.clientLeft, ct = top + el.clientTop;
      if (style.overflowX !== 'visible') {
        inner.cl = Math.max(ctx.cl, cl); inner.cr = Math.min(ctx.cr, cl + el.clientWidth);
      }
      if (style.overflowY !== 'visible') {
        inner.ct = Math.max(ctx.ct, ct); inner.cb = Math.min(ctx.cb, ct + el.clientHeight);
      }
    }
    const wantText = inView && !child.inside && child.visible && textLen < TEXT_MAX;
    const block = !INLINE.has(tag);
    if (block) flush();
    const sr = el.shadowRoot;
    if (sr) for (let c = sr.firstChild; c; c = c.nextSibling) visit(c, inner, child, wantText);
    for (let c = el.firstChild; c; c = c.nextSibling) visit(c, inner, child, wantText);
    if (block) flush();
    if (delegate !== null && out.length > mark) delegate.dr = 1;
  }

  function visit(c, ctx, st, wantText) {
    if (c.nodeType === 1) walk(c, ctx, st);
    else if (wantText && c.nodeType === 3) {
      const s = c.data.replace(/\s+/g, ' ').trim();
      if (s) { cur += (cur ? ' ' : '') + s; textLen += s.length + 1; }
    }
  }

  const doc = document;
  // The main document's clip is the band itself; a frame's is its box within the band.
  // bt/bb: the band itself, for counting what lies above and below it; cl/ct/cr/cb: the part
  // of the band visible at the current depth (narrowed by frames and clipping elements).
  const root = { doc, ox: opt.ox || 0, oy: opt.oy || 0, frame: !!opt.frame,
    cl: opt.frame ? opt.cl : 0, ct: opt.frame ? opt.ct : -VH,
    cr: opt.frame ? opt.cr : VW, cb: opt.frame ? opt.cb : 2 * VH, bt: -VH, bb: 2 * VH };
  if (doc.documentElement) walk(doc.documentElement, root, { pointer: false, inside: false, visible: true });
  flush();

  // Labels whose control is listed are the same target twice: keep the control.
  const listed = new Set(els);
  const keep = [];
  for (let i = 0; i < out.length; i++) {
    const el = els[i];
    if (out[i].t === 'label' && el.control && listed.has(el.control)) continue;
    if (out[i].dr) continue;
    keep.push(i);
  }
  const se = document.scrollingElement || document.documentElement;
  const result = {
    el: keep.map((i) => out[i]),
    fr: frames,
    tx: text,
    above, below, total,
    sy: Math.round(se ? se.scrollTop : 0), sh: Math.round(se ? se.scrollHeight : 0),
    vh: VH, vw: VW,
    url: location.href, title: document.title,
  };
  // Element handles in the order of result.el, then the frames' owners.
  const handles = keep.map((i) => els[i]);
  // backendNodeIds learnt in earlier walks of this document (see walk.rs): only elements
  // without one need a DOM.describeNode.
  const known = globalThis.__tandemIds || (globalThis.__tandemIds = new WeakMap());
  result.ids = handles.map((el) => known.get(el) || 0);
  for (const f of frames) {
    handles.push(els[f.e]); f.e = handles.length - 1;
    f.at = keep.filter((i) => i < f.at).length;
  }
  return [JSON.stringify(result)].concat(handles);
})

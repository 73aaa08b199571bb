// netdraw HTML preview: the page. Lays out each view with Graphviz (WebAssembly), and
// handles pan/zoom, the minimap, selection and the side panel, opening and closing blocks,
// search, the URL fragment, SVG/PNG export and, under `netdraw serve`, live reload.
//
// Names in a model are untrusted: they reach the document only through textContent,
// setAttribute of plain attributes, or Graphviz's own SVG (whose labels netdraw escaped and
// which is parsed as XML, then stripped of anything active). The page's CSP forbids any
// network access and inline event handlers.

(() => {
  "use strict";
  const V = NetdrawView;
  const SVGNS = "http://www.w3.org/2000/svg";
  const model = JSON.parse(document.getElementById("nd-model").textContent);
  const G = model.groups;
  const N = model.nodes;
  const { chain, members } = V.prepare(model);
  const $ = (id) => document.getElementById(id);
  const timings = { start: performance.now() };
  window.netdraw = { model, timings, state: null, view: null, dot: "", V };
  // The explorer of what the network computes for its inputs (explorer.js), when the page
  // carries one.
  const X = model.explorer
    ? NetdrawExplorer.create(model, { h, section, table, banner: (text) => showBanner(text) }) : null;
  window.netdraw.explorer = X;

  // -- state: what is open, in the URL fragment ----------------------------------------------

  const initial = {
    depth: model.state.depth, roll: model.state.roll,
    expand: new Set(model.state.expand), collapse: new Set(model.state.collapse),
    open: new Set(), unroll: new Set(),
  };
  let state = cloneState(initial);
  let selection = null; // {type: "node" | "group", index}
  let view = null;

  function cloneState(s) {
    return { depth: s.depth, roll: s.roll, expand: new Set(s.expand),
             collapse: new Set(s.collapse), open: new Set(s.open), unroll: new Set(s.unroll) };
  }

  const pathKey = (g) => G[g].path.map(encodeURIComponent).join("/");
  const byPath = new Map(G.map((g, i) => [g.path.map(encodeURIComponent).join("/"), i]));
  const byId = new Map(N.map((n, i) => [n.id, i]));
  // A link names a layer by its qualified name (layer1.0.conv1) where that is unique: an
  // exporter's node ids (node_Conv_12) change on every export, the module path does not.
  const nameCount = new Map();
  for (const n of N) nameCount.set(n.name, (nameCount.get(n.name) || 0) + 1);
  const byName = new Map(N.map((n, i) => [n.name, i]).filter(([name]) => nameCount.get(name) === 1));
  const nodeRef = (i) => (byName.get(N[i].name) === i ? "l:" + N[i].name : "n:" + N[i].id);

  function encodeHash() {
    const parts = [`depth=${state.depth}`];
    for (const key of ["expand", "collapse", "open", "unroll"]) {
      const set = state[key];
      if (key === "expand" && sameSet(set, initial.expand)) continue;
      if (key === "collapse" && sameSet(set, initial.collapse)) continue;
      if (!set.size) continue;
      parts.push(`${key}=` + [...set].sort((a, b) => a - b).map((g) => encodeURIComponent(pathKey(g))).join(","));
    }
    if (selection) {
      const ref = selection.type === "node" ? nodeRef(selection.index) : "g:" + pathKey(selection.index);
      parts.push("select=" + encodeURIComponent(ref));
    }
    return "#" + parts.join("&");
  }

  function sameSet(a, b) {
    return a.size === b.size && [...a].every((x) => b.has(x));
  }

  function decodeHash(hash) {
    const s = cloneState(initial);
    let sel = null;
    for (const part of hash.replace(/^#/, "").split("&")) {
      const eq = part.indexOf("=");
      if (eq < 0) continue;
      const key = part.slice(0, eq);
      const value = part.slice(eq + 1);
      if (key === "depth") {
        const d = Number.parseInt(value, 10);
        if (Number.isFinite(d)) s.depth = Math.max(0, Math.min(model.full_depth, d));
      } else if (["expand", "collapse", "open", "unroll"].includes(key)) {
        s[key] = new Set();
        for (const item of value.split(",")) {
          let path;
          try { path = decodeURIComponent(item); } catch { continue; }
          if (byPath.has(path)) s[key].add(byPath.get(path));
        }
      } else if (key === "select") {
        let ref;
        try { ref = decodeURIComponent(value); } catch { continue; }
        if (ref.startsWith("l:") && byName.has(ref.slice(2))) sel = { type: "node", index: byName.get(ref.slice(2)) };
        if (ref.startsWith("n:") && byId.has(ref.slice(2))) sel = { type: "node", index: byId.get(ref.slice(2)) };
        if (ref.startsWith("g:") && byPath.has(ref.slice(2))) sel = { type: "group", index: byPath.get(ref.slice(2)) };
      }
    }
    return { state: s, selection: sel };
  }

  let writtenHash = null;
  function writeHash(push) {
    const hash = encodeHash();
    if (hash === location.hash || hash === writtenHash) return;
    writtenHash = hash;
    try {
      if (push) history.pushState(null, "", hash);
      else history.replaceState(null, "", hash);
    } catch {
      // a sandboxed srcdoc frame may refuse: the view still works, without a link
    }
  }

  function onHashChange() {
    if (location.hash === writtenHash) return;
    const decoded = decodeHash(location.hash);
    state = decoded.state;
    selection = decoded.selection;
    writtenHash = location.hash;
    relayout({ focus: selection, push: false });
  }

  // -- Graphviz ------------------------------------------------------------------------------

  let graphviz = null;
  let pending = null; // a layout asked for before Graphviz was ready
  const library = new Promise((resolve, reject) => {
    // The library's script runs after this one and announces itself.
    if (globalThis.NetdrawGraphviz) resolve(globalThis.NetdrawGraphviz);
    else window.addEventListener("netdraw-graphviz", () => resolve(globalThis.NetdrawGraphviz), { once: true });
    if (document.body.dataset.engine === "parent") engineFromParent(reject);
  });

  function engineFromParent(reject) {
    // In a notebook the engine is in the notebook's document once (netdraw/notebook.py):
    // ask for its text, and run it as an inline module script, which the page's
    // Content-Security-Policy allows only if it has the expected hash.
    const hash = document.body.dataset.engineHash;
    let tries = 0;
    let timer = null;
    const ask = () => {
      tries += 1;
      try { window.parent.postMessage({ netdraw: "graphviz?", hash }, "*"); } catch { /* no parent */ }
      if (tries >= 40) {
        clearInterval(timer);
        if (!globalThis.NetdrawGraphviz) {
          reject(new Error("the layout engine was not found in this notebook: it is in the " +
            "first netdraw output of the kernel session, which this front end did not run " +
            "(or which was cleared); run the cell again to draw the other views"));
        }
      }
    };
    window.addEventListener("message", (event) => {
      const data = event.data;
      if (event.source !== window.parent || !data || data.netdraw !== "graphviz" ||
          data.hash !== hash || typeof data.source !== "string") return;
      clearInterval(timer);
      if (globalThis.NetdrawGraphviz || document.getElementById("nd-engine")) return;
      const script = document.createElement("script");
      script.type = "module";
      script.id = "nd-engine";
      script.textContent = data.source;
      document.body.append(script);
    });
    ask();
    timer = setInterval(ask, 250);
  }
  async function loadGraphviz() {
    const lib = await library;
    graphviz = await lib.Graphviz.load();
    return graphviz;
  }

  function layout(dot) {
    return graphviz.layout(dot, "svg", "dot");
  }

  // -- the drawing ---------------------------------------------------------------------------

  const stage = $("nd-stage");
  const holder = $("nd-graph");
  let svg = null; // the drawn <svg>
  let size = { w: 1, h: 1, tx: 0, ty: 0 }; // graph size (pt) and graph0's translate
  let camera = { x: 0, y: 0, z: 1 };
  const elements = new Map(); // view key -> <g class="node">
  const clusters = new Map(); // group index -> <g class="cluster">

  function sanitize(root) {
    // Graphviz wrote it from escaped labels; still, nothing active may survive.
    for (const el of root.querySelectorAll("script, foreignObject, iframe, image, style")) el.remove();
    for (const el of [root, ...root.querySelectorAll("*")]) {
      for (const attr of [...el.attributes]) {
        const name = attr.name.toLowerCase();
        if (name.startsWith("on") || name === "href" || name === "xlink:href" ||
            name === "style" || name === "target") el.removeAttribute(attr.name);
      }
    }
  }

  function install(svgText) {
    const doc = new DOMParser().parseFromString(svgText, "image/svg+xml");
    const root = doc.documentElement;
    if (root.nodeName !== "svg" || doc.querySelector("parsererror")) {
      throw new Error("Graphviz returned no drawing");
    }
    sanitize(root);
    const fresh = document.importNode(root, true);
    const box = (fresh.getAttribute("viewBox") || "0 0 1 1").trim().split(/[\s,]+/).map(Number);
    const g0 = fresh.querySelector("g.graph");
    const t = /translate\(\s*([-\d.eE]+)[\s,]+([-\d.eE]+)\s*\)/.exec(g0 ? g0.getAttribute("transform") || "" : "");
    size = { w: box[2] || 1, h: box[3] || 1, tx: t ? Number(t[1]) : 0, ty: t ? Number(t[2]) : 0 };
    if (g0) g0.id = "nd-g0";
    for (const title of fresh.querySelectorAll("title")) {
      const g = title.parentNode;
      if (g.classList.contains("node") && /^n\d+$/.test(title.textContent)) {
        const v = view.nodes[Number(title.textContent.slice(1))];
        if (v) {
          g.dataset.key = v.key;
          g.classList.add("nd-" + v.type);
          elements.set(v.key, g);
        }
        title.remove();
      } else if (g.classList.contains("cluster")) {
        const gi = view.clusterOf.get(title.textContent);
        if (gi !== undefined) {
          g.dataset.group = String(gi);
          clusters.set(gi, g);
          title.textContent = `${G[gi].label}${G[gi].class ? " · " + G[gi].class : ""} — click the title to close it`;
        } else {
          title.remove();
        }
      } else {
        title.remove();
      }
    }
    fresh.removeAttribute("width");
    fresh.removeAttribute("height");
    fresh.setAttribute("preserveAspectRatio", "xMidYMid meet");
    fresh.classList.add("nd-svg");
    holder.replaceChildren(fresh);
    svg = fresh;
    if (X) X.decorate(fresh, view, elements);
    const f0 = performance.now();
    fitLabels();
    timings.fitLabels = performance.now() - f0;
  }

  function fitLabels() {
    // Graphviz sized each box for Helvetica's widths; where the browser's font is wider,
    // squeeze the line into its box rather than let it spill over the border.
    // Measure everything first, then write: a write between two reads would make the
    // browser lay the drawing out again for every label.
    const squeeze = [];
    for (const g of svg.querySelectorAll("g.node")) {
      const shape = g.querySelector("polygon, path, ellipse");
      if (!shape) continue;
      const room = shape.getBBox().width - 8;
      if (room <= 10) continue;
      for (const text of g.querySelectorAll("text")) {
        if (text.getComputedTextLength() > room) squeeze.push([text, room]);
      }
    }
    for (const [text, room] of squeeze) {
      text.setAttribute("textLength", room.toFixed(1));
      text.setAttribute("lengthAdjust", "spacingAndGlyphs");
    }
  }

  function bboxOf(el) {
    const b = el.getBBox();
    return { x: b.x + size.tx, y: b.y + size.ty, w: b.width, h: b.height };
  }

  function viewport() {
    return { w: Math.max(1, stage.clientWidth), h: Math.max(1, stage.clientHeight) };
  }

  function applyCamera() {
    if (!svg) return;
    const vp = viewport();
    const w = vp.w / camera.z;
    const h = vp.h / camera.z;
    svg.setAttribute("viewBox", `${camera.x - w / 2} ${camera.y - h / 2} ${w} ${h}`);
    svg.setAttribute("width", vp.w);
    svg.setAttribute("height", vp.h);
    drawMinimap();
  }

  function fitZoom() {
    const vp = viewport();
    return Math.min(vp.w / (size.w + 16), vp.h / (size.h + 16), 1.5);
  }

  // How the camera was placed: "start" or "fit" by the page (placed again when the stage
  // changes size: an iframe in a notebook or a docs page often gets its size only after
  // the first view was drawn), null once the reader moved it.
  let placedBy = null;

  function fit() {
    camera = { x: size.w / 2, y: size.h / 2, z: fitZoom() };
    placedBy = "fit";
    applyCamera();
  }

  function start() {
    // The whole drawing if it is legible so; else its top, as wide as the window allows.
    const vp = viewport();
    const z = fitZoom();
    if (z >= 0.55) {
      fit();
      placedBy = "start";
      return;
    }
    // Top-to-bottom drawings fit their width, left-to-right ones their height; what does
    // not fit starts at its top (left) edge.
    const zoom = Math.max(0.55, Math.min(1, Math.max(vp.w / (size.w + 16), vp.h / (size.h + 16))));
    const x = size.w * zoom <= vp.w ? size.w / 2 : vp.w / 2 / zoom;
    const y = size.h * zoom <= vp.h ? size.h / 2 : vp.h / 2 / zoom;
    camera = { x, y, z: zoom };
    placedBy = "start";
    applyCamera();
  }

  function zoomAt(factor, sx, sy) {
    placedBy = null;
    const vp = viewport();
    const z = Math.max(Math.min(fitZoom() * 0.5, 0.25), Math.min(8, camera.z * factor));
    const px = sx === undefined ? vp.w / 2 : sx;
    const py = sy === undefined ? vp.h / 2 : sy;
    const gx = camera.x + (px - vp.w / 2) / camera.z;
    const gy = camera.y + (py - vp.h / 2) / camera.z;
    camera = { x: gx - (px - vp.w / 2) / z, y: gy - (py - vp.h / 2) / z, z };
    applyCamera();
  }

  function focusBox(b, keepZoom) {
    placedBy = null;
    const vp = viewport();
    let z = camera.z;
    const needed = Math.min(vp.w / (b.w + 40), vp.h / (b.h + 40));
    if (!keepZoom || needed < z) z = Math.min(Math.max(needed, fitZoom()), keepZoom ? z : 1.2);
    camera = { x: b.x + b.w / 2, y: b.y + b.h / 2, z };
    applyCamera();
  }

  // -- layout of a state -----------------------------------------------------------------

  function relayout({ focus = null, push = true, anchor = null, drawn = null } = {}) {
    if (!graphviz && !drawn) {
      pending = { focus, push, anchor };
      document.body.dataset.busy = "1";
      return;
    }
    const t0 = performance.now();
    view = V.computeView(model, state);
    const firstState = isFirstState(state);
    let dot = V.toDot(model, view, firstState ? model.columns : 1);
    const t1 = performance.now();
    let svgText = drawn;
    try {
      if (!svgText) svgText = layout(dot);
      const columns = firstState || !model.wrap ? 1 : tallColumns(svgText);
      if (columns > 1) {
        // Too tall to read as one column: wrapped into side-by-side columns, as the static
        // drawing and the first view are (where the view can be cut cleanly).
        const wrapped = V.toDot(model, view, columns);
        if (view.columns > 1) {
          dot = wrapped;
          svgText = layout(dot);
        } else {
          V.toDot(model, view, 1);
        }
      }
    } catch (err) {
      showBanner("Graphviz could not lay out this view: " + (err && err.message ? err.message : err));
      return;
    }
    const t2 = performance.now();
    elements.clear();
    clusters.clear();
    const first = !svg;
    install(svgText);
    const t3 = performance.now();
    window.netdraw.state = state;
    window.netdraw.view = view;
    window.netdraw.dot = dot;
    if (first || !focus) {
      if (first) start();
      else applyCamera();
    }
    if (focus) {
      const el = elementFor(focus);
      if (el) {
        const b = bboxOf(el);
        if (anchor) {
          // Keep what was clicked where it was on screen; centre it if it then spills over.
          const vp = viewport();
          const z = camera.z;
          camera = { x: b.x + b.w / 2 - (anchor.sx - vp.w / 2) / z,
                     y: b.y + b.h / 2 - (anchor.sy - vp.h / 2) / z, z };
          const left = (b.x - camera.x) * z + vp.w / 2;
          const top = (b.y - camera.y) * z + vp.h / 2;
          if (left < 0 || top < 0 || left + b.w * z > vp.w || top + b.h * z > vp.h) focusBox(b, true);
          else applyCamera();
        } else {
          focusBox(b, true);
        }
      }
    }
    markSelection();
    markMatches();
    renderPanel();
    renderCrumbs();
    renderStatus(t1 - t0, t2 - t1);
    writeHash(push);
    timings.lastLayout = performance.now() - t0;
    timings.parts = { view: t1 - t0, layout: t2 - t1, install: t3 - t2, rest: performance.now() - t3 };
    timings.layouts = (timings.layouts || 0) + 1;
    if (first) {
      requestAnimationFrame(() => {
        timings.firstPaint = performance.now();
        document.body.dataset.ready = "1";
      });
    }
    delete document.body.dataset.busy;
    document.body.dataset.layouts = String(timings.layouts);
  }

  function isFirstState(s) {
    // The view the page opened with (its depth, nothing opened or closed since).
    return s.depth === initial.depth && s.roll === initial.roll &&
      ["expand", "collapse", "open", "unroll"].every((k) => sameSet(s[k], initial[k]));
  }

  function tallColumns(svgText) {
    // Columns for a drawing Graphviz laid out as one: none unless it is more than 4 times
    // taller than wide (passes/layout.MAX_ASPECT), else about enough to bring it to 1.5.
    const box = /viewBox="([-\d.eE]+)[\s,]+([-\d.eE]+)[\s,]+([-\d.eE]+)[\s,]+([-\d.eE]+)"/.exec(svgText);
    if (!box) return 1;
    const aspect = Number(box[4]) / Math.max(1, Number(box[3]));
    return aspect > 4 ? Math.max(2, Math.ceil(Math.sqrt(aspect / 1.5))) : 1;
  }

  function visibleKeyOfNode(n) {
    // The key of what shows node n: itself, or the block it is inside.
    if (!view) return null;
    if (view.byKey.has("n" + n)) return "n" + n;
    for (const v of view.nodes) {
      if (v.type === "group" && members[v.index].includes(n)) return v.key;
      if (v.type === "roll" && v.run.some((g) => members[g].includes(n))) return v.key;
    }
    return null;
  }

  function visibleKeyOfGroup(gi) {
    if (view.byKey.has("g" + gi)) return "g" + gi;
    if (clusters.has(gi)) return null;
    for (const v of view.nodes) {
      if (v.type === "roll" && v.run.includes(gi)) return v.key;
      if (v.type === "group" && chain[gi].includes(v.index)) return v.key;
    }
    return null;
  }

  function elementFor(ref) {
    if (!ref) return null;
    if (ref.type === "group") {
      if (clusters.has(ref.index)) return clusters.get(ref.index);
      const key = visibleKeyOfGroup(ref.index);
      return key ? elements.get(key) : null;
    }
    const key = visibleKeyOfNode(ref.index);
    return key ? elements.get(key) : null;
  }

  // -- opening and closing ---------------------------------------------------------------

  function descendants(gi) {
    const out = [];
    G.forEach((_, g) => { if (g !== gi && chain[g].includes(gi)) out.push(g); });
    return out;
  }

  function expandKey(key, anchor) {
    const v = view.byKey.get(key);
    if (!v || v.type === "node") return false;
    if (v.type === "roll") {
      state.unroll.add(G[v.index].parent);
      selection = { type: "group", index: v.index };
    } else {
      const gi = v.index;
      state.collapse.delete(gi);
      // Closed by depth, or a member of an unrolled run: opening it names it.
      state.open.add(gi);
      // A wrapper (a group whose only child is one group) opens with its child, as views
      // draw them: one cluster, the child's contents inside.
      for (let g = gi, c = wrapped(g); c >= 0; g = c, c = wrapped(g)) {
        state.collapse.delete(c);
        state.open.add(c);
      }
      selection = { type: "group", index: gi };
    }
    relayout({ focus: selection, anchor });
    return true;
  }

  function wrapped(gi) {
    // The only child of wrapper gi (same level as gi), else -1.
    const kids = G[gi].items.filter((it) => it[0] === 1);
    return kids.length === 1 && G[kids[0][1]].level === G[gi].level ? kids[0][1] : -1;
  }

  function collapseGroup(gi, anchor) {
    if (gi === 0) return;
    state.collapse.add(gi);
    state.open.delete(gi);
    for (const d of descendants(gi)) {
      state.open.delete(d);
      state.unroll.delete(d);
      state.collapse.delete(d);
    }
    selection = { type: "group", index: gi };
    relayout({ focus: selection, anchor });
  }

  function reveal(ref) {
    // Open whatever hides ref (a node or a group), so that it is drawn.
    const g = ref.type === "node" ? N[ref.index].group : G[ref.index].parent;
    if (g < 0) return;
    for (const p of chain[g]) state.collapse.delete(p);
    if (ref.type === "node") {
      if (!view.byKey.has("n" + ref.index)) state.open.add(g); // names it: runs split
      return;
    }
    state.collapse.delete(ref.index);
    if (!view.byKey.has("g" + ref.index) && !clusters.has(ref.index)) {
      state.open.add(g);
      state.unroll.add(g); // a member of a rolled run is drawn on its own
    }
  }

  function setDepth(d) {
    state.depth = Math.max(0, Math.min(model.full_depth, d));
    state.open.clear();
    state.collapse.clear();
    state.unroll.clear();
    relayout({ focus: selection });
  }

  // -- selection and panel --------------------------------------------------------------

  function select(ref, { zoom = false } = {}) {
    selection = ref;
    markSelection();
    renderPanel();
    renderCrumbs();
    writeHash(false);
    if (zoom) {
      const el = elementFor(ref);
      if (el) focusBox(bboxOf(el), true);
    }
  }

  function markSelection() {
    for (const el of holder.querySelectorAll(".nd-selected")) el.classList.remove("nd-selected");
    const el = elementFor(selection);
    if (el) el.classList.add("nd-selected");
  }

  function refOfKey(key) {
    const v = view.byKey.get(key);
    if (!v) return null;
    if (v.type === "node") return { type: "node", index: v.index };
    return { type: "group", index: v.index };
  }

  function h(tag, props = {}, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k === "class") el.className = v;
      else if (k === "onclick") el.addEventListener("click", v);
      else if (k === "text") el.textContent = v;
      else el.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function tensorText(t) {
    const s = model.tensors[t];
    return (s.text || "unknown shape") + (s.dtype ? " " + s.dtype : "");
  }

  function valueText(value) {
    if (typeof value === "string") return value;
    if (Array.isArray(value) && value.every((x) => typeof x !== "object" || x === null)) {
      return value.map((x) => (x === null ? "?" : String(x))).join(", ");
    }
    return JSON.stringify(value);
  }

  function table(rows) {
    const t = h("table", { class: "nd-kv" });
    for (const [k, v] of rows) {
      if (v === null || v === undefined || v === "") continue;
      t.append(h("tr", {}, h("th", { text: k }), h("td", {}, v instanceof Node ? v : String(v))));
    }
    return t;
  }

  function section(title, ...content) {
    return h("section", { class: "nd-section" }, h("h3", { text: title }), ...content);
  }

  function count(n) {
    return n === null || n === undefined ? null : `${V.groupDigits(n)} (${V.formatCount(n)})`;
  }

  function short(text, limit = 60) {
    const chars = Array.from(String(text));
    return chars.length > limit ? chars.slice(0, limit - 1).join("") + "…" : String(text);
  }

  function pathLinks(g, extra) {
    const nav = h("div", { class: "nd-path" });
    const parts = chain[g].slice(1);
    nav.append(h("button", { type: "button", class: "nd-link", text: short(model.name), title: model.name,
                             onclick: () => goTo({ type: "group", index: 0 }) }));
    for (const p of parts) {
      nav.append(h("span", { class: "nd-sep", text: "›" }));
      nav.append(h("button", { type: "button", class: "nd-link", text: short(G[p].label),
                               title: G[p].label + (G[p].class ? " · " + G[p].class : ""),
                               onclick: () => goTo({ type: "group", index: p }) }));
    }
    if (extra) {
      nav.append(h("span", { class: "nd-sep", text: "›" }));
      nav.append(h("span", { class: "nd-here", text: short(extra), title: extra }));
    }
    return nav;
  }

  function nameHeading(text) {
    return h("h2", { class: "nd-name", text: short(text, 400), title: text });
  }

  function renderPanel() {
    const panel = $("nd-panel");
    panel.replaceChildren();
    if (!selection) {
      panel.append(summaryPanel());
      return;
    }
    panel.append(selection.type === "node" ? nodePanel(selection.index) : groupPanel(selection.index));
  }

  function summaryPanel() {
    const info = model.info || {};
    const box = h("div", {}, nameHeading(model.name));
    box.append(table([
      ["layers", info.source_nodes !== undefined ? V.groupDigits(info.source_nodes) : null],
      ["parameters", count(info.params)],
      ["not used", model.unused || null],
      ["MACs", info.macs ? count(info.macs) : null],
      ["folded", info.folded ? `${info.folded} layers into their heads` : null],
      ["hidden", info.hidden ? `${info.hidden} plumbing nodes` : null],
      ["groups from", info.inferred_groups || null],
    ]));
    box.append(h("p", { class: "nd-hint",
      text: "Click a box for its details, double-click a block to open it, click a cluster's title to close it. Press ? for keys." }));
    if (X) box.append(X.summarySections());
    return box;
  }

  function nodePanel(i) {
    const n = N[i];
    const a = n.attrs || {};
    const box = h("div", {});
    box.append(h("div", { class: "nd-kind", text: n.kind }), nameHeading(n.name));
    box.append(pathLinks(n.group));
    box.append(table([
      ["op type", n.op], ["name in the model", n.source_name ?? null],
      ["id", n.id !== n.name ? n.id : null],
      ["parameters", count(n.params)], ["MACs", count(n.macs)],
      ["pattern", a.pattern ? String(a.pattern) : null],
    ]));
    const extra = model.extra && model.extra[String(i)];
    if (Array.isArray(extra) && extra.length) box.append(section(model.extra_title || "Details", table(extra)));
    const image = model.activations && model.activations[String(i)];
    if (X && X.has(i)) {
      box.append(X.layerSection(i));
    } else if (typeof image === "string" && image.startsWith("data:image/")) {
      const img = h("img", { class: "nd-thumb", alt: `activation of ${n.name}` });
      img.src = image;
      box.append(section("Activation", img));
    }
    box.append(section("Inputs", shapes(n.inputs)), section("Outputs", shapes(n.outputs)));
    const shown = Object.entries(a).filter(([k]) => !["folded", "pattern"].includes(k));
    if (shown.length) box.append(section("Attributes", table(shown.map(([k, v]) => [k, valueText(v)]))));
    if (Array.isArray(a.folded) && a.folded.length) box.append(section("Folded layers", foldedTable(a.folded)));
    return box;
  }

  function shapes(list) {
    if (!list || !list.length) return h("p", { class: "nd-none", text: "none" });
    const ul = h("ul", { class: "nd-shapes" });
    for (const t of list) ul.append(h("li", { text: tensorText(t) }));
    return ul;
  }

  function foldedTable(folded) {
    const t = h("table", { class: "nd-folded" });
    t.append(h("tr", {}, h("th", { text: "name" }), h("th", { text: "kind" }),
                h("th", { text: "op type" }), h("th", { text: "params" })));
    for (const f of folded) {
      if (!f || typeof f !== "object") continue;
      const attrs = f.attrs && typeof f.attrs === "object" ? Object.entries(f.attrs).map(([k, v]) => `${k}=${valueText(v)}`).join("; ") : "";
      const row = h("tr", { title: attrs }, h("td", { text: String(f.name ?? "") }),
                    h("td", { text: String(f.kind ?? "") }), h("td", { text: String(f.op_type ?? "") }),
                    h("td", { text: V.formatCount(Number(f.params) || 0) }));
      t.append(row);
    }
    return t;
  }

  function groupPanel(gi) {
    const g = G[gi];
    const key = view ? visibleKeyOfGroup(gi) : null;
    const v = key ? view.byKey.get(key) : null;
    const box = h("div", {});
    const isRoll = v && v.type === "roll";
    const drawnAs = clusters.has(gi) || (gi === 0 && !key) ? "open group" : (isRoll ? "rolled run" : "block");
    box.append(h("div", { class: "nd-kind", text: drawnAs }));
    if (isRoll) {
      const f = V.rollFacts(model, v);
      box.append(nameHeading(f.full));
      box.append(pathLinks(g.parent));
      box.append(h("div", { class: "nd-actions" },
        h("button", { type: "button", text: `Draw the ${v.run.length} blocks one by one`, onclick: () => expandKey(v.key) })));
      box.append(table([["class", f.op], ["repeat", `×${v.run.length}`], ["parameters", count(v.params)],
                        ["MACs", count(v.macs)], ["layers", V.groupDigits(v.count)]]));
      if (model.looks) {
        const status = V.rollStatus(model, v.run);
        const params = status.paramsA !== status.paramsB
          ? `${V.groupDigits(status.paramsA)} → ${V.groupDigits(status.paramsB)}` : null;
        box.append(section(model.extra_title || "Details",
          table([["status", model.looks.status_text[status.label] || status.label],
                 ...status.notes.map((n) => ["", n]), ["parameters A → B", params]])));
      }
      box.append(section("Inputs", shapes(v.inputs)), section("Outputs", shapes(v.outputs)));
      const ul = h("ul", { class: "nd-members" });
      for (const m of v.run) {
        ul.append(h("li", {}, h("button", { type: "button", class: "nd-link", text: G[m].label,
          onclick: () => goTo({ type: "group", index: m }) })));
      }
      box.append(section(`Members (${v.run.length})`, ul));
      return box;
    }
    box.append(nameHeading(gi === 0 ? model.name : g.label));
    if (gi) box.append(pathLinks(g.parent));
    const actions = h("div", { class: "nd-actions" });
    if (key && v && v.type === "group") {
      actions.append(h("button", { type: "button", text: "Open", onclick: () => expandKey(v.key) }));
    } else if (gi && clusters.has(gi)) {
      actions.append(h("button", { type: "button", text: "Close into one block", onclick: () => collapseGroup(gi) }));
    }
    if (gi && state.unroll.has(g.parent) && !clusters.has(gi)) {
      actions.append(h("button", { type: "button", text: "Roll the run up again",
        onclick: () => { state.unroll.delete(g.parent); relayout({ focus: selection }); } }));
    }
    if (actions.childNodes.length) box.append(actions);
    const shown = X && !clusters.has(gi) ? X.groupNode(gi) : null;
    if (shown !== null) box.append(X.layerSection(shown));
    box.append(table([["class", g.class || null], ["path", g.path.join(" / ") || null],
                      ["parameters", count(g.params)], ["MACs", count(g.macs)],
                      ["layers", g.nodes !== undefined ? V.groupDigits(g.nodes) : null]]));
    if (Array.isArray(g.rows) && g.rows.length) box.append(section(model.extra_title || "Details", table(g.rows)));
    if (g.inputs) box.append(section("Inputs", shapes(g.inputs)), section("Outputs", shapes(g.outputs)));
    const kids = g.items.filter((it) => it[0] === 1).map((it) => it[1]);
    if (kids.length) {
      const ul = h("ul", { class: "nd-members" });
      for (const m of kids) {
        ul.append(h("li", {}, h("button", { type: "button", class: "nd-link", text: G[m].label,
          onclick: () => goTo({ type: "group", index: m }) })));
      }
      box.append(section(`Groups inside (${kids.length})`, ul));
    }
    return box;
  }

  function renderCrumbs() {
    const nav = $("nd-crumbs");
    if (!selection) {
      nav.replaceChildren();
      return;
    }
    if (selection.type === "node") nav.replaceChildren(pathLinks(N[selection.index].group, N[selection.index].name));
    else if (selection.index === 0) nav.replaceChildren();
    else nav.replaceChildren(pathLinks(G[selection.index].parent, G[selection.index].label));
  }

  function renderStatus(viewMs, layoutMs) {
    const boxes = view.nodes.length;
    const info = model.info || {};
    const text = `depth ${state.depth} of ${model.full_depth} · ${boxes} boxes of ${V.groupDigits(info.source_nodes ?? N.length)} layers` +
      (info.params ? ` · ${V.formatCount(info.params)} params` : "") +
      (info.macs ? ` · ${V.formatCount(info.macs)} MACs` : "") +
      ` · laid out in ${Math.round(viewMs + layoutMs)} ms`;
    $("nd-status").textContent = text;
    $("nd-depth").textContent = String(state.depth);
    $("nd-title").textContent = short(model.name, 40);
    $("nd-title").title = model.name;
    document.title = `${model.name} · netdraw`;
  }

  function goTo(ref) {
    // Select ref, opening whatever hides it, and bring it into view.
    if (ref.type === "group" && ref.index === 0) {
      select(ref);
      fit();
      return;
    }
    selection = ref;
    const before = elementFor(ref);
    const hiddenNode = ref.type === "node" && !view.byKey.has("n" + ref.index);
    const hiddenGroup = ref.type === "group" && !clusters.has(ref.index) && !view.byKey.has("g" + ref.index);
    if (hiddenNode || hiddenGroup || !before) {
      reveal(ref);
      relayout({ focus: ref });
    } else {
      select(ref, { zoom: true });
    }
  }

  // -- search ----------------------------------------------------------------------------

  const searchBox = $("nd-search");
  const results = $("nd-results");
  let matches = [];
  let cursor = -1;
  const haystack = N.map((n) => [n.name, n.kind, n.op, n.id, n.source_name ?? "",
    ...(Array.isArray(n.attrs.folded) ? n.attrs.folded.flatMap((f) => [String(f && f.name), String(f && f.op_type)]) : [])]
    .map((s) => String(s).toLowerCase()));
  const groupHay = G.map((g) => [g.label, g.class, g.path.join("/")].map((s) => String(s).toLowerCase()));

  function search(query) {
    const q = query.trim().toLowerCase();
    matches = [];
    cursor = -1;
    if (q) {
      N.forEach((n, i) => { if (haystack[i].some((s) => s.includes(q))) matches.push({ type: "node", index: i }); });
      G.forEach((g, i) => { if (i && groupHay[i].some((s) => s.includes(q))) matches.push({ type: "group", index: i }); });
    }
    $("nd-count").textContent = q ? `${matches.length} match${matches.length === 1 ? "" : "es"}` : "";
    results.replaceChildren();
    for (const [k, m] of matches.slice(0, 200).entries()) {
      const name = m.type === "node" ? N[m.index].name : G[m.index].label;
      const sub = m.type === "node" ? `${N[m.index].kind} · ${N[m.index].op}` : `group · ${G[m.index].class || "Block"}`;
      const li = h("li", { "data-k": String(k) }, h("span", { class: "nd-r-name", text: name }),
                   h("span", { class: "nd-r-sub", text: sub }));
      li.addEventListener("mousedown", (e) => { e.preventDefault(); jump(k); });
      results.append(li);
    }
    if (matches.length > 200) results.append(h("li", { class: "nd-r-more", text: `… ${matches.length - 200} more: refine the search` }));
    results.hidden = !q;
    markMatches();
  }

  function jump(k) {
    if (!matches.length) return;
    cursor = ((k % matches.length) + matches.length) % matches.length;
    for (const li of results.querySelectorAll("li.nd-current")) li.classList.remove("nd-current");
    const li = results.querySelector(`li[data-k="${cursor}"]`);
    if (li) {
      li.classList.add("nd-current");
      li.scrollIntoView({ block: "nearest" });
    }
    $("nd-count").textContent = `${cursor + 1} of ${matches.length}`;
    goTo(matches[cursor]);
  }

  function markMatches() {
    for (const el of holder.querySelectorAll(".nd-match, .nd-match-inside")) {
      el.classList.remove("nd-match", "nd-match-inside");
    }
    if (!view) return;
    for (const m of matches) {
      if (m.type === "node") {
        const key = visibleKeyOfNode(m.index);
        const el = key && elements.get(key);
        if (el) el.classList.add(key === "n" + m.index ? "nd-match" : "nd-match-inside");
      } else {
        const el = clusters.get(m.index) || elements.get(visibleKeyOfGroup(m.index));
        if (el) el.classList.add("nd-match");
      }
    }
  }

  searchBox.addEventListener("input", () => search(searchBox.value));
  searchBox.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      if (!matches.length) search(searchBox.value);
      jump(e.shiftKey ? cursor - 1 : cursor + 1);
    } else if (e.key === "Escape") {
      searchBox.value = "";
      search("");
      searchBox.blur();
    }
  });
  searchBox.addEventListener("blur", () => { results.hidden = true; });
  searchBox.addEventListener("focus", () => { results.hidden = !searchBox.value.trim(); });

  // -- pointer, wheel and keys -----------------------------------------------------------

  const pointers = new Map();
  let drag = null;
  let lastClick = { key: null, time: 0 };

  stage.addEventListener("pointerdown", (e) => {
    if (e.button !== 0 && e.pointerType === "mouse") return;
    pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (pointers.size === 1) {
      drag = { x: e.clientX, y: e.clientY, cx: camera.x, cy: camera.y, moved: false, target: e.target };
    } else if (pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      drag = { pinch: Math.hypot(a.x - b.x, a.y - b.y), z: camera.z, moved: true };
    }
  });

  stage.addEventListener("pointermove", (e) => {
    if (!pointers.has(e.pointerId) || !drag) return;
    pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (drag.pinch && pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      const rect = stage.getBoundingClientRect();
      const d = Math.hypot(a.x - b.x, a.y - b.y);
      zoomAt((drag.z * d / drag.pinch) / camera.z, (a.x + b.x) / 2 - rect.left, (a.y + b.y) / 2 - rect.top);
      return;
    }
    const dx = e.clientX - drag.x;
    const dy = e.clientY - drag.y;
    if (!drag.moved && Math.hypot(dx, dy) < 4) return;
    if (!drag.moved) {
      drag.moved = true;
      stage.setPointerCapture(e.pointerId);
      stage.classList.add("nd-dragging");
    }
    camera.x = drag.cx - dx / camera.z;
    camera.y = drag.cy - dy / camera.z;
    placedBy = null;
    applyCamera();
  });

  function endPointer(e) {
    pointers.delete(e.pointerId);
    stage.classList.remove("nd-dragging");
    if (!drag) return;
    const d = drag;
    if (pointers.size === 0) drag = null;
    if (d.moved || e.type === "pointercancel") return;
    clickAt(d.target, e);
  }
  stage.addEventListener("pointerup", endPointer);
  stage.addEventListener("pointercancel", endPointer);

  function clickAt(target, e) {
    if (!(target instanceof Element) || !holder.contains(target)) return;
    const rect = stage.getBoundingClientRect();
    const anchor = { sx: e.clientX - rect.left, sy: e.clientY - rect.top };
    const nodeEl = target.closest("g.node");
    const now = performance.now();
    if (nodeEl && nodeEl.dataset.key) {
      const key = nodeEl.dataset.key;
      const double = lastClick.key === key && now - lastClick.time < 450;
      lastClick = { key, time: now };
      if (double) {
        lastClick = { key: null, time: 0 };
        expandKey(key, anchor);
        return;
      }
      select(refOfKey(key));
      return;
    }
    lastClick = { key: null, time: 0 };
    const clusterEl = target.closest("g.cluster");
    if (clusterEl && clusterEl.dataset.group) {
      const gi = Number(clusterEl.dataset.group);
      if (target.tagName.toLowerCase() === "text") collapseGroup(gi, anchor);
      else select({ type: "group", index: gi });
      return;
    }
    select(null);
  }

  stage.addEventListener("wheel", (e) => {
    e.preventDefault();
    const rect = stage.getBoundingClientRect();
    const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1;
    const k = e.ctrlKey ? 0.01 : 0.0015;
    zoomAt(Math.exp(-e.deltaY * unit * k), e.clientX - rect.left, e.clientY - rect.top);
  }, { passive: false });

  document.addEventListener("keydown", (e) => {
    const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement;
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const key = e.key;
    if (key === "/") {
      e.preventDefault();
      searchBox.focus();
      searchBox.select();
    } else if (key === "+" || key === "=") zoomAt(1.25);
    else if (key === "-" || key === "_") zoomAt(0.8);
    else if (key === "f") fit();
    else if (key === "0") { camera.z = 1; placedBy = null; applyCamera(); }
    else if (key === "?") toggleHelp();
    else if (key === "Escape") {
      $("nd-help").hidden = true;
      searchBox.value = "";
      search("");
      select(null);
    } else if (key === "e" && selection) {
      const k = selection.type === "group" ? visibleKeyOfGroup(selection.index) : null;
      if (k) expandKey(k);
    } else if (key === "c" && selection) {
      const g = selection.type === "node" ? N[selection.index].group
        : (clusters.has(selection.index) ? selection.index : G[selection.index].parent);
      if (g > 0) collapseGroup(g);
    } else return;
    e.preventDefault();
  });

  function toggleHelp() {
    $("nd-help").hidden = !$("nd-help").hidden;
  }

  // -- minimap ---------------------------------------------------------------------------

  const minimap = $("nd-minimap");
  let mini = null;

  function drawMinimap() {
    if (!svg) return;
    const vp = viewport();
    const big = size.w * camera.z > vp.w * 1.05 || size.h * camera.z > vp.h * 1.05;
    minimap.hidden = !big;
    if (!big) return;
    const scale = Math.min(180 / size.w, 180 / size.h);
    if (!mini || mini.dataset.for !== String(timings.layouts || 0)) {
      mini = document.createElementNS(SVGNS, "svg");
      mini.dataset.for = String(timings.layouts || 0);
      mini.setAttribute("viewBox", `0 0 ${size.w} ${size.h}`);
      const use = document.createElementNS(SVGNS, "use");
      use.setAttribute("href", "#nd-g0");
      const rect = document.createElementNS(SVGNS, "rect");
      rect.setAttribute("class", "nd-mm-view");
      mini.append(use, rect);
      minimap.replaceChildren(mini);
    }
    mini.setAttribute("width", Math.round(size.w * scale));
    mini.setAttribute("height", Math.round(size.h * scale));
    const w = vp.w / camera.z;
    const hgt = vp.h / camera.z;
    const rect = mini.querySelector("rect");
    rect.setAttribute("x", camera.x - w / 2);
    rect.setAttribute("y", camera.y - hgt / 2);
    rect.setAttribute("width", w);
    rect.setAttribute("height", hgt);
  }

  function minimapMove(e) {
    if (!mini) return;
    const r = mini.getBoundingClientRect();
    placedBy = null;
    camera.x = (e.clientX - r.left) / r.width * size.w;
    camera.y = (e.clientY - r.top) / r.height * size.h;
    applyCamera();
  }
  minimap.addEventListener("pointerdown", (e) => {
    e.stopPropagation();
    minimap.setPointerCapture(e.pointerId);
    minimapMove(e);
    const move = (ev) => minimapMove(ev);
    const up = () => {
      minimap.removeEventListener("pointermove", move);
      minimap.removeEventListener("pointerup", up);
    };
    minimap.addEventListener("pointermove", move);
    minimap.addEventListener("pointerup", up);
  });

  // -- export ----------------------------------------------------------------------------

  function exportSvgText() {
    const copy = svg.cloneNode(true);
    for (const el of copy.querySelectorAll(".nd-selected, .nd-match, .nd-match-inside")) {
      el.classList.remove("nd-selected", "nd-match", "nd-match-inside");
    }
    copy.setAttribute("viewBox", `0 0 ${size.w} ${size.h}`);
    copy.setAttribute("width", `${size.w}pt`);
    copy.setAttribute("height", `${size.h}pt`);
    copy.removeAttribute("class");
    copy.removeAttribute("preserveAspectRatio");
    for (const el of copy.querySelectorAll("[data-key], [data-group]")) {
      el.removeAttribute("data-key");
      el.removeAttribute("data-group");
      el.removeAttribute("class");
    }
    return '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' +
      new XMLSerializer().serializeToString(copy);
  }

  function download(blob, name) {
    const url = URL.createObjectURL(blob);
    const a = h("a", { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function fileName(ext) {
    return (model.name || "model").replace(/[^\w.-]+/g, "_").slice(0, 80) + "." + ext;
  }

  $("nd-export-svg").addEventListener("click", () => {
    download(new Blob([exportSvgText()], { type: "image/svg+xml" }), fileName("svg"));
  });

  $("nd-export-png").addEventListener("click", () => {
    const url = URL.createObjectURL(new Blob([exportSvgText()], { type: "image/svg+xml" }));
    const img = new Image();
    img.onload = () => {
      let k = 2;
      while ((size.w * k > 16000 || size.h * k > 16000 || size.w * size.h * k * k > 1.2e8) && k > 0.1) k /= 1.5;
      const canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(size.w * k * 4 / 3));
      canvas.height = Math.max(1, Math.round(size.h * k * 4 / 3));
      const ctx = canvas.getContext("2d");
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      URL.revokeObjectURL(url);
      canvas.toBlob((blob) => { if (blob) download(blob, fileName("png")); }, "image/png");
    };
    img.onerror = () => {
      URL.revokeObjectURL(url);
      showBanner("PNG export failed: the browser could not draw the SVG");
    };
    img.src = url;
  });

  // -- toolbar ---------------------------------------------------------------------------

  $("nd-depth-down").addEventListener("click", () => setDepth(state.depth - 1));
  $("nd-depth-up").addEventListener("click", () => setDepth(state.depth + 1));
  $("nd-reset").addEventListener("click", () => {
    state = cloneState(initial);
    selection = null;
    relayout({ push: true });
    fit();
  });
  $("nd-zoom-in").addEventListener("click", () => zoomAt(1.25));
  $("nd-zoom-out").addEventListener("click", () => zoomAt(0.8));
  $("nd-fit").addEventListener("click", fit);
  $("nd-help-button").addEventListener("click", toggleHelp);
  $("nd-help").addEventListener("click", toggleHelp);
  new ResizeObserver(() => {
    if (placedBy === "start") start();
    else if (placedBy === "fit") fit();
    else applyCamera();
  }).observe(stage);
  window.addEventListener("hashchange", onHashChange);
  window.addEventListener("popstate", onHashChange);

  function showBanner(text) {
    const banner = $("nd-banner");
    banner.textContent = text;
    banner.hidden = !text;
  }

  // -- netdraw serve: reload when the model changes ----------------------------------------

  function listen(serve) {
    const source = new EventSource(serve.events);
    source.addEventListener("hello", (e) => {
      let info;
      try { info = JSON.parse(e.data); } catch { return; }
      if (info.version !== serve.version) location.reload();
      showBanner(info.error ? `The model failed to load after a change; showing the last good graph. ${info.error}` : "");
    });
    source.addEventListener("reload", () => location.reload());
    source.addEventListener("failed", (e) => {
      let info;
      try { info = JSON.parse(e.data); } catch { info = { error: String(e.data) }; }
      showBanner(`The model failed to load after a change; showing the last good graph. ${info.error}`);
    });
    source.onerror = () => { $("nd-status").dataset.offline = "1"; };
    source.onopen = () => { delete $("nd-status").dataset.offline; };
    window.netdraw.events = source;
    if (X) X.attach(source);
  }

  // -- automation (tests, benchmarks): the same actions as the mouse, by view id ----------

  const painted = (t0) => new Promise((resolve) =>
    requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0)));
  window.netdraw.expand = (id) => {
    const v = view.nodes.find((x) => x.id === id);
    const t0 = performance.now();
    if (!v || !expandKey(v.key)) return Promise.resolve(null);
    return painted(t0);
  };
  window.netdraw.layout = (dot) => layout(dot);
  window.netdraw.collapse = (path) => {
    const gi = byPath.get(path.split("/").map(encodeURIComponent).join("/"));
    const t0 = performance.now();
    if (gi === undefined || !clusters.has(gi)) return Promise.resolve(null);
    collapseGroup(gi);
    return painted(t0);
  };

  // -- start -----------------------------------------------------------------------------

  const decoded = decodeHash(location.hash);
  state = decoded.state;
  selection = decoded.selection;
  if (model.first_svg && isFirstState(state)) {
    // Drawn by netdraw for the same view (the same DOT text): paint it at once.
    const ids = V.computeView(model, state).nodes.map((v) => v.id);
    if (ids.length === model.first_ids.length && ids.every((id, i) => id === model.first_ids[i])) {
      relayout({ focus: selection, push: false, drawn: model.first_svg });
    }
  }
  loadGraphviz().then(() => {
    timings.graphviz = performance.now();
    if (pending || !svg) {
      const request = pending || { focus: selection, push: false };
      pending = null;
      relayout(request);
    } else {
      // Lay out the first view once more, unseen: Graphviz compiles its code on first
      // use, and the first block opened should not wait for that.
      setTimeout(() => {
        try { layout(window.netdraw.dot); } catch { /* the next real layout reports it */ }
        timings.warm = performance.now();
        if (pending) {
          const request = pending;
          pending = null;
          relayout(request);
        }
        document.body.dataset.graphviz = "1";
      }, 0);
      return;
    }
    document.body.dataset.graphviz = "1";
  }).catch((err) => {
    const text = "This preview lays out views with Graphviz compiled to WebAssembly, which failed here: " +
      (err && err.message ? err.message : err);
    if (svg) showBanner(text);
    else holder.replaceChildren(h("p", { class: "nd-error", text }));
    document.body.dataset.ready = "error";
  });
  if (model.serve) {
    listen(model.serve);
    if (model.serve.error) showBanner(`The model failed to load after a change; showing the last good graph. ${model.serve.error}`);
  }
})();

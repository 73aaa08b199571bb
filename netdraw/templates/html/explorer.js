// netdraw HTML preview: the explorer of what the network computes (model.explorer).
//
// An input strip (the inputs as pictures); for the chosen input, a thumbnail in every box of
// the diagram, the predictions and a class-activation map; a layer's channels in a grid on
// one colour scale per layer across the inputs; a channel's map over the input, its
// statistics, its gradient-ascent image and the inputs that excite it most, cropped to its
// receptive field. A static page carries every value (packed by
// netdraw/backends/html/explorer.py); under `netdraw serve --inputs DIR` the page asks the
// server for them (netdraw/server/explore.py), same encodings.
//
// Values arrive as 8-bit levels on the layer's scale (level k is vmin + k/255·(vmax−vmin))
// and are coloured here with netdraw's own colour tables. Names reach the document through
// textContent only; pictures are data: or blob: URLs (the page's CSP allows no other).

const NetdrawExplorer = (() => {
  "use strict";
  const SVGNS = "http://www.w3.org/2000/svg";
  const PLACEHOLDER = "#f1f1f3";
  const STATS = ["mean", "max", "min", "std", "zeros"];
  const ORDERS = ["mean", "max", "index"];

  // -- packed arrays -------------------------------------------------------------------

  function bytesOf(text) {
    const raw = atob(text);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  async function inflate(text) {
    const stream = new Blob([bytesOf(text)]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  async function unpack(text, type) {
    if (text === null || text === undefined) return null;
    const bytes = await inflate(text);
    if (type === "u1") return bytes;
    if (type === "u2") return new Uint16Array(bytes.buffer, 0, bytes.byteLength / 2);
    return new Float32Array(bytes.buffer, 0, bytes.byteLength / 4);
  }

  function number(v) {
    if (!Number.isFinite(v)) return String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
    return String(Number(v.toPrecision(3)));
  }

  function create(model, ui) {
    const E = model.explorer;
    const L = E.layers;
    const N = model.nodes;
    const serve = E.mode === "serve";
    const api = serve ? E.serve.api : "";
    const luts = {};
    for (const [name, text] of Object.entries(E.colormaps)) luts[name] = bytesOf(text);
    const h = ui.h;
    const timings = {};
    const state = {
      input: null, order: ORDERS.includes(E.order) ? E.order : "mean", count: E.count || 4,
      channel: null, camMethod: (E.cam_methods || [])[0] || null, camClass: null,
      opacity: 0.7,
    };
    let inputs = [];
    let inputVersion = 0;
    let index = serve ? (E.serve.index || null) : null;
    const pictures = new Map(); // input id -> Promise<HTMLImageElement>
    let generation = 0; // bumped on every input change: stale answers are dropped

    // -- where values come from --------------------------------------------------------

    const staticValues = new Map();
    function layerValues(node) {
      if (!staticValues.has(node)) {
        const v = E.values[node];
        staticValues.set(node, (async () => ({
          levels: await unpack(v.levels, "u1"), stats: await unpack(v.stats, "f4"),
          argmax: v.argmax ? await unpack(v.argmax, "u2") : null,
        }))());
      }
      return staticValues.get(node);
    }

    async function staticLayer(input, node) {
      const info = L[node];
      const v = await layerValues(node);
      if (info.kind === "maps" || info.kind === "image") {
        const C = info.shape[0];
        const [hh, ww] = info.stored;
        const per = C * hh * ww;
        return {
          kind: info.kind, channels: C, h: hh, w: ww, scale: info.scale, native: info.shape.slice(1),
          levels: v.levels.subarray(input * per, (input + 1) * per),
          stats: v.stats.subarray(input * C * 5, (input + 1) * C * 5),
          argmax: v.argmax ? v.argmax.subarray(input * C * 2, (input + 1) * C * 2) : null,
        };
      }
      if (info.kind === "tokens") {
        const [hh, ww] = info.stored;
        const D = info.shape[1];
        return {
          kind: "tokens", channels: D, h: hh, w: ww, scale: info.scale, native: info.shape,
          levels: v.levels.subarray(input * hh * ww, (input + 1) * hh * ww),
          values: v.stats.subarray(input * D, (input + 1) * D),
        };
      }
      const F = info.shape[0];
      return {
        kind: "strip", channels: F, h: 1, w: F, scale: info.scale, native: info.shape,
        levels: v.levels.subarray(input * F, (input + 1) * F),
        values: v.stats.subarray(input * F, (input + 1) * F),
      };
    }

    async function getJSON(path) {
      const response = await fetch(api + path, { headers: { "X-Netdraw": "1" } });
      let body = null;
      try { body = await response.json(); } catch { body = null; }
      if (!response.ok) throw new Error((body && body.error) || `${response.status} ${response.statusText}`);
      return body;
    }

    async function decodeLayer(d) {
      const out = { ...d };
      out.levels = await unpack(d.levels, "u1");
      if (d.stats) out.stats = await unpack(d.stats, "f4");
      if (d.values) out.values = await unpack(d.values, "f4");
      if (d.argmax) out.argmax = await unpack(d.argmax, "u2");
      return out;
    }

    const serveLayers = new Map(); // "input/node" -> Promise
    function layerData(input, node) {
      if (!serve) return staticLayer(input, node);
      const key = `${input}/${node}`;
      if (!serveLayers.has(key)) {
        const p = getJSON(`/layer?input=${input}&node=${node}`).then(decodeLayer);
        p.catch(() => serveLayers.delete(key));
        serveLayers.set(key, p);
        if (serveLayers.size > 64) serveLayers.delete(serveLayers.keys().next().value);
      }
      return serveLayers.get(key);
    }

    function topChannels(stats, C, order, count) {
      const picked = [...Array(C).keys()];
      if (order !== "index") {
        const k = order === "max" ? 1 : 0;
        picked.sort((a, b) => (stats[b * 5 + k] - stats[a * 5 + k]) || (a - b));
      }
      return count === undefined ? picked : picked.slice(0, count);
    }

    async function thumbsFor(input, nodes) {
      // node -> {kind, scale, tiles: [{channel, h, w, levels}]} for the diagram's boxes
      if (serve) {
        const list = nodes.filter((n) => L[n] && L[n].kind !== "image");
        const out = {};
        if (list.length) {
          const d = await getJSON(`/thumbs?input=${input}&order=${state.order}&count=${state.count}&nodes=${list.join(",")}`);
          for (const [node, t] of Object.entries(d.nodes)) {
            const levels = await unpack(t.levels, "u1");
            const tiles = [];
            let at = 0;
            for (const c of t.channels) {
              tiles.push({ channel: c, h: t.h, w: t.w, levels: levels.subarray(at, at + t.h * t.w) });
              at += t.h * t.w;
            }
            out[node] = { kind: t.kind, scale: t.scale, tiles };
            if (L[node]) L[node].scale = t.scale;
          }
        }
        return out;
      }
      const out = {};
      for (const node of nodes) {
        const info = L[node];
        if (!info || info.kind === "image") continue;
        const d = await staticLayer(input, node);
        if (d.kind === "maps") {
          const size = d.h * d.w;
          out[node] = { kind: "maps", scale: d.scale, tiles: topChannels(d.stats, d.channels, state.order, state.count)
            .map((c) => ({ channel: c, h: d.h, w: d.w, levels: d.levels.subarray(c * size, (c + 1) * size) })) };
        } else {
          out[node] = { kind: d.kind, scale: d.scale, tiles: [{ channel: -1, h: d.h, w: d.w, levels: d.levels }] };
        }
      }
      return out;
    }

    function pictureOf(input) {
      if (!pictures.has(input)) {
        pictures.set(input, (async () => {
          let url;
          if (serve) {
            const response = await fetch(`${api}/picture?input=${input}`, { headers: { "X-Netdraw": "1" } });
            if (!response.ok) return null;
            url = URL.createObjectURL(await response.blob());
          } else {
            url = E.inputs[input] && E.inputs[input].picture;
            if (!url) return null;
          }
          const img = new Image();
          img.src = url;
          try { await img.decode(); } catch { return null; }
          return img;
        })());
      }
      return pictures.get(input);
    }

    // -- pictures of levels --------------------------------------------------------------

    function levelsCanvas(levels, hh, ww, cmap) {
      const canvas = document.createElement("canvas");
      canvas.width = Math.max(1, ww);
      canvas.height = Math.max(1, hh);
      const ctx = canvas.getContext("2d");
      const img = ctx.createImageData(canvas.width, canvas.height);
      const lut = luts[cmap] || luts.sequential;
      for (let i = 0; i < hh * ww; i++) {
        const l = levels[i] * 3;
        img.data[4 * i] = lut[l];
        img.data[4 * i + 1] = lut[l + 1];
        img.data[4 * i + 2] = lut[l + 2];
        img.data[4 * i + 3] = 255;
      }
      ctx.putImageData(img, 0, 0);
      return canvas;
    }

    function ramp(cmap) {
      const lut = luts[cmap] || luts.sequential;
      const levels = new Uint8Array(256).map((_, i) => i);
      return levelsCanvas(levels, 1, 256, cmap, lut);
    }

    function scaleBar(scale, note) {
      const bar = h("div", { class: "nd-x-scale" });
      if (!scale) return bar;
      const [vmin, vmax, cmap] = scale;
      const c = ramp(cmap);
      c.className = "nd-x-ramp";
      bar.append(h("span", { text: number(vmin) }), c, h("span", { text: number(vmax) }));
      if (note) bar.append(h("span", { class: "nd-x-muted", text: note }));
      return bar;
    }

    function valueOf(level, scale) {
      return scale[0] + (level / 255) * (scale[1] - scale[0]);
    }

    function thumbImage(t) {
      // One picture for a box: up to four channels in two rows, a strip, a token matrix.
      if (t.kind !== "maps") {
        const c = levelsCanvas(t.tiles[0].levels, t.tiles[0].h, t.tiles[0].w, t.scale[2]);
        return { url: c.toDataURL("image/png"), aspect: "none" };
      }
      const n = t.tiles.length;
      const cols = n > 1 ? Math.ceil(n / 2) : 1;
      const rows = n > 1 ? 2 : 1;
      const { h: th, w: tw } = t.tiles[0];
      const k = Math.max(1, Math.floor(48 / Math.max(th, tw)));
      const gap = Math.max(1, Math.round(k * Math.max(th, tw) / 16));
      const canvas = document.createElement("canvas");
      canvas.width = cols * tw * k + (cols - 1) * gap;
      canvas.height = rows * th * k + (rows - 1) * gap;
      const ctx = canvas.getContext("2d");
      ctx.imageSmoothingEnabled = false;
      t.tiles.forEach((tile, i) => {
        const c = levelsCanvas(tile.levels, tile.h, tile.w, t.scale[2]);
        const x = (i % cols) * (tw * k + gap);
        const y = Math.floor(i / cols) * (th * k + gap);
        ctx.drawImage(c, x, y, tw * k, th * k);
      });
      return { url: canvas.toDataURL("image/png"), aspect: "xMidYMid meet" };
    }

    // -- the diagram's thumbnails ----------------------------------------------------------

    let drawn = null; // {svg, view, elements}

    function layerOfView(v) {
      if (!v) return null;
      if (v.type === "node") return L[v.index] ? v.index : null;
      if (v.type === "group") {
        const n = E.groups[String(v.index)];
        return n !== undefined && L[n] ? n : null;
      }
      return null;
    }

    function slots() {
      // view key -> {node, cell (the placeholder polygon)}
      const out = [];
      if (!drawn) return out;
      for (const [key, g] of drawn.elements) {
        const cell = [...g.querySelectorAll("polygon")].find((p) => (p.getAttribute("fill") || "").toLowerCase() === PLACEHOLDER);
        if (!cell) continue;
        const node = layerOfView(drawn.view.byKey.get(key));
        if (node === null) continue;
        out.push({ key, node, g, cell });
      }
      return out;
    }

    function placeImage(slot, url, aspect, data) {
      const b = slot.cell.getBBox();
      let img = slot.g.querySelector("image.nd-x-thumb");
      if (!img) {
        img = document.createElementNS(SVGNS, "image");
        img.setAttribute("class", "nd-x-thumb");
        slot.cell.after(img);
      }
      img.setAttribute("x", b.x);
      img.setAttribute("y", b.y);
      img.setAttribute("width", b.width);
      img.setAttribute("height", b.height);
      img.setAttribute("preserveAspectRatio", aspect);
      img.setAttribute("href", url);
      img.dataset.node = String(slot.node);
      img.dataset.input = String(state.input);
      img.dataset.channels = data.join(",");
    }

    const drawnThumbs = new Map(); // node -> the thumb data drawn (tests read it)

    async function decorate() {
      const mine = generation;
      const input = state.input;
      if (input === null || !drawn) return;
      const list = slots();
      const t0 = performance.now();
      const nodes = [...new Set(list.map((s) => s.node))];
      let data;
      try {
        data = await thumbsFor(input, nodes);
      } catch (err) {
        ui.banner("Could not read the activations: " + (err && err.message ? err.message : err));
        return;
      }
      const picture = await pictureOf(input);
      if (mine !== generation) return;
      timings.fetch = performance.now() - t0;
      for (const slot of list) {
        if (L[slot.node].kind === "image") {
          if (picture) placeImage(slot, picture.src, "xMidYMid meet", []);
          continue;
        }
        const t = data[slot.node];
        if (!t) continue;
        drawnThumbs.set(slot.node, { input, ...t });
        const { url, aspect } = thumbImage(t);
        placeImage(slot, url, aspect, t.tiles.map((x) => x.channel));
      }
      timings.draw = performance.now() - t0 - timings.fetch;
    }

    // -- the input strip -------------------------------------------------------------------

    const strip = h("div", { id: "nd-inputs", class: "nd-x-strip", role: "listbox", "aria-label": "Inputs" });
    const list = h("div", { class: "nd-x-list" });
    const tools = h("div", { class: "nd-x-tools" });
    const orderSelect = h("select", { id: "nd-x-order", "aria-label": "Channels shown by" });
    for (const o of ORDERS) {
      const opt = h("option", { value: o, text: o === "index" ? "first channels" : `strongest by ${o}` });
      if (o === state.order) opt.selected = true;
      orderSelect.append(opt);
    }
    orderSelect.addEventListener("change", () => {
      state.order = orderSelect.value;
      generation += 1;
      decorate();
      refreshPanel();
    });
    const progress = h("span", { class: "nd-x-progress", hidden: "" });
    tools.append(h("label", { class: "nd-x-muted", text: "channels: " }, orderSelect), progress);
    strip.append(list, tools);
    let dropZone = null;
    if (serve) {
      const file = h("input", { type: "file", accept: ".png,.jpg,.jpeg,.bmp,.npy", hidden: "" });
      file.addEventListener("change", () => { for (const f of file.files) upload(f); file.value = ""; });
      dropZone = h("button", { type: "button", class: "nd-x-drop", title: "Drop an image on the page, or click to choose one",
                               onclick: () => file.click() }, h("span", { text: "+" }), h("small", { text: "drop an image" }));
      strip.append(file);
    }

    function renderStrip() {
      list.replaceChildren();
      for (const entry of inputs) {
        const item = h("button", { type: "button", class: "nd-x-input", role: "option", title: entry.name,
                                   "aria-selected": String(entry.id === state.input),
                                   onclick: () => selectInput(entry.id) });
        item.dataset.input = String(entry.id);
        const frame = h("span", { class: "nd-x-pic" });
        if (entry.error) {
          frame.append(h("span", { class: "nd-x-err", text: "!" }));
          item.title = `${entry.name}: ${entry.error}`;
          item.classList.add("nd-x-bad");
        } else {
          pictureOf(entry.id).then((img) => {
            if (!img) { frame.append(h("span", { class: "nd-x-err", text: "?" })); return; }
            const shown = h("img", { alt: entry.name });
            shown.src = img.src;
            frame.append(shown);
          });
        }
        const top = entry.predictions && entry.predictions[0];
        item.append(frame, h("span", { class: "nd-x-name", text: entry.name }));
        if (top) {
          const said = `${className(top[0])} ${percent(top[1])}`;
          item.append(h("span", { class: "nd-x-top", text: said }));
          if (!entry.error) item.title = `${entry.name}: ${said}`;
        }
        list.append(item);
      }
      if (dropZone) list.append(dropZone);
    }

    function className(k) {
      return E.classes && E.classes[k] !== undefined ? E.classes[k] : `class ${k}`;
    }

    function percent(p) {
      return `${(100 * p).toFixed(1)} %`;
    }

    function entryOf(id) {
      return inputs.find((e) => e.id === id) || null;
    }

    async function selectInput(id) {
      const entry = entryOf(id);
      if (!entry || entry.error) return null;
      const t0 = performance.now();
      state.input = id;
      generation += 1;
      for (const el of list.querySelectorAll(".nd-x-input")) {
        el.setAttribute("aria-selected", String(el.dataset.input === String(id)));
      }
      const selected = list.querySelector(`.nd-x-input[aria-selected="true"]`);
      if (selected && selected.scrollIntoView) selected.scrollIntoView({ block: "nearest", inline: "nearest" });
      const shown = decorate();
      const panel = refreshPanel();
      await Promise.all([shown, panel]);
      timings.input = performance.now() - t0;
      document.body.dataset.input = String(id);
      return timings.input;
    }

    // -- the panel -------------------------------------------------------------------------

    let panelHost = null; // {element, render: async () => void}

    function refreshPanel() {
      if (!panelHost || !panelHost.element.isConnected) return Promise.resolve();
      return panelHost.render();
    }

    function host(render) {
      const element = h("div", { class: "nd-x-host" });
      panelHost = { element, render: () => render(element) };
      panelHost.render();
      return element;
    }

    function summarySections() {
      return host(async (el) => {
        const mine = generation;
        const parts = [];
        const entry = entryOf(state.input);
        if (entry) {
          parts.push(predictionSection(entry));
          const cam = await camSection(entry);
          if (cam) parts.push(cam);
        }
        if (E.notes && E.notes.length) {
          const ul = h("ul", { class: "nd-x-notes" });
          for (const note of E.notes) ul.append(h("li", { text: note }));
          parts.push(ui.section("About these values", ul));
        }
        if (mine !== generation && parts.length) return;
        el.replaceChildren(...parts);
      });
    }

    function predictionSection(entry) {
      const rows = h("ol", { class: "nd-x-preds", id: "nd-x-predictions" });
      if (!entry.predictions || !entry.predictions.length) {
        return ui.section(`Predictions for ${entry.name}`, h("p", { class: "nd-none", text: "none: the model's output is not a vector of class scores" }));
      }
      for (const [k, p] of entry.predictions) {
        const bar = h("span", { class: "nd-x-bar" });
        bar.append(h("span", { class: "nd-x-fill" }));
        bar.firstChild.style.width = `${Math.max(0.5, 100 * p).toFixed(1)}%`;
        const row = h("li", { title: "Show the class-activation map of this class",
                              onclick: () => { state.camClass = k; refreshPanel(); } },
          h("span", { class: "nd-x-cls", text: className(k) }), bar, h("span", { class: "nd-x-p", text: percent(p) }));
        row.dataset.class = String(k);
        row.dataset.p = String(p);
        if (k === state.camClass) row.classList.add("nd-x-on");
        rows.append(row);
      }
      return ui.section(`Predictions for ${entry.name}`, rows);
    }

    function camChoices(entry) {
      // (methods, classes) the page can show for this input
      if (!serve) {
        const maps = (E.cams[entry.id] || []);
        return { methods: [...new Set(maps.map((m) => m.method))], classes: [...new Set(maps.map((m) => m.class))] };
      }
      const top = (entry.predictions || []).map((p) => p[0]);
      const all = (E.classes || []).map((_, k) => k).filter((k) => !top.includes(k));
      return { methods: E.serve.cam_methods || [], classes: [...top, ...all] };
    }

    const camCache = new Map();
    async function camMap(input, method, cls) {
      if (!serve) {
        const found = (E.cams[input] || []).find((m) => m.method === method && m.class === cls);
        if (!found) return null;
        return { h: found.h, w: found.w, score: found.score, map: await unpack(found.map, "f4") };
      }
      const key = `${input}/${method}/${cls}`;
      if (!camCache.has(key)) {
        const p = getJSON(`/cam?input=${input}&method=${encodeURIComponent(method)}&class=${cls}`)
          .then(async (d) => ({ ...d, map: await unpack(d.map, "f4") }));
        p.catch(() => camCache.delete(key));
        camCache.set(key, p);
      }
      return camCache.get(key);
    }

    async function camSection(entry) {
      const { methods, classes } = camChoices(entry);
      if (!methods.length || !classes.length) return null;
      if (!methods.includes(state.camMethod)) state.camMethod = methods[0];
      if (!classes.includes(state.camClass)) state.camClass = classes[0];
      const classSelect = h("select", { id: "nd-x-cam-class", "aria-label": "Class" });
      for (const k of classes) {
        const opt = h("option", { value: String(k), text: className(k) });
        if (k === state.camClass) opt.selected = true;
        classSelect.append(opt);
      }
      const methodSelect = h("select", { id: "nd-x-cam-method", "aria-label": "Method" });
      for (const m of methods) {
        const opt = h("option", { value: m, text: m });
        if (m === state.camMethod) opt.selected = true;
        methodSelect.append(opt);
      }
      classSelect.addEventListener("change", () => { state.camClass = Number(classSelect.value); refreshPanel(); });
      methodSelect.addEventListener("change", () => { state.camMethod = methodSelect.value; refreshPanel(); });
      const canvas = h("canvas", { class: "nd-x-cam", id: "nd-x-cam" });
      const note = h("p", { class: "nd-x-muted" });
      const box = ui.section("Class-activation map", h("div", { class: "nd-x-row" }, classSelect, methodSelect), canvas, note);
      try {
        note.textContent = "computing…";
        const [map, picture] = await Promise.all([camMap(entry.id, state.camMethod, state.camClass), pictureOf(entry.id)]);
        if (!map) {
          note.textContent = "not in this page";
        } else {
          drawCam(canvas, picture, map);
          canvas.dataset.class = String(state.camClass);
          canvas.dataset.method = state.camMethod;
          note.textContent = `${state.camMethod} for ${className(state.camClass)} on ${map.layer || E.cam_layer || "the chosen layer"}` +
            (map.score !== undefined ? ` · score ${number(map.score)}` : "");
        }
      } catch (err) {
        note.textContent = "no map: " + (err && err.message ? err.message : err);
      }
      return box;
    }

    function upsample(map, hh, ww, H, W) {
      // bilinear, half-pixel centres (netdraw.viz.class_maps.upsample)
      const out = new Float32Array(H * W);
      const axis = (src, dst) => {
        const lo = new Int32Array(dst);
        const hi = new Int32Array(dst);
        const f = new Float32Array(dst);
        for (let i = 0; i < dst; i++) {
          const pos = Math.min(Math.max((i + 0.5) * src / dst - 0.5, 0), src - 1);
          lo[i] = Math.floor(pos);
          hi[i] = Math.min(lo[i] + 1, src - 1);
          f[i] = pos - lo[i];
        }
        return [lo, hi, f];
      };
      const [y0, y1, fy] = axis(hh, H);
      const [x0, x1, fx] = axis(ww, W);
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const top = map[y0[y] * ww + x0[x]] * (1 - fx[x]) + map[y0[y] * ww + x1[x]] * fx[x];
          const bottom = map[y1[y] * ww + x0[x]] * (1 - fx[x]) + map[y1[y] * ww + x1[x]] * fx[x];
          out[y * W + x] = top * (1 - fy[y]) + bottom * fy[y];
        }
      }
      return out;
    }

    function drawCam(canvas, picture, map) {
      const W = picture ? picture.naturalWidth : map.w;
      const H = picture ? picture.naturalHeight : map.h;
      canvas.width = W;
      canvas.height = H;
      const ctx = canvas.getContext("2d");
      if (picture) ctx.drawImage(picture, 0, 0);
      const base = ctx.getImageData(0, 0, W, H);
      const heat = upsample(map.map, map.h, map.w, H, W);
      const lut = luts.heat;
      // the picture in grey, the map in colour over it (stronger where the map is high)
      for (let i = 0; i < W * H; i++) {
        const v = Math.min(1, Math.max(0, heat[i]));
        const l = Math.round(v * 255) * 3;
        const a = 0.2 + 0.6 * v;
        const d = base.data;
        const grey = 0.299 * d[4 * i] + 0.587 * d[4 * i + 1] + 0.114 * d[4 * i + 2];
        for (let k = 0; k < 3; k++) d[4 * i + k] = Math.round((1 - a) * grey + a * lut[l + k]);
        d[4 * i + 3] = 255;
      }
      ctx.putImageData(base, 0, 0);
    }

    // -- a layer's channels -------------------------------------------------------------

    function layerSection(node) {
      state.channel = null;
      return host(async (el) => {
        const mine = generation;
        const content = state.channel === null ? await gridView(node) : await channelView(node, state.channel);
        if (mine !== generation && el.childNodes.length) return;
        el.replaceChildren(content);
      });
    }

    function scaleNote(info) {
      if (!info.scale_inputs) return "";
      return `one scale for this layer across ${info.scale_inputs} input${info.scale_inputs === 1 ? "" : "s"}`;
    }

    async function gridView(node) {
      const info = L[node];
      const entry = entryOf(state.input);
      if (!entry) return h("p", { class: "nd-none", text: "Choose an input above." });
      const title = `Activations for ${entry.name}`;
      if (info.kind === "image") {
        const img = await pictureOf(state.input);
        const shown = h("img", { class: "nd-x-picture", alt: entry.name });
        if (img) shown.src = img.src;
        return ui.section(title, shown);
      }
      let d;
      try {
        d = await layerData(state.input, node);
      } catch (err) {
        return ui.section(title, h("p", { class: "nd-error", text: String(err && err.message ? err.message : err) }));
      }
      if (d.scale) info.scale = d.scale;
      if (d.scale_inputs) info.scale_inputs = d.scale_inputs;
      if (d.kind === "maps") return mapsGrid(node, info, d, title);
      return vectorView(node, info, d, title);
    }

    function mapsGrid(node, info, d, title) {
      const [C, H, W] = info.shape;
      const size = d.h * d.w;
      const order = topChannels(d.stats, C, state.order);
      const grid = h("div", { class: "nd-x-grid", id: "nd-x-grid" });
      const k = state.order === "max" ? 1 : 0;
      for (const c of order) {
        const canvas = levelsCanvas(d.levels.subarray(c * size, (c + 1) * size), d.h, d.w, d.scale[2]);
        canvas.className = "nd-x-tile-map";
        canvas.style.aspectRatio = `${d.w} / ${d.h}`;
        const tile = h("button", { type: "button", class: "nd-x-tile", title: `channel ${c}: mean ${number(d.stats[c * 5])}, max ${number(d.stats[c * 5 + 1])}`,
                                   onclick: () => { state.channel = c; refreshPanel(); } },
          canvas, h("span", { class: "nd-x-cap", text: `#${c}` }));
        if (state.order !== "index") tile.append(h("span", { class: "nd-x-cap", text: number(d.stats[c * 5 + k]) }));
        tile.dataset.channel = String(c);
        grid.append(tile);
      }
      const stored = d.h !== H || d.w !== W ? ` (stored at ${d.h}×${d.w})` : "";
      const facts = h("p", { class: "nd-x-muted", text: `${C} channels of ${H}×${W}${stored}, ordered ${state.order === "index" ? "by index" : "by " + state.order + ", strongest first"}; click one for its details` });
      return ui.section(title, facts, scaleBar(d.scale, scaleNote(info)), grid);
    }

    function vectorView(node, info, d, title) {
      const values = d.values;
      const F = values.length;
      const cells = levelsCanvas(d.levels, d.h, d.w, d.scale[2]);
      cells.className = d.kind === "tokens" ? "nd-x-tokens" : "nd-x-strip-map";
      const top = [...Array(F).keys()].sort((a, b) => (values[b] - values[a]) || (a - b)).slice(0, 10);
      const rows = h("ol", { class: "nd-x-units", id: "nd-x-units" });
      for (const u of top) {
        const name = info.units && info.units[u] !== undefined ? `${info.units[u]} (#${u})` : `#${u}`;
        const row = h("li", {}, h("span", { class: "nd-x-cls", text: name }), h("span", { class: "nd-x-p", text: number(values[u]) }));
        row.dataset.unit = String(u);
        row.dataset.value = String(values[u]);
        rows.append(row);
      }
      const what = d.kind === "tokens"
        ? `${info.shape[0]} tokens × ${info.shape[1]} features (rows are tokens); top features by their mean over the tokens`
        : `${F} units${info.units ? " (the model's classes)" : ""}; the largest:`;
      return ui.section(title, h("p", { class: "nd-x-muted", text: what }), scaleBar(d.scale, scaleNote(info)), cells, rows);
    }

    // -- a channel -----------------------------------------------------------------------

    async function channelData(node, c) {
      if (serve) {
        const d = await getJSON(`/channel?input=${state.input}&node=${node}&channel=${c}`);
        return { ...d, levels: await unpack(d.levels, "u1") };
      }
      const info = L[node];
      const d = await staticLayer(state.input, node);
      const size = d.h * d.w;
      const stats = {};
      STATS.forEach((s, i) => { stats[s] = d.stats[c * 5 + i]; });
      const at = d.argmax ? [d.argmax[c * 2], d.argmax[c * 2 + 1]] : null;
      // the inputs of the page ranked by this channel's maximum (ties: input order)
      const v = await layerValues(node);
      const C = info.shape[0];
      const ranked = E.inputs.map((_, i) => ({ input: i, value: v.stats[(i * C + c) * 5 + 1],
        y: v.argmax ? v.argmax[(i * C + c) * 2] : 0, x: v.argmax ? v.argmax[(i * C + c) * 2 + 1] : 0 }))
        .filter((r) => !E.inputs[r.input].error)
        .sort((a, b) => (b.value - a.value) || (a.input - b.input))
        .slice(0, E.top_k || 9);
      return { h: d.h, w: d.w, scale: d.scale, levels: d.levels.subarray(c * size, (c + 1) * size),
               stats, argmax: at, topk: ranked, native: info.shape.slice(1) };
    }

    async function ascentImage(node, c) {
      if (!serve) {
        const found = E.ascent[String(node)];
        return found && found[String(c)] ? { url: found[String(c)] } : null;
      }
      const response = await fetch(`${api}/ascent?node=${node}&channel=${c}`, { headers: { "X-Netdraw": "1" } });
      if (!response.ok) {
        let text = `${response.status}`;
        try { text = (await response.json()).error || text; } catch { /* keep the status */ }
        return { error: text };
      }
      return { url: URL.createObjectURL(await response.blob()) };
    }

    function fieldBox(info, y, x, W, H) {
      // (x0, y0, x1, y1) of the input pixels position (y, x) sees (netdraw.viz.receptive)
      if (!info.field) return [0, 0, W, H];
      const [fy, jy, sy, fx, jx, sx] = info.field;
      const span = (first, jump, size, i, limit) => {
        const low = first + i * jump;
        const a = Math.max(0, Math.floor(low));
        return [a, Math.max(a, Math.min(limit, Math.ceil(low + size)))];
      };
      const [y0, y1] = span(fy, jy, sy, y, H);
      const [x0, x1] = span(fx, jx, sx, x, W);
      return [x0, y0, x1, y1];
    }

    async function channelView(node, c) {
      const info = L[node];
      const entry = entryOf(state.input);
      const back = h("button", { type: "button", class: "nd-link", text: `← all ${info.shape[0]} channels`,
                                 onclick: () => { state.channel = null; refreshPanel(); } });
      let d;
      try {
        d = await channelData(node, c);
      } catch (err) {
        return h("div", {}, back, h("p", { class: "nd-error", text: String(err && err.message ? err.message : err) }));
      }
      const picture = await pictureOf(state.input);
      const view = h("div", { class: "nd-x-channel", id: "nd-x-channel" });
      view.dataset.node = String(node);
      view.dataset.channel = String(c);
      // the map at full size over the input
      const canvas = h("canvas", { class: "nd-x-over", id: "nd-x-over" });
      const slider = h("input", { type: "range", min: "0", max: "1", step: "0.05", value: String(state.opacity),
                                  "aria-label": "Map over the input: opacity" });
      const paint = () => drawOver(canvas, picture, d, info);
      slider.addEventListener("input", () => { state.opacity = Number(slider.value); paint(); });
      paint();
      const [H, W] = info.shape.slice(1);
      const rows = [["mean", number(d.stats.mean)],
        ["max", number(d.stats.max) + (d.argmax ? ` at (${d.argmax[0]}, ${d.argmax[1]}) of ${H}×${W}` : "")],
        ["min", number(d.stats.min)], ["std", number(d.stats.std)],
        ["zeros", `${(100 * d.stats.zeros).toFixed(1)} %`]];
      if (info.field) rows.push(["receptive field", `${Math.round(info.field[2])}×${Math.round(info.field[5])} px`]);
      const stats = ui.table(rows);
      stats.id = "nd-x-stats";
      view.append(h("h3", { class: "nd-x-ch-title", text: `Channel ${c} of ${N[node].name} · ${entry ? entry.name : ""}` }),
        canvas, h("label", { class: "nd-x-row nd-x-muted" }, "input", slider, "map"),
        scaleBar(d.scale, scaleNote(info)), stats);
      // its gradient-ascent image
      const ascent = h("div", { class: "nd-x-ascent", id: "nd-x-ascent" }, h("p", { class: "nd-x-muted", text: "computing…" }));
      view.append(ui.section("What maximises it (gradient ascent)", ascent));
      ascentImage(node, c).then((a) => {
        if (!a) { ascent.replaceChildren(h("p", { class: "nd-x-muted", text: "not in this page (netdraw serve computes it)" })); return; }
        if (a.error) { ascent.replaceChildren(h("p", { class: "nd-x-muted", text: a.error })); return; }
        const img = h("img", { alt: `gradient-ascent image of channel ${c}` });
        img.src = a.url;
        ascent.replaceChildren(img);
      }).catch((err) => ascent.replaceChildren(h("p", { class: "nd-error", text: String(err) })));
      // the inputs that excite it most
      view.append(ui.section(`Inputs that excite it most`, await examples(info, d)));
      return h("div", {}, back, view);
    }

    function drawOver(canvas, picture, d, info) {
      const W = picture ? picture.naturalWidth : d.w;
      const H = picture ? picture.naturalHeight : d.h;
      const k = Math.max(1, Math.ceil(288 / Math.max(W, H)));
      canvas.width = W * k;
      canvas.height = H * k;
      const ctx = canvas.getContext("2d");
      ctx.imageSmoothingEnabled = false;
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      if (picture) ctx.drawImage(picture, 0, 0, canvas.width, canvas.height);
      ctx.globalAlpha = state.opacity;
      ctx.drawImage(levelsCanvas(d.levels, d.h, d.w, d.scale[2]), 0, 0, canvas.width, canvas.height);
      ctx.globalAlpha = 1;
      if (d.argmax && info.field) {
        // where it is largest, and what that position sees
        const [x0, y0, x1, y1] = fieldBox(info, d.argmax[0], d.argmax[1], W, H);
        ctx.strokeStyle = "#d62728";
        ctx.lineWidth = 2;
        ctx.strokeRect(x0 * k + 1, y0 * k + 1, (x1 - x0) * k - 2, (y1 - y0) * k - 2);
      }
    }

    async function examples(info, d) {
      const box = h("div", { class: "nd-x-examples", id: "nd-x-examples" });
      if (serve && !d.topk) {
        const done = index ? `${index.done} of ${index.total}` : "";
        box.append(h("p", { class: "nd-x-muted", text: `the folder's inputs are being read (${done}); they appear here when done` }));
        return box;
      }
      if (!d.topk || !d.topk.length) {
        box.append(h("p", { class: "nd-none", text: "none" }));
        return box;
      }
      for (const ex of d.topk) {
        const img = await pictureOf(ex.input);
        const canvas = h("canvas", { class: "nd-x-patch" });
        const name = ex.name || (E.inputs[ex.input] ? E.inputs[ex.input].name : `input ${ex.input}`);
        if (img) {
          const [x0, y0, x1, y1] = ex.box || fieldBox(info, ex.y, ex.x, img.naturalWidth, img.naturalHeight);
          const w = Math.max(1, x1 - x0);
          const hh = Math.max(1, y1 - y0);
          const k = Math.max(1, Math.floor(64 / Math.max(w, hh)));
          canvas.width = w * k;
          canvas.height = hh * k;
          const ctx = canvas.getContext("2d");
          ctx.imageSmoothingEnabled = false;
          ctx.drawImage(img, x0, y0, w, hh, 0, 0, w * k, hh * k);
          canvas.dataset.box = [x0, y0, x1, y1].join(",");
        }
        const item = h("button", { type: "button", class: "nd-x-example", title: `${name}: max ${number(ex.value)} at (${ex.y}, ${ex.x}); click to choose this input`,
                                   onclick: () => { if (entryOf(ex.input)) selectInput(ex.input); } },
          canvas, h("span", { class: "nd-x-cap", text: name }), h("span", { class: "nd-x-cap", text: number(ex.value) }));
        item.dataset.input = String(ex.input);
        item.dataset.value = String(ex.value);
        box.append(item);
      }
      return box;
    }

    // -- netdraw serve: new inputs, uploads, the pass over the folder ------------------------

    async function loadInputs() {
      if (!serve) {
        inputs = E.inputs.map((e, i) => ({ id: i, ...e }));
        return;
      }
      const d = await getJSON("/inputs");
      inputs = d.inputs;
      inputVersion = d.version;
      index = d.index;
      showProgress();
    }

    function showProgress() {
      if (!index) return;
      progress.hidden = false;
      const text = index.error ? `examples: ${index.error}` : index.done >= index.total
        ? `examples: ${index.total} inputs read` : `reading the folder for examples: ${index.done} of ${index.total}`;
      progress.replaceChildren(h("span", { text }));
      if (!index.error && index.done < index.total) {
        const bar = h("progress", { max: String(index.total), value: String(index.done) });
        progress.append(bar);
      }
      progress.dataset.done = String(index.done >= index.total ? 1 : 0);
    }

    async function upload(file) {
      try {
        const response = await fetch(`${api}/upload`, {
          method: "POST", body: file,
          headers: { "Content-Type": "application/octet-stream", "X-Netdraw": "1",
                     "X-Netdraw-Name": encodeURIComponent(file.name || "dropped") },
        });
        let body = null;
        try { body = await response.json(); } catch { body = null; }
        if (!response.ok || !body || body.error) {
          ui.banner(`${file.name}: ${(body && body.error) || response.statusText}`);
          return;
        }
        ui.banner("");
        await onInputsChanged();
        selectInput(body.id);
      } catch (err) {
        ui.banner(`${file.name}: ${err && err.message ? err.message : err}`);
      }
    }

    async function onInputsChanged() {
      const before = state.input;
      await loadInputs();
      renderStrip();
      if (before === null || !entryOf(before)) {
        const first = inputs.find((e) => !e.error);
        if (first) await selectInput(first.id);
      } else {
        for (const el of list.querySelectorAll(".nd-x-input")) {
          el.setAttribute("aria-selected", String(el.dataset.input === String(state.input)));
        }
      }
    }

    function attach(source) {
      source.addEventListener("inputs", (e) => {
        let info;
        try { info = JSON.parse(e.data); } catch { return; }
        if (info.index) {
          const finished = index && index.done < index.total && info.index.done >= info.index.total;
          index = info.index;
          showProgress();
          if (finished) {
            serveLayers.clear();
            generation += 1;
            decorate();
            refreshPanel();
          }
        }
        if (info.version !== undefined && info.version !== inputVersion) onInputsChanged();
      });
    }

    if (serve) {
      const stage = document.body;
      stage.addEventListener("dragover", (e) => {
        if (e.dataTransfer && [...e.dataTransfer.types].includes("Files")) {
          e.preventDefault();
          document.body.classList.add("nd-x-dropping");
        }
      });
      stage.addEventListener("dragleave", (e) => {
        if (e.target === document.body || !e.relatedTarget) document.body.classList.remove("nd-x-dropping");
      });
      stage.addEventListener("drop", (e) => {
        document.body.classList.remove("nd-x-dropping");
        if (!e.dataTransfer || !e.dataTransfer.files.length) return;
        e.preventDefault();
        for (const f of e.dataTransfer.files) upload(f);
      });
    }

    document.addEventListener("keydown", (e) => {
      const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement ||
        e.target instanceof HTMLSelectElement;
      if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key !== "[" && e.key !== "]") return;
      const usable = inputs.filter((x) => !x.error);
      const at = usable.findIndex((x) => x.id === state.input);
      const next = usable[(at + (e.key === "]" ? 1 : usable.length - 1)) % usable.length];
      if (next) selectInput(next.id);
      e.preventDefault();
    });

    const ready = (async () => {
      document.body.classList.add("nd-explorer");
      const bar = document.getElementById("nd-bar");
      bar.after(strip);
      try {
        await loadInputs();
      } catch (err) {
        ui.banner("Could not read the inputs: " + (err && err.message ? err.message : err));
      }
      renderStrip();
      const first = inputs.find((e) => !e.error);
      if (first) await selectInput(first.id);
      document.body.dataset.explorer = "1";
    })();

    return {
      has: (node) => Boolean(L[node]),
      groupNode: (g) => { const n = E.groups[String(g)]; return n !== undefined && L[n] ? n : null; },
      decorate: (svg, view, elements) => { drawn = { svg, view, elements }; return decorate(); },
      layerSection, summarySections, attach, selectInput, ready, timings,
      state, thumbs: drawnThumbs, inputs: () => inputs,
      openChannel: (c) => { state.channel = c; return refreshPanel(); },
      setOrder: (o) => { orderSelect.value = o; state.order = o; generation += 1; return Promise.all([decorate(), refreshPanel()]); },
      setCam: (cls, method) => { if (cls !== undefined) state.camClass = cls; if (method) state.camMethod = method; return refreshPanel(); },
    };
  }

  return { create };
})();

// netdraw HTML preview: views and DOT text, computed in the browser.
//
// computeView() is netdraw.passes.collapse.view_at() in JavaScript (the same rules, in the
// same order: roll runs inside open groups, close groups by depth / collapse / open, merge
// closed groups and runs into blocks, drop parallel edges, order topologically), and
// toDot() is netdraw.backends.dot.to_dot() for one column. Python made every attribute
// list (see netdraw/backends/html/model.py); only a rolled run's box is filled in here.
// The tests check both against the Python functions on the same states.

const NetdrawView = (() => {
  "use strict";

  // -- numbers and text, as netdraw.describe and netdraw.backends.dot write them ----------

  function fixed1(x) {
    // Python's f"{x:.1f}": exact ties (x·4 odd) round half to even, as Python does.
    const q = x * 4;
    if (Number.isInteger(q) && Math.abs(q) % 2 === 1) {
      let f = Math.floor(x * 10);
      if (f % 2 !== 0) f += 1;
      return (f / 10).toFixed(1);
    }
    return x.toFixed(1);
  }

  function formatCount(n) {
    const units = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];
    for (const [limit, suffix] of units) {
      if (Math.abs(n) >= limit) return fixed1(n / limit) + suffix;
    }
    return String(Math.trunc(n));
  }

  function groupDigits(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  // Python's str.split() whitespace, and the control characters dot.py drops.
  const SPACE = /[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/g;
  const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

  function labelText(value, limit = 60) {
    // dot._text: whitespace runs to one space, control characters out, long text cut, escaped.
    let s = String(value).split(SPACE).filter((p) => p !== "").join(" ").replace(CONTROL, "");
    const chars = Array.from(s);
    if (chars.length > limit) s = chars.slice(0, limit - 1).join("") + "…";
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#x27;");
  }

  function tooltipText(value) {
    // dot._tooltip: for a quoted DOT string (a backslash as four, so escString keeps it).
    return String(value).replace(CONTROL, "").replace(/\\/g, "\\\\\\\\").replace(/"/g, '\\"');
  }

  // -- the model's group tree ---------------------------------------------------------------

  function prepare(model) {
    // Derived tables, made once per page: each group's members and root-first ancestry.
    if (model._prepared) return model._prepared;
    const G = model.groups;
    const chain = G.map(() => null);
    const chainOf = (g) => {
      if (chain[g] === null) chain[g] = g === 0 ? [0] : [...chainOf(G[g].parent), g];
      return chain[g];
    };
    const members = G.map(() => []);
    model.nodes.forEach((node, i) => {
      for (const g of chainOf(node.group)) members[g].push(i);
    });
    G.forEach((_, g) => chainOf(g));
    model._prepared = { chain, members };
    return model._prepared;
  }

  function blockId(model, g) {
    return "block:" + model.groups[g].path.join("/");
  }

  // -- views ----------------------------------------------------------------------------

  // state: {depth, roll, expand, collapse, open, unroll}: sets of group indices.
  function computeView(model, state) {
    const G = model.groups;
    const N = model.nodes;
    const { chain, members } = prepare(model);
    const named = new Set();
    for (const g of [...state.expand, ...state.open]) for (const p of chain[g]) named.add(p);
    const opened = new Set(named);
    for (const g of state.expand) {
      for (const item of G[g].items) if (item[0] === 1) opened.add(item[1]);
    }
    const unrolled = new Set();
    const isOpen = (g) => !(state.collapse.has(g) || unrolled.has(g)) &&
      (opened.has(g) || G[g].level < state.depth);
    const visibleOpen = (g) => chain[g].every(isOpen);

    const assign = new Map();
    const runs = new Map();
    if (state.roll) {
      const inRun = new Set(); // groups rolled into a run: their insides stay unrolled
      for (let p = 0; p < G.length; p++) {
        if (!visibleOpen(p) || chain[p].some((a) => inRun.has(a))) continue;
        const items = G[p].items;
        for (let run of findRuns(G, items, opened)) {
          // The first block is drawn open (its layers show once), unless an open block of
          // the same kind stands just before the run; it stays open when the run is drawn
          // block by block.
          let firstOpen = false;
          if (run.length > 2 && isOpen(run[0])) {
            const twin = items.find((it) => it[0] === 1 && it[1] === run[0])[3];
            firstOpen = !(twin >= 0 && isOpen(twin));
          }
          if (state.unroll.has(p)) {
            (firstOpen ? run.slice(1) : run).forEach((g) => unrolled.add(g));
            continue;
          }
          if (firstOpen) run = run.slice(1);
          runs.set(run[0], run);
          for (const g of run) {
            inRun.add(g);
            for (const n of members[g]) assign.set(n, "r" + run[0]);
          }
        }
      }
    }
    for (let n = 0; n < N.length; n++) {
      if (assign.has(n) || N[n].io) continue;
      for (const p of chain[N[n].group]) {
        if (!isOpen(p)) {
          assign.set(n, "g" + p);
          break;
        }
      }
    }
    sameClassAsBlocks(model, assign, named);
    const view = merge(model, assign, runs);
    view.runs = runs;
    return view;
  }

  function sameClassAsBlocks(model, assign, named) {
    // collapse._same_class_as_blocks: a plain-operation group whose class is hidden in a
    // block elsewhere is a block too.
    const G = model.groups;
    const N = model.nodes;
    const { chain } = prepare(model);
    const blocked = new Set();
    const seen = new Set();
    for (const [n, key] of assign) {
      const group = N[n].group;
      const depth = G[Number(key.slice(1))].path.length;
      const mark = group + ":" + depth;
      if (seen.has(mark)) continue;
      seen.add(mark);
      const ancestry = chain[group];
      for (let d = Math.max(1, depth); d < ancestry.length; d++) blocked.add(G[ancestry[d]].class);
    }
    blocked.delete("");
    if (!blocked.size) return;
    for (let n = 0; n < N.length; n++) {
      const group = N[n].group;
      if (assign.has(n) || group === 0 || named.has(group)) continue;
      if (G[group].plain && blocked.has(G[group].class)) assign.set(n, "g" + group);
    }
  }

  function findRuns(G, items, opened) {
    const rollable = (item) => item[0] === 1 && !opened.has(item[1]) && !G[item[1]].scattered &&
      G[item[1]].sig !== null;
    const out = [];
    let i = 0;
    while (i < items.length) {
      if (!rollable(items[i])) {
        i += 1;
        continue;
      }
      const run = [items[i][1]];
      let j = i + 1;
      while (j < items.length && rollable(items[j]) && items[j][2]) {
        run.push(items[j][1]);
        j += 1;
      }
      if (run.length > 1) out.push(run);
      i = j;
    }
    return out;
  }

  function merge(model, assign, runs) {
    // view_at's _merge: blocks that would make a cycle stay open.
    const first = build(model, assign, runs);
    if (first) return first;
    const counts = new Map();
    for (const key of assign.values()) counts.set(key, (counts.get(key) || 0) + 1);
    const keys = [...counts.keys()].sort((a, b) => counts.get(b) - counts.get(a));
    const without = (dropped) => {
      const trial = new Map();
      for (const [n, k] of assign) if (!dropped.includes(k)) trial.set(n, k);
      return trial;
    };
    let dropped = [];
    let view = null;
    for (const key of keys) {
      dropped.push(key);
      view = build(model, without(dropped), runs);
      if (view) break;
    }
    for (const key of [...dropped]) {
      const trialDrop = dropped.filter((k) => k !== key);
      const candidate = build(model, without(trialDrop), runs);
      if (candidate) {
        dropped = trialDrop;
        view = candidate;
      }
    }
    return view || build(model, new Map(), runs, false);
  }

  function build(model, assign, runs, dedupe = true) {
    const N = model.nodes;
    const G = model.groups;
    const rep = new Array(N.length);
    const blocks = new Map();
    const nodes = [];
    for (let n = 0; n < N.length; n++) {
      const key = assign.get(n);
      if (key === undefined) {
        rep[n] = "n" + n;
        nodes.push({ key: rep[n], type: "node", index: n, id: N[n].id,
                     group: G[N[n].group].drawn });
        continue;
      }
      rep[n] = key;
      let block = blocks.get(key);
      if (!block) {
        const g = Number(key.slice(1));
        if (key[0] === "r") {
          const run = runs.get(g);
          block = { key, type: "roll", index: g, run, group: G[G[g].parent].drawn,
                    id: "roll:" + G[g].path.join("/") };
        } else {
          block = { key, type: "group", index: g, group: g === 0 ? 0 : G[G[g].parent].drawn,
                    id: blockId(model, g) };
        }
        Object.assign(block, { params: 0, macs: null, count: 0, inputs: [], outputs: [],
                               entering: new Set(), leaving: new Set() });
        blocks.set(key, block);
        nodes.push(block);
      }
      block.params += N[n].params;
      block.count += 1;
      if (N[n].macs !== null) block.macs = (block.macs || 0) + N[n].macs;
      block.last = n;
    }
    const edges = [];
    const seen = new Set();
    for (const [src, dst, tensor] of model.edges) {
      const s = rep[src];
      const d = rep[dst];
      if (s === d) continue;
      // A tensor is its producer's output: read twice it enters once, two of one shape twice.
      const produced = src + ":" + tensor;
      if (blocks.has(d) && !blocks.get(d).entering.has(produced)) {
        blocks.get(d).entering.add(produced);
        blocks.get(d).inputs.push(tensor);
      }
      if (blocks.has(s) && !blocks.get(s).leaving.has(produced)) {
        blocks.get(s).leaving.add(produced);
        blocks.get(s).outputs.push(tensor);
      }
      const key = s + ">" + d + ">" + model.tensors[tensor].key;
      if (dedupe && seen.has(key)) continue;
      seen.add(key);
      edges.push({ src: s, dst: d, tensor });
    }
    for (const block of blocks.values()) {
      if (!block.outputs.length) block.outputs = N[block.last].outputs.slice();
    }
    const order = topologicalOrder(nodes, edges);
    if (!order) return null;
    return { nodes: order, edges, byKey: new Map(order.map((v) => [v.key, v])) };
  }

  function topologicalOrder(nodes, edges) {
    // Kahn's algorithm, stable with respect to the given order (as netdraw.ir does).
    const index = new Map(nodes.map((v, i) => [v.key, i]));
    const indeg = new Array(nodes.length).fill(0);
    const succ = nodes.map(() => []);
    for (const e of edges) {
      succ[index.get(e.src)].push(index.get(e.dst));
      indeg[index.get(e.dst)] += 1;
    }
    const heap = [];
    const push = (x) => {
      heap.push(x);
      let i = heap.length - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (heap[p] <= heap[i]) break;
        [heap[p], heap[i]] = [heap[i], heap[p]];
        i = p;
      }
    };
    const pop = () => {
      const top = heap[0];
      const last = heap.pop();
      if (heap.length) {
        heap[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < heap.length && heap[l] < heap[m]) m = l;
          if (r < heap.length && heap[r] < heap[m]) m = r;
          if (m === i) break;
          [heap[m], heap[i]] = [heap[i], heap[m]];
          i = m;
        }
      }
      return top;
    };
    indeg.forEach((d, i) => { if (d === 0) push(i); });
    const out = [];
    while (heap.length) {
      const i = pop();
      out.push(nodes[i]);
      for (const j of succ[i]) {
        indeg[j] -= 1;
        if (indeg[j] === 0) push(j);
      }
    }
    return out.length === nodes.length ? out : null;
  }

  // -- DOT ----------------------------------------------------------------------------------

  function rollFacts(model, block) {
    const G = model.groups;
    const run = block.run;
    const name = G[run[0]].label + "–" + G[run[run.length - 1]].label;
    const shown = displayName(name, G[block.group].shown);
    const op = G[run[0]].class || "Block";
    const detail = `${op} ×${run.length}`;
    const spec = block.outputs.length ? block.outputs[0] :
      (block.inputs.length ? block.inputs[0] : null);
    const facts = [];
    if (spec !== null && model.tensors[spec].text) facts.push(model.tensors[spec].text);
    if (block.params) facts.push(formatCount(block.params) + " params");
    let tooltip = `${name} (${op})`;
    if (block.params || block.macs !== null) {
      tooltip += `: ${groupDigits(block.params)} params`;
      if (block.macs !== null) tooltip += `, ${formatCount(block.macs)} MACs`;
    }
    return { name: shown, full: name, op, detail: detail !== shown ? detail : "",
             facts: facts.join(" · "), tooltip };
  }

  function displayName(name, scope) {
    // netdraw.describe.display_name for a rolled run inside the cluster named ``scope``.
    if (name.startsWith("/")) {
      const parts = name.split("/").filter((p) => p !== "");
      return parts.length ? parts[parts.length - 1] : name;
    }
    if (scope === null || scope === undefined) return name;
    const prefix = scope + ".";
    if (prefix === ".") return name;
    const parts = name.split("–");
    const rests = parts.filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length));
    if (rests.length === parts.length && rests.every((r) => /\p{L}/u.test(r))) {
      return rests.join("–");
    }
    return name;
  }

  function nodeAttrs(model, v) {
    if (v.type === "node") return model.nodes[v.index].dot;
    if (v.type === "group") return model.groups[v.index].dot;
    const f = rollFacts(model, v);
    const values = { "\ue000": labelText(f.name), "\ue001": labelText(f.detail),
                     "\ue002": labelText(f.facts), "\ue003": tooltipText(f.tooltip) };
    let template = f.facts ? model.roll_labels.facts : model.roll_labels.plain;
    if (model.looks) {
      const status = rollStatus(model, v.run);
      const prefix = model.looks.prefix[status.label];
      template = model.looks.rolls[status.label][status.notes.length][f.facts ? "facts" : "plain"];
      values["\ue000"] = labelText((prefix ? prefix + " " : "") + f.name);
      status.notes.forEach((note, i) => { values[String.fromCharCode(0xe004 + i)] = labelText(note); });
    }
    return template.replace(/[\ue000-\ue006]/g, (c) => values[c]);
  }

  // -- status looks (a diff's colours; see netdraw/backends/html/looks.py) ------------------

  function combine(labels) {
    // netdraw.diff.view.combine
    const found = new Set(labels);
    if (!found.size) return "same";
    if (found.size === 1) return [...found][0];
    if ([...found].every((l) => l === "same" || l === "reshaped")) return "reshaped";
    return "changed";
  }

  function rollStatus(model, run) {
    // netdraw.diff.view._group_status over the run's groups, from their summaries.
    const groups = run.map((g) => model.groups[g].summary).filter((x) => x);
    const counts = { changed: 0, reshaped: 0, added: 0, removed: 0, same: 0 };
    const labels = [];
    const causes = [];
    let paramsA = 0;
    let paramsB = 0;
    let edges = 0;
    let explained = 0;
    for (const g of groups) {
      explained += g.explained;
      counts.changed += g.counts.changed - g.reshaped;
      counts.reshaped += g.reshaped;
      for (const k of ["added", "removed", "same"]) counts[k] += g.counts[k];
      labels.push(g.label);
      causes.push(...g.causes);
      paramsA += g.params_a;
      paramsB += g.params_b;
      edges += g.edges;
    }
    const label = combine(labels);
    const notes = [];
    const shared = new Set(groups.map((g) => g.explanation));
    if ((label === "added" || label === "removed") && shared.size === 1 && !shared.has("")) {
      notes.push([...shared][0] || "");
    }
    if (label === "changed" || label === "reshaped") {
      const classes = new Set(groups.filter((g) => g.class_a && g.class_b && g.class_a !== g.class_b)
        .map((g) => JSON.stringify([g.class_a, g.class_b])));
      if (classes.size === 1) {
        const [before, after] = JSON.parse([...classes][0]);
        notes.push(`${before} → ${after}`);
      }
      if (causes.length === 1 && counts.added + counts.removed === 0) notes.push(causes[0]);
      const words = ["changed", "reshaped", "added", "removed"].filter((k) => counts[k])
        .map((k) => `${counts[k]} ${k}`);
      let text = words.join(" · ");
      if (explained) text = `${text} (${explained} explained)`;
      if (text) notes.push(text);
      else if (edges) notes.push(`${edges} connection${edges !== 1 ? "s" : ""} changed`);
    }
    if (label !== "same" && paramsA !== paramsB && label !== "added" && label !== "removed") {
      let before = formatCount(paramsA);
      let after = formatCount(paramsB);
      if (before === after) {
        before = groupDigits(paramsA);
        after = groupDigits(paramsB);
      }
      notes.push(`params ${before} → ${after}`);
    }
    return { label, notes: label === "same" ? [] : notes.slice(0, 3), paramsA, paramsB };
  }

  function statusOf(model, v) {
    // The status label a view node is drawn with.
    if (v.type === "node") return model.nodes[v.index].status || "same";
    if (v.type === "group") return model.groups[v.index].status || "same";
    return rollStatus(model, v.run).label;
  }

  function edgeStatuses(model, view) {
    // netdraw.diff.view.edge_statuses: "src>dst" of each view edge -> [status, label].
    const blockOf = new Map();
    for (const v of view.nodes) {
      if (v.type === "group") blockOf.set(v.index, v.key);
      else if (v.type === "roll") for (const g of v.run) blockOf.set(g, v.key);
    }
    const where = ([k, io, prefixes]) => {
      if (k >= 0 && view.byKey.has("n" + k)) return "n" + k;
      if (io) return null;
      for (const g of prefixes) if (blockOf.has(g)) return blockOf.get(g);
      return null;
    };
    const found = new Map();
    for (const [a, b, status, label] of model.looks.edges) {
      const s = where(a);
      const d = where(b);
      if (s === null || d === null || s === d) continue;
      const key = s + ">" + d;
      if (!found.has(key)) found.set(key, []);
      found.get(key).push([status, label]);
    }
    const out = new Map();
    for (const e of view.edges) {
      const key = e.src + ">" + e.dst;
      const records = found.get(key);
      if (!records) {
        const ends = [statusOf(model, view.byKey.get(e.src)), statusOf(model, view.byKey.get(e.dst))];
        out.set(key, [ends.includes("removed") ? "removed" : ends.includes("added") ? "added" : "same", null]);
        continue;
      }
      const kinds = new Set(records.map((r) => r[0]));
      let status;
      let label = null;
      if (kinds.has("changed")) {
        status = "changed";
        label = records.find((r) => r[0] === "changed")[1];
      } else if (kinds.size === 1) status = [...kinds][0];
      else status = kinds.has("same") ? "same" : "changed";
      out.set(key, [status, label]);
    }
    return out;
  }

  function edgeAttrs(model, e, looks) {
    if (!looks) return model.tensors[e.tensor].dot;
    const [status, label] = looks.get(e.src + ">" + e.dst);
    const text = model.looks.edge_labels ? (label ?? model.tensors[e.tensor].text) : "";
    const attrs = model.looks.edge_attrs[status];
    return text ? attrs.label.replace("\ue000", () => labelText(text)) : attrs.plain;
  }

  function legendLines(model, view, looks) {
    // dot._decoration_lines: the legend of the statuses drawn.
    if (!model.looks.legend.length) return [];
    const shown = new Set(view.nodes.map((v) => statusOf(model, v)));
    for (const [status] of looks.values()) shown.add(status);
    const items = model.looks.legend.filter(([status]) => shown.has(status));
    if (!items.length) return [];
    const lines = ["\tsubgraph cluster_legend {",
      '\t\tgraph [label=<<b>Legend</b>> style="rounded" color="#bbbbbb" fontsize="11" labeljust="l" margin="10"]'];
    const names = items.map((_, i) => "legend" + i);
    items.forEach(([, attrs], i) => lines.push(`\t\t${names[i]} ${attrs}`));
    lines.push("\t\t{rank=same; " + names.join(" ") + "}");
    for (let i = 0; i + 1 < names.length; i++) lines.push(`\t\t${names[i]} -> ${names[i + 1]} [style="invis"]`);
    lines.push("\t}");
    return lines;
  }

  // -- wrapping a tall view into columns (netdraw.passes.layout.split) ---------------------

  function drawnChain(model, g) {
    // The drawn clusters around a view node, outermost first (a view graph's group path).
    const out = [];
    for (let c = g; c > 0; c = model.groups[c].up) out.push(c);
    return out.reverse();
  }

  function viewRanks(view) {
    // layout.ranks: longest-path layer of each view node (view.nodes is topological).
    const rank = new Map(view.nodes.map((v) => [v.key, 0]));
    const succ = new Map(view.nodes.map((v) => [v.key, []]));
    for (const e of view.edges) succ.get(e.src).push(e.dst);
    for (const v of view.nodes) {
      for (const d of succ.get(v.key)) rank.set(d, Math.max(rank.get(d), rank.get(v.key) + 1));
    }
    return rank;
  }

  function itemsUnder(view, chains, path) {
    // layout._items_under: {path, keys} items with path's children split apart (path:
    // the item's group path, null for a single node).
    const items = [];
    const where = new Map();
    const depth = path.length;
    const prefix = path.join(",");
    for (const v of view.nodes) {
      const group = chains.get(v.key);
      let keyPath = null;
      if (group.slice(0, depth).join(",") === prefix) {
        if (group.length > depth) keyPath = group.slice(0, depth + 1);
      } else if (group.length) {
        keyPath = group.slice(0, 1);
      }
      const key = keyPath ? "g" + keyPath.join(",") : "n" + v.key;
      if (!where.has(key)) {
        where.set(key, items.length);
        items.push({ path: keyPath, keys: [] });
      }
      items[where.get(key)].keys.push(v.key);
    }
    return items;
  }

  function topItems(view, chains) {
    // layout.top_items: view nodes grouped by top-level item; a group holding more than
    // half the nodes is looked into.
    let path = [];
    const total = view.nodes.length;
    for (;;) {
      const items = itemsUnder(view, chains, path);
      const dominant = items.find((it) => it.path !== null && it.keys.length * 2 > total);
      if (!dominant) return items.map((it) => it.keys);
      const inner = itemsUnder(view, chains, dominant.path);
      const inside = inner.filter((it) => it.path === null || it.path.length > dominant.path.length);
      if (inside.length < 2) return items.map((it) => it.keys);
      path = dominant.path;
    }
  }

  function cleanCuts(view, rank, items) {
    // layout.clean_cuts: item indices after which the drawing can be cut.
    const n = items.length;
    if (n < 2) return [];
    const itemOf = new Map();
    items.forEach((item, i) => item.forEach((k) => itemOf.set(k, i)));
    const prefixMax = [];
    const suffixMin = new Array(n).fill(0);
    let running = -1;
    for (const item of items) {
      running = Math.max(running, ...item.map((k) => rank.get(k)));
      prefixMax.push(running);
    }
    running = 1 << 30;
    for (let i = n - 1; i >= 0; i--) {
      running = Math.min(running, ...items[i].map((k) => rank.get(k)));
      suffixMin[i] = running;
    }
    const reach = new Map();
    for (const e of view.edges) {
      const a = itemOf.get(e.src);
      const b = itemOf.get(e.dst);
      if (b > a) reach.set(e.src, Math.max(reach.has(e.src) ? reach.get(e.src) : a, b));
    }
    const diff = new Array(n + 1).fill(0);
    for (const [src, last] of reach) {
      diff[itemOf.get(src)] += 1;
      diff[last] -= 1;
    }
    const out = [];
    let sources = 0;
    for (let i = 0; i < n - 1; i++) {
      sources += diff[i];
      if (sources === 1 && prefixMax[i] < suffixMin[i + 1]) out.push(i);
    }
    return out;
  }

  function splitColumns(model, view, columns) {
    // layout.split: view node key -> column, for about `columns` columns of equal height.
    const out = new Map(view.nodes.map((v) => [v.key, 0]));
    if (columns <= 1 || !view.nodes.length) return out;
    const chains = new Map(view.nodes.map((v) => [v.key, drawnChain(model, v.group)]));
    const rank = viewRanks(view);
    const items = topItems(view, chains);
    let cuts = cleanCuts(view, rank, items);
    const total = Math.max(...rank.values()) + 1;
    const starts = new Map(cuts.map((i) => [i, Math.min(...items[i + 1].map((k) => rank.get(k)))]));
    cuts = cuts.filter((c) => starts.get(c) >= 2 && starts.get(c) <= total - 2);
    const chosen = [];
    for (let j = 1; j < columns; j++) {
      const target = total * j / columns;
      const options = cuts.filter((c) => !chosen.length || c > chosen[chosen.length - 1]);
      if (!options.length) break;
      let best = options[0];
      for (const c of options) {
        if (Math.abs(starts.get(c) - target) < Math.abs(starts.get(best) - target)) best = c;
      }
      if (chosen.length && starts.get(best) - starts.get(chosen[chosen.length - 1]) < 2) continue;
      chosen.push(best);
    }
    const cut = new Set(chosen);
    let column = 0;
    items.forEach((item, i) => {
      for (const k of item) out.set(k, column);
      if (cut.has(i)) column += 1;
    });
    return out;
  }

  function connectorLetter(column) {
    // dot._connector_letter: A, B, … Z, AA, … for the connector into column (1-based).
    let n = column;
    let letters = "";
    while (n > 0) {
      const rem = (n - 1) % 26;
      n = Math.floor((n - 1) / 26);
      letters = String.fromCharCode(65 + rem) + letters;
    }
    return letters || "A";
  }

  function toDot(model, view, columns = 1) {
    const G = model.groups;
    const lines = [...model.header];
    const ids = new Map(view.nodes.map((v, i) => [v.key, "n" + i]));
    const members = new Map([[0, []]]);
    const children = new Map();
    const childSet = new Map();
    for (const v of view.nodes) {
      let g = v.group;
      if (!members.has(g)) members.set(g, []);
      members.get(g).push(v);
      while (g !== 0 && !(childSet.get(G[g].up) || new Set()).has(g)) {
        const parent = G[g].up;
        if (!children.has(parent)) {
          children.set(parent, []);
          childSet.set(parent, new Set());
        }
        children.get(parent).push(g);
        childSet.get(parent).add(g);
        if (!members.has(g)) members.set(g, []);
        g = parent;
      }
    }
    const wrapTB = model.rankdir === "TB" || model.rankdir === "BT";
    const column = splitColumns(model, view, wrapTB ? columns : 1);
    // A group wrapped across columns cannot be one cluster: its members are drawn bare.
    const spans = new Map();
    if (columns > 1) {
      for (const v of view.nodes) {
        for (const g of drawnChain(model, v.group)) {
          if (!spans.has(g)) spans.set(g, new Set());
          spans.get(g).add(column.get(v.key));
        }
      }
    }
    let clusters = 0;
    const clusterOf = new Map();
    const emit = (g, indent) => {
      for (const v of members.get(g) || []) {
        lines.push(`${indent}${ids.get(v.key)} ${nodeAttrs(model, v)}`);
      }
      for (const child of children.get(g) || []) {
        if (((members.get(child) || []).length === 1 && !children.get(child)) ||
            (spans.has(child) && spans.get(child).size > 1)) {
          emit(child, indent);
          continue;
        }
        clusterOf.set("cluster_" + clusters, child);
        lines.push(`${indent}subgraph cluster_${clusters} {`);
        clusters += 1;
        lines.push(`${indent}\t${G[child].cluster}`);
        emit(child, indent + "\t");
        lines.push(`${indent}}`);
      }
    };
    emit(0, "\t");
    const looks = model.looks ? edgeStatuses(model, view) : null;
    // An edge into a later column ends at a lettered connector at the bottom of its own
    // column and continues from the same letter at the top of the next (dot.to_dot).
    const wraps = new Map();
    const sent = new Set();
    const connector = (letter) => model.connector.replace("\ue000", letter);
    for (const e of view.edges) {
      const attrs = edgeAttrs(model, e, looks);
      let src = ids.get(e.src);
      const target = column.get(e.dst);
      if (column.get(e.src) !== target) {
        const letter = connectorLetter(target);
        if (!wraps.has(target)) {
          wraps.set(target, `wrap${target}`);
          lines.push(`\t${wraps.get(target)} ${connector(letter)}`);
        }
        if (!sent.has(e.src + ">" + target)) {
          sent.add(e.src + ">" + target);
          const out = `wrapout${target}_${sent.size}`;
          lines.push(`\t${out} ${connector(letter)}`);
          lines.push(`\t${src} -> ${out}${attrs}`);
        }
        src = wraps.get(target);
      }
      lines.push(`\t${src} -> ${ids.get(e.dst)}${attrs}`);
    }
    const heads = new Map();
    for (const v of view.nodes) if (!heads.has(column.get(v.key))) heads.set(column.get(v.key), ids.get(v.key));
    for (const [c, name] of wraps) heads.set(c, name);
    if (heads.size > 1) {
      lines.push("\t{rank=same; " + [...heads.values()].join(" ") + "}");
      const ordered = [...heads.keys()].sort((a, b) => a - b).map((c) => heads.get(c));
      for (let i = 0; i + 1 < ordered.length; i++) lines.push(`\t${ordered[i]} -> ${ordered[i + 1]} [style="invis"]`);
    }
    view.columns = heads.size > 1 ? columns : 1; // as asked for (dot.to_dot's columns)
    if (looks) lines.push(...legendLines(model, view, looks));
    lines.push("}");
    view.ids = ids;
    view.clusterOf = clusterOf;
    return lines.join("\n") + "\n";
  }

  return { computeView, toDot, splitColumns, formatCount, groupDigits, labelText, tooltipText, rollFacts,
           prepare, blockId, rollStatus, statusOf };
})();

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

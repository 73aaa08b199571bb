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

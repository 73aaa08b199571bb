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
      (opened.has(g) || G[g].path.length < state.depth);
    const visibleOpen = (g) => chain[g].every(isOpen);

    const assign = new Map();
    const runs = new Map();
    if (state.roll) {
      for (let p = 0; p < G.length; p++) {
        if (!visibleOpen(p)) continue;
        for (const run of findRuns(G, G[p].items, opened)) {
          if (state.unroll.has(p)) {
            run.forEach((g) => unrolled.add(g));
            continue;
          }
          runs.set(run[0], run);
          for (const g of run) for (const n of members[g]) assign.set(n, "r" + run[0]);
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
    const view = merge(model, assign, runs);
    view.runs = runs;
    return view;
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
        nodes.push({ key: rep[n], type: "node", index: n, id: N[n].id, group: N[n].group });
        continue;
      }
      rep[n] = key;
      let block = blocks.get(key);
      if (!block) {
        const g = Number(key.slice(1));
        if (key[0] === "r") {
          const run = runs.get(g);
          block = { key, type: "roll", index: g, run, group: G[g].parent,
                    id: "roll:" + G[g].path.join("/") };
        } else {
          block = { key, type: "group", index: g, group: g === 0 ? 0 : G[g].parent,
                    id: blockId(model, g) };
        }
        Object.assign(block, { params: 0, macs: null, count: 0, inputs: [], outputs: [] });
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
      if (blocks.has(d) && !blocks.get(d).inputs.includes(tensor)) blocks.get(d).inputs.push(tensor);
      if (blocks.has(s) && !blocks.get(s).outputs.includes(tensor)) blocks.get(s).outputs.push(tensor);
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
    return { name, op, detail: detail !== name ? detail : "", facts: facts.join(" · "), tooltip };
  }

  function nodeAttrs(model, v) {
    if (v.type === "node") return model.nodes[v.index].dot;
    if (v.type === "group") return model.groups[v.index].dot;
    const f = rollFacts(model, v);
    const template = f.facts ? model.roll_labels.facts : model.roll_labels.plain;
    const values = { "\ue000": labelText(f.name), "\ue001": labelText(f.detail),
                     "\ue002": labelText(f.facts), "\ue003": tooltipText(f.tooltip) };
    return template.replace(/[\ue000-\ue003]/g, (c) => values[c]);
  }

  function toDot(model, view) {
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
      while (g !== 0 && !(childSet.get(G[g].parent) || new Set()).has(g)) {
        const parent = G[g].parent;
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
    let clusters = 0;
    const clusterOf = new Map();
    const emit = (g, indent) => {
      for (const v of members.get(g) || []) {
        lines.push(`${indent}${ids.get(v.key)} ${nodeAttrs(model, v)}`);
      }
      for (const child of children.get(g) || []) {
        if ((members.get(child) || []).length === 1 && !children.get(child)) {
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
    for (const e of view.edges) {
      lines.push(`\t${ids.get(e.src)} -> ${ids.get(e.dst)}${model.tensors[e.tensor].dot}`);
    }
    lines.push("}");
    view.ids = ids;
    view.clusterOf = clusterOf;
    return lines.join("\n") + "\n";
  }

  return { computeView, toDot, formatCount, groupDigits, labelText, tooltipText, rollFacts,
           prepare, blockId };
})();

// The batpak inspector's one script: it draws the workflow graph (from
// graph.json) and keeps the live tail (from tail.sse) up to date. What it
// shows is user data: it is only ever set with textContent and
// setAttribute, never parsed as HTML.
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";

  function svg(name, attrs, text) {
    const e = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function html(name, attrs, text) {
    const e = document.createElement(name);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // --- the workflow graph ---

  function drawGraph(box) {
    fetch(box.dataset.src, { headers: { Accept: "application/json" } })
      .then((r) => r.json().then((body) => (r.ok ? body : Promise.reject(new Error(body.error || r.statusText)))))
      .then((g) => {
        box.replaceChildren(graphSVG(g));
        box.dataset.state = "drawn";
      })
      .catch((err) => {
        box.replaceChildren(html("p", { class: "error" }, "The graph could not be drawn: " + err.message));
        box.dataset.state = "failed";
      });
  }

  function graphSVG(g) {
    const w = g.nodeWidth, h = g.nodeHeight;
    const root = svg("svg", {
      width: g.width, height: g.height, viewBox: `0 0 ${g.width} ${g.height}`,
      role: "img", "aria-label": "causal graph of workflow " + g.correlation,
    });
    const defs = svg("defs");
    const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
    marker.appendChild(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" }));
    defs.appendChild(marker);
    root.appendChild(defs);

    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    const edges = svg("g", { class: "edges" });
    for (const e of g.edges) {
      const a = byId.get(e.from), b = byId.get(e.to);
      if (!a || !b) continue;
      const x1 = a.x + w, y1 = a.y + h / 2, x2 = b.x, y2 = b.y + h / 2, mx = (x1 + x2) / 2;
      edges.appendChild(svg("path", {
        class: "edge", "data-from": e.from, "data-to": e.to, "marker-end": "url(#arrow)",
        d: `M ${x1} ${y1} C ${mx} ${y1}, ${mx} ${y2}, ${x2} ${y2}`,
      }));
    }
    root.appendChild(edges);

    const nodes = svg("g", { class: "nodes" });
    for (const n of g.nodes) {
      const cls = ["node", n.role];
      if (n.marked) cls.push("marked");
      const group = svg("g", { class: cls.join(" "), "data-id": n.id, transform: `translate(${n.x} ${n.y})` });
      group.appendChild(svg("title", {}, n.global ? `${n.kind} · ${n.entity} · global ${n.global}\n${n.id}` : `${n.id}: not in the store`));
      group.appendChild(svg("rect", { width: w, height: h, rx: 7, ry: 7 }));
      group.appendChild(svg("text", { x: 10, y: 19, class: "kind" }, n.kind));
      group.appendChild(svg("text", { x: 10, y: 35, class: "entity" }, n.global ? n.entity : n.id.slice(0, 18) + "…"));
      group.appendChild(svg("text", { x: 10, y: 50, class: "summary" }, n.summary || (n.global ? "#" + n.global : "")));
      if (n.role === "missing") {
        nodes.appendChild(group);
      } else {
        const link = svg("a", { href: "event?id=" + encodeURIComponent(n.id) });
        link.appendChild(group);
        nodes.appendChild(link);
      }
    }
    root.appendChild(nodes);
    return root;
  }

  // --- the live tail ---

  const maxTailRows = 500;

  function startTail(table) {
    const state = document.getElementById("tail-state");
    const body = table.tBodies[0];
    const show = (s, text) => {
      state.dataset.state = s;
      state.textContent = text;
    };
    const source = new EventSource(table.dataset.src);
    source.onopen = () => show("live", "live");
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) show("closed", "closed");
      else show("reconnecting", "reconnecting…");
    };
    source.onmessage = (m) => {
      const r = JSON.parse(m.data);
      body.insertBefore(tailRow(r), body.firstChild);
      while (body.rows.length > maxTailRows) body.deleteRow(-1);
    };
    window.addEventListener("pagehide", () => source.close());
  }

  function tailRow(r) {
    const tr = html("tr", { "data-global": r.global, class: "fresh" });
    const cell = (cls, child) => {
      const td = html("td", cls ? { class: cls } : {});
      if (typeof child === "string") td.textContent = child;
      else td.appendChild(child);
      tr.appendChild(td);
    };
    cell("num", html("a", { href: "event?id=" + encodeURIComponent(r.id) }, String(r.global)));
    cell("", html("a", { href: "entity?name=" + encodeURIComponent(r.entity) }, r.entity));
    cell("num", String(r.sequence));
    cell("kind", r.kind);
    cell("", html("a", { href: "scope?name=" + encodeURIComponent(r.scope) }, r.scope));
    cell("time", r.time);
    cell("payload", r.summary);
    return tr;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const graph = document.getElementById("graph");
    if (graph) drawGraph(graph);
    const tail = document.getElementById("tail");
    if (tail) startTail(tail);
  });
})();

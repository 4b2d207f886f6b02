// pctx dashboard: plain DOM, no framework. Every value from the server is set as text,
// never as HTML: programs, results and tool names come from agents and backends.
"use strict";

const keyName = "pctx-api-key";
let selected = 0;     // execution shown in the detail pane
let latest = 0;       // newest execution id seen

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

async function api(path, init = {}) {
  const headers = Object.assign({}, init.headers);
  const key = sessionStorage.getItem(keyName);
  if (key) headers["X-API-Key"] = key;
  const r = await fetch("api/" + path, Object.assign({}, init, { headers, credentials: "same-origin" }));
  if (r.status === 401) {
    document.getElementById("login").hidden = false;
    throw new Error("unauthorized");
  }
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

function ms(v) { return v < 10 ? v.toFixed(2) + " ms" : Math.round(v) + " ms"; }

// ---- executions

async function pollExecutions() {
  for (;;) {
    try {
      const body = await api("executions?wait=1&after=" + latest);
      renderList(body.executions);
    } catch (e) {
      if (e.message === "unauthorized") return;
      await new Promise(r => setTimeout(r, 2000));
    }
  }
}

function renderList(list) {
  const ol = document.getElementById("exec-list");
  ol.replaceChildren();
  if (!list.length) {
    ol.append(el("li", { class: "empty", text: "No executions yet: run one over MCP, an SDK or the playground." }));
    return;
  }
  latest = Math.max(latest, list[0].id);
  for (const x of list) {
    const status = x.errorKind ? el("span", { class: "err", text: x.errorKind }) : el("span", { class: "ok", text: "ok" });
    const li = el("li", { "data-id": String(x.id), onclick: () => showExecution(x.id) },
      el("code", { text: x.codeHead || "(empty)" }),
      el("div", { class: "meta" },
        el("span", { text: "#" + x.id }), status,
        el("span", { text: ms(x.durationMs) }),
        el("span", { text: x.calls + (x.calls === 1 ? " call" : " calls") }),
        el("span", { text: x.session || "no session" }),
        el("span", { text: new Date(x.startedAt).toLocaleTimeString() })));
    if (x.id === selected) li.classList.add("selected");
    ol.append(li);
  }
  if (!selected) showExecution(list[0].id);
}

async function showExecution(id) {
  selected = id;
  for (const li of document.querySelectorAll("#exec-list li")) li.classList.toggle("selected", li.dataset.id === String(id));
  try {
    renderExecution(document.getElementById("exec-detail"), await api("executions/" + id));
  } catch (e) {
    document.getElementById("exec-detail").replaceChildren(el("p", { class: "err", text: e.message }));
  }
}

function renderExecution(box, x) {
  box.replaceChildren(
    el("h2", { text: "Execution #" + x.id + (x.session ? " · " + x.session : "") }),
    el("div", { class: "meta" }, el("span", { text: ms(x.durationMs) + " · " + x.calls + " calls" + (x.trace.traceId ? " · trace " + x.trace.traceId : "") })),
    el("h2", { text: "Code" }), el("pre", { class: "code", text: x.code }));
  if (x.error) {
    const where = x.error.line ? " (line " + x.error.line + ":" + (x.error.column || 0) + ")" : "";
    box.append(el("h2", { text: "Error" }), el("pre", { class: "err error", text: x.error.kind + ": " + x.error.message + where + (x.error.stack ? "\n" + x.error.stack : "") }));
  } else {
    box.append(el("h2", { text: "Result" }), el("pre", { class: "value", text: JSON.stringify(x.value, null, 2) ?? "undefined" }));
  }
  if (x.console.length) {
    const pre = el("pre", { class: "console" });
    for (const l of x.console) pre.append(el("div", { class: "console-" + l.level, text: (l.level === "log" ? "" : "[" + l.level + "] ") + l.text }));
    box.append(el("h2", { text: "Console" }), pre);
  }
  if (x.cut) box.append(el("p", { class: "empty", text: "Cut for the dashboard: " + x.cut.join(", ") }));
  box.append(el("h2", { text: "Calls" }), waterfall(x));
}

// waterfall draws one bar per call, placed on the execution's time axis.
function waterfall(x) {
  const calls = x.trace.calls;
  if (!calls.length) return el("p", { class: "empty", text: "No function calls." });
  const t0 = Date.parse(x.trace.startedAt);
  let t1 = Date.parse(x.trace.endedAt);
  for (const c of calls) t1 = Math.max(t1, Date.parse(c.endedAt));
  const span = Math.max(t1 - t0, 1);
  const grid = el("div", { class: "waterfall" });
  for (const c of calls) {
    const s = Date.parse(c.startedAt), e = Date.parse(c.endedAt);
    const bar = el("div", { class: "bar " + c.outcome, title: c.namespace + "." + c.function + " · " + c.backend + (c.member ? " " + c.member : "") + " · " + c.outcome + (c.error ? ": " + c.error : "") });
    bar.style.left = (100 * (s - t0) / span) + "%";
    bar.style.width = (100 * Math.max(e - s, 0) / span) + "%";
    grid.append(
      el("div", { class: "label", text: c.namespace + "." + c.function, title: c.backend + (c.source ? " " + c.source : "") }),
      el("div", { class: "track" }, bar),
      el("div", { class: "ms", text: ms(e - s) }));
  }
  return grid;
}

// ---- catalog

async function loadCatalog() {
  const body = await api("catalog");
  const ol = document.getElementById("ns-list");
  ol.replaceChildren();
  if (!body.namespaces.length) ol.append(el("li", { class: "empty", text: "No namespaces: add [servers.NAME] to pctx.toml or connect an SDK worker." }));
  for (const ns of body.namespaces) {
    ol.append(el("li", { onclick: () => showNamespace(ns) },
      el("code", { text: ns.name }),
      el("div", { class: "meta" },
        el("span", { text: ns.owner || "session" }),
        ns.unavailable ? el("span", { class: "err", text: "unavailable" }) : el("span", { text: ns.functions.length + " functions" }))));
  }
}

function showNamespace(ns) {
  const box = document.getElementById("ns-detail");
  box.replaceChildren(el("h2", { text: ns.name }), el("pre", { text: ns.listing }));
  if (ns.unavailable) box.append(el("p", { class: "err", text: ns.unavailable }));
  const decl = el("pre", { class: "declarations", text: "" });
  const names = el("div", { class: "meta" });
  for (const f of ns.functions) {
    names.append(el("button", { text: f.name, onclick: async () => {
      try { decl.textContent = (await api("details?fn=" + encodeURIComponent(ns.name + "." + f.name))).text; }
      catch (e) { decl.textContent = e.message; }
    } }));
  }
  box.append(el("h2", { text: "TypeScript" }), names, decl);
}

// ---- backends and header

async function loadState() {
  const s = await api("state");
  document.getElementById("name").textContent = s.name;
  document.getElementById("version").textContent = s.version;
  document.getElementById("playground-tab").hidden = !s.playground;
  const ready = s.upstreams.filter(u => u.state === "ready").length;
  const sb = s.sandbox;
  document.getElementById("pills").replaceChildren(
    el("span", { class: "pill", text: s.catalog.functions + " functions in " + s.catalog.namespaces + " namespaces" }),
    el("span", { class: "pill", text: ready + "/" + s.upstreams.length + " upstreams ready" }),
    el("span", { class: "pill", text: s.workers.length + " SDK workers" }),
    sb ? el("span", { class: "pill", id: "sandbox-pill", text: sb.workers + " sandbox processes, " + sb.busy + " busy" + (sb.crashed ? ", " + sb.crashed + " crashed" : "") }) : null);
  document.querySelector("#sandbox tbody").replaceChildren(...(sb ? [el("tr", {},
    el("td", { text: String(sb.workers) }), el("td", { text: String(sb.busy) }), el("td", { text: String(sb.started) }),
    el("td", { class: sb.crashed ? "err" : "", text: String(sb.crashed) }), el("td", { text: String(sb.recycled) }))] : []));
  const ut = document.querySelector("#upstreams tbody");
  ut.replaceChildren(...s.upstreams.map(u => el("tr", {},
    el("td", { text: u.name }), el("td", { class: u.state === "ready" ? "ok" : "err", text: u.state }),
    el("td", { text: u.transport || "" }), el("td", { text: String(u.tools) }), el("td", { text: String(u.restarts) }),
    el("td", { text: u.lastError || "" }))));
  const wt = document.querySelector("#workers tbody");
  wt.replaceChildren(...s.workers.map(w => el("tr", {},
    el("td", { text: w.id }), el("td", { text: w.client || "" }), el("td", { text: (w.namespaces || []).join(", ") }),
    el("td", { text: (w.session || []).join(", ") }), el("td", { text: String(w.callsInFlight) }),
    el("td", { text: new Date(w.connectedAt).toLocaleString() }))));
}

// ---- playground

async function run(ev) {
  ev.preventDefault();
  const box = document.getElementById("run-result");
  box.replaceChildren(el("p", { class: "empty", text: "Running…" }));
  try {
    const x = await api("execute", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code: document.getElementById("code").value }) });
    renderExecution(box, x);
  } catch (e) {
    box.replaceChildren(el("p", { class: "err", text: e.message }));
  }
}

// ---- wiring

function showTab(name) {
  for (const b of document.querySelectorAll("nav button")) b.classList.toggle("active", b.dataset.tab === name);
  for (const t of document.querySelectorAll(".tab")) t.classList.toggle("active", t.id === name);
  if (name === "catalog") loadCatalog().catch(() => {});
  if (name === "backends") loadState().catch(() => {});
}

function start() {
  loadState().then(pollExecutions, () => {});
  setInterval(() => loadState().catch(() => {}), 5000);
}

document.addEventListener("DOMContentLoaded", () => {
  for (const b of document.querySelectorAll("nav button")) b.addEventListener("click", () => showTab(b.dataset.tab));
  document.getElementById("run").addEventListener("submit", run);
  document.getElementById("login").addEventListener("submit", ev => {
    ev.preventDefault();
    sessionStorage.setItem(keyName, document.getElementById("key").value);
    document.getElementById("login").hidden = true;
    start();
  });
  start();
});

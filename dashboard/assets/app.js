"use strict";
// The dashboard: a single page over the Durable Functions management API.
// Every read and action is a fetch to that API; nothing else is reached.
(function () {
  const API = location.pathname.replace(/\/ui(\/.*)?$/i, "");
  const KEY_STORE = "durable-dashboard-key";
  const STATUSES = ["Pending", "Running", "Suspended", "Completed", "Failed", "Terminated", "ContinuedAsNew"];
  const main = document.getElementById("main");
  const flashBox = document.getElementById("flash");
  let refreshTimer = null; // the current view's auto-refresh
  let viewToken = 0; // bumped on each navigation so late answers are dropped

  // ---- the key: taken once from ?code=, then kept for this tab only ----
  (function takeKeyFromURL() {
    const u = new URL(location.href);
    const code = u.searchParams.get("code");
    if (code) {
      sessionStorage.setItem(KEY_STORE, code);
      u.searchParams.delete("code");
      history.replaceState(null, "", u.pathname + u.search + u.hash);
    }
  })();
  const getKey = () => sessionStorage.getItem(KEY_STORE) || "";

  // ---- small DOM helpers ----
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids.flat()) {
      if (kid === null || kid === undefined || kid === false) continue;
      e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return e;
  }
  // show replaces the page's content; absent parts (null) are left out.
  function show(...kids) {
    main.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
  }
  function flash(text, kind) {
    const m = el("div", { class: "msg " + (kind || "") }, text);
    flashBox.replaceChildren(m);
    if (kind !== "error") setTimeout(() => { if (m.parentNode) m.remove(); }, 8000);
  }
  function fmtTime(s) {
    if (!s) return el("span", { class: "muted" }, "—");
    const d = new Date(s);
    if (isNaN(d)) return document.createTextNode(s);
    return el("time", { datetime: d.toISOString(), title: d.toISOString().replace("T", " ").replace("Z", " UTC") }, d.toLocaleString());
  }
  function fmtDuration(ms) {
    if (!(ms >= 0)) return "";
    if (ms < 1000) return Math.round(ms) + " ms";
    if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + " s";
    if (ms < 3600000) return Math.floor(ms / 60000) + " min " + Math.round((ms % 60000) / 1000) + " s";
    if (ms < 86400000) return Math.floor(ms / 3600000) + " h " + Math.round((ms % 3600000) / 60000) + " min";
    return Math.floor(ms / 86400000) + " d " + Math.round((ms % 86400000) / 3600000) + " h";
  }
  // pretty writes a JSON value indented.
  function pretty(v) {
    if (v === undefined) return "";
    return JSON.stringify(v, null, 2);
  }
  // prettyText indents text that holds JSON, and leaves other text as is.
  function prettyText(s) {
    try { return JSON.stringify(JSON.parse(s), null, 2); } catch (_) { return String(s); }
  }
  function badge(status) { return el("span", { class: "badge st-" + status }, status || "?"); }
  function jsonBlock(title, value) {
    const text = value === null || value === undefined ? "null" : pretty(value);
    const pre = el("pre", { class: "json", tabindex: "0", "aria-label": title }, text);
    const copy = el("button", { type: "button", onclick: async () => {
      try { await navigator.clipboard.writeText(text); flash(title + " copied", "ok"); } catch (_) { flash("Copying is not allowed here; select the text instead.", "error"); }
    } }, "Copy");
    return el("section", { class: "card" }, el("h2", {}, title, copy), pre);
  }
  const enc = encodeURIComponent;

  // ---- the API ----
  class APIError extends Error {
    constructor(status, body) {
      super(apiMessage(status, body));
      this.status = status;
      this.body = body;
    }
  }
  function apiMessage(status, body) {
    let m = "";
    if (body && typeof body === "object") m = body.Message || body.message || body.error || "";
    else if (typeof body === "string") m = body;
    return "HTTP " + status + (m ? ": " + m : "");
  }
  async function api(method, path, opts) {
    opts = opts || {};
    const headers = Object.assign({}, opts.headers || {});
    const key = getKey();
    if (key) headers["x-functions-key"] = key;
    let body;
    if (opts.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = opts.json;
    }
    const res = await fetch(API + path, { method, headers, body, cache: "no-store", credentials: "same-origin" });
    const text = await res.text();
    let data = text;
    try { data = text ? JSON.parse(text) : null; } catch (_) { /* not JSON: keep the text */ }
    if (res.status === 401) {
      askForKey("The management API answered 401: a valid key is needed.");
      throw new APIError(401, data);
    }
    if (!res.ok && !(opts.accept || []).includes(res.status)) throw new APIError(res.status, data);
    return { status: res.status, data, headers: res.headers };
  }

  // ---- the dialog ----
  const dialog = document.getElementById("dialog");
  const dialogForm = document.getElementById("dialog-form");
  const dialogError = document.getElementById("dialog-error");
  let dialogSubmit = null;
  document.getElementById("dialog-cancel").addEventListener("click", () => dialog.close());
  dialogForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!dialogSubmit) return;
    dialogError.textContent = "";
    const ok = document.getElementById("dialog-ok");
    ok.disabled = true;
    try {
      const err = await dialogSubmit();
      if (err) { dialogError.textContent = err; return; }
      dialog.close();
    } finally { ok.disabled = false; }
  });
  // openDialog shows a form; submit returns an error message to keep it
  // open, or nothing to close it.
  function openDialog(title, body, okText, submit, danger) {
    document.getElementById("dialog-title").textContent = title;
    document.getElementById("dialog-body").replaceChildren(...[].concat(body));
    const ok = document.getElementById("dialog-ok");
    ok.textContent = okText;
    ok.className = danger ? "danger" : "primary";
    dialogError.textContent = "";
    dialogSubmit = submit;
    dialog.showModal();
    const first = dialog.querySelector("#dialog-body input, #dialog-body textarea");
    (first || ok).focus();
  }
  function askForKey(why) {
    if (dialog.open) return;
    const input = el("input", { type: "password", id: "key-input", autocomplete: "off", value: getKey() });
    openDialog("API key", [el("p", {}, why || "Enter the key the management API requires (x-functions-key). It is kept for this browser tab only."),
      el("label", { for: "key-input" }, "Key", input)], "Use key", async () => {
      sessionStorage.setItem(KEY_STORE, input.value.trim());
      setTimeout(route, 0);
    });
  }
  document.getElementById("key-button").addEventListener("click", () => askForKey());

  // ---- theme ----
  const themeBtn = document.getElementById("theme-toggle");
  function applyTheme(t) {
    document.documentElement.dataset.theme = t;
    themeBtn.setAttribute("aria-pressed", t === "dark" ? "true" : "false");
    themeBtn.textContent = t === "dark" ? "Light theme" : "Dark theme";
  }
  applyTheme(localStorage.getItem("durable-dashboard-theme") ||
    (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light"));
  themeBtn.addEventListener("click", () => {
    const t = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
    localStorage.setItem("durable-dashboard-theme", t);
    applyTheme(t);
  });

  // ---- routing ----
  function parseHash() {
    const h = location.hash.replace(/^#\/?/, "");
    const [path, query] = h.split("?");
    return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(query || "") };
  }
  function go(hash) { if (location.hash === hash) route(); else location.hash = hash; }
  async function route() {
    clearInterval(refreshTimer);
    refreshTimer = null;
    const token = ++viewToken;
    const { parts, params } = parseHash();
    const section = parts[0] || "instances";
    for (const a of document.querySelectorAll("nav a")) {
      const on = a.dataset.nav === section || (section === "instance" && a.dataset.nav === "instances") || (section === "entity" && a.dataset.nav === "entities");
      if (on) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    }
    show(el("p", { class: "muted" }, "Loading…"));
    const alive = () => token === viewToken;
    try {
      if (section === "instance" && parts[1]) await instanceView(parts.slice(1).join("/"), alive);
      else if (section === "entities") await entitiesView(params, alive);
      else if (section === "entity" && parts.length >= 2) await entityView(parts[1], parts.slice(2).join("/"), alive);
      else if (section === "hub") await hubView(alive);
      else await instancesView(params, alive);
    } catch (e) {
      if (!alive()) return;
      show(el("h1", {}, "Could not load this page"), el("p", { class: "error", role: "alert" }, e.message));
    }
  }
  window.addEventListener("hashchange", () => { route(); main.focus(); });

  // ---- instances ----
  const listState = { tokens: [""], page: 0, sortKey: "createdTime", sortDir: -1, selected: new Set(), rows: [] };
  function filtersFrom(params) {
    return {
      statuses: (params.get("status") || "").split(",").filter(Boolean),
      name: params.get("name") || "",
      prefix: params.get("prefix") || "",
      from: params.get("from") || "",
      to: params.get("to") || "",
    };
  }
  function listQuery(f, top) {
    const q = new URLSearchParams();
    if (f.statuses.length) q.set("runtimeStatus", f.statuses.join(","));
    if (f.prefix) q.set("instanceIdPrefix", f.prefix);
    if (f.from) q.set("createdTimeFrom", new Date(f.from).toISOString());
    if (f.to) q.set("createdTimeTo", new Date(f.to).toISOString());
    q.set("showInput", "false");
    q.set("top", String(top));
    return q.toString();
  }
  // fetchPage reads one page of matching instances from the continuation
  // token; a name filter (which the API lacks) is applied here, reading on
  // until the page is full or the list ends.
  async function fetchPage(f, token, size) {
    const rows = [];
    let next = token;
    for (let i = 0; i < 25; i++) {
      const res = await api("GET", "/instances?" + listQuery(f, size), { headers: next ? { "x-ms-continuation-token": next } : {} });
      next = res.headers.get("x-ms-continuation-token") || "";
      for (const r of res.data || []) {
        if (!f.name || (r.name || "").toLowerCase() === f.name.toLowerCase()) rows.push(r);
      }
      if (!f.name || rows.length >= size || !next) break;
    }
    return { rows, next };
  }
  async function fetchAll(f, limit) {
    const all = [];
    let token = "";
    do {
      const p = await fetchPage(f, token, 1000);
      all.push(...p.rows);
      token = p.next;
    } while (token && all.length < limit);
    return { rows: all, more: !!token };
  }

  async function instancesView(params, alive) {
    const f = filtersFrom(params);
    const pageSize = 25;
    const filterKey = JSON.stringify(f);
    if (listState.filterKey !== filterKey) {
      Object.assign(listState, { filterKey, tokens: [""], page: 0, selected: new Set() });
    }
    const form = el("form", { class: "filters", role: "search", "aria-label": "Filter instances" });
    const statusBoxes = STATUSES.map((s) => el("label", { class: "inline" },
      el("input", { type: "checkbox", name: "status", value: s, checked: f.statuses.includes(s) }), s));
    const nameIn = el("input", { type: "text", id: "f-name", name: "name", value: f.name, placeholder: "e.g. HelloCities" });
    const prefixIn = el("input", { type: "text", id: "f-prefix", name: "prefix", value: f.prefix });
    const fromIn = el("input", { type: "datetime-local", id: "f-from", name: "from", value: f.from });
    const toIn = el("input", { type: "datetime-local", id: "f-to", name: "to", value: f.to });
    form.append(
      el("fieldset", {}, el("legend", {}, "Status"), el("div", { class: "statuses" }, statusBoxes)),
      el("label", { for: "f-name" }, "Orchestrator name", nameIn),
      el("label", { for: "f-prefix" }, "Instance id prefix", prefixIn),
      el("label", { for: "f-from" }, "Created from", fromIn),
      el("label", { for: "f-to" }, "Created to", toIn),
      el("button", { type: "submit", class: "primary", id: "apply-filters" }, "Apply"),
      el("button", { type: "button", onclick: () => go("#/instances") }, "Clear"));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const q = new URLSearchParams();
      const st = statusBoxes.map((l) => l.firstChild).filter((c) => c.checked).map((c) => c.value);
      if (st.length) q.set("status", st.join(","));
      for (const [k, inp] of [["name", nameIn], ["prefix", prefixIn], ["from", fromIn], ["to", toIn]]) {
        if (inp.value.trim()) q.set(k, inp.value.trim());
      }
      go("#/instances" + (q.toString() ? "?" + q : ""));
    });

    const counts = el("div", { class: "counts", "aria-label": "Instances by status", id: "status-counts" });
    const tableWrap = el("div", { class: "table-wrap" });
    const pager = el("div", { class: "toolbar" });
    const selInfo = el("span", { class: "muted", id: "selection-info", "aria-live": "polite" });
    const autoBox = el("input", { type: "checkbox", id: "auto-refresh" });
    const bulk = el("div", { class: "toolbar" },
      el("button", { type: "button", id: "select-matching", onclick: selectMatching }, "Select all matching"),
      el("button", { type: "button", id: "clear-selection", onclick: () => { listState.selected.clear(); renderTable(); } }, "Clear selection"),
      el("button", { type: "button", class: "danger", id: "bulk-terminate", onclick: () => bulkAction("terminate") }, "Terminate selected"),
      el("button", { type: "button", class: "danger", id: "bulk-purge", onclick: () => bulkAction("purge") }, "Purge selected"),
      selInfo,
      el("span", { class: "spacer" }),
      el("label", { class: "inline", for: "auto-refresh" }, autoBox, "Auto-refresh (5 s)"),
      el("button", { type: "button", id: "refresh", onclick: () => load() }, "Refresh"));
    show(el("h1", {}, "Orchestration instances"), form, counts, bulk, tableWrap, pager);
    autoBox.addEventListener("change", () => {
      clearInterval(refreshTimer);
      refreshTimer = autoBox.checked ? setInterval(() => { if (alive()) load(true); }, 5000) : null;
    });

    function sortRows(rows) {
      const k = listState.sortKey, d = listState.sortDir;
      return rows.slice().sort((a, b) => String(a[k] || "").localeCompare(String(b[k] || "")) * d);
    }
    function header(label, key, cls) {
      const active = listState.sortKey === key;
      const th = el("th", { scope: "col", class: cls, "aria-sort": active ? (listState.sortDir > 0 ? "ascending" : "descending") : "none" },
        el("button", { type: "button", onclick: () => {
          if (listState.sortKey === key) listState.sortDir = -listState.sortDir; else { listState.sortKey = key; listState.sortDir = 1; }
          renderTable();
        } }, label + (active ? (listState.sortDir > 0 ? " ▲" : " ▼") : "")));
      return th;
    }
    function renderTable() {
      const rows = sortRows(listState.rows);
      const allBox = el("input", { type: "checkbox", "aria-label": "Select all on this page",
        checked: rows.length > 0 && rows.every((r) => listState.selected.has(r.instanceId)) });
      allBox.addEventListener("change", () => {
        for (const r of rows) { if (allBox.checked) listState.selected.add(r.instanceId); else listState.selected.delete(r.instanceId); }
        renderTable();
      });
      const tbody = el("tbody", {}, rows.map((r) => {
        const box = el("input", { type: "checkbox", "aria-label": "Select " + r.instanceId, checked: listState.selected.has(r.instanceId) });
        box.addEventListener("change", () => { if (box.checked) listState.selected.add(r.instanceId); else listState.selected.delete(r.instanceId); updateSel(); });
        return el("tr", { "data-instance-id": r.instanceId },
          el("td", {}, box),
          el("td", {}, r.name),
          el("td", { class: "id" }, el("a", { href: "#/instance/" + enc(r.instanceId) }, r.instanceId)),
          el("td", {}, badge(r.runtimeStatus)),
          el("td", { class: "opt" }, fmtTime(r.createdTime)),
          el("td", { class: "opt" }, fmtTime(r.lastUpdatedTime)));
      }));
      const table = el("table", { id: "instances-table" },
        el("caption", { class: "skip" }, "Orchestration instances"),
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, allBox), header("Name", "name"), header("Instance id", "instanceId"),
          header("Status", "runtimeStatus"), header("Created", "createdTime", "opt"), header("Last updated", "lastUpdatedTime", "opt"))),
        tbody);
      tableWrap.replaceChildren(rows.length ? table : el("p", { class: "muted", style: null }, "No instances match."));
      updateSel();
    }
    function updateSel() {
      selInfo.textContent = listState.selected.size ? listState.selected.size + " selected" : "";
    }
    function renderPager() {
      pager.replaceChildren(
        el("button", { type: "button", id: "prev-page", disabled: listState.page === 0, onclick: () => { listState.page--; load(); } }, "Previous page"),
        el("span", { class: "muted" }, "Page " + (listState.page + 1)),
        el("button", { type: "button", id: "next-page", disabled: !listState.tokens[listState.page + 1], onclick: () => { listState.page++; load(); } }, "Next page"));
    }
    async function load(quiet) {
      try {
        const p = await fetchPage(f, listState.tokens[listState.page], pageSize);
        if (!alive()) return;
        listState.rows = p.rows;
        listState.tokens[listState.page + 1] = p.next;
        listState.tokens.length = listState.page + 2;
        renderTable();
        renderPager();
        loadCounts();
      } catch (e) {
        if (alive() && !quiet) flash("Listing instances failed: " + e.message, "error");
      }
    }
    async function loadCounts() {
      const cf = Object.assign({}, f, { statuses: [] });
      try {
        const all = await fetchAll(cf, 5000);
        if (!alive()) return;
        const by = {};
        for (const r of all.rows) by[r.runtimeStatus] = (by[r.runtimeStatus] || 0) + 1;
        counts.replaceChildren(el("span", { class: "count" }, "All: " + all.rows.length + (all.more ? "+" : "")),
          ...STATUSES.filter((s) => by[s]).map((s) => el("a", { class: "count st-" + s, href: "#/instances?" + new URLSearchParams(Object.assign(
            f.name ? { name: f.name } : {}, f.prefix ? { prefix: f.prefix } : {}, { status: s })) }, s + ": " + by[s])));
      } catch (_) { /* the list already reported the error */ }
    }
    async function selectMatching() {
      try {
        const all = await fetchAll(f, 10000);
        for (const r of all.rows) listState.selected.add(r.instanceId);
        renderTable();
        flash("Selected " + all.rows.length + " matching instance(s)" + (all.more ? " (the first 10,000)" : "") + ".", "ok");
      } catch (e) { flash("Selecting failed: " + e.message, "error"); }
    }
    function bulkAction(kind) {
      const ids = Array.from(listState.selected);
      if (!ids.length) { flash("Select instances first.", "error"); return; }
      const reason = el("input", { type: "text", id: "bulk-reason", value: "Terminated from the dashboard" });
      const body = [el("p", {}, (kind === "purge" ? "Purge the history of " : "Terminate ") + ids.length + " instance(s)? This cannot be undone.")];
      if (kind === "terminate") body.push(el("label", { for: "bulk-reason" }, "Reason", reason));
      openDialog(kind === "purge" ? "Purge instances" : "Terminate instances", body, kind === "purge" ? "Purge" : "Terminate", async () => {
        let ok = 0;
        const failed = [];
        for (const id of ids) {
          try {
            if (kind === "purge") await api("DELETE", "/instances/" + enc(id));
            else await api("POST", "/instances/" + enc(id) + "/terminate?reason=" + enc(reason.value));
            ok++;
          } catch (e) { failed.push(id + " (" + e.message + ")"); }
        }
        listState.selected.clear();
        flash((kind === "purge" ? "Purged " : "Terminated ") + ok + " of " + ids.length + "." + (failed.length ? " Failed: " + failed.join("; ") : ""), failed.length ? "error" : "ok");
        setTimeout(load, 300);
      }, true);
    }
    await load();
  }

  // ---- one instance ----
  async function instanceView(id, alive) {
    const path = "/instances/" + enc(id);
    const res = await api("GET", path + "?showHistory=true&showHistoryOutput=true&showInput=true&showChildInstanceIds=true", { accept: [404] });
    if (!alive()) return;
    if (res.status === 404) {
      show(el("h1", {}, "Instance not found"), el("p", {}, "No instance with id ", el("code", {}, id), " exists (it may have been purged)."),
        el("p", {}, el("a", { href: "#/instances" }, "Back to the instances")));
      return;
    }
    const st = res.data;
    const live = ["Pending", "Running", "Suspended"].includes(st.runtimeStatus);
    const actions = el("div", { class: "actions", role: "group", "aria-label": "Instance actions" },
      el("button", { type: "button", id: "act-raise", disabled: !live, onclick: () => raiseEvent(id) }, "Raise event"),
      el("button", { type: "button", id: "act-terminate", class: "danger", disabled: !live, onclick: () => command(id, "terminate") }, "Terminate"),
      el("button", { type: "button", id: "act-suspend", disabled: st.runtimeStatus !== "Running" && st.runtimeStatus !== "Pending", onclick: () => command(id, "suspend") }, "Suspend"),
      el("button", { type: "button", id: "act-resume", disabled: st.runtimeStatus !== "Suspended", onclick: () => command(id, "resume") }, "Resume"),
      el("button", { type: "button", id: "act-rewind", disabled: st.runtimeStatus !== "Failed", onclick: () => command(id, "rewind") }, "Rewind"),
      el("button", { type: "button", id: "act-restart", disabled: live, onclick: () => restart(id) }, "Restart"),
      el("button", { type: "button", id: "act-purge", class: "danger", disabled: live, onclick: () => purge(id) }, "Purge"));
    const events = st.historyEvents || [];
    const failure = failureOf(st, events);
    show(
      el("p", {}, el("a", { href: "#/instances" }, "← Instances")),
      el("h1", {}, st.name + " ", badge(st.runtimeStatus)),
      el("p", { class: "id muted" }, "Instance id: ", el("code", { id: "instance-id" }, st.instanceId),
        live ? el("span", { class: "muted" }, " · live, refreshing every 2 s") : null),
      actions,
      el("div", { class: "grid" },
        el("section", { class: "card" }, el("h2", {}, "Status"), el("dl", { class: "props" },
          el("dt", {}, "Runtime status"), el("dd", { id: "runtime-status" }, st.runtimeStatus),
          el("dt", {}, "Created"), el("dd", {}, fmtTime(st.createdTime)),
          el("dt", {}, "Last updated"), el("dd", {}, fmtTime(st.lastUpdatedTime)),
          el("dt", {}, "History events"), el("dd", {}, String(events.length)))),
        jsonBlock("Input", st.input), jsonBlock("Output", st.output), jsonBlock("Custom status", st.customStatus)),
      failure ? el("section", { class: "card", id: "failure" }, el("h2", {}, "Failure"), failure) : null,
      el("h2", {}, "Timeline"), timeline(events, st),
      el("h2", {}, "History"), historyTable(events));
    if (live) {
      refreshTimer = setInterval(async () => {
        if (!alive() || dialog.open) return;
        try {
          const r = await api("GET", path);
          if (alive() && r.data && (r.data.runtimeStatus !== st.runtimeStatus || r.data.lastUpdatedTime !== st.lastUpdatedTime)) route();
        } catch (_) { /* keep the page; the next tick retries */ }
      }, 2000);
    }
  }
  function failureOf(st, events) {
    if (st.runtimeStatus !== "Failed") return null;
    const done = events.find((e) => e.EventType === "ExecutionCompleted");
    let fd = done && done.FailureDetails;
    if (typeof fd === "string") { try { fd = JSON.parse(fd); } catch (_) { fd = null; } }
    const render = (d) => el("div", { class: "failure" },
      el("strong", {}, d.ErrorType || d.errorType || "Error"), ": ", d.ErrorMessage || d.errorMessage || "",
      (d.StackTrace || d.stackTrace) ? el("pre", { class: "json" }, d.StackTrace || d.stackTrace) : null,
      (d.InnerFailure || d.innerFailure) ? el("div", {}, el("span", { class: "muted" }, "Caused by:"), render(d.InnerFailure || d.innerFailure)) : null);
    if (fd && typeof fd === "object") return render(fd);
    const out = st.output;
    return el("div", { class: "failure" }, typeof out === "string" ? out : pretty(out));
  }
  function timeline(events, st) {
    const t = (s) => (s ? new Date(s).getTime() : NaN);
    const started = events.find((e) => e.EventType === "ExecutionStarted");
    const completed = events.find((e) => e.EventType === "ExecutionCompleted");
    const now = Date.now();
    const items = [];
    const firedAt = new Set(events.filter((e) => e.EventType === "TimerFired").map((e) => e.FireAt));
    for (const e of events) {
      switch (e.EventType) {
        case "TaskCompleted": case "TaskFailed":
          items.push({ label: e.FunctionName || "activity", kind: e.EventType === "TaskFailed" ? "fail" : "ok", from: t(e.ScheduledTime || e.Timestamp), to: t(e.Timestamp),
            what: e.EventType === "TaskFailed" ? "activity failed" : "activity completed" });
          break;
        case "TaskScheduled":
          items.push({ label: e.Name || e.FunctionName || "activity", kind: "running", from: t(e.Timestamp), to: null, what: "activity running" });
          break;
        case "SubOrchestrationInstanceCompleted": case "SubOrchestrationInstanceFailed":
          items.push({ label: e.FunctionName || "sub-orchestration", kind: e.EventType.endsWith("Failed") ? "fail" : "sub", from: t(e.ScheduledTime || e.Timestamp), to: t(e.Timestamp),
            child: e.InstanceId, what: e.EventType.endsWith("Failed") ? "sub-orchestration failed" : "sub-orchestration completed" });
          break;
        case "SubOrchestrationInstanceCreated":
          items.push({ label: e.Name || "sub-orchestration", kind: "running", from: t(e.Timestamp), to: null, child: e.InstanceId, what: "sub-orchestration running" });
          break;
        case "TimerCreated": {
          const fired = firedAt.has(e.FireAt);
          const ended = completed && !fired; // the instance finished first
          items.push({ label: "timer", kind: "timer", from: t(e.Timestamp), to: ended ? Math.min(t(e.FireAt), t(completed.Timestamp)) : t(e.FireAt),
            what: fired ? "timer fired" : ended ? "timer not fired" : "timer waiting until " + new Date(e.FireAt).toLocaleString() });
          break;
        }
        case "EventRaised": case "EventSent":
          items.push({ label: (e.EventType === "EventRaised" ? "event " : "sent ") + (e.Name || ""), kind: "mark", from: t(e.Timestamp), to: t(e.Timestamp), what: e.EventType === "EventRaised" ? "event received" : "event sent" });
          break;
      }
    }
    const start = started ? t(started.Timestamp) : Math.min(...items.map((i) => i.from).filter(isFinite), now);
    const endCandidates = items.map((i) => (i.to === null ? now : i.to)).filter(isFinite);
    if (completed) endCandidates.push(t(completed.Timestamp));
    else if (["Pending", "Running", "Suspended"].includes(st.runtimeStatus)) endCandidates.push(now);
    const end = Math.max(start + 1, ...endCandidates);
    const span = end - start;
    const box = el("div", { class: "timeline", id: "timeline", role: "list", "aria-label": "Timeline of the instance's work" });
    if (!items.length) {
      box.append(el("p", { class: "muted" }, "No activities, timers, sub-orchestrations or events yet."));
      return box;
    }
    for (const it of items) {
      const to = it.to === null ? now : it.to;
      const dur = it.kind === "mark" ? "" : fmtDuration(to - it.from);
      const label = it.child ? el("a", { href: "#/instance/" + enc(it.child) }, it.label) : document.createTextNode(it.label);
      const bar = el("div", { class: it.kind === "mark" ? "tl-mark" : "tl-bar " + it.kind, "aria-hidden": "true", title: it.what + (dur ? ", " + dur : "") });
      bar.style.left = (Math.max(0, (it.from - start) / span) * 100).toFixed(3) + "%";
      if (it.kind !== "mark") bar.style.width = (Math.max(0, (to - it.from) / span) * 100).toFixed(3) + "%";
      box.append(el("div", { class: "tl-row", role: "listitem", "data-kind": it.kind, "data-label": it.label },
        el("div", { class: "tl-label" }, label, el("span", { class: "muted" }, " · " + it.what + (dur ? ", " + dur : ""))),
        el("div", { class: "tl-track" }, bar)));
    }
    box.append(el("div", { class: "tl-axis", "aria-hidden": "true" }, el("span", {}, "0"), el("span", {}, fmtDuration(span))),
      el("div", { class: "legend", "aria-hidden": "true" }, el("span", { class: "ok" }, "completed"), el("span", { class: "fail" }, "failed"),
        el("span", { class: "running" }, "running"), el("span", { class: "timer" }, "timer"), el("span", { class: "sub" }, "sub-orchestration"),
        el("span", { class: "mark" }, "event")));
    return box;
  }
  function historyTable(events) {
    if (!events.length) return el("p", { class: "muted" }, "No history.");
    const detail = (e) => {
      const parts = [];
      for (const k of ["Name", "FunctionName", "InstanceId", "Reason", "Input", "Result", "Details", "FireAt", "OrchestrationStatus"]) {
        if (e[k] !== undefined && e[k] !== null && e[k] !== "") {
          let v = typeof e[k] === "string" ? e[k] : JSON.stringify(e[k]);
          if (v.length > 200) v = v.slice(0, 200) + "…";
          parts.push(k + ": " + v);
        }
      }
      return parts.join(" · ");
    };
    return el("div", { class: "table-wrap" }, el("table", { id: "history-table" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "#"), el("th", { scope: "col" }, "Event"), el("th", { scope: "col", class: "opt" }, "Time"), el("th", { scope: "col" }, "Details"))),
      el("tbody", {}, events.map((e, i) => el("tr", {}, el("td", {}, String(i + 1)), el("td", {}, e.EventType), el("td", { class: "opt" }, fmtTime(e.Timestamp)), el("td", { class: "detail" }, detail(e)))))));
  }
  function showAnswer(what, res) {
    flash(what + ": HTTP " + res.status + (res.data && typeof res.data === "object" && res.data.Message ? " — " + res.data.Message : "") + ".", "ok");
  }
  function raiseEvent(id) {
    const name = el("input", { type: "text", id: "event-name", required: true, autocomplete: "off" });
    const data = el("textarea", { id: "event-data", placeholder: "JSON, e.g. true or {\"approved\": true}" });
    openDialog("Raise an event", [el("label", { for: "event-name" }, "Event name", name), el("label", { for: "event-data" }, "Event data (JSON; empty means null)", data)], "Raise event", async () => {
      const n = name.value.trim();
      if (!n) return "The event name must not be empty.";
      let body = data.value.trim() || "null";
      try { JSON.parse(body); } catch (e) { return "The event data is not valid JSON: " + e.message; }
      try {
        const res = await api("POST", "/instances/" + enc(id) + "/raiseEvent/" + enc(n), { json: body });
        showAnswer("Raised " + n, res);
        setTimeout(route, 500);
      } catch (e) { return e.message; }
    });
  }
  function command(id, cmd) {
    const reason = el("input", { type: "text", id: "cmd-reason", value: "From the dashboard" });
    const title = cmd[0].toUpperCase() + cmd.slice(1);
    openDialog(title + " instance", [el("p", {}, title + " ", el("code", {}, id), "?"), el("label", { for: "cmd-reason" }, "Reason", reason)], title, async () => {
      try {
        const res = await api("POST", "/instances/" + enc(id) + "/" + cmd + "?reason=" + enc(reason.value));
        showAnswer(title, res);
        setTimeout(route, 500);
      } catch (e) { return e.message; }
    }, cmd === "terminate");
  }
  function restart(id) {
    const sameId = el("input", { type: "checkbox", id: "restart-same-id" });
    openDialog("Restart instance", [el("p", {}, "Start ", el("code", {}, id), "'s orchestrator again with the same input?"),
      el("label", { class: "inline", for: "restart-same-id" }, sameId, "Reuse the same instance id")], "Restart", async () => {
      try {
        const res = await api("POST", "/instances/" + enc(id) + "/restart?restartWithNewInstanceId=" + (!sameId.checked));
        showAnswer("Restarted", res);
        const newID = res.data && res.data.id;
        if (newID) go("#/instance/" + enc(newID)); else setTimeout(route, 500);
      } catch (e) { return e.message; }
    });
  }
  function purge(id) {
    openDialog("Purge instance", [el("p", {}, "Delete the history and status of ", el("code", {}, id), "? This cannot be undone.")], "Purge", async () => {
      try {
        const res = await api("DELETE", "/instances/" + enc(id));
        showAnswer("Purged " + id, res);
        go("#/instances");
      } catch (e) { return e.message; }
    }, true);
  }

  // ---- entities ----
  async function entitiesView(params, alive) {
    const name = params.get("name") || "";
    const nameIn = el("input", { type: "text", id: "entity-name", value: name, placeholder: "all entities" });
    const form = el("form", { class: "filters", role: "search", "aria-label": "Filter entities" },
      el("label", { for: "entity-name" }, "Entity name", nameIn), el("button", { type: "submit", class: "primary" }, "Show"));
    form.addEventListener("submit", (ev) => { ev.preventDefault(); go("#/entities" + (nameIn.value.trim() ? "?name=" + enc(nameIn.value.trim()) : "")); });
    const wrap = el("div", { class: "table-wrap" });
    show(el("h1", {}, "Entities"), form, wrap);
    const rows = [];
    let token = "";
    do {
      const res = await api("GET", "/entities" + (name ? "/" + enc(name) : "") + "?fetchState=true&top=200", { headers: token ? { "x-ms-continuation-token": token } : {} });
      rows.push(...(res.data || []));
      token = res.headers.get("x-ms-continuation-token") || "";
    } while (token && rows.length < 2000);
    if (!alive()) return;
    if (!rows.length) { wrap.replaceChildren(el("p", { class: "muted" }, "No entities.")); return; }
    wrap.replaceChildren(el("table", { id: "entities-table" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Name"), el("th", { scope: "col" }, "Key"), el("th", { scope: "col" }, "State"), el("th", { scope: "col", class: "opt" }, "Last operation"))),
      el("tbody", {}, rows.map((r) => {
        let preview = r.state === undefined ? "" : JSON.stringify(r.state);
        if (preview.length > 120) preview = preview.slice(0, 120) + "…";
        return el("tr", {}, el("td", {}, r.entityId.name),
          el("td", { class: "id" }, el("a", { href: "#/entity/" + enc(r.entityId.name) + "/" + enc(r.entityId.key) }, r.entityId.key || "(empty key)")),
          el("td", { class: "id" }, preview), el("td", { class: "opt" }, fmtTime(r.lastOperationTime)));
      }))));
  }
  async function entityView(name, key, alive) {
    const path = "/entities/" + enc(name) + "/" + (key === "" ? "$" : enc(key));
    const res = await api("GET", path, { accept: [404] });
    if (!alive()) return;
    const exists = res.status !== 404;
    const op = el("input", { type: "text", id: "signal-op", autocomplete: "off", placeholder: "e.g. add" });
    const input = el("textarea", { id: "signal-input", placeholder: "JSON, e.g. 1" });
    const err = el("p", { class: "error", role: "alert", id: "signal-error" });
    const form = el("form", { class: "card", id: "signal-form", "aria-label": "Signal the entity" },
      el("h2", {}, "Signal an operation"), el("label", { for: "signal-op" }, "Operation", op),
      el("label", { for: "signal-input" }, "Input (JSON; empty for none)", input), err,
      el("div", { class: "actions" }, el("button", { type: "submit", class: "primary", id: "signal-send" }, "Send signal"),
        el("button", { type: "button", class: "danger", id: "entity-delete", disabled: !exists, onclick: deleteEntity }, "Delete entity")));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      err.textContent = "";
      const o = op.value.trim();
      if (!o) { err.textContent = "The operation name must not be empty."; return; }
      const body = input.value.trim();
      if (body) { try { JSON.parse(body); } catch (e) { err.textContent = "The input is not valid JSON: " + e.message; return; } }
      try {
        const r = await api("POST", path + "?op=" + enc(o), body ? { json: body } : {});
        showAnswer("Signaled " + o, r);
        watchState();
      } catch (e) { err.textContent = e.message; }
    });
    const stateBox = el("div", { id: "entity-state-box" });
    const renderState = (r) => stateBox.replaceChildren(r.status === 404 ? el("p", { class: "muted", id: "entity-state" }, "This entity has no state.")
      : el("pre", { class: "json", id: "entity-state", tabindex: "0" }, pretty(r.data)));
    renderState(res);
    show(el("p", {}, el("a", { href: "#/entities" }, "← Entities")), el("h1", {}, "@" + name + "@" + key),
      el("div", { class: "grid" }, el("section", { class: "card" }, el("h2", {}, "State"), stateBox), form));
    function watchState() {
      let n = 0;
      clearInterval(refreshTimer);
      refreshTimer = setInterval(async () => {
        if (!alive() || ++n > 15) { clearInterval(refreshTimer); return; }
        try { const r = await api("GET", path, { accept: [404] }); if (alive()) renderState(r); } catch (_) { /* retry on the next tick */ }
      }, 1000);
    }
    function deleteEntity() {
      openDialog("Delete entity", [el("p", {}, "Signal the delete operation to @" + name + "@" + key + "? Its state is removed.")], "Delete", async () => {
        try { const r = await api("DELETE", path); showAnswer("Delete signaled", r); watchState(); } catch (e) { return e.message; }
      }, true);
    }
  }

  // ---- the task hub ----
  async function hubView(alive) {
    const res = await api("GET", "/hub?poison=32", { accept: [501] });
    if (!alive()) return;
    if (res.status === 501) { show(el("h1", {}, "Task hub"), el("p", {}, "This app's storage offers no task hub view.")); return; }
    const h = res.data;
    document.getElementById("hub-name").textContent = h.taskHub;
    const now = Date.now();
    show(
      el("h1", {}, "Task hub ", el("code", { id: "hub-title" }, h.taskHub)),
      el("div", { class: "toolbar" }, el("span", { class: "muted" }, "Partitions owned through " + (h.partitionScheme === "table" ? "the Partitions table" : h.partitionScheme)),
        el("span", { class: "spacer" }), el("button", { type: "button", onclick: route }, "Refresh")),
      el("h2", {}, "Workers (" + (h.workers || []).length + ")"),
      (h.workers || []).length ? el("ul", { id: "workers" }, h.workers.map((w) => el("li", {}, el("code", {}, w)))) : el("p", { class: "muted" }, "No partition has an owner."),
      el("h2", {}, "Partitions"),
      el("div", { class: "table-wrap" }, el("table", { id: "partitions-table" },
        el("thead", {}, el("tr", {}, ["Partition", "Owner", "Next owner", "Lease expires", "Draining"].map((c) => el("th", { scope: "col" }, c)))),
        el("tbody", {}, (h.partitions || []).map((p) => el("tr", {}, el("td", { class: "id" }, p.name), el("td", { class: "id" }, p.currentOwner || "—"),
          el("td", { class: "id" }, p.nextOwner || "—"), el("td", {}, fmtTime(p.expiresAt)), el("td", {}, p.isDraining ? "yes" : "no")))))),
      el("h2", {}, "Queues"),
      el("div", { class: "table-wrap" }, el("table", { id: "queues-table" },
        el("thead", {}, el("tr", {}, ["Queue", "Kind", "Messages (approx.)", "Oldest visible message"].map((c) => el("th", { scope: "col" }, c)))),
        el("tbody", {}, (h.queues || []).map((q) => el("tr", { "data-queue": q.name }, el("td", { class: "id" }, q.name), el("td", {}, q.kind),
          el("td", {}, q.exists ? String(q.approximateMessages) : "not created"),
          el("td", {}, q.oldestMessage ? el("span", {}, fmtTime(q.oldestMessage), " (" + fmtDuration(now - new Date(q.oldestMessage).getTime()) + " ago)") : "—")))))),
      el("h2", {}, "Poison messages"),
      (h.poison || []).length ? el("div", { id: "poison" }, h.poison.map((m) => el("section", { class: "card" },
        el("h2", {}, el("code", {}, m.messageId)), el("dl", { class: "props" }, el("dt", {}, "Inserted"), el("dd", {}, fmtTime(m.insertedAt)),
          el("dt", {}, "Dequeue count"), el("dd", {}, String(m.dequeueCount))), el("pre", { class: "json" }, prettyText(m.body)))))
        : el("p", { class: "muted", id: "poison" }, "The poison queue is empty."));
  }

  // The hub's name in the header, once (it needs the key like any call).
  api("GET", "/hub?poison=0", { accept: [501] }).then((r) => {
    if (r.status === 200 && r.data) document.getElementById("hub-name").textContent = r.data.taskHub;
  }).catch(() => {});
  route();
})();

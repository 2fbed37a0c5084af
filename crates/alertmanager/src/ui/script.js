// Promethium Alertmanager UI. Plain script, no build step: every view is rendered from the
// API v2 (`api(...)` below is the only way it talks to the server, so a test can check each
// path it uses against the real routes). Views live in the URL hash, so links and reloads
// keep the filters; the page works under any route prefix because all paths are relative.
"use strict";

const API = location.pathname.replace(/[^/]*$/, "") + "api/v2";
const GROUPS_PER_PAGE = 100;
const SILENCES_PER_PAGE = 200;
const main = document.getElementById("main");
const errorBox = document.getElementById("error");
let renderToken = 0;

// ---- helpers -------------------------------------------------------------------------

/** Calls the API: `path` may hold `{name}` parts filled from `params`; `query` is a list of
 *  [name, value] pairs (a name may repeat). Resolves to the parsed JSON answer. */
async function api(method, path, { params = {}, query = [], body } = {}) {
  let url = API + path.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(params[k]));
  const qs = new URLSearchParams(query).toString();
  if (qs) url += "?" + qs;
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(url, init);
  const text = await resp.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!resp.ok) {
    const msg = typeof data === "string" ? data : (data && data.message) || text;
    throw new Error(`${method} ${path}: ${resp.status} ${msg}`);
  }
  return data;
}

/** Builds an element; text children are inserted as text, never as HTML. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c != null && c !== false) el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

function showError(err) {
  errorBox.textContent = String(err && err.message ? err.message : err);
  errorBox.hidden = false;
}

function go(path, query) {
  const qs = new URLSearchParams(
    Object.entries(query || {}).filter(([, v]) => v !== "" && v != null && v !== false),
  ).toString();
  const next = "#" + path + (qs ? "?" + qs : "");
  // The same hash fires no hashchange: render again, which is what a repeated Apply means.
  if (location.hash === next) route();
  else location.hash = next;
}

function fmtTime(s) {
  const d = new Date(s);
  return isNaN(d) ? String(s) : d.toISOString().slice(0, 19).replace("T", " ") + " UTC";
}

/** A duration in the Alertmanager's style: 1w2d3h4m5s. */
function fmtDuration(ms) {
  let s = Math.round(Math.abs(ms) / 1000);
  if (s === 0) return "0s";
  let out = "";
  for (const [unit, len] of [["w", 604800], ["d", 86400], ["h", 3600], ["m", 60], ["s", 1]]) {
    if (s >= len) {
      out += Math.floor(s / len) + unit;
      s %= len;
    }
  }
  return out;
}

function parseDuration(text) {
  const len = { ms: 1, s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 };
  const re = /(\d+(?:\.\d+)?)(ms|w|d|h|m|s)/y;
  const s = text.trim();
  if (!s) throw new Error("a duration is needed");
  let total = 0;
  for (let pos = 0; pos < s.length; pos = re.lastIndex) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) throw new Error(`bad duration: ${text}`);
    total += parseFloat(m[1]) * len[m[2]];
  }
  return total;
}

function relative(s) {
  const ms = Date.now() - new Date(s).getTime();
  return ms >= 0 ? fmtDuration(ms) + " ago" : "in " + fmtDuration(ms);
}

// ---- matchers ------------------------------------------------------------------------

/** Splits `{a="1", b=~"x,y"}` or one matcher a line into matcher texts, honouring quotes. */
function splitMatchers(text) {
  let s = text.trim();
  if (s.startsWith("{") && s.endsWith("}")) s = s.slice(1, -1);
  const out = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quoted && ch === "\\") {
      cur += ch + (s[++i] || "");
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (!quoted && (ch === "," || ch === "\n")) {
      out.push(cur);
      cur = "";
      continue;
    }
    cur += ch;
  }
  out.push(cur);
  return out.map((m) => m.trim()).filter(Boolean);
}

const MATCHER = /^("(?:[^"\\]|\\.)*"|[^\s"=!~]+)\s*(=~|!~|!=|=)\s*(.*)$/s;

function unquote(s) {
  if (!s.startsWith('"')) return s;
  try {
    return JSON.parse(s);
  } catch {
    throw new Error(`bad quoting: ${s}`);
  }
}

/** One matcher text as the API's matcher object. */
function parseMatcher(text) {
  const m = MATCHER.exec(text);
  if (!m) throw new Error(`not a matcher: ${text}`);
  return {
    name: unquote(m[1]),
    value: unquote(m[3].trim()),
    isRegex: m[2].includes("~"),
    isEqual: !m[2].startsWith("!"),
  };
}

function matcherText(m) {
  const name = /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(m.name) ? m.name : JSON.stringify(m.name);
  const negative = m.isEqual === false;
  const op = m.isRegex ? (negative ? "!~" : "=~") : negative ? "!=" : "=";
  return name + op + JSON.stringify(m.value);
}

function labelMatchers(labels) {
  return Object.entries(labels).map(([name, value]) =>
    matcherText({ name, value, isRegex: false, isEqual: true }),
  );
}

// ---- alerts --------------------------------------------------------------------------

async function alertsView(q, token) {
  const filter = q.get("filter") || "";
  const receiver = q.get("receiver") || "";
  const silenced = q.get("silenced") === "1";
  const inhibited = q.get("inhibited") === "1";
  const apply = (changes) =>
    go("/alerts", {
      filter, receiver, silenced: silenced ? 1 : "", inhibited: inhibited ? 1 : "", ...changes,
    });
  const addFilter = (m) => apply({ filter: [...splitMatchers(filter), m].join(", ") });

  const input = h("input", { type: "text", value: filter, placeholder: 'Filter: {severity="critical", team=~"db|web"}' });
  const select = h("select", { title: "Receiver" }, h("option", { value: "" }, "All receivers"));
  const box = (name, on, text) =>
    h("label", {}, h("input", { type: "checkbox", checked: on, onchange: (e) => apply({ [name]: e.target.checked ? 1 : "" }) }), " ", text);
  const toolbar = h("form", { class: "toolbar", onsubmit: (e) => { e.preventDefault(); apply({ filter: input.value, receiver: select.value }); } },
    input, select, box("silenced", silenced, "Silenced"), box("inhibited", inhibited, "Inhibited"),
    h("button", { class: "primary", type: "submit" }, "Apply"));
  select.addEventListener("change", () => apply({ filter: input.value, receiver: select.value }));

  const query = splitMatchers(filter).map((m) => ["filter", m]);
  if (receiver) query.push(["receiver", receiver.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&")]);
  query.push(["silenced", String(silenced)], ["inhibited", String(inhibited)]);
  const [receivers, groups] = await Promise.all([
    api("GET", "/receivers"),
    api("GET", "/alerts/groups", { query }),
  ]);
  if (token !== renderToken) return;
  for (const r of receivers) select.append(h("option", { value: r.name, selected: r.name === receiver }, r.name));

  const total = groups.reduce((n, g) => n + g.alerts.length, 0);
  const list = h("div");
  const summary = h("p", { class: "muted" }, `${groups.length} groups, ${total} alerts`);
  main.replaceChildren(h("h2", {}, "Alerts"), toolbar, summary, list);
  const expand = groups.length <= 20;
  paginate(list, groups, GROUPS_PER_PAGE, (g) => groupCard(g, expand, addFilter), "groups");
}

/** Appends `items` to `parent` a page at a time, with a button for the next page, so a
 *  listing of thousands of groups costs only what is on screen. */
function paginate(parent, items, perPage, render, noun) {
  let shown = 0;
  const more = h("button", { class: "more", type: "button" });
  const next = () => {
    const frag = document.createDocumentFragment();
    for (const item of items.slice(shown, shown + perPage)) frag.append(render(item));
    shown = Math.min(items.length, shown + perPage);
    more.before(frag);
    more.textContent = `Show ${Math.min(perPage, items.length - shown)} more (${items.length - shown} ${noun} left)`;
    more.hidden = shown >= items.length;
  };
  more.addEventListener("click", next);
  parent.append(more);
  if (!items.length) more.before(h("p", { class: "muted" }, `No ${noun}.`));
  next();
}

function chip(name, value, cls, onclick) {
  return h("span", { class: "label" + (cls ? " " + cls : ""), title: "Add to the filter", onclick }, `${name}="${value}"`);
}

function groupCard(group, expanded, addFilter) {
  const head = h("div", { class: "head" },
    Object.entries(group.labels).map(([k, v]) => chip(k, v, "group", (e) => { e.stopPropagation(); addFilter(matcherText({ name: k, value: v, isEqual: true })); })),
    Object.keys(group.labels).length ? null : h("span", { class: "muted" }, "(no grouping labels)"),
    h("span", { class: "count" }, `${group.receiver.name} · ${group.alerts.length} alert${group.alerts.length === 1 ? "" : "s"}`));
  const card = h("div", { class: "card" }, head);
  let body = null;
  const toggle = () => {
    if (body) {
      body.hidden = !body.hidden;
      return;
    }
    body = h("div", { class: "body" }, group.alerts.map((a) => alertItem(a, group.labels, addFilter)));
    card.append(body);
  };
  head.addEventListener("click", toggle);
  if (expanded) toggle();
  return card;
}

function alertItem(alert, groupLabels, addFilter) {
  const st = alert.status || {};
  const tags = [h("span", { class: "tag " + (st.state || "active") }, st.state || "active")];
  for (const id of st.silencedBy || []) tags.push(" ", h("a", { href: "#/silences?id=" + encodeURIComponent(id) }, "silenced"));
  if ((st.inhibitedBy || []).length) tags.push(" ", h("span", { class: "muted" }, "inhibited"));
  const own = Object.entries(alert.labels).filter(([k]) => !(k in groupLabels));
  const annotations = Object.entries(alert.annotations || {});
  return h("div", { class: "alert" },
    h("div", {}, tags, " ", h("span", { class: "muted", title: fmtTime(alert.startsAt) }, "started " + relative(alert.startsAt))),
    h("div", { class: "labels" }, own.map(([k, v]) => chip(k, v, "", () => addFilter(matcherText({ name: k, value: v, isEqual: true }))))),
    annotations.length ? h("dl", {}, annotations.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])) : null,
    h("div", { class: "actions" },
      h("a", { href: "#/silences/new?" + new URLSearchParams({ matchers: labelMatchers(alert.labels).join("\n") }) }, "Silence"),
      alert.generatorURL ? h("a", { href: alert.generatorURL, rel: "noopener" }, "Source") : null));
}

// ---- silences ------------------------------------------------------------------------

async function silencesView(q, token) {
  const filter = q.get("filter") || "";
  const state = q.get("state") || "active";
  const only = q.get("id");
  const silences = await api("GET", "/silences", { query: splitMatchers(filter).map((m) => ["filter", m]) });
  if (token !== renderToken) return;
  const input = h("input", { type: "text", value: filter, placeholder: 'Filter: {alertname="Foo"}' });
  const toolbar = h("form", { class: "toolbar", onsubmit: (e) => { e.preventDefault(); go("/silences", { filter: input.value, state }); } },
    input, h("button", { class: "primary", type: "submit" }, "Apply"),
    h("a", { href: "#/silences/new" }, "New silence"));
  if (only) {
    const s = silences.filter((x) => x.id === only);
    main.replaceChildren(h("h2", {}, "Silence"), h("p", {}, h("a", { href: "#/silences" }, "All silences")));
    paginate(main, s, 1, silenceCard, "such silence");
    return;
  }
  const tabs = h("div", { class: "tabs" }, ["active", "pending", "expired"].map((name) =>
    h("button", { type: "button", class: name === state ? "current" : null, onclick: () => go("/silences", { filter, state: name }) },
      `${name[0].toUpperCase() + name.slice(1)} (${silences.filter((s) => s.status.state === name).length})`)));
  const list = h("div");
  main.replaceChildren(h("h2", {}, "Silences"), toolbar, tabs, list);
  paginate(list, silences.filter((s) => s.status.state === state), SILENCES_PER_PAGE, silenceCard, `${state} silences`);
}

function silenceCard(s) {
  const expired = s.status.state === "expired";
  const expire = h("button", { type: "button", class: "danger", onclick: async () => {
    if (!confirm(`Expire silence ${s.id}?`)) return;
    expire.disabled = true;
    try {
      await api("DELETE", "/silence/{id}", { params: { id: s.id } });
      route();
    } catch (err) {
      expire.disabled = false;
      showError(err);
    }
  } }, "Expire");
  return h("div", { class: "card" },
    h("div", { class: "head" }, h("span", { class: "tag " + s.status.state }, s.status.state),
      s.matchers.map((m) => h("span", { class: "label" }, matcherText(m))),
      h("span", { class: "count" }, expired ? "ended " + relative(s.endsAt) : s.status.state === "pending" ? "starts " + relative(s.startsAt) : "ends " + relative(s.endsAt))),
    h("div", { class: "body" },
      h("dl", { class: "kv" },
        h("dt", {}, "Comment"), h("dd", {}, s.comment),
        h("dt", {}, "Created by"), h("dd", {}, s.createdBy),
        h("dt", {}, "Starts"), h("dd", {}, fmtTime(s.startsAt)),
        h("dt", {}, "Ends"), h("dd", {}, fmtTime(s.endsAt)),
        h("dt", {}, "ID"), h("dd", {}, h("a", { href: "#/silences?id=" + encodeURIComponent(s.id) }, s.id))),
      h("div", { class: "actions" },
        expired ? h("a", { href: "#/silences/new?from=" + encodeURIComponent(s.id) }, "Recreate")
          : [h("a", { href: "#/silences/new?id=" + encodeURIComponent(s.id) }, "Edit"), expire])));
}

/** The create/edit form. `id` edits that silence; `from` copies an expired one into a new
 *  silence; `matchers` pre-fills the matchers (the "Silence" link of an alert). */
async function silenceForm(q, token) {
  const id = q.get("id");
  const source = id || q.get("from");
  const now = new Date();
  let init = { matchers: q.get("matchers") || "", startsAt: now.toISOString(), duration: "2h", createdBy: localStorage.getItem("createdBy") || "", comment: "" };
  if (source) {
    const s = await api("GET", "/silence/{id}", { params: { id: source } });
    if (token !== renderToken) return;
    const start = id ? new Date(s.startsAt) : now;
    const length = new Date(s.endsAt) - new Date(s.startsAt);
    init = { matchers: s.matchers.map(matcherText).join("\n"), startsAt: start.toISOString(), duration: fmtDuration(id ? new Date(s.endsAt) - start : length), createdBy: s.createdBy, comment: s.comment };
  }
  const field = (value) => h("input", { type: "text", value });
  const matchers = h("textarea", { rows: 4, placeholder: 'One a line: alertname="Foo", instance=~"db.*"' }, init.matchers);
  const starts = field(init.startsAt);
  const duration = field(init.duration);
  const ends = field(new Date(new Date(init.startsAt).getTime() + parseDuration(init.duration)).toISOString());
  const createdBy = field(init.createdBy);
  const comment = h("textarea", { rows: 3 }, init.comment);
  const preview = h("div");
  const keepEnd = () => {
    try {
      ends.value = new Date(Date.parse(starts.value) + parseDuration(duration.value)).toISOString();
    } catch { /* an incomplete duration while typing */ }
  };
  const keepDuration = () => {
    const ms = Date.parse(ends.value) - Date.parse(starts.value);
    if (!isNaN(ms) && ms > 0) duration.value = fmtDuration(ms);
  };
  duration.addEventListener("input", keepEnd);
  starts.addEventListener("input", keepEnd);
  ends.addEventListener("input", keepDuration);

  const parsed = () => splitMatchers(matchers.value).map(parseMatcher);
  const showPreview = async () => {
    const ms = parsed();
    const alerts = await api("GET", "/alerts", { query: ms.map((m) => ["filter", matcherText(m)]) });
    preview.replaceChildren(h("h3", {}, `${alerts.length} alerts match now`),
      alerts.slice(0, 50).map((a) => h("div", { class: "alert labels" }, Object.entries(a.labels).map(([k, v]) => chip(k, v)))),
      alerts.length > 50 ? h("p", { class: "muted" }, `and ${alerts.length - 50} more`) : null);
  };
  const submit = async (e) => {
    e.preventDefault();
    const body = {
      matchers: parsed(),
      startsAt: new Date(Date.parse(starts.value)).toISOString(),
      endsAt: new Date(Date.parse(ends.value)).toISOString(),
      createdBy: createdBy.value.trim(),
      comment: comment.value.trim(),
    };
    if (!body.matchers.length) throw new Error("at least one matcher is needed");
    if (id) body.id = id;
    localStorage.setItem("createdBy", body.createdBy);
    const res = await api("POST", "/silences", { body });
    go("/silences", { id: res.silenceID });
  };
  const catching = (f) => (e) => f(e).catch(showError);
  const row = (label, ...inputs) => [h("label", {}, label), h("div", { class: "row" }, inputs)];
  main.replaceChildren(h("h2", {}, id ? "Edit silence" : "New silence"),
    h("form", { class: "silence", onsubmit: catching(submit) },
      row("Matchers", matchers),
      row("Start", starts),
      row("Duration", duration),
      row("End", ends),
      row("Created by", createdBy),
      row("Comment", comment),
      h("span"), h("div", { class: "actions" },
        h("button", { class: "primary", type: "submit" }, id ? "Update" : "Create"),
        h("button", { type: "button", onclick: catching(showPreview) }, "Preview alerts"))),
    preview);
}

// ---- status --------------------------------------------------------------------------

async function statusView(q, token) {
  const status = await api("GET", "/status");
  if (token !== renderToken) return;
  const v = status.versionInfo || {};
  main.replaceChildren(h("h2", {}, "Status"),
    h("dl", { class: "kv" },
      h("dt", {}, "Uptime"), h("dd", {}, `${relative(status.uptime).replace(/ ago$/, "")} (since ${fmtTime(status.uptime)})`),
      h("dt", {}, "Cluster"), h("dd", {}, status.cluster && status.cluster.status),
      Object.entries(v).map(([k, val]) => [h("dt", {}, k), h("dd", {}, val)])),
    h("h3", {}, "Config"),
    h("pre", {}, status.config && status.config.original));
}

// ---- routing -------------------------------------------------------------------------

const VIEWS = {
  "/alerts": ["alerts", alertsView],
  "/silences": ["silences", silencesView],
  "/silences/new": ["new", silenceForm],
  "/status": ["status", statusView],
};

function route() {
  const hash = location.hash.replace(/^#/, "");
  const at = hash.indexOf("?");
  const path = at < 0 ? hash : hash.slice(0, at);
  const [name, view] = VIEWS[path] || VIEWS["/alerts"];
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("current", a.dataset.view === name);
  errorBox.hidden = true;
  const token = ++renderToken;
  main.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  view(new URLSearchParams(at < 0 ? "" : hash.slice(at + 1)), token).catch(showError);
}

window.addEventListener("hashchange", route);
route();

// kwaishop-gateway dashboard: polls the REST stats endpoints and draws them.
// Plain JavaScript, no dependencies; every value from the server is written
// with textContent (API names and open_ids come from callers).
"use strict";

const REFRESH_MS = 5000;
const PALETTE = ["#2f6fde", "#1f9d55", "#d48806", "#d4380d", "#7b4fd6", "#0e9aa7", "#c2378b", "#6b7a8f", "#8c6d1f", "#3a8f3a"];
const SVGNS = "http://www.w3.org/2000/svg";

const $ = (id) => document.getElementById(id);
const num = (x) => (x === undefined || x === null ? 0 : Number(x));
const fmtInt = (n) => num(n).toLocaleString("en-US");
const fmtPct = (r) => (num(r) * 100).toFixed(1) + "%";
const fmtMs = (ms) => (num(ms) >= 100 ? num(ms).toFixed(0) : num(ms).toFixed(1));

let apiKey = sessionStorage.getItem("kwaishop-api-key") || "";
let timer = null;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k === "style") e.style.cssText = v; // CSSOM: allowed by the page's CSP, unlike a style attribute
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

function rateClass(r, calls) {
  if (!num(calls)) return "";
  if (r >= 0.95) return "rate-ok"; // the platform raises quotas only above 95 %
  if (r >= 0.8) return "rate-warn";
  return "rate-bad";
}

async function getJSON(path) {
  const headers = { Accept: "application/json" };
  if (apiKey) headers.Authorization = "Bearer " + apiKey;
  const resp = await fetch(path, { headers, cache: "no-store" });
  if (resp.status === 401 || resp.status === 403) {
    $("keyform").hidden = false;
    throw new Error("an API key is needed (HTTP " + resp.status + ")");
  }
  if (!resp.ok) {
    let msg = "HTTP " + resp.status;
    try { msg += ": " + (await resp.json()).message; } catch (_) { /* not JSON */ }
    throw new Error(path.split("?")[0] + " " + msg);
  }
  return resp.json();
}

function tickLabel(iso, stepSeconds) {
  const d = new Date(iso);
  const hh = String(d.getHours()).padStart(2, "0");
  const mm = String(d.getMinutes()).padStart(2, "0");
  if (stepSeconds >= 3600) return (d.getMonth() + 1) + "/" + d.getDate() + " " + hh + ":00";
  return hh + ":" + mm;
}

// lineChart draws series [{name, color, values: [number|null]}] over labels.
function lineChart(svgEl, legendEl, labels, series, opts) {
  svgEl.replaceChildren();
  legendEl.replaceChildren();
  const vb = svgEl.viewBox.baseVal;
  const W = vb.width, H = vb.height, L = 46, R = 10, T = 10, B = 24;
  const n = labels.length;
  let max = 0;
  for (const s of series) for (const v of s.values) if (v !== null && v > max) max = v;
  const hasData = series.some((s) => s.values.some((v) => v !== null && v > 0));
  let step;
  if (opts.max) {
    max = opts.max;
    step = max / 4;
  } else {
    step = niceStep(max / 4, opts.integer);
    max = Math.max(step, step * Math.ceil(max / step));
  }
  const x = (i) => L + (n <= 1 ? 0 : (i * (W - L - R)) / (n - 1));
  const y = (v) => T + (H - T - B) * (1 - v / max);
  for (let v = 0; v <= max + step / 2; v += step) {
    svgEl.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "axis" }));
    const t = svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end" });
    t.textContent = opts.fmt(v);
    svgEl.append(t);
  }
  const every = Math.max(1, Math.ceil(n / 6));
  for (let i = 0; i < n; i += every) {
    const t = svg("text", { x: x(i), y: H - 6, "text-anchor": "middle" });
    t.textContent = labels[i];
    svgEl.append(t);
  }
  if (!hasData) {
    const t = svg("text", { x: (L + W - R) / 2, y: H / 2, "text-anchor": "middle", class: "nodata" });
    t.textContent = "no data yet";
    svgEl.append(t);
    return;
  }
  for (const s of series) {
    let d = "";
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null) { pen = false; return; }
      d += (pen ? "L" : "M") + x(i).toFixed(1) + " " + y(v).toFixed(1) + " ";
      pen = true;
    });
    if (d) svgEl.append(svg("path", { d, fill: "none", stroke: s.color, "stroke-width": 2, "stroke-linejoin": "round" }));
    s.values.forEach((v, i) => {
      if (v !== null && (s.values[i - 1] == null) && (s.values[i + 1] == null)) {
        svgEl.append(svg("circle", { cx: x(i), cy: y(v), r: 3, fill: s.color })); // isolated point
      }
    });
    legendEl.append(el("span", {}, el("span", { class: "sw", style: "background:" + s.color }), s.name));
  }
}

// niceStep is the smallest 1, 2 or 5 × 10^k at least v (at least 1 for
// counts).
function niceStep(v, integer) {
  if (integer && v <= 1) return 1;
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function gauge(name, used, limit, ratio, unit) {
  const r = num(ratio);
  const fill = el("div", { class: "fill" + (r >= 0.9 ? " bad" : r >= 0.7 ? " warn" : "") });
  fill.style.width = Math.min(100, r * 100).toFixed(1) + "%";
  const mark = el("div", { class: "mark" });
  mark.style.left = "90%";
  return el("div", { class: "gauge", "data-quota": name },
    el("div", { class: "name mono", title: name }, name),
    el("div", { class: "bar" }, fill, mark),
    el("div", { class: "nums" }, fmtInt(used) + " / " + fmtInt(limit) + " " + unit + " (" + fmtPct(r) + ")"));
}

function relTime(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  const s = Math.round((d - Date.now()) / 1000);
  const a = Math.abs(s);
  const span = a >= 86400 ? (a / 86400).toFixed(1) + " d" : a >= 3600 ? (a / 3600).toFixed(1) + " h" : Math.round(a / 60) + " min";
  return (s >= 0 ? "in " + span : span + " ago") + " (" + d.toLocaleString() + ")";
}

function renderApis(st) {
  const total = st.total || {};
  const step = num(st.step_seconds);
  $("total-calls").textContent = fmtInt(total.calls);
  $("total-calls").dataset.value = num(total.calls);
  $("total-success-rate").textContent = num(total.calls) ? fmtPct(total.success_rate) : "–";
  $("total-success-rate").className = "value " + rateClass(num(total.success_rate), total.calls);
  $("total-success-rate").dataset.value = num(total.success_rate);
  $("total-failures").textContent = fmtInt(total.failures);
  $("total-failures").dataset.value = num(total.failures);
  $("total-p95").textContent = num(total.calls) ? fmtMs(total.latency_p95_ms) + " ms" : "–";
  $("replicas").textContent = String((st.replicas || []).length);
  $("step-hint").textContent = step ? "(per " + (step >= 3600 ? step / 3600 + " h" : step / 60 + " min") + ")" : "";

  // Per app: each app's totals (the gateway serves several apps).
  const apps = st.apps || [];
  $("apps-panel").hidden = apps.length < 2;
  $("apps-table").querySelector("tbody").replaceChildren(...apps.map((x) => {
    const t = x.total || {};
    return el("tr", { "data-app": x.app_key },
      el("td", { class: "mono" }, x.app_key),
      el("td", { class: "num", "data-field": "calls", "data-value": num(t.calls) }, fmtInt(t.calls)),
      el("td", { class: "num " + rateClass(num(t.success_rate), t.calls) }, num(t.calls) ? fmtPct(t.success_rate) : "–"),
      el("td", { class: "num", "data-field": "failures", "data-value": num(t.failures) }, fmtInt(t.failures)),
      el("td", { class: "num" }, num(t.calls) ? fmtMs(t.latency_p95_ms) : "–"));
  }));

  const apis = st.apis || [];
  const body = $("api-table").querySelector("tbody");
  body.replaceChildren();
  for (const a of apis) {
    const errs = (a.errors_by_class || []).map((c) => c.class + " ×" + num(c.count)).join(", ");
    body.append(el("tr", { "data-method": a.method },
      el("td", { class: "mono" }, el("a", { href: "#api=" + encodeURIComponent(a.method), "data-api": a.method, title: "describe " + a.method }, a.method)),
      el("td", { class: "num", "data-field": "calls", "data-value": num(a.calls) }, fmtInt(a.calls)),
      el("td", { class: "num " + rateClass(num(a.success_rate), a.calls), "data-field": "success_rate", "data-value": num(a.success_rate) }, fmtPct(a.success_rate)),
      el("td", { class: "num", "data-field": "failures", "data-value": num(a.failures) }, fmtInt(a.failures)),
      el("td", { class: "num" }, fmtMs(a.latency_p50_ms)),
      el("td", { class: "num" }, fmtMs(a.latency_p95_ms)),
      el("td", { class: "num" }, fmtMs(a.latency_p99_ms)),
      el("td", {}, errs || "–")));
  }
  $("api-empty").hidden = apis.length > 0;

  const labels = (total.timeline || []).map((p) => tickLabel(p.start_time, step));
  const top = apis.slice(0, PALETTE.length - 1);
  const volume = [{ name: "all APIs", color: "#1d2330", values: (total.timeline || []).map((p) => num(p.calls)) }]
    .concat(top.map((a, i) => ({ name: a.method, color: PALETTE[i], values: (a.timeline || []).map((p) => num(p.calls)) })));
  lineChart($("chart-volume"), $("legend-volume"), labels, apis.length ? volume : [], { integer: true, fmt: (v) => String(v) });
  const rate = (p) => (num(p.calls) ? (100 * (num(p.calls) - num(p.failures))) / num(p.calls) : null);
  const success = [{ name: "all APIs", color: "#1d2330", values: (total.timeline || []).map(rate) }]
    .concat(top.map((a, i) => ({ name: a.method, color: PALETTE[i], values: (a.timeline || []).map(rate) })));
  lineChart($("chart-success"), $("legend-success"), labels, apis.length ? success : [], { max: 100, fmt: (v) => v.toFixed(0) + "%" });

  const classBody = $("class-table").querySelector("tbody");
  classBody.replaceChildren();
  const classes = total.errors_by_class || [];
  const maxC = Math.max(1, ...classes.map((c) => num(c.count)));
  for (const c of classes) {
    const fill = el("div", { class: "fill bad" });
    fill.style.width = ((100 * num(c.count)) / maxC).toFixed(1) + "%";
    classBody.append(el("tr", { "data-class": c.class },
      el("td", { class: "mono" }, c.class),
      el("td", { style: "width:55%" }, el("div", { class: "bar" }, fill)),
      el("td", { class: "num", "data-field": "count", "data-value": num(c.count) }, fmtInt(c.count))));
  }
  $("class-empty").hidden = classes.length > 0;
  const resultBody = $("result-table").querySelector("tbody");
  resultBody.replaceChildren();
  const results = total.errors_by_result || [];
  for (const r of results) {
    resultBody.append(el("tr", { "data-result": num(r.result) },
      el("td", { class: "mono" }, num(r.result) === 0 ? "none (transport, 5xx, token)" : String(num(r.result))),
      el("td", { class: "num", "data-field": "count", "data-value": num(r.count) }, fmtInt(r.count))));
  }
  $("result-empty").hidden = results.length > 0;
}

function renderQuota(q) {
  const app = q.app_daily || {};
  const apps = q.apps || [];
  if (apps.length > 1) {
    $("quota-app").replaceChildren(...apps.map((a) => gauge(a.app_key + " daily quota", (a.daily || {}).used, (a.daily || {}).limit, (a.daily || {}).ratio, "calls")));
  } else {
    $("quota-app").replaceChildren(gauge("app daily quota", app.used, app.limit, app.ratio, "calls"));
  }
  renderAppFilter(apps);
  $("day-hint").textContent = q.day_start_time ? "(platform day from 00:00 UTC+8 = " + new Date(q.day_start_time).toLocaleString() + ")" : "";
  const users = q.test_users || [];
  const userLabel = (u) => u.open_id + ((u.sub_open_ids || []).length ? " + " + u.sub_open_ids.length + " sub-account(s)" : "") + (apps.length > 1 && u.app_key ? " · " + u.app_key : "");
  $("quota-users").replaceChildren(...users.map((u) => gauge(userLabel(u), (u.daily || {}).used, (u.daily || {}).limit, (u.daily || {}).ratio, "calls")));
  $("quota-users-empty").hidden = users.length > 0;
  const apis = q.apis || [];
  $("quota-qps").replaceChildren(...apis.map((a) => gauge(a.method, a.peak_qps, a.limit_qps, a.ratio, "QPS")));
  $("quota-qps-empty").hidden = apis.length > 0;
  const warnings = q.warnings || [];
  $("warnings").replaceChildren(...warnings.map((w) => el("li", {},
    new Date(w.create_time).toLocaleTimeString() + " " + String(w.kind).replace("QUOTA_KIND_", "").toLowerCase() +
    (w.subject ? " " + w.subject : "") + ": " + fmtInt(w.used) + " / " + fmtInt(w.limit) + " (" + fmtPct(w.ratio) + ")")));
  $("warnings-empty").hidden = warnings.length > 0;
}

// renderAppFilter offers the apps of the quota view (shown with two or
// more): the other panels then ask for the chosen app only.
function renderAppFilter(apps) {
  const select = $("app");
  const known = new Set([...select.options].map((o) => o.value));
  for (const a of apps) if (!known.has(a.app_key)) select.append(el("option", { value: a.app_key }, a.app_key));
  $("app-filter").hidden = select.options.length < 3 && !select.value;
}

function renderAuthorizations(list, shopSelect) {
  const auths = list.authorizations || [];
  const body = $("auth-table").querySelector("tbody");
  body.replaceChildren();
  for (const a of auths) {
    const status = String(a.status || "").replace("AUTHORIZATION_STATUS_", "").toLowerCase();
    body.append(el("tr", { "data-open-id": a.open_id },
      el("td", { class: "mono" }, a.open_id, a.test_user ? el("span", { class: "badge", style: "margin-left:6px" }, "test user") : ""),
      el("td", {}, el("span", { class: "badge " + status }, status || "unknown")),
      el("td", {}, relTime(a.access_token_expire_time)),
      el("td", {}, relTime(a.refresh_token_expire_time))));
  }
  $("auth-empty").hidden = auths.length > 0;
  const current = shopSelect.value;
  const known = new Set([...shopSelect.options].map((o) => o.value));
  for (const a of auths) if (!known.has(a.open_id)) shopSelect.append(el("option", { value: a.open_id }, a.open_id));
  shopSelect.value = current;
}

function renderMessages(m) {
  // The chosen app's messages (app filter), or every app's.
  const t = m.total || {};
  for (const [id, k] of [["msg-received", "received"], ["msg-duplicated", "duplicated"], ["msg-delivered", "delivered"], ["msg-dead", "dead_lettered"]]) {
    $(id).textContent = fmtInt(t[k]);
    $(id).dataset.value = num(t[k]);
  }
  $("msg-panel").dataset.app = m.app_key || "";
  const step = num(m.step_seconds);
  const line = m.timeline || [];
  const labels = line.map((p) => tickLabel(p.start_time, step));
  const pick = (k) => line.map((p) => num((p.counts || {})[k]));
  lineChart($("chart-messages"), $("legend-messages"), labels, [
    { name: "received", color: PALETTE[0], values: pick("received") },
    { name: "delivered", color: PALETTE[1], values: pick("delivered") },
    { name: "duplicates", color: PALETTE[2], values: pick("duplicated") },
    { name: "dead-lettered", color: PALETTE[3], values: pick("dead_lettered") },
  ], { integer: true, fmt: (v) => String(v) });
  const body = $("lag-table").querySelector("tbody");
  const consumers = m.consumers || [];
  body.replaceChildren(...consumers.map((c) => el("tr", { "data-consumer": c.consumer },
    el("td", { class: "mono" }, c.consumer),
    el("td", { class: "num" }, fmtInt(c.pending)),
    el("td", {}, relTime(c.observe_time)))));
  $("lag-empty").hidden = consumers.length > 0;
}

function renderWebhooks(w) {
  const eps = w.endpoints || [];
  $("webhook-table").querySelector("tbody").replaceChildren(...eps.map((e) => el("tr", { "data-endpoint": e.id },
    el("td", { class: "mono" }, e.id + (e.description ? " (" + e.description + ")" : "") + (e.disabled ? " disabled" : "")),
    el("td", { class: "num" }, fmtInt(e.attempts)),
    el("td", { class: "num " + rateClass(num(e.success_rate), e.attempts) }, num(e.attempts) ? fmtPct(e.success_rate) : "–"),
    el("td", { class: "num" }, fmtMs(e.mean_latency_ms)),
    el("td", { class: "num" }, fmtInt(e.pending)),
    el("td", { class: "num" }, fmtMs(e.lag_ms)),
    el("td", { class: "num" }, fmtInt(e.dead_letters)),
    el("td", {}, e.last_error || ""))));
  $("webhook-empty").hidden = eps.length > 0;
}

function renderSecurityLogs(s) {
  const on = s.enabled === true;
  $("seclog-panel").dataset.state = on ? "on" : "off";
  $("seclog-off").hidden = on;
  $("seclog-sent").textContent = fmtInt(s.sent);
  $("seclog-pending").textContent = fmtInt(s.pending);
  $("seclog-failed").textContent = fmtInt(s.failed_store) + " / " + fmtInt(s.failed_retry);
  $("seclog-dropped").textContent = fmtInt(s.dropped);
  $("seclog-dropped").className = "value" + (num(s.dropped) ? " rate-bad" : "");
}

async function refresh() {
  const win = $("window").value;
  const shop = $("shop").value;
  const app = $("app").value;
  const appQ = app ? "app_key=" + encodeURIComponent(app) : "";
  const q = "window=" + encodeURIComponent(win) + (shop ? "&open_id=" + encodeURIComponent(shop) : "") + (appQ ? "&" + appQ : "");
  const status = $("status");
  const results = await Promise.allSettled([
    getJSON("/v1/stats/apis?" + q),
    getJSON("/v1/stats/quota" + (appQ ? "?" + appQ : "")),
    getJSON("/v1/authorizations" + (appQ ? "?" + appQ : "")),
    getJSON("/v1/stats/messages?window=" + encodeURIComponent(win) + (appQ ? "&" + appQ : "")),
    getJSON("/v1/stats/webhooks"),
    getJSON("/v1/security-logs/stats"),
  ]);
  const [apis, quota, auths, msgs, hooks, seclogs] = results;
  const errors = results.filter((r) => r.status === "rejected").map((r) => r.reason.message);
  if (apis.status === "fulfilled") renderApis(apis.value);
  if (quota.status === "fulfilled") renderQuota(quota.value);
  if (auths.status === "fulfilled") renderAuthorizations(auths.value, $("shop"));
  if (msgs.status === "fulfilled") renderMessages(msgs.value);
  if (hooks.status === "fulfilled") renderWebhooks(hooks.value);
  if (seclogs.status === "fulfilled") renderSecurityLogs(seclogs.value);
  if (errors.length) {
    status.textContent = "error: " + errors.join("; ");
    status.className = "status error";
  } else {
    status.textContent = "updated " + new Date().toLocaleTimeString();
    status.className = "status";
  }
  if (apis.status === "fulfilled") document.body.dataset.loaded = "true";
}

// The API description panel: #api=<name> shows GET /v1/apis/{name} (verb,
// description, file fields, answer members, limits, JSON Schemas).
async function showApi() {
  const m = /^#api=(.+)$/.exec(location.hash);
  const panel = $("api-detail");
  if (!m) {
    panel.hidden = true;
    return;
  }
  let name;
  try { name = decodeURIComponent(m[1]); } catch (_) { panel.hidden = true; return; }
  panel.hidden = false;
  panel.dataset.api = name;
  panel.dataset.loaded = "false";
  $("api-name").textContent = name;
  const body = $("api-body");
  body.replaceChildren(el("p", { class: "empty" }, "loading…"));
  let a;
  try {
    a = (await getJSON("/v1/apis/" + encodeURIComponent(name))).api || {};
  } catch (e) {
    body.replaceChildren(el("p", { class: "empty", id: "api-error" }, /HTTP 404/.test(e.message)
      ? "Not in the catalog: the gateway sends it unchecked." : e.message));
    panel.dataset.loaded = "true";
    return;
  }
  if (panel.dataset.api !== name) return; // another link was followed meanwhile
  const limits = a.limits || {};
  const row = (k, v) => el("tr", {}, el("th", {}, k), el("td", { class: "mono" }, v));
  const list = (xs) => (xs && xs.length ? xs.join(", ") : "–");
  body.replaceChildren(
    el("table", { class: "kv" }, el("tbody", {},
      row("HTTP verb", a.http_method || "–"),
      row("Description", a.description || "–"),
      row("File fields", list(a.file_fields)),
      row("Answer members", list(a.response_members)),
      row("QPS (app / shop)", num(limits.app_qps) + " / " + (num(limits.shop_qps) || "–")),
      row("Files per call", num(limits.max_file_bytes) ? fmtInt(limits.max_file_bytes) + " bytes" : "–"))),
    el("h3", {}, "Request (params) JSON Schema"),
    el("pre", { class: "schema", id: "api-request-schema" }, JSON.stringify(a.request_schema || {}, null, 2)),
    el("h3", {}, "Response JSON Schema"),
    el("pre", { class: "schema", id: "api-response-schema" }, JSON.stringify(a.response_schema || {}, null, 2)));
  panel.dataset.loaded = "true";
}

function schedule() {
  clearTimeout(timer);
  refresh().finally(() => { timer = setTimeout(schedule, REFRESH_MS); });
}

document.addEventListener("DOMContentLoaded", () => {
  const params = new URLSearchParams(location.search);
  if (params.get("window")) $("window").value = params.get("window");
  $("window").addEventListener("change", schedule);
  $("shop").addEventListener("change", schedule);
  $("app").addEventListener("change", () => {
    // The shop list is the chosen app's: start it again.
    $("shop").replaceChildren(el("option", { value: "" }, "all shops and app-level calls"));
    schedule();
  });
  window.addEventListener("hashchange", showApi);
  $("api-close").addEventListener("click", () => { location.hash = ""; });
  showApi();
  $("keyform").addEventListener("submit", (ev) => {
    ev.preventDefault();
    apiKey = $("apikey").value.trim();
    sessionStorage.setItem("kwaishop-api-key", apiKey);
    $("keyform").hidden = true;
    schedule();
  });
  schedule();
});

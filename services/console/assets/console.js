// The payments console: polls the JSON API and draws its charts on canvas (no libraries).
"use strict";

const TYPES = [
  ["ach", "ACH"], ["wire", "Wire"], ["rtp", "RTP"], ["check", "Check"], ["sepa", "SEPA"],
  ["card", "Card"], ["direct-debit", "Direct debit"], ["standing-order", "Standing order"], ["p2p", "P2P"],
];
const STATUSES = ["received", "validated", "pending", "processing", "completed", "failed", "returned", "cancelled", "rejected"];
const STAGES = [
  ["generated", "generated", "#7a869a"],
  ["accepted", "accepted", "#2457c5"],
  ["rejected", "rejected", "#d9822b"],
  ["produced", "produced", "#8e44ad"],
  ["stored", "stored", "#1f9d55"],
  ["dead_lettered", "dead-lettered", "#c0392b"],
];

const $ = (selector, root = document) => root.querySelector(selector);
const state = { about: {}, pageTokens: [""], filter: new URLSearchParams() };

// ---- small helpers -------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function formatNumber(value, digits = 0) {
  if (value === undefined || value === null || Number.isNaN(value)) return "–";
  return Number(value).toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

function formatSeconds(value) {
  if (value === undefined || value === null) return "–";
  return value < 1 ? `${Math.round(value * 1000)} ms` : `${value.toFixed(2)} s`;
}

let toastTimer;
function showError(message) {
  const toast = $("#toast");
  toast.textContent = message;
  toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { toast.hidden = true; }, 6000);
}

// A server started with --auth-tokens-file answers the API with 401 until a bearer token
// comes with each call: the console asks for one once, and keeps it for this tab's session.
const TOKEN_KEY = "payments-console-token";

let tokenDeclined = false;

async function api(path, options = {}, retried = false) {
  const headers = options.body ? { "content-type": "application/json" } : {};
  const sent = sessionStorage.getItem(TOKEN_KEY);
  if (sent) headers.authorization = `Bearer ${sent}`;
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401 && !retried) {
    // Another call may have been given a token while this one was in flight.
    const now = sessionStorage.getItem(TOKEN_KEY);
    if (now && now !== sent) return api(path, options, true);
    if (sent) sessionStorage.removeItem(TOKEN_KEY);
    const given = tokenDeclined ? null
      : window.prompt("This server requires a bearer token (one line of its --auth-tokens-file):");
    if (given && given.trim()) {
      sessionStorage.setItem(TOKEN_KEY, given.trim());
      return api(path, options, true);
    }
    tokenDeclined = true;
  }
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = { error: text }; }
  if (!response.ok) {
    const message = body && (body.error || (typeof body.detail === "string" ? body.detail : null));
    const error = new Error(message || `${response.status} ${response.statusText}`);
    error.parameter = body && body.parameter;
    throw error;
  }
  return body;
}

function setConnection(ok, text) {
  const pill = $("#connection");
  pill.textContent = text;
  pill.className = `pill ${ok ? "ok" : "bad"}`;
}

// ---- charts --------------------------------------------------------------------------------

/** Fits a canvas's backing store to its displayed size; returns its 2D context and size. */
function fitCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, canvas.clientWidth);
  const height = Math.max(1, canvas.clientHeight || Number(canvas.getAttribute("height")));
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const context = canvas.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  return { context, width, height };
}

function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (value <= step * power) return step * power;
  }
  return 10 * power;
}

/** Draws `series` ([{name, color, values}]) over `times` (ms) as lines with axes. */
function drawLines(canvas, times, series) {
  const { context: c, width, height } = fitCanvas(canvas);
  const pad = { left: 52, right: 10, top: 10, bottom: 22 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const all = series.flatMap((s) => s.values);
  const top = niceMax(Math.max(0, ...all));
  c.font = "11px system-ui, sans-serif";
  c.strokeStyle = "#e6e9ef";
  c.fillStyle = "#5d6677";
  c.lineWidth = 1;
  for (let i = 0; i <= 4; i += 1) {
    const y = pad.top + plotH - (plotH * i) / 4;
    c.beginPath(); c.moveTo(pad.left, y); c.lineTo(width - pad.right, y); c.stroke();
    c.textAlign = "right";
    c.fillText(formatNumber((top * i) / 4, top < 4 ? 1 : 0), pad.left - 6, y + 4);
  }
  if (times.length > 1) {
    const first = times[0];
    const span = Math.max(1, times[times.length - 1] - first);
    const x = (t) => pad.left + (plotW * (t - first)) / span;
    c.textAlign = "center";
    for (const fraction of [0, 0.5, 1]) {
      const t = first + span * fraction;
      c.fillText(new Date(t).toISOString().slice(11, 19), Math.min(width - 30, Math.max(pad.left + 24, x(t))), height - 6);
    }
    for (const s of series) {
      c.strokeStyle = s.color;
      c.lineWidth = 1.8;
      c.beginPath();
      s.values.forEach((value, i) => {
        const px = x(times[i]);
        const py = pad.top + plotH - (plotH * value) / top;
        if (i === 0) c.moveTo(px, py); else c.lineTo(px, py);
      });
      c.stroke();
    }
  } else {
    c.textAlign = "center";
    c.fillText("waiting for samples…", pad.left + plotW / 2, pad.top + plotH / 2);
  }
}

/** Draws horizontal bars for [{label, value}]. */
function drawBars(canvas, bars) {
  const { context: c, width, height } = fitCanvas(canvas);
  c.font = "12px system-ui, sans-serif";
  if (!bars.length) {
    c.fillStyle = "#5d6677";
    c.textAlign = "center";
    c.fillText("no payments match", width / 2, height / 2);
    return;
  }
  const labelW = Math.min(130, width * 0.38);
  const rowH = Math.min(28, (height - 8) / bars.length);
  const top = Math.max(...bars.map((b) => b.value));
  const total = bars.reduce((sum, b) => sum + b.value, 0);
  bars.forEach((bar, i) => {
    const y = 4 + i * rowH;
    const barW = ((width - labelW - 70) * bar.value) / Math.max(1, top);
    c.fillStyle = "#1d2330";
    c.textAlign = "right";
    c.fillText(bar.label, labelW - 8, y + rowH * 0.65);
    c.fillStyle = "#2457c5";
    c.fillRect(labelW, y + rowH * 0.18, Math.max(1, barW), rowH * 0.64);
    c.fillStyle = "#5d6677";
    c.textAlign = "left";
    const share = total ? ` (${Math.round((100 * bar.value) / total)}%)` : "";
    c.fillText(`${formatNumber(bar.value)}${share}`, labelW + barW + 6, y + rowH * 0.65);
  });
}

// ---- pipeline ------------------------------------------------------------------------------

let lastPipeline = null;

function renderPipeline(view) {
  lastPipeline = view;
  const latest = view.points.length ? view.points[view.points.length - 1].rates : {};
  for (const node of document.querySelectorAll("[data-rate]")) {
    node.textContent = formatNumber(latest[node.dataset.rate], 1);
  }
  $("#lag").textContent = formatNumber(view.lag);
  const l = view.latency;
  $("#latency").textContent = l.p50 === null ? "–" : `${formatSeconds(l.p50)} / ${formatSeconds(l.p90)} / ${formatSeconds(l.p99)}`;
  const times = view.points.map((p) => p.t);
  const series = STAGES.map(([key, name, color]) => ({ name, color, values: view.points.map((p) => p.rates[key] || 0) }));
  const canvas = $("#rate-chart");
  drawLines(canvas, times, series);
  const peak = Math.max(0, ...series.flatMap((s) => s.values));
  canvas.dataset.points = String(view.points.length);
  canvas.dataset.maxRate = String(Math.round(peak * 10) / 10);
  canvas.dataset.storedRate = String(latest.stored || 0);
  drawLines($("#lag-chart"), times, [{ name: "lag", color: "#8e44ad", values: view.points.map((p) => p.lag) }]);
}

function renderLegend() {
  const legend = $("#rate-legend");
  legend.replaceChildren(...STAGES.map(([, name, color]) => el("span", { style: `--c:${color}` }, name)));
}

async function pollPipeline() {
  try {
    renderPipeline(await api("/api/pipeline"));
    setConnection(true, "live");
  } catch (error) {
    setConnection(false, `disconnected: ${error.message}`);
  }
}

// ---- payments ------------------------------------------------------------------------------

function filterParams() {
  const form = $("#filter-form");
  const params = new URLSearchParams();
  for (const [key, value] of new FormData(form)) {
    if (String(value).trim() !== "") params.set(key, String(value).trim());
  }
  return params;
}

async function loadPayments(pageIndex = 0) {
  const params = new URLSearchParams(state.filter);
  params.set("page_size", "25");
  const token = state.pageTokens[pageIndex];
  if (token) params.set("page_token", token);
  const errorBox = $("#filter-error");
  try {
    const page = await api(`/api/payments?${params}`);
    errorBox.hidden = true;
    state.pageIndex = pageIndex;
    state.pageTokens = state.pageTokens.slice(0, pageIndex + 1);
    if (page.next_page_token) state.pageTokens.push(page.next_page_token);
    const body = $("#payments-table tbody");
    body.replaceChildren(...page.payments.map((p) => el("tr", { "data-id": p.payment_id, "data-type": p.type, onclick: () => openDetail(p.payment_id) },
      el("td", { class: "mono" }, p.payment_id),
      el("td", {}, p.type),
      el("td", {}, p.status),
      el("td", { class: "num" }, p.amount || "–"),
      el("td", {}, (p.created_at || "").replace("T", " ").replace("Z", "")),
      el("td", {}, p.originator ? `${p.originator.name} (${p.originator.id})` : "–"),
      el("td", {}, p.beneficiary ? `${p.beneficiary.name} (${p.beneficiary.id})` : "–"),
    )));
    if (!page.payments.length) body.append(el("tr", {}, el("td", { colspan: "7", class: "note" }, "No payments match.")));
    $("#page-info").textContent = `page ${pageIndex + 1}, ${page.payments.length} payments`;
    $("#next-page").disabled = !page.next_page_token;
    $("#first-page").disabled = pageIndex === 0;
    $("#payments-table").dataset.loaded = String(Date.now());
  } catch (error) {
    errorBox.textContent = error.message;
    errorBox.hidden = false;
  }
}

/** A party's account number or IBAN, as the API gives it (masked). */
function accountOf(party) {
  const account = party && party.account;
  return account ? account.iban || account.accountId : null;
}

function field(label, value) {
  return [el("dt", {}, label), el("dd", {}, value === undefined || value === null || value === "" ? "–" : value)];
}

async function openDetail(paymentId) {
  const dialog = $("#detail");
  const body = $("#detail-body");
  state.detailId = paymentId;
  $("#detail-title").textContent = paymentId;
  body.replaceChildren(el("p", { class: "note" }, "loading…"));
  if (!dialog.open) dialog.showModal();
  try {
    const detail = await api(`/api/payments/${encodeURIComponent(paymentId)}`);
    // A later click won the race: show that payment, not this one.
    if (state.detailId !== paymentId) return;
    const s = detail.summary;
    const p = detail.payment;
    const history = (p.processing && p.processing.statusHistory) || [];
    const warnings = p.warnings || [];
    const attributes = (p.metadata && p.metadata.attributes) || {};
    const traceLink = detail.trace_id && state.about.trace_link
      ? el("a", { href: state.about.trace_link.replace("{trace_id}", encodeURIComponent(detail.trace_id)), target: "_blank", rel: "noopener" }, detail.trace_id)
      : detail.trace_id;
    body.replaceChildren(
      el("dl", { class: "fields" },
        field("type", s.type), field("status", s.status), field("amount", s.amount),
        field("revision", s.revision), field("created", s.created_at),
        field("originator", s.originator && `${s.originator.name} (${s.originator.id})`),
        field("beneficiary", s.beneficiary && `${s.beneficiary.name} (${s.beneficiary.id})`),
        field("originator account", accountOf(p.originator)),
        field("beneficiary account", accountOf(p.beneficiary)),
        field("scenario label", s.scenario),
        field("trace id", traceLink || (state.about.tracing ? "not recorded" : "tracing is off")),
      ),
      el("h3", {}, `Revisions (${history.length})`),
      history.length
        ? el("ol", { class: "history" }, history.map((h) => el("li", {}, `${(h.status || "").replace("PAYMENT_STATUS_", "")} at ${h.changedAt || "?"}${h.reason ? ` (${h.reason})` : ""}`)))
        : el("p", { class: "note" }, "No status history recorded."),
      el("h3", {}, `Warnings (${warnings.length})`),
      warnings.length
        ? el("ul", {}, warnings.map((w) => el("li", {}, Object.values(w).join(": "))))
        : el("p", { class: "note" }, "None."),
      el("h3", {}, "Labels"),
      Object.keys(attributes).length
        ? el("dl", { class: "fields" }, Object.entries(attributes).map(([k, v]) => field(k, v)))
        : el("p", { class: "note" }, "None."),
      el("details", {}, el("summary", {}, "Whole payment (JSON, accounts masked)"), el("pre", { class: "raw" }, JSON.stringify(p, null, 2))),
    );
  } catch (error) {
    body.replaceChildren(el("p", { class: "error" }, error.message));
  }
}

// ---- mix and money -------------------------------------------------------------------------

async function loadStats() {
  try {
    const stats = await api(`/api/stats?${state.filter}`);
    drawBars($("#mix-chart"), stats.by_type.map((b) => ({ label: b.key, value: b.count })));
    $("#mix-chart").dataset.total = String(stats.total_count);
    $("#by-currency tbody").replaceChildren(...stats.by_currency.map((b) => el("tr", {},
      el("td", {}, b.key), el("td", { class: "num" }, formatNumber(b.count)),
      el("td", { class: "num" }, b.totals.map((t) => t.amount).join(", ")))));
    const sums = (totals) => totals.map((t) => `${t.currency} ${t.amount}`).join(" · ");
    $("#by-status tbody").replaceChildren(...stats.by_status.map((b) => el("tr", {},
      el("td", {}, b.key), el("td", { class: "num" }, formatNumber(b.count)),
      el("td", { class: "wrap" }, sums(b.totals)))));
  } catch (error) {
    showError(`stats: ${error.message}`);
  }
}

// ---- dead letters --------------------------------------------------------------------------

async function loadDeadLetters() {
  try {
    const answer = await api("/api/dead-letters?limit=100");
    $("#dlq-note").textContent = answer.available
      ? `${answer.records.length} record(s) shown from the dead-letter topic (oldest first, at most 100).`
      : "This console does not read the bus.";
    $("#dlq-table tbody").replaceChildren(...answer.records.map((r) => el("tr", {},
      el("td", { class: "num" }, `${r.partition}/${r.offset}`),
      el("td", {}, r.stage || "–"),
      el("td", { class: "wrap" }, r.reason || "–"),
      el("td", { class: "mono" }, r.source || "–"),
      el("td", {}, r.time || "–"),
      el("td", { class: "mono wrap" }, `${r.preview}${r.bytes > 160 ? "…" : ""}`))));
  } catch (error) {
    showError(`dead letters: ${error.message}`);
  }
}

// ---- traffic runs --------------------------------------------------------------------------

async function loadRuns() {
  try {
    const answer = await api("/api/runs");
    $("#start-run").disabled = !answer.available;
    $("#runs-note").textContent = answer.available ? "" : "This console has no generator to run traffic with.";
    $("#runs-table tbody").replaceChildren(...answer.runs.map((run) => {
      const share = run.count ? Math.min(100, (100 * run.generated) / run.count) : null;
      return el("tr", { "data-run": run.run_id, "data-state": run.state },
        el("td", { class: "mono" }, run.run_id),
        el("td", {}, run.state),
        el("td", {}, share === null
          ? `${formatNumber(run.generated)} generated`
          : el("div", { class: "bar", title: `${formatNumber(run.generated)} of ${formatNumber(run.count)}` }, el("span", { style: `width:${share}%` }))),
        el("td", { class: "num" }, formatNumber(run.acknowledged)),
        el("td", { class: "num" }, formatNumber(run.rejected)),
        el("td", { class: "num" }, `${formatNumber(run.actual_rate, 1)} / ${formatNumber(run.rate)}`),
        el("td", {}, run.state === "RUNNING"
          ? el("button", { type: "button", class: "secondary", onclick: () => stopRun(run.run_id) }, "Stop")
          : ""));
    }));
  } catch (error) {
    showError(`runs: ${error.message}`);
  }
}

async function startRun(event) {
  event.preventDefault();
  const form = $("#run-form");
  const data = new FormData(form);
  const body = {
    rate: Number(data.get("rate")),
    count: Number(data.get("count") || 0),
    seed: Number(data.get("seed") || 0),
    types: data.getAll("types").map(String),
    scenario_rate: Number(data.get("scenario_rate") || 0),
  };
  try {
    await api("/api/runs", { method: "POST", body: JSON.stringify(body) });
    await loadRuns();
  } catch (error) {
    showError(`start run: ${error.message}`);
  }
}

async function stopRun(runId) {
  try {
    await api(`/api/runs/${encodeURIComponent(runId)}/stop`, { method: "POST" });
    await loadRuns();
  } catch (error) {
    showError(`stop run: ${error.message}`);
  }
}

// ---- AML scenarios -------------------------------------------------------------------------

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A participant's colour by its first role: senders warm, receivers cool, the middle grey. */
function roleColour(roles) {
  const role = (roles || [])[0] || "";
  if (/SOURCE|DISTRIBUTOR|STRUCTURER|SENDER/.test(role)) return "#d9480f";
  if (/COLLECTOR|RECIPIENT|DESTINATION|RECEIVER/.test(role)) return "#1971c2";
  return "#5c677d";
}

/** Draws `scenario`'s participants on a circle and its transfers as numbered arrows. */
function drawScenario(scenario) {
  const graph = $("#scenario-graph");
  const people = scenario.participants;
  const at = new Map();
  const [cx, cy, r] = [240, 180, people.length > 1 ? 135 : 0];
  people.forEach((p, i) => {
    const angle = (2 * Math.PI * i) / people.length - Math.PI / 2;
    at.set(p.id, [cx + r * Math.cos(angle), cy + r * Math.sin(angle)]);
  });
  const defs = svg("defs");
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "6", markerHeight: "6", orient: "auto-start-reverse" });
  marker.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#495057" }));
  defs.append(marker);
  const nodes = [defs];
  scenario.transfers.forEach((t, i) => {
    const [x1, y1] = at.get(t.from) || [cx, cy];
    const [x2, y2] = at.get(t.to) || [cx, cy];
    const [dx, dy] = [x2 - x1, y2 - y1];
    const length = Math.hypot(dx, dy) || 1;
    const [ux, uy] = [dx / length, dy / length];
    // Arrows stop at the circles' edges; a slight bend keeps two-way transfers apart.
    const [sx, sy, ex, ey] = [x1 + ux * 14, y1 + uy * 14, x2 - ux * 16, y2 - uy * 16];
    const [mx, my] = [(sx + ex) / 2 - uy * 18, (sy + ey) / 2 + ux * 18];
    const title = svg("title", {}, `${i + 1}. ${t.payment_id}: ${t.amount} ${t.currency}, ${t.created_at}`);
    const path = svg("path", { d: `M ${sx} ${sy} Q ${mx} ${my} ${ex} ${ey}`, fill: "none", stroke: "#495057", "stroke-width": "1.5", "marker-end": "url(#arrow)", class: "transfer" });
    path.append(title);
    nodes.push(path, svg("text", { x: mx, y: my, "font-size": "11", "text-anchor": "middle", fill: "#212529" }, String(i + 1)));
  });
  for (const p of people) {
    const [x, y] = at.get(p.id);
    const circle = svg("circle", { cx: x, cy: y, r: "12", fill: roleColour(p.roles), class: "participant" });
    circle.append(svg("title", {}, `${p.name} (${p.id}): ${p.roles.join(", ")}`));
    nodes.push(circle, svg("text", { x, y: y + 26, "font-size": "10", "text-anchor": "middle", fill: "#212529" }, p.id));
  }
  graph.replaceChildren(...nodes);
  graph.dataset.participants = String(people.length);
  graph.dataset.transfers = String(scenario.transfers.length);
  $("#scenario-caption").textContent =
    `${scenario.typology} ${scenario.scenario_id}: ${scenario.participants.length} participants, ${scenario.transfers.length} transfers (numbered in time order)`;
  $("#scenario-legend").replaceChildren(
    ...[["senders", "#d9480f"], ["receivers", "#1971c2"], ["in between", "#5c677d"]].map(([label, colour]) =>
      el("span", { style: `--c:${colour}` }, label)),
  );
}

/** How long a scenario ran, from its first to its last payment: "over 3.2 h". */
function formatSpan(first, last) {
  const seconds = (Date.parse(last) - Date.parse(first)) / 1000;
  if (!Number.isFinite(seconds)) return "";
  if (seconds < 120) return `over ${Math.round(seconds)} s`;
  if (seconds < 7200) return `over ${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `over ${(seconds / 3600).toFixed(1)} h`;
  return `over ${(seconds / 86400).toFixed(1)} days`;
}

async function loadScenarios() {
  const params = new URLSearchParams(state.filter);
  params.delete("page_size");
  params.delete("page_token");
  try {
    const found = await api(`/api/scenarios?${params}`);
    const body = $("#scenarios-table tbody");
    body.replaceChildren(...found.scenarios.map((s) => el("tr", { "data-id": s.scenario_id, onclick: () => drawScenario(s) },
      el("td", { class: "mono" }, s.scenario_id),
      el("td", {}, s.typology),
      el("td", { class: "num" }, s.payments === s.size ? String(s.size) : `${s.payments} of ${s.size}`),
      el("td", { class: "num" }, s.amounts.map((a) => `${a.total} ${a.currency}`).join(", ")),
      el("td", {}, `${(s.first || "").replace("T", " ").replace("Z", "")}, ${formatSpan(s.first, s.last)}`),
    )));
    if (!found.scenarios.length) body.append(el("tr", {}, el("td", { colspan: "5", class: "note" }, "No labeled payments stored yet: start a run with an AML share above 0.")));
    $("#scenarios-note").textContent =
      `${formatNumber(found.found)} scenarios among ${formatNumber(found.scanned)} payments read${found.complete ? "" : " (the first ones; narrow the filter to look further)"}; showing the ${Math.min(found.found, 200)} most recent.`;
    $("#scenarios-table").dataset.loaded = String(found.scenarios.length);
  } catch (error) {
    showError(`scenarios: ${error.message}`);
  }
}

// ---- wiring --------------------------------------------------------------------------------

function fillChoices() {
  $("#filter-type").append(...TYPES.map(([value, label]) => el("option", { value }, label)));
  $("#filter-status").append(...STATUSES.map((s) => el("option", { value: s }, s)));
  $("#run-types").append(...TYPES.map(([value, label]) => el("label", {}, el("input", { type: "checkbox", name: "types", value }), label)));
}

async function start() {
  fillChoices();
  renderLegend();
  try { state.about = await api("/api/about"); } catch { state.about = {}; }
  $("#filter-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.filter = filterParams();
    state.pageTokens = [""];
    loadPayments(0);
    loadStats();
    loadScenarios();
  });
  $("#filter-form").addEventListener("reset", () => {
    setTimeout(() => { state.filter = new URLSearchParams(); state.pageTokens = [""]; loadPayments(0); loadStats(); loadScenarios(); }, 0);
  });
  $("#next-page").addEventListener("click", () => loadPayments((state.pageIndex || 0) + 1));
  $("#first-page").addEventListener("click", () => loadPayments(0));
  $("#run-form").addEventListener("submit", startRun);
  $("#close-detail").addEventListener("click", () => $("#detail").close());
  let resizeTimer;
  window.addEventListener("resize", () => {
    if (lastPipeline) renderPipeline(lastPipeline);
    // Redraw the mix once the resizing is over, not on every event (it asks the store).
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(loadStats, 300);
  });

  await Promise.all([pollPipeline(), loadRuns(), loadPayments(0), loadStats(), loadDeadLetters(), loadScenarios()]);
  setInterval(pollPipeline, 1000);
  setInterval(loadRuns, 2000);
  setInterval(loadStats, 5000);
  setInterval(loadDeadLetters, 10000);
  setInterval(loadScenarios, 10000);
}

start();

// The bed dashboard: GET /v1/beds every 5 s, one Server-Sent Events stream per bed (up to
// MAX_STREAMS: a browser opens at most 6 HTTP/1.1 connections to one origin, and the page's own
// requests need some), and for the selected bed its WebSocket (frame results and events) and its
// recent events. No build step, nothing fetched from outside the service.
"use strict";

const REFRESH_MS = 5000;
const MAX_STREAMS = 4;
const EVENTS_SHOWN = 30;
const EVENTS_WINDOW_MS = 24 * 3600 * 1000;
const DEFAULT_MAT = { width: 84, height: 192 }; // the SLP-like mat of the spmkd model

const $ = (id) => document.getElementById(id);
const beds = new Map(); // bed id → { state, receivedAt, row, source, refetch }
let selected = null; // { id, socket, events: Map(id → event), frame, closing }

document.addEventListener("DOMContentLoaded", () => {
  $("error-dismiss").addEventListener("click", hideError);
  refresh();
  setInterval(refresh, REFRESH_MS);
  setInterval(tick, 1000);
});

// ---- the list -------------------------------------------------------------------------------

async function refresh() {
  try {
    const list = await api("/v1/beds");
    const seen = new Set();
    for (const state of list) {
      seen.add(state.bed_id);
      upsert(state);
    }
    for (const id of [...beds.keys()]) if (!seen.has(id)) remove(id);
    ensureStreams();
    $("empty").hidden = beds.size > 0;
    $("beds").dataset.loaded = "true";
    $("status").textContent = `${beds.size} bed${beds.size === 1 ? "" : "s"}; list read at ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    showError(e, "Could not read the bed list");
  }
}

function upsert(state) {
  let bed = beds.get(state.bed_id);
  if (!bed) {
    bed = { state, receivedAt: Date.now(), row: createRow(state.bed_id), source: null, refetch: null };
    beds.set(state.bed_id, bed);
    insertSorted(bed.row, state.bed_id);
  }
  bed.state = state;
  bed.receivedAt = Date.now();
  renderRow(bed);
}

function remove(id) {
  const bed = beds.get(id);
  if (!bed) return;
  if (bed.source) bed.source.close();
  bed.row.remove();
  beds.delete(id);
  if (selected && selected.id === id) deselect();
}

function insertSorted(row, id) {
  const body = $("beds").tBodies[0];
  const after = [...body.rows].find((r) => r.dataset.bedId > id);
  body.insertBefore(row, after ?? null);
}

function createRow(id) {
  const row = document.createElement("tr");
  row.dataset.bedId = id;
  const head = document.createElement("th");
  head.scope = "row";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "bed-select";
  button.textContent = id;
  button.setAttribute("aria-pressed", "false");
  button.setAttribute("aria-label", `Show bed ${id}`);
  button.addEventListener("click", () => select(id));
  head.append(button);
  row.append(head);
  for (const name of ["posture", "time", "alert", "last-frame", "live"]) {
    const cell = document.createElement("td");
    cell.className = name;
    row.append(cell);
  }
  return row;
}

function renderRow(bed) {
  const s = bed.state;
  const row = bed.row;
  row.dataset.posture = s.posture ?? "";
  row.dataset.alert = s.alert.active ? "active" : "none";
  row.dataset.frames = String(s.frames);
  row.dataset.sensor = s.sensor_offline ? "offline" : "online";
  row.classList.toggle("alert-active", s.alert.active);

  const posture = row.querySelector(".posture");
  posture.textContent = s.posture ? label(s.posture) : "not yet known";
  if (s.pending_posture && s.pending_posture !== s.posture) {
    const pending = document.createElement("div");
    pending.className = "pending";
    pending.textContent = `turning to ${label(s.pending_posture)}? (since ${time(s.pending_since)})`;
    posture.append(pending);
  }

  const alert = row.querySelector(".alert");
  alert.replaceChildren();
  if (s.alert.active) {
    const badge = document.createElement("strong");
    badge.className = "alert-badge";
    badge.textContent = "Reposition now";
    alert.append(badge, ` — overdue since ${time(s.alert.due_at)} (limit ${s.reposition_limit_minutes} min)`);
  } else {
    const ok = document.createElement("span");
    ok.className = "ok";
    ok.textContent = `none (limit ${s.reposition_limit_minutes} min)`;
    alert.append(ok);
  }

  const last = row.querySelector(".last-frame");
  last.replaceChildren(timeElement(s.last_frame_at));
  if (s.sensor_offline) {
    const offline = document.createElement("strong");
    offline.className = "offline-badge";
    offline.textContent = " sensor offline";
    last.append(offline);
  }
  renderLive(bed);
  renderTime(bed);
}

function renderLive(bed) {
  const cell = bed.row.querySelector(".live");
  const live = bed.source && bed.source.readyState === EventSource.OPEN;
  const viaSocket = selected && selected.id === bed.state.bed_id && selected.socket && selected.socket.readyState === WebSocket.OPEN;
  cell.textContent = live ? "events live" : viaSocket ? "live (WebSocket)" : bed.source ? "connecting…" : "every 5 s";
  cell.className = `live ${live || viaSocket ? "live-on" : "live-off"}`;
}

function renderTime(bed) {
  const s = bed.state;
  const cell = bed.row.querySelector(".time");
  if (s.time_in_posture_seconds == null || !s.posture) {
    cell.textContent = "—";
    return;
  }
  const seconds = s.time_in_posture_seconds + (Date.now() - bed.receivedAt) / 1000;
  cell.textContent = duration(seconds);
  cell.dataset.seconds = seconds.toFixed(0);
}

function tick() {
  for (const bed of beds.values()) renderTime(bed);
}

// ---- live: Server-Sent Events per bed ------------------------------------------------------

function ensureStreams() {
  const open = [...beds.values()].filter((b) => b.source).length;
  let room = MAX_STREAMS - open;
  for (const [id, bed] of beds) {
    if (room <= 0) break;
    if (bed.source) continue;
    bed.source = openStream(id, bed);
    room--;
  }
  for (const bed of beds.values()) renderLive(bed);
}

function openStream(id, bed) {
  const source = new EventSource(`/v1/beds/${encodeURIComponent(id)}/events/stream`);
  source.addEventListener("open", () => renderLive(bed));
  source.addEventListener("event", (message) => onEvent(JSON.parse(message.data)));
  // The server's queue for this stream overflowed: pushes were lost; read the bed again.
  source.addEventListener("dropped", (message) => {
    const count = JSON.parse(message.data).dropped;
    showError({ title: "Live updates lost", detail: `The event stream of bed ${id} lost ${count} update(s) (a slow connection); the bed was read again.` });
    refetch(id);
  });
  source.addEventListener("error", () => {
    renderLive(bed);
    if (source.readyState === EventSource.CLOSED) {
      // The browser gives up on a non-stream answer (e.g. a 404 problem for a deleted bed).
      bed.source = null;
      refetch(id);
    }
    // CONNECTING: the browser reconnects by itself with Last-Event-ID.
  });
  return source;
}

function onEvent(event) {
  if (selected && selected.id === event.bed_id) addEvents([event]);
  refetch(event.bed_id);
}

// Several events of one frame → one request for the bed's state.
function refetch(id) {
  const bed = beds.get(id);
  if (!bed || bed.refetch) return;
  bed.refetch = setTimeout(async () => {
    bed.refetch = null;
    try {
      const response = await fetch(`/v1/beds/${encodeURIComponent(id)}`, { headers: { Accept: "application/json" } });
      if (response.status === 404) { remove(id); return; }
      const body = await readJson(response);
      if (!response.ok) throw problemError(response, body);
      upsert(body);
    } catch (e) {
      showError(e, `Could not read bed ${id}`);
    }
  }, 100);
}

// ---- the selected bed ----------------------------------------------------------------------

function select(id) {
  if (selected && selected.id === id) return;
  deselect();
  selected = { id, socket: null, events: new Map(), frame: null, closing: false };
  for (const bed of beds.values()) {
    const on = bed.state.bed_id === id;
    bed.row.classList.toggle("selected", on);
    bed.row.querySelector(".bed-select").setAttribute("aria-pressed", String(on));
  }
  $("detail").hidden = false;
  $("detail").dataset.bedId = id;
  $("detail").dataset.socket = "connecting";
  $("detail-heading").textContent = `Bed ${id}`;
  $("events").replaceChildren();
  $("events-empty").hidden = true;
  drawMat(null);
  openSocket(selected);
  loadEvents(selected);
}

function deselect() {
  if (!selected) return;
  selected.closing = true;
  if (selected.socket) selected.socket.close(1000, "bed deselected");
  selected = null;
  $("detail").hidden = true;
}

async function loadEvents(sel) {
  const bed = beds.get(sel.id);
  const last = bed && bed.state.last_frame_at ? Date.parse(bed.state.last_frame_at) : Date.now();
  const since = new Date(last - EVENTS_WINDOW_MS).toISOString();
  try {
    const body = await api(`/v1/beds/${encodeURIComponent(sel.id)}/events?since=${encodeURIComponent(since)}&limit=1000`);
    if (selected !== sel) return;
    addEvents(body.events);
    $("events").dataset.loaded = "true";
  } catch (e) {
    showError(e, `Could not read the events of bed ${sel.id}`);
  }
}

function addEvents(events) {
  for (const e of events) selected.events.set(e.id, e);
  const newest = [...selected.events.values()].sort((a, b) => b.id - a.id).slice(0, EVENTS_SHOWN);
  $("events").replaceChildren(...newest.map(eventItem));
  $("events-empty").hidden = newest.length > 0;
}

function eventItem(e) {
  const li = document.createElement("li");
  li.className = e.type;
  li.dataset.id = String(e.id);
  li.dataset.type = e.type;
  li.append(timeElement(e.at), " ", describe(e));
  return li;
}

function describe(e) {
  const d = e.data ?? {};
  switch (e.type) {
    case "posture_changed":
      return d.from ? `posture ${label(d.from)} → ${label(d.to)} (held since ${time(d.since)}; previous posture lasted ${duration(d.previous_seconds ?? 0)})`
        : `first posture: ${label(d.to)} (since ${time(d.since)})`;
    case "alert_raised":
      return `REPOSITIONING ALERT: ${label(d.posture)} for ${duration(d.time_in_posture_seconds ?? 0)} (limit ${d.limit_minutes} min, due ${time(d.due_at)})`;
    case "alert_cleared":
      return d.reason === "limit_changed"
        ? `alert cleared: limit changed to ${d.limit_minutes} min (${label(d.posture)})`
        : `alert cleared: turned from ${label(d.posture)} to ${label(d.new_posture)}`;
    case "sensor_offline":
      return `SENSOR OFFLINE: no frame for ${duration(d.silent_seconds ?? 0)} (last at ${time(d.last_frame_at)})`;
    case "sensor_online":
      return `sensor back online after ${duration(d.silent_seconds ?? 0)} without frames`;
    case "sensor_gap":
      return `sensor gap of ${duration(d.gap_seconds ?? 0)} (${time(d.from)} → ${time(d.to)})`;
    default:
      return `${e.type} ${JSON.stringify(d)}`;
  }
}

function openSocket(sel) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/v1/beds/${encodeURIComponent(sel.id)}/ws`);
  sel.socket = socket;
  socket.addEventListener("open", () => {
    if (selected === sel) $("detail").dataset.socket = "open";
    const bed = beds.get(sel.id);
    if (bed) renderLive(bed);
  });
  socket.addEventListener("message", (message) => {
    if (selected !== sel) return;
    const push = JSON.parse(message.data);
    if (push.type === "frame") {
      sel.frame = push.data;
      drawMat(push.data);
      if (beds.has(sel.id)) upsert(push.data.state);
      for (const e of push.data.events) addEvents([e]);
    } else if (push.type === "event") {
      addEvents([push.data]);
    } else if (push.type === "error") {
      showError({ title: push.data.title, detail: `${push.data.status}: ${push.data.detail}` });
    }
    if (push.dropped > (sel.dropped ?? 0)) {
      sel.dropped = push.dropped;
      showError({ title: "Live updates lost", detail: `The WebSocket of bed ${sel.id} lost ${push.dropped} update(s) so far.` });
    }
  });
  socket.addEventListener("close", (e) => {
    if (selected === sel) $("detail").dataset.socket = "closed";
    const bed = beds.get(sel.id);
    if (bed) renderLive(bed);
    if (sel.closing || selected !== sel) return;
    showError({ title: "Live frames interrupted", detail: `The WebSocket of bed ${sel.id} closed (${e.code}${e.reason ? `: ${e.reason}` : ""}); reconnecting in 5 s.` });
    setTimeout(() => { if (selected === sel && beds.has(sel.id)) openSocket(sel); }, REFRESH_MS);
  });
}

// The joints of the latest frame on the mat's outline (the API does not return the map itself).
function drawMat(frame) {
  const canvas = $("mat");
  const ctx = canvas.getContext("2d");
  const mat = frame ? matSize(frame.joints) : DEFAULT_MAT;
  const scale = Math.min(252 / mat.width, 576 / mat.height);
  canvas.width = Math.round(mat.width * scale);
  canvas.height = Math.round(mat.height * scale);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.strokeStyle = "#777";
  ctx.lineWidth = 2;
  ctx.setLineDash([6, 4]);
  ctx.strokeRect(1, 1, canvas.width - 2, canvas.height - 2);
  ctx.setLineDash([]);
  if (!frame) {
    canvas.setAttribute("aria-label", "Mat outline; no frame received yet");
    canvas.dataset.frameAt = "";
    canvas.dataset.joints = "0";
    $("mat-caption").textContent = "Waiting for the bed's next frame…";
    return;
  }
  const at = (j) => [j.x_norm * canvas.width, j.y_norm * canvas.height];
  ctx.strokeStyle = "#0b63c5";
  ctx.lineWidth = 3;
  for (const [a, b] of frame.joint_links ?? []) {
    if (!frame.joints[a] || !frame.joints[b]) continue;
    ctx.beginPath();
    ctx.moveTo(...at(frame.joints[a]));
    ctx.lineTo(...at(frame.joints[b]));
    ctx.stroke();
  }
  for (const j of frame.joints) {
    const [x, y] = at(j);
    ctx.beginPath();
    ctx.arc(x, y, 5, 0, 2 * Math.PI);
    ctx.fillStyle = "#d9480f";
    ctx.fill();
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 1.5;
    ctx.stroke();
  }
  canvas.dataset.frameAt = frame.timestamp;
  canvas.dataset.joints = String(frame.joints.length);
  const text = `${frame.joints.length} joints of the frame at ${time(frame.timestamp)} (this frame: ${label(frame.posture.label)}) on the ${mat.width} × ${mat.height} mat outline`;
  canvas.setAttribute("aria-label", text);
  $("mat-caption").textContent = text;
}

// x = x_norm · width in the frame's cells, so the joints tell the mat's size.
function matSize(joints) {
  const w = joints.filter((j) => j.x_norm > 0.05).map((j) => j.x / j.x_norm);
  const h = joints.filter((j) => j.y_norm > 0.05).map((j) => j.y / j.y_norm);
  const median = (v) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)];
  return w.length && h.length ? { width: Math.round(median(w)), height: Math.round(median(h)) } : DEFAULT_MAT;
}

// ---- helpers -------------------------------------------------------------------------------

async function api(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await readJson(response);
  if (!response.ok) throw problemError(response, body);
  return body;
}

async function readJson(response) {
  const text = await response.text();
  try { return text ? JSON.parse(text) : null; } catch { return { title: `HTTP ${response.status}`, detail: text.slice(0, 500) }; }
}

// A problem document (RFC 7807) becomes an Error carrying its title and detail.
function problemError(response, body) {
  const e = new Error(body?.detail ?? `HTTP ${response.status}`);
  e.title = body?.title ?? `HTTP ${response.status} ${response.statusText}`;
  e.detail = body?.detail ?? "";
  return e;
}

function showError(e, context) {
  $("error-title").textContent = e.title ?? context ?? "Error";
  $("error-detail").textContent = e.detail || e.message || String(e);
  $("error").hidden = false;
}

function hideError() { $("error").hidden = true; }

const label = (posture) => (posture ?? "unknown").replace(/_/g, " ");

function time(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

function timeElement(iso) {
  const t = document.createElement("time");
  if (iso) t.dateTime = iso;
  t.textContent = time(iso);
  return t;
}

function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n) => String(n).padStart(2, "0");
  return h > 0 ? `${h} h ${pad(m)} min ${pad(s % 60)} s` : `${m} min ${pad(s % 60)} s`;
}

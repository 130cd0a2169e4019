// Landing-page demo: upload a file, POST it to /v1/models/{name}/predict, draw the answer.
// Plain browser JavaScript with no dependencies, so the page works offline and needs no build.
// The drawn keypoints are also written to the DOM (table rows and the canvas's data-keypoints)
// so that a person using a screen reader, and the browser test, can check what was drawn.
"use strict";

// Body media type by file extension; the API decodes each of these (README "Using the API").
const MEDIA_TYPES = { png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", csv: "text/csv", npy: "application/x-npy" };
const MAX_CANVAS_SIDE = 512;
const COLORS = ["#ffd400", "#00e5ff", "#ff4fd8", "#7cff4f", "#ff8a00"];

const $ = (id) => document.getElementById(id);
let models = [];

document.addEventListener("DOMContentLoaded", () => {
  $("demo-form").addEventListener("submit", (e) => { e.preventDefault(); predict(); });
  $("model").addEventListener("change", describeModel);
  loadModels();
});

async function loadModels() {
  const select = $("model");
  try {
    const response = await fetch("/v1/models", { headers: { Accept: "application/json" } });
    const body = await readJson(response);
    if (!response.ok) throw problemError(response, body);
    models = body;
    select.replaceChildren(...models.map((m) => {
      const option = new Option(`${m.name}${m.version ? " v" + m.version : ""} (${m.task ?? m.state})`, m.name);
      option.disabled = m.state !== "loaded";
      return option;
    }));
    const preferred = models.find((m) => m.name === "heatmap" && m.state === "loaded") ?? models.find((m) => m.state === "loaded");
    if (preferred) select.value = preferred.name;
    describeModel();
    select.dataset.loaded = "true";
  } catch (e) {
    select.replaceChildren(new Option("no models available", ""));
    showError(e);
  }
}

function describeModel() {
  const m = models.find((x) => x.name === $("model").value);
  $("model-info").textContent = m
    ? [m.description, m.input && `input resized to ${m.input.width}×${m.input.height} (${m.input.value_domain})`, `outputs: ${(m.outputs ?? []).join(", ")}`]
      .filter(Boolean).join(" · ")
    : "";
  // Only the maps this model returns (the API answers 400 or ignores the others). The
  // reconstruction comes first: it is the pressure-map model's own result, at the input's size.
  const offered = ["reconstruction", "heatmaps"].filter((o) => m?.outputs?.includes(o));
  $("overlay").replaceChildren(...offered.map((o) => new Option(o, o)), new Option("none", ""));
}

async function predict() {
  hideError();
  const file = $("file").files[0];
  const model = models.find((m) => m.name === $("model").value);
  if (!file || !model) { showError({ title: "Nothing to send", detail: "Choose a file and a loaded model." }); return; }

  const extension = (file.name.split(".").pop() ?? "").toLowerCase();
  // An unknown extension is sent as the browser labels it, so that the service's own 415 explains what it accepts.
  const contentType = MEDIA_TYPES[extension] ?? (file.type || "application/octet-stream");
  const overlay = $("overlay").value || null;
  const url = `/v1/models/${encodeURIComponent(model.name)}/predict${overlay ? "?include=" + overlay : ""}`;

  setStatus("busy", `Sending ${file.name} to ${model.name}…`);
  $("run").disabled = true;
  try {
    const response = await fetch(url, { method: "POST", headers: { "Content-Type": contentType, Accept: "application/json" }, body: file });
    const body = await readJson(response);
    if (!response.ok) throw problemError(response, body);
    const input = await decodeInput(file, extension, body.width, body.height);
    render(model, body, input, overlay);
    setStatus("done", `${model.name} v${body.version}: ${summarise(body)}`);
  } catch (e) {
    showError(e);
    setStatus("error", "Failed.");
  } finally {
    $("run").disabled = false;
  }
}

async function readJson(response) {
  const text = await response.text();
  try { return text ? JSON.parse(text) : null; } catch { return { title: `HTTP ${response.status}`, detail: text.slice(0, 500) }; }
}

// A problem document (RFC 7807) becomes an Error carrying its title and detail.
function problemError(response, body) {
  const error = new Error(body?.detail ?? body?.title ?? response.statusText);
  error.title = body?.title ?? `HTTP ${response.status}`;
  error.detail = body?.detail ?? "";
  error.status = response.status;
  return error;
}

function summarise(r) {
  if (r.instances) return `${r.instances.length} figure(s) found`;
  return `${r.keypoints.length} keypoints${r.joints ? `, ${r.joints.length} joints` : ""}`;
}

// ---------------------------------------------------------------------------------------------
// Input preview. Images are decoded by the browser; CSV and .npy maps are parsed here and drawn in
// grayscale. The preview is a convenience: if it cannot be built, the keypoints are still drawn on
// a blank canvas of the input's size and a note says why.

async function decodeInput(file, extension, width, height) {
  try {
    if (extension === "csv") return mapImage(parseCsv(await file.text()), width, height);
    if (extension === "npy") return mapImage(parseNpy(await file.arrayBuffer()), width, height);
    return { image: await createImageBitmap(file), note: null };
  } catch (e) {
    return { image: null, note: `Input preview unavailable (${e.message}); keypoints drawn on a blank ${width}×${height} canvas.` };
  }
}

// Rows of numbers separated by commas, semicolons or blanks; blank and "#" lines and a text header skipped.
function parseCsv(text) {
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const semicolon = text.includes(";");
  const rows = [];
  for (const line of lines) {
    const fields = line.split(semicolon ? ";" : line.includes(",") ? "," : /[ \t]+/).map((f) => f.trim().replace(/^"|"$/g, "")).filter((f) => f !== "");
    const values = fields.map((f) => Number(semicolon ? f.replace(",", ".") : f));
    if (rows.length === 0 && values.every(Number.isNaN)) continue; // header line
    if (values.some((v) => !Number.isFinite(v))) throw new Error(`CSV row ${rows.length + 1} is not all numbers`);
    rows.push(values);
  }
  if (rows.length === 0 || rows.some((r) => r.length !== rows[0].length)) throw new Error("CSV rows are missing or uneven");
  return { width: rows[0].length, height: rows.length, values: rows.flat() };
}

// NumPy .npy v1–v3: little- or big-endian numbers in C order, squeezed to two dimensions.
function parseNpy(buffer) {
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  if (bytes[0] !== 0x93 || String.fromCharCode(...bytes.slice(1, 6)) !== "NUMPY") throw new Error("not a .npy file");
  const major = bytes[6];
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.slice(headerStart, headerStart + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? "").split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  const dims = shape.filter((d) => d !== 1);
  const [height, width] = dims.length === 2 ? dims : dims.length === 1 ? (shape[0] === 1 ? [1, dims[0]] : [dims[0], 1]) : [NaN, NaN];
  if (!descr || !(width > 0 && height > 0)) throw new Error(`unsupported .npy shape (${shape.join(", ")})`);
  const little = descr[0] !== ">";
  const kind = descr.slice(1);
  const readers = {
    f4: [4, (o) => view.getFloat32(o, little)], f8: [8, (o) => view.getFloat64(o, little)],
    u1: [1, (o) => view.getUint8(o)], i1: [1, (o) => view.getInt8(o)], b1: [1, (o) => view.getUint8(o)],
    u2: [2, (o) => view.getUint16(o, little)], i2: [2, (o) => view.getInt16(o, little)],
    u4: [4, (o) => view.getUint32(o, little)], i4: [4, (o) => view.getInt32(o, little)],
    i8: [8, (o) => Number(view.getBigInt64(o, little))], u8: [8, (o) => Number(view.getBigUint64(o, little))],
  };
  if (!readers[kind]) throw new Error(`.npy dtype '${descr}' not previewed`);
  const [size, read] = readers[kind];
  const values = new Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const index = fortran ? x * height + y : y * width + x;
      values[y * width + x] = read(headerStart + headerLength + index * size);
    }
  }
  return { width, height, values };
}

// A map drawn in grayscale from its own minimum (black) to maximum (white).
function mapImage(map, width, height) {
  if (map.width !== width || map.height !== height) throw new Error(`parsed ${map.width}×${map.height}, the service read ${width}×${height}`);
  const canvas = document.createElement("canvas");
  canvas.width = width; canvas.height = height;
  const ctx = canvas.getContext("2d");
  const pixels = ctx.createImageData(width, height);
  const { lo, span } = range(map.values);
  map.values.forEach((v, i) => {
    const g = Math.round(255 * (v - lo) / span);
    pixels.data.set([g, g, g, 255], i * 4);
  });
  ctx.putImageData(pixels, 0, 0);
  return { image: canvas, note: null };
}

function range(values) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
  return { lo, span: hi > lo ? hi - lo : 1 };
}

// ---------------------------------------------------------------------------------------------
// Drawing: input, overlay, links, then keypoints (outlines first, fills second, so that every
// keypoint's centre shows its fill even where markers overlap).

function render(model, r, input, overlay) {
  const scale = Math.min(MAX_CANVAS_SIDE / r.width, MAX_CANVAS_SIDE / r.height, 8);
  const canvas = $("canvas");
  canvas.width = Math.round(r.width * scale);
  canvas.height = Math.round(r.height * scale);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false; // show sensor cells and pixels as they are
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  if (input.image) ctx.drawImage(input.image, 0, 0, canvas.width, canvas.height);

  const overlayDrawn = drawOverlay(ctx, r, overlay, canvas.width, canvas.height);
  const groups = groupsOf(model, r);
  const toCanvas = (p) => [p.x * scale, p.y * scale];
  for (const g of groups) drawLinks(ctx, g, toCanvas);
  for (const g of groups) drawMarkers(ctx, g, toCanvas, "outline");
  for (const g of groups) drawMarkers(ctx, g, toCanvas, "fill");

  const drawn = groups.flatMap((g) => g.points.map((p) => ({ group: g.label, name: p.name, x: p.x, y: p.y, confidence: p.confidence ?? null, score: p.score ?? null, color: g.color })));
  canvas.dataset.scale = String(scale);
  canvas.dataset.keypoints = JSON.stringify(drawn);
  canvas.dataset.overlay = overlayDrawn ?? "none";
  canvas.setAttribute("aria-label", `Input ${r.width}×${r.height} with ${drawn.length} predicted points from ${r.model} v${r.version}` +
    (overlayDrawn ? ` and its ${overlayDrawn} overlaid` : ""));
  $("legend").textContent = groups.map((g) => `${g.label}: ${g.color}`).join(" · ") + (overlayDrawn ? ` · overlay: ${overlayDrawn}` : "");
  fillTable(drawn);
  $("result-summary").textContent = `${r.model} v${r.version} (${r.task}) on a ${r.width}×${r.height} input: ${summarise(r)}. ` +
    `Inference ${r.timings_ms.inference.toFixed(1)} ms.`;
  // The service answers but warns, e.g. when a model gets an input of the other kind.
  const warnings = r.warnings ?? [];
  $("warnings").replaceChildren(...warnings.map((w) => Object.assign(document.createElement("li"), { textContent: w })));
  $("warnings").hidden = warnings.length === 0;
  $("preview-note").hidden = !input.note;
  $("preview-note").textContent = input.note ?? "";
  $("json").textContent = JSON.stringify(r, null, 2);
  $("result").hidden = false;
}

// Point groups to draw: plain keypoints, SPMKD joints, or one group per multi-figure instance.
function groupsOf(model, r) {
  if (r.instances) {
    const names = model.keypoints ?? [];
    return r.instances.map((inst, i) => {
      // Instance links index the model's keypoint names; the instance lists only the types it found.
      const byName = new Map(inst.keypoints.map((k) => [k.name, k]));
      const links = inst.links.map(([a, b]) => [byName.get(names[a]), byName.get(names[b])]).filter(([a, b]) => a && b);
      return { label: `figure ${i + 1} (score ${inst.score.toFixed(2)})`, color: COLORS[i % COLORS.length], points: inst.keypoints, links };
    });
  }
  const groups = [{ label: "keypoints", color: COLORS[0], points: r.keypoints, links: pairs(r.keypoints, r.links) }];
  if (r.joints) groups.push({ label: "joints", color: COLORS[1], points: r.joints, links: pairs(r.joints, r.joint_links ?? []) });
  return groups;
}

const pairs = (points, links) => links.map(([a, b]) => [points[a], points[b]]).filter(([a, b]) => a && b);

function drawLinks(ctx, group, toCanvas) {
  ctx.lineWidth = 2;
  ctx.strokeStyle = group.color;
  for (const [a, b] of group.links) {
    ctx.beginPath();
    ctx.moveTo(...toCanvas(a));
    ctx.lineTo(...toCanvas(b));
    ctx.stroke();
  }
}

function drawMarkers(ctx, group, toCanvas, pass) {
  for (const p of group.points) {
    const [x, y] = toCanvas(p);
    ctx.beginPath();
    if (pass === "outline") { ctx.arc(x, y, 6, 0, 2 * Math.PI); ctx.fillStyle = "#000"; }
    else { ctx.arc(x, y, 4, 0, 2 * Math.PI); ctx.fillStyle = group.color; }
    ctx.fill();
  }
}

// Heatmaps (max over keypoints) or the reconstruction, stretched over the input with a red-to-yellow
// ramp whose opacity follows the value, so low values leave the input visible.
function drawOverlay(ctx, r, overlay, width, height) {
  const maps = overlay === "heatmaps" ? r.heatmaps : overlay === "reconstruction" && r.reconstruction ? [r.reconstruction] : null;
  if (!maps || maps.length === 0 || !maps[0].data) return null;
  const w = maps[0].width, h = maps[0].height;
  const combined = new Float32Array(w * h).fill(-Infinity);
  for (const m of maps) m.data.forEach((row, y) => row.forEach((v, x) => { combined[y * w + x] = Math.max(combined[y * w + x], v); }));
  const { lo, span } = range(combined);
  const layer = document.createElement("canvas");
  layer.width = w; layer.height = h;
  const lctx = layer.getContext("2d");
  const pixels = lctx.createImageData(w, h);
  combined.forEach((v, i) => {
    const t = (v - lo) / span;
    pixels.data.set([255, Math.round(255 * t), 0, Math.round(200 * t)], i * 4);
  });
  lctx.putImageData(pixels, 0, 0);
  ctx.save();
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(layer, 0, 0, width, height);
  ctx.restore();
  return overlay;
}

// A longer table (SPMKD's 128 keypoints and 14 joints) starts folded, so the picture stays in view.
const TABLE_ROWS_SHOWN_OPEN = 20;

function fillTable(drawn) {
  const panel = $("keypoints-panel");
  panel.open = drawn.length <= TABLE_ROWS_SHOWN_OPEN;
  $("keypoints-summary").textContent = `Drawn keypoints: ${drawn.length} rows`;
  $("keypoints").tBodies[0].replaceChildren(...drawn.map((p) => {
    const row = document.createElement("tr");
    row.dataset.group = p.group;
    row.dataset.name = p.name;
    row.dataset.x = String(p.x);
    row.dataset.y = String(p.y);
    // confidence is the raw heatmap peak (it can exceed 1); score is the same clamped to [0, 1].
    const number = (v) => (v == null ? "–" : v.toFixed(3));
    for (const text of [p.group, p.name, p.x.toFixed(2), p.y.toFixed(2), number(p.confidence), number(p.score)]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    return row;
  }));
}

// ---------------------------------------------------------------------------------------------

function setStatus(state, text) {
  $("status").textContent = text;
  $("demo-form").dataset.state = state;
}

function showError(e) {
  $("error-title").textContent = e.title ?? "Error";
  $("error-detail").textContent = e.detail ?? e.message ?? String(e);
  $("error").hidden = false;
  $("result").hidden = true;
}

function hideError() {
  $("error").hidden = true;
}

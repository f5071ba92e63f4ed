// The ECG viewer: 25 mm/s and 10 mm/mV on the standard grid; 12-lead layout (3x4 and rhythm strip II) or every
// lead stacked; zoom; calipers measuring ms and mV; 10-second windows fetched as the binary document.
import { drawGrid, parseDocument } from "./ecgdoc.js";

const SPEED = 25; // mm/s
const SCALE = 10; // mm/mV
const WINDOW = 10; // s
const ROW = 30; // mm per strip
const LABEL = 7; // mm kept at the start of a stacked strip for its name
const GRID_12 = [["I", "aVR", "V1", "V4"], ["II", "aVL", "V2", "V5"], ["III", "aVF", "V3", "V6"]];

const root = document.getElementById("ecg-viewer");
const meta = JSON.parse(document.getElementById("ecg-meta").textContent);
const canvas = document.getElementById("ecg-canvas");
const reading = document.getElementById("ecg-caliper-reading");
const layoutChoice = document.getElementById("ecg-layout");
const zoomChoice = document.getElementById("ecg-zoom");
const calipersButton = document.getElementById("ecg-calipers");
const windowLabel = document.getElementById("ecg-window");
const twelve = GRID_12.flat().every((lead) => meta.leads.includes(lead));
const cache = new Map();
const state = { start: 0, layout: twelve ? "12" : "all", calipers: false, points: [], doc: null, pxPerMm: 4 };

layoutChoice.value = state.layout;
if (!twelve) layoutChoice.querySelector('option[value="12"]').disabled = true;

async function windowAt(start) {
  if (!cache.has(start)) {
    const url = `${root.dataset.samplesUrl}?from=${start}&seconds=${WINDOW}`;
    cache.set(start, fetch(url, { credentials: "same-origin" }).then((response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.arrayBuffer();
    }).then(parseDocument));
  }
  return cache.get(start);
}

function millivolts(lead, index) {
  return (lead.samples[index] - lead.baseline) / lead.gain;
}

// A lead's strip from time t0 to t1 (s, within the window) drawn from x0 (mm) around the baseline y0 (mm).
function trace(context, lead, t0, t1, x0, y0) {
  const px = state.pxPerMm;
  const from = Math.max(0, Math.floor(t0 * state.doc.rate));
  const to = Math.min(lead.samples.length, Math.ceil(t1 * state.doc.rate));
  let scale = SCALE;
  let offset = 0;
  if (lead.unit !== "mV") { // not a voltage: fitted to the strip, and said so
    let low = Infinity;
    let high = -Infinity;
    for (let i = from; i < to; i++) { const v = millivolts(lead, i); low = Math.min(low, v); high = Math.max(high, v); }
    scale = high > low ? (ROW - 8) / (high - low) : 1;
    offset = (high + low) / 2;
  }
  context.beginPath();
  for (let i = from; i < to; i++) {
    const x = (x0 + (i / state.doc.rate - t0) * SPEED) * px;
    const y = (y0 - (millivolts(lead, i) - offset) * scale) * px;
    if (i === from) context.moveTo(x, y); else context.lineTo(x, y);
  }
  context.stroke();
  return to > from;
}

function label(context, text, x, y) {
  context.fillStyle = "#111";
  context.font = `${Math.max(11, 3.2 * state.pxPerMm)}px sans-serif`;
  context.fillText(text, x * state.pxPerMm + 2, y * state.pxPerMm);
}

function strips() {
  // [lead, t0, t1, x0 mm, baseline mm, name shown]
  const byName = new Map(state.doc.leads.map((lead) => [lead.name, lead]));
  if (state.layout === "12") {
    const column = WINDOW / 4;
    const cells = GRID_12.flatMap((row, r) => row.map((name, c) =>
      [byName.get(name), c * column, (c + 1) * column, c * column * SPEED, r * ROW + ROW / 2, name]));
    return [...cells, [byName.get("II"), 0, WINDOW, 0, 3 * ROW + ROW / 2, "II"]];
  }
  return state.doc.leads.map((lead, r) => [lead, 0, WINDOW, LABEL, r * ROW + ROW / 2,
    lead.unit === "mV" ? lead.name : `${lead.name} (${lead.unit}, ${root.dataset.labelScaled})`]);
}

function draw() {
  const rows = state.layout === "12" ? 4 : state.doc.leads.length;
  const widthMm = WINDOW * SPEED + (state.layout === "12" ? 0 : LABEL);
  const heightMm = rows * ROW;
  const available = Math.max(600, canvas.parentElement.clientWidth - 4);
  state.pxPerMm = (available / widthMm) * Number(zoomChoice.value);
  const ratio = window.devicePixelRatio || 1;
  canvas.style.width = `${widthMm * state.pxPerMm}px`;
  canvas.style.height = `${heightMm * state.pxPerMm}px`;
  canvas.width = Math.round(widthMm * state.pxPerMm * ratio);
  canvas.height = Math.round(heightMm * state.pxPerMm * ratio);
  const context = canvas.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  drawGrid(context, widthMm, heightMm, state.pxPerMm);
  context.strokeStyle = "#111";
  context.lineWidth = 1.2;
  context.lineJoin = "round";
  const drawn = new Set();
  for (const [lead, t0, t1, x0, y0, name] of strips()) {
    if (lead && trace(context, lead, t0, t1, x0, y0)) drawn.add(lead.name);
    label(context, name, x0, y0 - ROW / 2 + 4);
  }
  markPeaks(context);
  drawCalipers(context);
  root.dataset.drawnLeads = [...drawn].join(" ");
  const from = state.start / meta.rate;
  windowLabel.textContent = `${from.toFixed(1)}–${Math.min(meta.count / meta.rate, from + WINDOW).toFixed(1)} s / ${(meta.count / meta.rate).toFixed(1)} s`;
}

// The detected R peaks, marked over the rhythm strip (or the top strip): what the computed rate counted.
function markPeaks(context) {
  const y = (state.layout === "12" ? 3 * ROW : 0) + 2;
  const x0 = state.layout === "12" ? 0 : LABEL;
  context.fillStyle = "#1d4ed8";
  for (const peak of meta.peaks) {
    const t = (peak - state.start) / meta.rate;
    if (t < 0 || t > WINDOW) continue;
    const x = (x0 + t * SPEED) * state.pxPerMm;
    context.beginPath();
    context.moveTo(x - 4, y * state.pxPerMm);
    context.lineTo(x + 4, y * state.pxPerMm);
    context.lineTo(x, y * state.pxPerMm + 6);
    context.fill();
  }
}

function drawCalipers(context) {
  context.strokeStyle = "#1d4ed8";
  context.lineWidth = 1;
  for (const [x, y] of state.points) {
    context.beginPath();
    context.moveTo(x * state.pxPerMm, 0);
    context.lineTo(x * state.pxPerMm, canvas.height);
    context.moveTo((x - 3) * state.pxPerMm, y * state.pxPerMm);
    context.lineTo((x + 3) * state.pxPerMm, y * state.pxPerMm);
    context.stroke();
  }
  if (state.points.length === 2) {
    const [[xa, ya], [xb, yb]] = state.points;
    const ms = (Math.abs(xb - xa) / SPEED) * 1000;
    const mv = (ya - yb) / SCALE;
    reading.textContent = `Δt ${ms.toFixed(0)} ${root.dataset.labelMs} · ${(60000 / ms).toFixed(0)}/min · ΔV ${mv.toFixed(2)} ${root.dataset.labelMv}`;
  } else {
    reading.textContent = "";
  }
}

async function show(start) {
  state.start = Math.max(0, Math.min(start, Math.max(0, meta.count - Math.round(WINDOW * meta.rate))));
  state.doc = await windowAt(state.start);
  state.points = [];
  draw();
}

canvas.addEventListener("click", (event) => {
  if (!state.calipers) return;
  const box = canvas.getBoundingClientRect();
  const point = [(event.clientX - box.left) / state.pxPerMm, (event.clientY - box.top) / state.pxPerMm];
  state.points = state.points.length >= 2 ? [point] : [...state.points, point];
  draw();
});
calipersButton.addEventListener("click", () => {
  state.calipers = !state.calipers;
  state.points = [];
  calipersButton.setAttribute("aria-pressed", String(state.calipers));
  canvas.classList.toggle("measuring", state.calipers);
  draw();
});
layoutChoice.addEventListener("change", () => { state.layout = layoutChoice.value; draw(); });
zoomChoice.addEventListener("change", draw);
document.getElementById("ecg-previous").addEventListener("click", () => show(state.start - WINDOW * meta.rate));
document.getElementById("ecg-next").addEventListener("click", () => show(state.start + WINDOW * meta.rate));
window.addEventListener("resize", () => state.doc && draw());

const drawnList = document.getElementById("ecg-drawn");
for (const [index, lead] of meta.leads.entries()) {
  const item = document.createElement("li");
  item.dataset.lead = lead;
  item.textContent = `${lead} (${meta.units[index]}) · ${(meta.count / meta.rate).toFixed(1)} s`;
  drawnList.append(item);
}
show(0).catch((error) => { windowLabel.textContent = String(error); });

// The live stream beside the call: binary frames (diagnostics/stream.py) decoded in order, the four derived limb
// leads computed here, twelve leads swept over the last five seconds, with the delay and the gaps measured.
import { deriveLimbLeads, drawGrid } from "./ecgdoc.js";

const HEADER = 28;
const STREAM_LEADS = ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"];
const SHOWN = [["I", "II", "III", "aVR", "aVL", "aVF"], ["V1", "V2", "V3", "V4", "V5", "V6"]];
const SECONDS = 5;
const ROW = 20; // mm
const SPEED = 25; // mm/s
const SCALE = 10; // mm/mV

const root = document.getElementById("live-ecg");
const canvas = document.getElementById("live-ecg-canvas");
const outputs = Object.fromEntries(["status", "age", "gaps", "spo2", "pulse"].map(
  (name) => [name, document.getElementById(`live-${name}`)]));
const traces = new Map(); // lead -> {values: Float32Array (mV), rate}
const ages = [];
let expected = null;
let gaps = 0;
let decoding = Promise.resolve();
let socket = null;

function varints(bytes, count, at) {
  const out = new Float64Array(count);
  let value = 0;
  for (let k = 0; k < count; k++) {
    let shift = 0;
    let result = 0;
    for (;;) {
      const byte = bytes[at++];
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (byte < 0x80) break;
    }
    value += result % 2 ? -(result + 1) / 2 : result / 2; // zigzag, then the running sum of differences
    out[k] = value;
  }
  return [out, at];
}

async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function keep(lead, values, rate) {
  const size = SECONDS * rate;
  const trace = traces.get(lead) || { values: new Float32Array(size).fill(NaN), rate };
  const merged = new Float32Array(size);
  const kept = Math.max(0, size - values.length);
  merged.set(trace.values.subarray(trace.values.length - kept));
  merged.set(values.subarray(Math.max(0, values.length - size)), kept);
  trace.values = merged;
  traces.set(lead, trace);
}

async function onFrame(buffer) {
  const view = new DataView(buffer);
  const kind = view.getUint8(0);
  const rate = view.getUint16(2, true);
  const first = view.getUint32(8, true);
  const count = view.getUint16(12, true);
  const mask = view.getUint16(14, true);
  const gain = view.getFloat32(16, true);
  const captured = Number(view.getBigUint64(20, true));
  if (kind === 2) {
    outputs.spo2.textContent = `${mask} %`;
    outputs.pulse.textContent = `${count}/min`;
    return;
  }
  const body = await inflate(new Uint8Array(buffer, HEADER));
  const leads = STREAM_LEADS.filter((_, i) => mask >> i & 1);
  let at = 0;
  const got = {};
  for (const lead of leads) {
    let values;
    [values, at] = varints(body, count, at);
    got[lead] = Float32Array.from(values, (v) => v / gain);
  }
  if (got.I && got.II) Object.assign(got, deriveLimbLeads(got.I, got.II));
  if (expected !== null && first > expected) gaps += first - expected;
  expected = first + count;
  for (const [lead, values] of Object.entries(got)) keep(lead, values, rate);
  // The age of the frame's last sample when it reaches the screen.
  const age = Date.now() - (captured + (count * 1000) / rate);
  ages.push(age);
  if (ages.length > 300) ages.shift();
  root.dataset.frames = String(Number(root.dataset.frames || 0) + 1);
  root.dataset.leads = Object.keys(got).join(" ");
  root.dataset.gaps = String(gaps);
  requestAnimationFrame(draw);
}

function draw() {
  const widthMm = SHOWN.length * SECONDS * SPEED;
  const heightMm = SHOWN[0].length * ROW;
  const pxPerMm = Math.max(1.5, (canvas.parentElement.clientWidth - 4) / widthMm);
  const ratio = window.devicePixelRatio || 1;
  canvas.style.width = `${widthMm * pxPerMm}px`;
  canvas.style.height = `${heightMm * pxPerMm}px`;
  canvas.width = Math.round(widthMm * pxPerMm * ratio);
  canvas.height = Math.round(heightMm * pxPerMm * ratio);
  const context = canvas.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  drawGrid(context, widthMm, heightMm, pxPerMm);
  context.strokeStyle = "#111";
  context.lineWidth = 1;
  context.font = "11px sans-serif";
  SHOWN.forEach((column, c) => column.forEach((lead, r) => {
    const x0 = c * SECONDS * SPEED;
    const y0 = r * ROW + ROW / 2;
    context.fillStyle = "#111";
    context.fillText(lead, x0 * pxPerMm + 3, (r * ROW + 4) * pxPerMm);
    const trace = traces.get(lead);
    if (!trace) return;
    context.beginPath();
    let drawing = false;
    trace.values.forEach((value, i) => {
      if (Number.isNaN(value)) { drawing = false; return; }
      const x = (x0 + (i / trace.rate) * SPEED) * pxPerMm;
      const y = (y0 - value * SCALE) * pxPerMm;
      if (drawing) context.lineTo(x, y); else context.moveTo(x, y);
      drawing = true;
    });
    context.stroke();
  }));
  const sorted = [...ages].sort((a, b) => a - b);
  if (sorted.length) outputs.age.textContent = `${Math.max(0, sorted[Math.floor(sorted.length * 0.99)] || 0)} ms (p99)`;
  outputs.gaps.textContent = String(gaps);
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}${root.dataset.socket}`);
  socket.binaryType = "arraybuffer";
  socket.addEventListener("open", () => { outputs.status.textContent = root.dataset.labelLive; });
  socket.addEventListener("close", () => { outputs.status.textContent = root.dataset.labelClosed; });
  socket.addEventListener("message", (event) => {
    if (typeof event.data === "string") return; // refusals of what this page sent
    const buffer = event.data;
    decoding = decoding.then(() => onFrame(buffer)).catch(() => {});
  });
}

document.getElementById("live-start")?.addEventListener("click", () => {
  socket.send(JSON.stringify({ type: "replay", recording: document.getElementById("live-recording").value, loop: true }));
});
document.getElementById("live-stop")?.addEventListener("click", () => socket.send(JSON.stringify({ type: "stop" })));
draw();
connect();

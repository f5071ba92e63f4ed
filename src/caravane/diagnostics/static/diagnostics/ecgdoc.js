// The ECG binary document (docs/diagnostics.md): a header, one record per lead, then int16 samples lead after lead.
const HEADER = 20;
const LEAD = 24;
const text = new TextDecoder("ascii");

function name(bytes) {
  const end = bytes.indexOf(0);
  return text.decode(end < 0 ? bytes : bytes.subarray(0, end));
}

export function parseDocument(buffer) {
  const view = new DataView(buffer);
  if (name(new Uint8Array(buffer, 0, 4)) !== "CECG" || view.getUint8(4) !== 1) throw new Error("not an ECG document");
  const count = view.getUint8(5);
  const differences = view.getUint16(6, true) === 1;
  const rate = view.getFloat32(8, true);
  const first = view.getUint32(12, true);
  const length = view.getUint32(16, true);
  const leads = [];
  for (let i = 0; i < count; i++) {
    const at = HEADER + i * LEAD;
    const samples = new Int16Array(buffer.slice(HEADER + count * LEAD + i * length * 2,
                                                HEADER + count * LEAD + (i + 1) * length * 2));
    if (differences) {
      // A running sum that wraps in 16 bits, as the differences did.
      for (let k = 1; k < samples.length; k++) samples[k] = samples[k - 1] + samples[k];
    }
    leads.push({
      name: name(new Uint8Array(buffer, at, 8)), unit: name(new Uint8Array(buffer, at + 8, 8)),
      gain: view.getFloat32(at + 16, true), baseline: view.getInt32(at + 20, true), samples,
    });
  }
  return { rate, first, length, leads };
}

// Einthoven's and Goldberger's relations: the four limb leads a recorder computes from I and II.
export function deriveLimbLeads(i, ii) {
  const n = Math.min(i.length, ii.length);
  const out = { III: new Float32Array(n), aVR: new Float32Array(n), aVL: new Float32Array(n), aVF: new Float32Array(n) };
  for (let k = 0; k < n; k++) {
    out.III[k] = ii[k] - i[k];
    out.aVR[k] = -(i[k] + ii[k]) / 2;
    out.aVL[k] = i[k] - ii[k] / 2;
    out.aVF[k] = ii[k] - i[k] / 2;
  }
  return out;
}

// The standard paper: 1 mm squares, darker every 5 mm.
export function drawGrid(context, widthMm, heightMm, pxPerMm) {
  context.fillStyle = "#fff";
  context.fillRect(0, 0, widthMm * pxPerMm, heightMm * pxPerMm);
  for (const [step, colour, lineWidth] of [[1, "#f5cccc", 0.5], [5, "#e39b9b", 1]]) {
    context.strokeStyle = colour;
    context.lineWidth = lineWidth;
    context.beginPath();
    for (let x = 0; x <= widthMm + 0.001; x += step) {
      context.moveTo(x * pxPerMm, 0);
      context.lineTo(x * pxPerMm, heightMm * pxPerMm);
    }
    for (let y = 0; y <= heightMm + 0.001; y += step) {
      context.moveTo(0, y * pxPerMm);
      context.lineTo(widthMm * pxPerMm, y * pxPerMm);
    }
    context.stroke();
  }
}

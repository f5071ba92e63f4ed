// Live telemedicine pages: an act's panel, a hub's worklist or the coordinators' page is re-read from the server whenever its
// WebSocket feed says something changed; service-level timers count down between updates.
import { durationText, reread, showLive, subscribe } from "../caravane/js/live.js";

const root = document.querySelector("[data-feed][data-refresh-url]");
const body = root && (root.matches("[data-live-body]") ? root : root.querySelector("[data-live-body]"));
const label = document.querySelector("[data-live-label]");

let pending = false;

// A choice the user has opened (a reassignment) is not replaced under their hands: the re-read waits until it closes.
async function refresh() {
  if (body.querySelector("details[open]")) {
    pending = true;
    return;
  }
  pending = false;
  if (await reread(root.dataset.refreshUrl, body, root)) tick();
}

// An act's page follows its own act only; a worklist every act of its hub and specialty.
function onEvent(event) {
  if (event && root.dataset.act && event.payload?.act !== root.dataset.act) return;
  refresh();
}

// Service-level timers: time left before the answer is due, or how late it is; overdue rows are highlighted.
function tick() {
  const now = Date.now();
  for (const cell of body.querySelectorAll("[data-due][data-running='1']")) {
    const left = Math.round((Date.parse(cell.dataset.due) - now) / 1000);
    cell.textContent = left >= 0 ? durationText(left) : `${root.dataset.overdue} ${durationText(left)}`;
    cell.closest("tr")?.classList.toggle("breached", left < 0);
  }
  for (const cell of body.querySelectorAll("[data-since]")) {
    cell.textContent = durationText((now - Date.parse(cell.dataset.since)) / 1000);
  }
}

if (root && root.dataset.feed) {
  body.addEventListener("toggle", (event) => {
    if (pending && !event.target.open) refresh();
  }, true);
  subscribe(root.dataset.feed, onEvent, (state) => showLive(root, label, state));
  tick();
  setInterval(tick, 1000);
}

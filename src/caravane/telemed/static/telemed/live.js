// Live telemedicine pages: an act's panel, a hub's worklist, the coordinators' page, a site's requests (and any
// other live region of the page, e.g. a GP's waiting patients) is re-read from the server whenever one of its WebSocket feeds says
// something changed; service-level timers and waiting times count between updates.
import { durationText, reread, showLive, subscribe } from "../caravane/js/live.js";

// A region: data-feed (one or more feed paths, separated by spaces), data-refresh-url, and the part re-read
// (itself or its [data-live-body]); its live label is its own, or the page's.
function follow(root) {
  const body = root.matches("[data-live-body]") ? root : root.querySelector("[data-live-body]");
  const label = root.querySelector("[data-live-label]") ?? document.querySelector("[data-live-label]");
  const overdue = root.dataset.overdue;
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

  // An act's page follows its own act only; other regions every event of their feeds.
  function onEvent(event) {
    if (event && root.dataset.act && event.payload?.act !== root.dataset.act) return;
    refresh();
  }

  // Service-level timers: time left before the answer is due, or how late it is; overdue rows are highlighted.
  function tick() {
    const now = Date.now();
    for (const cell of body.querySelectorAll("[data-due][data-running='1']")) {
      const left = Math.round((Date.parse(cell.dataset.due) - now) / 1000);
      cell.textContent = left >= 0 ? durationText(left) : `${overdue} ${durationText(left)}`;
      cell.closest("tr")?.classList.toggle("breached", left < 0);
    }
    for (const cell of body.querySelectorAll("[data-since]")) {
      cell.textContent = durationText(Math.max(0, now - Date.parse(cell.dataset.since)) / 1000);
    }
  }

  body.addEventListener("toggle", (event) => {
    if (pending && !event.target.open) refresh();
  }, true);
  for (const feed of root.dataset.feed.split(" ").filter(Boolean)) {
    subscribe(feed, onEvent, (state) => showLive(root, label, state));
  }
  tick();
  setInterval(tick, 1000);
}

document.querySelectorAll("[data-feed][data-refresh-url]").forEach(follow);

// The visit page's panel of device readings: re-read whenever a reading of this site arrives for this visit,
// or leaves it (confirmed, dismissed, moved), without reloading the page.
import { reread, showLive, subscribe } from "../../caravane/js/live.js";

const panel = document.getElementById("device-readings");
const body = panel.querySelector("[data-live-body]");
const label = panel.querySelector("[data-live-label]");

function onEvent(event) {
  // null after a reconnection: whatever was missed is caught up by one re-read.
  if (event && event.payload?.encounter !== panel.dataset.encounter) return;
  reread(panel.dataset.refreshUrl, body, panel);
}

subscribe(panel.dataset.feed, onEvent, (state) => showLive(panel, label, state));

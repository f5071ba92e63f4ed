// The live queue board: re-reads the server-rendered columns whenever a visit of this site and day changes.
import { durationText, reread, showLive, subscribe } from "../../caravane/js/live.js";

const board = document.getElementById("queue-board");
const columns = document.getElementById("queue-columns");
const label = board.querySelector("[data-live-label]");

function refresh() {
  return reread(board.dataset.columnsUrl, columns, board);
}

// Waiting times tick on the client between updates.
function tick() {
  const now = Date.now();
  for (const node of columns.querySelectorAll("[data-since]")) {
    node.textContent = durationText(Math.max(0, now - Date.parse(node.dataset.since)) / 1000);
  }
}

subscribe(`/ws/care/queue/${board.dataset.site}/${board.dataset.day}/`, refresh, (state) => showLive(board, label, state));
setInterval(tick, 30000);

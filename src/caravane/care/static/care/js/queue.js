// The live queue board: re-reads the server-rendered columns whenever a visit of this site and day changes.
const board = document.getElementById("queue-board");
const columns = document.getElementById("queue-columns");
const label = board.querySelector("[data-live-label]");
let delay = 1000;

async function refresh() {
  const response = await fetch(board.dataset.columnsUrl, { credentials: "same-origin", headers: { Accept: "text/html" } });
  if (response.redirected) {
    location.reload(); // the session ended: let the server send the login page
    return;
  }
  if (response.ok) {
    columns.innerHTML = await response.text();
    board.dataset.refreshed = String(Date.now());
  }
}

function setLive(state) {
  board.dataset.live = state;
  label.classList.toggle("ok", state === "on");
  label.classList.toggle("warn", state !== "on");
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/care/queue/${board.dataset.site}/${board.dataset.day}/`);
  socket.addEventListener("open", () => {
    // Anything missed while disconnected is caught up by one re-read.
    if (delay > 1000) refresh();
    delay = 1000;
    setLive("on");
  });
  socket.addEventListener("message", () => refresh());
  socket.addEventListener("close", () => {
    setLive("off");
    setTimeout(connect, delay);
    delay = Math.min(delay * 2, 30000);
  });
}

// Waiting times tick on the client between updates.
function tick() {
  const now = Date.now();
  for (const node of columns.querySelectorAll("[data-since]")) {
    const minutes = Math.max(0, Math.floor((now - Date.parse(node.dataset.since)) / 60000));
    node.textContent = `${minutes} min`;
  }
}

connect();
setInterval(tick, 30000);

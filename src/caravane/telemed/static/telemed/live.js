// Live telemedicine pages: an act's panel or a hub's worklist is re-read from the server whenever its
// WebSocket feed says something changed; service-level timers count down between updates.
const root = document.querySelector("[data-feed][data-refresh-url]");
const body = root && (root.matches("[data-live-body]") ? root : root.querySelector("[data-live-body]"));
const label = document.querySelector("[data-live-label]");
let delay = 1000;

async function refresh() {
  const response = await fetch(root.dataset.refreshUrl, { credentials: "same-origin", headers: { Accept: "text/html" } });
  if (response.redirected) {
    location.reload(); // the session ended: let the server send the login page
    return;
  }
  if (response.ok) {
    body.innerHTML = await response.text();
    root.dataset.refreshed = String(Date.now());
    tick();
  }
}

function setLive(state) {
  root.dataset.live = state;
  label?.classList.toggle("ok", state === "on");
  label?.classList.toggle("warn", state !== "on");
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}${root.dataset.feed}`);
  socket.addEventListener("open", () => {
    if (delay > 1000) refresh(); // catch up on anything missed while disconnected
    delay = 1000;
    setLive("on");
  });
  socket.addEventListener("message", (message) => {
    const { payload } = JSON.parse(message.data);
    // An act's page follows its own act only; a worklist every act of its hub and specialty.
    if (root.dataset.act && payload?.act !== root.dataset.act) return;
    refresh();
  });
  socket.addEventListener("close", () => {
    setLive("off");
    setTimeout(connect, delay);
    delay = Math.min(delay * 2, 30000);
  });
}

// Durations are isolated left-to-right so that "1 h 05" reads the same in an Arabic page.
function duration(seconds) {
  const minutes = Math.floor(Math.abs(seconds) / 60);
  const text = minutes >= 60 ? `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")}` : `${minutes} min`;
  return `\u2066${text}\u2069`;
}

// Service-level timers: time left before the answer is due, or how late it is; overdue rows are highlighted.
function tick() {
  const now = Date.now();
  for (const cell of body.querySelectorAll("[data-due][data-running='1']")) {
    const left = Math.round((Date.parse(cell.dataset.due) - now) / 1000);
    cell.textContent = left >= 0 ? duration(left) : `${root.dataset.overdue} ${duration(left)}`;
    cell.closest("tr")?.classList.toggle("breached", left < 0);
  }
  for (const cell of body.querySelectorAll("[data-since]")) {
    cell.textContent = duration((now - Date.parse(cell.dataset.since)) / 1000);
  }
}

if (root && root.dataset.feed) {
  connect();
  tick();
  setInterval(tick, 1000);
}

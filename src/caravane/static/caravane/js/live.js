// Live pages: follow a WebSocket feed of this host, reconnecting with backoff, and re-read server-rendered parts.

const FIRST_DELAY = 1000;
const MAX_DELAY = 30000;

// Calls onEvent with each message's parsed JSON, and with null after a reconnection (anything missed while
// disconnected is caught up by one re-read); onState("on" | "off") as the link comes and goes.
export function subscribe(path, onEvent, onState = () => {}) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  let delay = FIRST_DELAY;
  function connect() {
    const socket = new WebSocket(`${scheme}://${location.host}${path}`);
    socket.addEventListener("open", () => {
      if (delay > FIRST_DELAY) onEvent(null);
      delay = FIRST_DELAY;
      onState("on");
    });
    socket.addEventListener("message", (message) => onEvent(JSON.parse(message.data)));
    socket.addEventListener("close", () => {
      onState("off");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, MAX_DELAY);
    });
  }
  connect();
}

// Replaces target's content by the HTML at url and stamps root with the time; true when it did.
export async function reread(url, target, root) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
  if (response.redirected) {
    location.reload(); // the session ended: let the server send the login page
    return false;
  }
  if (!response.ok) return false;
  target.innerHTML = await response.text();
  root.dataset.refreshed = String(Date.now());
  return true;
}

// Shows the state of the live link on root (data-live) and on its label, if any.
export function showLive(root, label, state) {
  root.dataset.live = state;
  label?.classList.toggle("ok", state === "on");
  label?.classList.toggle("warn", state !== "on");
}

// A waiting time in the page's language ("12 min", "1 h 05"), isolated in the direction of its own unit's script,
// so that an Arabic page reads "12 د" number first, as it reads "12 min" in French.
export function durationText(seconds) {
  const units = document.body.dataset;
  const minutes = Math.floor(Math.abs(seconds) / 60);
  const text = minutes >= 60
    ? `${Math.floor(minutes / 60)} ${units.unitHour} ${String(minutes % 60).padStart(2, "0")}`
    : `${minutes} ${units.unitMinute}`;
  return `\u2068${text}\u2069`;
}

// The pharmacy's alerts re-read from the server whenever a stock the page follows changes.
import { reread, showLive, subscribe } from "../caravane/js/live.js";

for (const root of document.querySelectorAll("[data-feed][data-refresh-url]")) {
  const body = root.querySelector("[data-live-body]") ?? root;
  const label = root.querySelector("[data-live-label]");
  for (const feed of root.dataset.feed.split(" ").filter(Boolean)) {
    subscribe(feed, () => reread(root.dataset.refreshUrl, body, root), (state) => showLive(root, label, state));
  }
}

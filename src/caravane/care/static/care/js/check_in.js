// Check-in by name, phone, CIN or record number: as the desk types, the patients who match are listed under the
// field (the server's own list, the one shown without JavaScript), each with its "Check in" button.
import { reread } from "../../caravane/js/live.js";

const form = document.getElementById("check-in");
const field = document.getElementById("check-in-query");
const panel = document.getElementById("check-in-matches");
const MIN_LENGTH = 2;
let timer = null;
let asked = "";

async function refresh() {
  const query = field.value.trim();
  if (query === asked) return;
  asked = query;
  if (query.length < MIN_LENGTH) {
    panel.replaceChildren();
    return;
  }
  // Offline or refused: the list stays as it was, and submitting the form still works.
  await reread(`${form.dataset.matchesUrl}&q=${encodeURIComponent(query)}`, panel, form).catch(() => false);
}

if (form && field && panel) {
  asked = field.value.trim();
  field.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
}

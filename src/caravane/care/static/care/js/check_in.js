// Check-in by name, phone, CIN or record number: as the desk types, the patients who match are listed under the
// field (the server's own list, the one shown without JavaScript), each with its "Check in" button.
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
  try {
    const response = await fetch(`${form.dataset.matchesUrl}&q=${encodeURIComponent(query)}`, {
      credentials: "same-origin", headers: { Accept: "text/html" },
    });
    const html = response.ok && !response.redirected ? await response.text() : null;
    // An answer to an older query that arrives late is dropped.
    if (html !== null && asked === query) panel.innerHTML = html;
  } catch {
    // Offline: the list stays as it was, and submitting the form still lists the matches.
  }
}

if (form && field && panel) {
  asked = field.value.trim();
  field.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
}

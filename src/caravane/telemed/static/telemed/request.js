// The request form tells the GP, while they choose, where the request would go and whether a hub answers within
// the service level; when none does, the warning and the "send anyway" choice appear before anything is sent.
const form = document.querySelector("#telemed-request[data-route-preview]");
const preview = document.querySelector("#route-preview");
const warning = document.querySelector("#route-warning");
const lines = document.querySelector("#route-warning-lines");

async function update() {
  const data = new FormData(form);
  if (!data.get("specialty")) {
    preview.textContent = "";
    return;
  }
  const query = new URLSearchParams({ kind: data.get("kind"), specialty: data.get("specialty"),
    priority: data.get("priority"), complex_case: data.get("complex_case") ? "true" : "false" });
  const response = await fetch(`${form.dataset.routePreview}?${query}`, { credentials: "same-origin",
    headers: { Accept: "application/json" } });
  if (!response.ok) {
    preview.textContent = "";
    return;
  }
  const answer = await response.json();
  const chosen = answer.route.filter((step) => step.chosen).pop();
  preview.textContent = answer.within_service_level && chosen ? chosen.explanation : "";
  lines.replaceChildren(...answer.warning.map((line) => Object.assign(document.createElement("li"),
    { textContent: line })));
  warning.hidden = answer.within_service_level;
}

if (form && preview && warning) {
  for (const name of ["kind", "specialty", "priority", "complex_case"]) {
    form.elements[name]?.addEventListener("change", update);
  }
  update();
}

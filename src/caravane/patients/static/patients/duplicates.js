// Live duplicate check on the registration form: as names, birth date, CIN or phone change,
// ask the API for look-alike patients and list them above the form. The server re-checks on submit.
const form = document.getElementById("patient-registration");
const panel = document.getElementById("live-duplicates");
const FIELDS = ["given_name", "family_name", "given_name_ar", "family_name_ar", "birth_date", "gender",
  "national_id", "phone"];
let timer = null;
let controller = null;

function query() {
  const params = new URLSearchParams();
  for (const name of FIELDS) {
    const value = form.elements[name]?.value?.trim();
    if (value) params.set(name, value);
  }
  return params;
}

function render(matches) {
  const list = panel.querySelector("ul");
  list.replaceChildren();
  for (const match of matches) {
    const p = match.patient;
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = `../${p.id}/`;
    link.textContent = p.name.map((n) => [...n.given, n.family].join(" ")).join(" · ");
    const info = document.createElement("span");
    info.className = "muted";
    info.textContent = ` ${p.record_number}${p.birthDate ? " · " + p.birthDate : ""}`;
    item.append(link, info);
    list.append(item);
  }
  panel.hidden = matches.length === 0;
}

async function check() {
  const params = query();
  const named = ["given_name", "family_name", "given_name_ar", "family_name_ar", "national_id", "phone"]
    .some((name) => params.has(name));
  if (!named) { render([]); return; }
  controller?.abort();
  controller = new AbortController();
  try {
    const response = await fetch(`${form.dataset.duplicatesUrl}?${params}`, {
      signal: controller.signal, credentials: "same-origin", headers: { Accept: "application/json" },
    });
    if (response.ok) render(await response.json());
  } catch (error) {
    if (error.name !== "AbortError") panel.hidden = true;  // offline: the server still checks on submit
  }
}

if (form && panel) {
  form.addEventListener("change", (event) => {
    if (!FIELDS.includes(event.target.name)) return;
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  });
}

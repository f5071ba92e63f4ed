// ICD-10 suggestions for the diagnosis field, from the API's indexed search (WHO 2019 edition).
const input = document.querySelector("[data-icd10-search]");
const list = document.getElementById(input.getAttribute("list"));
let timer;

input.addEventListener("input", () => {
  clearTimeout(timer);
  const query = input.value.trim();
  if (query.length < 2 || /\s—\s/.test(query)) return;
  timer = setTimeout(async () => {
    const response = await fetch(`${input.dataset.icd10Search}?q=${encodeURIComponent(query)}`, { credentials: "same-origin" });
    if (!response.ok) return;
    const entries = await response.json();
    list.replaceChildren(...entries.map(({ code, label }) => {
      const option = document.createElement("option");
      option.value = `${code} — ${label}`;
      return option;
    }));
  }, 200);
});

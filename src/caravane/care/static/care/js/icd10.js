// The ICD-10 picker: an ARIA combobox over the API's search, labels in the reader's language. Without it the
// field still takes a code typed by hand, and the server checks it (and suggests codes when it refuses one).
const MIN_LENGTH = 2;
const DELAY_MS = 250;

for (const input of document.querySelectorAll("[data-icd10-search]")) picker(input);

function picker(input) {
  const list = document.createElement("ul");
  list.id = `${input.id}-options`;
  list.className = "icd10-options";
  list.setAttribute("role", "listbox");
  list.hidden = true;
  const status = document.createElement("p");
  status.className = "icd10-status";
  status.setAttribute("role", "status");
  input.after(list, status);
  Object.entries({ role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": list.id })
    .forEach(([name, value]) => input.setAttribute(name, value));

  const cache = new Map();
  let entries = [];
  let active = -1;
  let timer;
  let pending;

  input.addEventListener("input", () => {
    clearTimeout(timer);
    const query = input.value.trim();
    if (query.length < MIN_LENGTH || query.includes(" — ")) return close("");
    timer = setTimeout(() => suggest(query), DELAY_MS);
  });
  input.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      move(event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();  // picking is not submitting
      choose(active);
    } else if (event.key === "Escape") {
      close("");
    }
  });
  input.addEventListener("blur", () => list.hidden || close(""));
  list.addEventListener("mousedown", (event) => event.preventDefault());  // keep the focus in the field
  list.addEventListener("click", (event) => {
    const option = event.target.closest("[role=option]");
    if (option) choose(Number(option.dataset.index));
  });

  async function suggest(query) {
    if (!cache.has(query)) {
      pending?.abort();
      pending = new AbortController();
      try {
        const url = `${input.dataset.icd10Search}?q=${encodeURIComponent(query)}`;
        const response = await fetch(url, { credentials: "same-origin", signal: pending.signal });
        if (!response.ok) return;
        cache.set(query, await response.json());
      } catch (error) {
        if (error.name === "AbortError") return;
        throw error;
      }
    }
    if (input.value.trim() === query && document.activeElement === input) show(cache.get(query));
  }

  function show(found) {
    entries = found;
    active = -1;
    list.replaceChildren(...found.map((entry, index) => {
      const option = document.createElement("li");
      option.id = `${list.id}-${index}`;
      option.dataset.index = index;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      const code = document.createElement("code");
      code.dir = "ltr";
      code.textContent = entry.code;
      option.append(code, " ", entry.label);
      if (!entry.terminal) {
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = input.dataset.category;
        option.append(" ", badge);
      }
      return option;
    }));
    list.hidden = !found.length;
    input.setAttribute("aria-expanded", String(!list.hidden));
    input.removeAttribute("aria-activedescendant");
    status.textContent = found.length ? input.dataset.found.replace("%(count)s", found.length) : input.dataset.none;
  }

  function move(step) {
    active = (active + step + entries.length) % entries.length;
    for (const option of list.children) option.setAttribute("aria-selected", String(option.dataset.index == active));
    const option = list.children[active];
    input.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  }

  function choose(index) {
    const entry = entries[index];
    input.value = `${entry.code} — ${entry.label}`;
    close(entry.terminal ? "" : input.dataset.categoryHint);
  }

  function close(message) {
    list.hidden = true;
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    status.textContent = message;
  }
}

// The GP's visit workspace. The note travels with every action form, is saved after a pause, and stays on
// this tablet (localStorage) until the server has acknowledged it, so a cut link or a crash loses no text.
// Leaving with unsaved text asks first. "Correct" fills the add form in place instead of leaving the page.

const DRAFT_PREFIX = "caravane:visit-note:";
const DRAFT_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
const AUTOSAVE_DELAY_MS = 3000;
const RETRY_MS = 30000;

const noteForm = document.getElementById("note-form");
let leaving = false; // a form of the page is being sent: the note goes with it

function noteFields() {
  return [...noteForm.elements].filter((field) => field.name && field.name !== "csrfmiddlewaretoken" && field.type !== "submit");
}

function noteValues() {
  return Object.fromEntries(noteFields().map((field) => [field.name, field.value]));
}

function same(a, b) {
  return Object.keys({ ...a, ...b }).every((name) => (a[name] ?? "") === (b[name] ?? ""));
}

function dropStaleDrafts() {
  for (let i = localStorage.length - 1; i >= 0; i -= 1) {
    const key = localStorage.key(i);
    if (!key?.startsWith(DRAFT_PREFIX)) continue;
    try {
      if (Date.now() - JSON.parse(localStorage.getItem(key)).at > DRAFT_MAX_AGE_MS) localStorage.removeItem(key);
    } catch {
      localStorage.removeItem(key);
    }
  }
}

function setupNote() {
  const status = document.getElementById("note-status");
  const key = DRAFT_PREFIX + noteForm.dataset.encounter;
  const csrf = noteForm.querySelector("[name=csrfmiddlewaretoken]").value;
  let acknowledged = noteValues(); // what the server holds, as this page was rendered
  let timer = null;
  let inFlight = false;

  const say = (state) => {
    status.textContent = status.dataset[state] || "";
    status.dataset.state = state;
  };
  const dirty = () => !same(noteValues(), acknowledged);
  const keepDraft = () => localStorage.setItem(key, JSON.stringify({ at: Date.now(), fields: noteValues() }));

  dropStaleDrafts();
  try {
    const draft = JSON.parse(localStorage.getItem(key) || "null");
    if (draft && !same(draft.fields, acknowledged)) {
      // Typed here but never acknowledged (a cut link, a closed tab): put it back rather than lose it.
      for (const field of noteFields()) if (field.name in draft.fields) field.value = draft.fields[field.name];
      say("restored");
      noteForm.closest("section").scrollIntoView({ block: "start" });
    } else if (draft) {
      localStorage.removeItem(key); // the server has it
    }
  } catch {
    localStorage.removeItem(key);
  }

  async function save() {
    clearTimeout(timer);
    if (leaving || inFlight || !dirty()) return;
    inFlight = true;
    const sent = noteValues();
    say("saving");
    try {
      const response = await fetch(noteForm.dataset.autosave, {
        method: "PUT",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ ...sent, referral_to: sent.referral_to || null }),
      });
      if (response.ok) {
        acknowledged = sent;
        if (dirty()) keepDraft();
        else localStorage.removeItem(key);
        say(dirty() ? "unsaved" : "saved");
      } else {
        say("unsaved"); // refused (say a referral letter without a site): the Save button shows why
      }
    } catch {
      say("offline");
      timer = setTimeout(save, RETRY_MS);
    } finally {
      inFlight = false;
    }
  }

  noteForm.addEventListener("input", () => {
    keepDraft();
    say("unsaved");
    clearTimeout(timer);
    timer = setTimeout(save, AUTOSAVE_DELAY_MS);
  });
  window.addEventListener("online", save);

  // Every other form of the workspace carries the note: the server saves it before the action.
  for (const form of document.querySelectorAll("form[data-visit-action]")) {
    form.addEventListener("submit", () => {
      for (const [name, value] of Object.entries(noteValues())) {
        form.querySelector(`input[type=hidden][name="${name}"][data-carried]`)?.remove();
        const input = Object.assign(document.createElement("input"), { type: "hidden", name, value });
        input.dataset.carried = "";
        form.append(input);
      }
      keepDraft();
      leaving = true;
    });
  }
  noteForm.addEventListener("submit", () => {
    keepDraft();
    leaving = true;
  });
  window.addEventListener("pageshow", () => {
    leaving = false; // back from the cache, or a submit that never left
  });
  window.addEventListener("beforeunload", (event) => {
    if (leaving || !dirty()) return;
    event.preventDefault();
    event.returnValue = "";
  });
}

// "Correct" fills the add form with the entry and names it as the one replaced; "Cancel" empties it again.
function setupCorrection(linkSelector, formId, hiddenName, fill) {
  const form = document.getElementById(formId);
  if (!form) return;
  const button = form.querySelector("button[type=submit]");
  const cancel = form.querySelector(".cancel-correction");
  const addLabel = button.dataset.addLabel || button.textContent;
  button.dataset.addLabel = addLabel;
  for (const link of document.querySelectorAll(linkSelector)) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      form.elements[hiddenName].value = new URL(link.href).searchParams.get(hiddenName);
      fill(form, link);
      button.textContent = button.dataset.correctLabel;
      cancel.hidden = false;
      form.scrollIntoView({ block: "center" });
      form.querySelector("input:not([type=hidden]), select")?.focus();
    });
  }
  cancel?.addEventListener("click", (event) => {
    if (!form.elements[hiddenName].value) return;
    event.preventDefault();
    form.reset();
    form.elements[hiddenName].value = "";
    button.textContent = addLabel;
    cancel.hidden = true;
  });
}

if (noteForm) setupNote();
setupCorrection("[data-correct-diagnosis]", "diagnosis-form", "replaces", (form, link) => {
  form.elements.icd10_code.value = link.dataset.code;
  form.elements.text.value = link.dataset.text;
});
setupCorrection("[data-correct-prescription]", "prescription-form", "prior_prescription", (form, link) => {
  for (const [name, value] of Object.entries(JSON.parse(link.dataset.values))) {
    if (form.elements[name]) form.elements[name].value = value;
  }
});

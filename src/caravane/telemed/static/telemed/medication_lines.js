// The report's medication lines: "Add a medication line" appends an empty line from the page's template.
// Without this module the form still posts the lines it shows (one empty line is always there).
const block = document.querySelector("[data-medication-lines]");
const template = document.getElementById("medication-line-template");
const button = document.getElementById("add-medication-line");
if (block && template && button) {
  button.hidden = false;
  button.addEventListener("click", () => {
    const line = template.content.firstElementChild.cloneNode(true);
    button.before(line);
    line.querySelector("input")?.focus();
  });
}

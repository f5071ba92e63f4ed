// Zoom and pan of a photograph, and of the earlier one beside it: both move together, so a lesion is compared at
// the same place and scale.
const frames = [...document.querySelectorAll(".photo-pan")];
const view = { scale: 1, x: 0, y: 0 };
const MIN = 1;
const MAX = 12;

function apply() {
  for (const frame of frames) {
    frame.firstElementChild.style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.scale})`;
  }
}

function zoom(factor, originX = 0, originY = 0) {
  const next = Math.min(MAX, Math.max(MIN, view.scale * factor));
  // Keep the point under the pointer where it is.
  view.x = originX - ((originX - view.x) * next) / view.scale;
  view.y = originY - ((originY - view.y) * next) / view.scale;
  view.scale = next;
  if (next === MIN) { view.x = 0; view.y = 0; }
  apply();
}

for (const frame of frames) {
  frame.addEventListener("wheel", (event) => {
    event.preventDefault();
    const box = frame.getBoundingClientRect();
    zoom(event.deltaY < 0 ? 1.25 : 0.8, event.clientX - box.left, event.clientY - box.top);
  }, { passive: false });
  frame.addEventListener("pointerdown", (event) => {
    frame.setPointerCapture(event.pointerId);
    let last = [event.clientX, event.clientY];
    const move = (moved) => {
      view.x += moved.clientX - last[0];
      view.y += moved.clientY - last[1];
      last = [moved.clientX, moved.clientY];
      apply();
    };
    frame.addEventListener("pointermove", move);
    frame.addEventListener("pointerup", () => frame.removeEventListener("pointermove", move), { once: true });
  });
}
for (const button of document.querySelectorAll("[data-zoom]")) {
  button.addEventListener("click", () => {
    const action = button.dataset.zoom;
    if (action === "reset") { view.scale = 1; view.x = 0; view.y = 0; apply(); return; }
    const frame = frames[0].getBoundingClientRect();
    zoom(action === "in" ? 1.5 : 1 / 1.5, frame.width / 2, frame.height / 2);
  });
}

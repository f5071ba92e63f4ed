// The print button of the visit summary (no inline script under the CSP).
document.querySelector("[data-print]")?.addEventListener("click", () => window.print());

// Every page: Bootstrap's behaviour (navbar collapse, dropdowns, alerts) through its data attributes.
// The theme is handled by theme.ts, which runs in <head> before the first paint.
import "bootstrap";

// Forms marked [data-confirm] ask before submitting (no inline onclick: the CSP forbids it).
document.addEventListener("submit", (e) => {
  const form = e.target as HTMLFormElement;
  const message = form.dataset.confirm ?? (e.submitter as HTMLElement | null)?.dataset.confirm;
  if (message && !window.confirm(message)) e.preventDefault();
});

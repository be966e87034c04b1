// Every page: Bootstrap's behaviour through its data attributes — only the two plugins the pages use
// (data-bs-toggle="collapse" for the navbar, "dropdown" for the account menu), not all twelve.
// The theme is handled by theme.ts, which runs in <head> before the first paint.
import "bootstrap/js/src/collapse.js";
import "bootstrap/js/src/dropdown.js";

// Forms marked [data-confirm] ask before submitting (no inline onclick: the CSP forbids it).
document.addEventListener("submit", (e) => {
  const form = e.target as HTMLFormElement;
  const message = form.dataset.confirm ?? (e.submitter as HTMLElement | null)?.dataset.confirm;
  if (message && !window.confirm(message)) e.preventDefault();
});

// Buttons marked [data-copy="#id"] copy that field's value (or text) to the clipboard.
document.addEventListener("click", async (e) => {
  const button = (e.target as HTMLElement).closest<HTMLButtonElement>("button[data-copy]");
  if (!button) return;
  const source = document.querySelector<HTMLInputElement | HTMLElement>(button.dataset.copy!);
  if (!source) return;
  const text = source instanceof HTMLInputElement ? source.value : (source.textContent ?? "");
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    if (source instanceof HTMLInputElement) source.select(); // no clipboard access: select for Ctrl+C
    button.textContent = "Press Ctrl+C";
  }
  setTimeout(() => (button.textContent = label), 1500);
});

export {}; // a module, so its names stay private to this file

// Loaded as a classic script in <head> so the theme is set before the first paint.
// The Content-Security-Policy forbids inline script, so this is a file of its own.
// Default: follow the system (prefers-color-scheme). A click on [data-theme-toggle] picks the
// other theme and remembers it in localStorage.

type Theme = "light" | "dark";
const storageKey = "aggregator.theme";
const media = window.matchMedia("(prefers-color-scheme: dark)");

function stored(): Theme | null {
  try {
    const value = localStorage.getItem(storageKey);
    return value === "light" || value === "dark" ? value : null;
  } catch {
    return null; // storage disabled: follow the system
  }
}

const current = (): Theme => stored() ?? (media.matches ? "dark" : "light");

function apply(theme: Theme): void {
  document.documentElement.setAttribute("data-bs-theme", theme);
  for (const button of document.querySelectorAll<HTMLElement>("[data-theme-toggle]")) {
    const next = theme === "dark" ? "light" : "dark";
    button.setAttribute("aria-label", `Switch to ${next} theme`);
    button.setAttribute("title", `Switch to ${next} theme`);
    button.dataset.theme = theme;
  }
}

apply(current());
media.addEventListener("change", () => { if (stored() === null) switchInstantly(current()); });
window.addEventListener("storage", (e) => { if (e.key === storageKey) switchInstantly(current()); });
document.addEventListener("DOMContentLoaded", () => apply(current()));
document.addEventListener("click", (e) => {
  const button = (e.target as Element | null)?.closest("[data-theme-toggle]");
  if (!button) return;
  const next: Theme = current() === "dark" ? "light" : "dark";
  try { localStorage.setItem(storageKey, next); } catch { /* not remembered, still applied */ }
  switchInstantly(next);
});

// Colours change at once, not through each element's colour transition: a half-faded page for
// 150 ms looks broken and, measured mid-fade, fails contrast. The class lives for two frames.
function switchInstantly(theme: Theme): void {
  const root = document.documentElement;
  root.classList.add("theme-switching");
  apply(theme);
  void getComputedStyle(root).color; // flush styles while transitions are off
  requestAnimationFrame(() => requestAnimationFrame(() => root.classList.remove("theme-switching")));
}

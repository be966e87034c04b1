// Admin pages (/Admin/**): live sync status on a provider's page, so a sync started by adding a
// key or by "Sync now" shows its result without a reload. The server renders every live element
// (the same partials as the page); this swaps each one in by id, so nothing shown can disagree.
// On "Add provider", the slug follows the display name until the admin types a slug of their own;
// at phone width, table cells carry their column's name (styles/base.css, "Admin" block, stacks
// such tables into one card per row).

const message = document.getElementById("sync-message");
if (message instanceof HTMLElement && message.dataset.pending === "true" && message.dataset.statusUrl) {
  void pollSync(message.dataset.statusUrl);
}

async function pollSync(url: string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, attempt === 0 ? 300 : 1000));
    let fragment: Document;
    try {
      const response = await fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" });
      if (!response.ok) continue;
      fragment = new DOMParser().parseFromString(await response.text(), "text/html");
    } catch {
      continue; // a network blip: try again on the next tick
    }
    for (const fresh of fragment.querySelectorAll<HTMLElement>("[data-live][id]")) {
      const current = document.getElementById(fresh.id);
      if (current) refresh(current, fresh);
    }
    if (fragment.getElementById("sync-message")?.dataset.pending !== "true") return;
  }
}

// Content and attributes change in place: the element itself (and its aria-live role) stays.
function refresh(current: HTMLElement, fresh: HTMLElement): void {
  for (const name of current.getAttributeNames()) if (!fresh.hasAttribute(name)) current.removeAttribute(name);
  for (const name of fresh.getAttributeNames()) current.setAttribute(name, fresh.getAttribute(name) ?? "");
  current.replaceChildren(...Array.from(fresh.childNodes, (node) => document.importNode(node, true)));
  // Rows rendered after load need their phone-width labels too.
  for (const table of current.querySelectorAll<HTMLTableElement>("table.table-stack")) labelCells(table);
  if (current instanceof HTMLTableElement && current.classList.contains("table-stack")) labelCells(current);
}

const slugSource = document.querySelector<HTMLInputElement>("input[data-slug-source]");
const slug = document.querySelector<HTMLInputElement>("input[data-slug]");
if (slugSource && slug) followDisplayName(slugSource, slug);

function followDisplayName(source: HTMLInputElement, target: HTMLInputElement): void {
  // A slug already filled (a preset, an edit, a rejected post) is the admin's; an empty one follows.
  let following = target.dataset.slug === "auto" && (target.value === "" || target.value === slugify(source.value));
  source.addEventListener("input", () => {
    if (following) target.value = slugify(source.value);
  });
  target.addEventListener("input", () => {
    following = target.value === "";
  });
}

/** "Mock Router (EU)" → "mock-router-eu": what the server accepts (letters, digits, dashes). */
function slugify(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 64);
}

for (const table of document.querySelectorAll<HTMLTableElement>("table.table-stack")) labelCells(table);

function labelCells(table: HTMLTableElement): void {
  const labels = Array.from(table.tHead?.rows[0]?.cells ?? [], (cell) => cell.textContent?.trim() ?? "");
  for (const body of Array.from(table.tBodies)) {
    for (const row of Array.from(body.rows)) {
      Array.from(row.cells).forEach((cell, i) => {
        if (labels[i] && cell.colSpan === 1) cell.dataset.label = labels[i];
      });
    }
  }
}

// Admin pages (/Admin/**): live sync status on a provider's page, so a sync started by adding a
// key or by "Sync now" shows its result without a reload; on "Add provider", the slug follows the
// display name until the admin types a slug of their own; at phone width, table cells carry their
// column's name (styles/base.css, "Admin" block, stacks such tables into one card per row).

interface SyncStatus {
  pending: boolean;
  models: number;
  lastRun: null | {
    status: string; added: number; updated: number; removed: number; unchanged: number;
    attempts: number; durationMs: number; error: string | null;
  };
}

const panel = document.getElementById("sync-status");
if (panel instanceof HTMLElement && panel.dataset.pending === "true" && panel.dataset.statusUrl) {
  void pollSync(panel, panel.dataset.statusUrl);
}

async function pollSync(panel: HTMLElement, url: string): Promise<void> {
  const count = panel.querySelector<HTMLElement>("[data-testid=provider-model-count]");
  const message = panel.querySelector<HTMLElement>("[data-sync-message]");
  for (let attempt = 0; attempt < 600; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, attempt === 0 ? 300 : 1000));
    let status: SyncStatus;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) continue;
      status = (await response.json()) as SyncStatus;
    } catch {
      continue; // a network blip: try again on the next tick
    }
    if (count) count.textContent = String(status.models);
    if (status.pending) continue;
    const run = status.lastRun;
    if (message) {
      message.textContent = !run
        ? "Sync finished."
        : run.status === "Succeeded"
          ? `Synced: ${run.added} added, ${run.updated} updated, ${run.removed} removed, ${run.unchanged} unchanged (${run.durationMs} ms).`
          : `Sync failed: ${run.error ?? "unknown error"}`;
      message.classList.toggle("text-danger", run?.status === "Failed");
    }
    panel.dataset.pending = "false";
    return;
  }
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

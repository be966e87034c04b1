// Admin pages (/Admin/**): live sync status on a provider's page, so a sync started by adding a
// key or by "Sync now" shows its result without a reload. The server renders every live element
// (the same partials as the page); this swaps each one in by id, so nothing shown can disagree.

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
}

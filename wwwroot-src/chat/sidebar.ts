// The conversation list: newest first, paged, searchable; rename in place, delete with undo.
import type { HubConnection } from "@microsoft/signalr";
import { icon } from "../icons";

export interface ConversationSummary { id: string; title: string; updatedAt: string; modelId: number | null }
interface ConversationPage { items: ConversationSummary[]; nextBefore: string | null }

export class Sidebar {
  private readonly list: HTMLElement;
  private readonly search: HTMLInputElement;
  private readonly more: HTMLButtonElement;
  private readonly empty: HTMLElement;
  private nextBefore: string | null;
  private searchTimer = 0;
  private toastTimer = 0;

  constructor(
    root: HTMLElement,
    private readonly hub: HubConnection,
    private readonly current: () => string,
    private readonly onCurrentDeleted: () => void,
    private readonly onCurrentRenamed: (title: string) => void,
    private readonly announce: (text: string) => void,
    nextBefore: string,
  ) {
    this.list = root.querySelector("#conversation-list")!;
    this.search = root.querySelector("#conversation-search")!;
    this.more = root.querySelector("#conversation-more")!;
    this.empty = root.querySelector("#conversation-empty")!;
    this.nextBefore = nextBefore || null;
    this.search.addEventListener("input", () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = window.setTimeout(() => void this.reload(), 200);
    });
    this.more.addEventListener("click", () => void this.loadMore());
    this.list.addEventListener("click", (e) => {
      const button = (e.target as HTMLElement).closest<HTMLElement>("button[data-action]");
      const item = button?.closest<HTMLElement>(".conversation-item");
      if (!button || !item) return;
      if (button.dataset.action === "rename") this.startRename(item);
      if (button.dataset.action === "delete") void this.remove(item);
    });
  }

  /** A conversation was created or changed (title, activity): put it on top. */
  upsert(c: ConversationSummary): void {
    const existing = this.item(c.id);
    if (this.search.value.trim() && !existing) return;
    const item = existing ?? this.build(c);
    item.querySelector(".conversation-link")!.textContent = c.title;
    this.labelActions(item, c.title);
    // Newest activity first: a rename keeps its place, a new reply moves the conversation up.
    if (!existing || Date.parse(c.updatedAt) > Date.parse(existing.dataset.updated ?? "") || !existing.dataset.updated) {
      item.dataset.updated = c.updatedAt;
      this.list.prepend(item);
    }
    this.markCurrent();
    if (c.id === this.current()) this.onCurrentRenamed(c.title);
  }

  markCurrent(): void {
    for (const item of this.list.querySelectorAll<HTMLElement>(".conversation-item")) {
      const current = item.dataset.id === this.current();
      item.classList.toggle("active", current);
      const link = item.querySelector(".conversation-link")!;
      if (current) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }

  private async reload(): Promise<void> {
    const page = await this.hub.invoke<ConversationPage>("ListConversations", this.search.value.trim() || null, null);
    this.list.replaceChildren(...page.items.map((c) => this.build(c)));
    this.setNext(page.nextBefore);
    this.markCurrent();
    this.announce(`${page.items.length}${page.nextBefore ? "+" : ""} conversations found.`);
  }

  private async loadMore(): Promise<void> {
    if (!this.nextBefore) return;
    const page = await this.hub.invoke<ConversationPage>("ListConversations", this.search.value.trim() || null, this.nextBefore);
    for (const c of page.items) if (!this.item(c.id)) this.list.append(this.build(c));
    this.setNext(page.nextBefore);
    this.markCurrent();
  }

  private setNext(next: string | null): void {
    this.nextBefore = next;
    this.more.classList.toggle("d-none", !next);
    this.showEmpty();
  }

  /** An empty list says why: nothing found for the search, or nothing there at all. */
  private showEmpty(): void {
    this.empty.textContent = this.search.value.trim() ? "No matches." : "No conversations yet.";
    this.empty.classList.toggle("d-none", this.list.children.length > 0);
  }

  private item(id: string): HTMLElement | null {
    return this.list.querySelector<HTMLElement>(`.conversation-item[data-id="${CSS.escape(id)}"]`);
  }

  private build(c: ConversationSummary): HTMLElement {
    const li = document.createElement("li");
    li.className = "conversation-item";
    li.dataset.id = c.id;
    li.dataset.updated = c.updatedAt;
    li.innerHTML = '<a class="conversation-link" data-testid="conversation-link"></a><span class="conversation-actions">' +
      `<button type="button" class="btn btn-sm btn-icon" data-action="rename" title="Rename">${icon("pencil")}</button>` +
      `<button type="button" class="btn btn-sm btn-icon" data-action="delete" title="Delete">${icon("trash")}</button></span>`;
    const link = li.querySelector<HTMLAnchorElement>("a")!;
    link.href = `/${c.id}`;
    link.textContent = c.title;
    this.labelActions(li, c.title);
    this.empty.classList.add("d-none");
    return li;
  }

  private labelActions(item: HTMLElement, title: string): void {
    item.querySelector("[data-action=rename]")?.setAttribute("aria-label", `Rename “${title}”`);
    item.querySelector("[data-action=delete]")?.setAttribute("aria-label", `Delete “${title}”`);
  }

  private startRename(item: HTMLElement): void {
    const link = item.querySelector<HTMLElement>(".conversation-link")!;
    const old = link.textContent ?? "";
    const form = document.createElement("form");
    form.className = "conversation-rename";
    const input = document.createElement("input");
    input.className = "form-control form-control-sm";
    input.value = old;
    input.maxLength = 200;
    input.setAttribute("aria-label", "New title");
    input.dataset.testid = "rename-input";
    form.append(input);
    link.hidden = true;
    item.prepend(form);
    input.focus();
    input.select();
    let done = false;
    const finish = async (save: boolean) => {
      if (done) return;
      done = true;
      const title = input.value.trim();
      form.remove();
      link.hidden = false;
      if (!save || !title || title === old) { link.focus(); return; }
      link.textContent = title;
      try {
        await this.hub.invoke("Rename", item.dataset.id, title);
        this.announce(`Renamed to ${title}.`);
      } catch {
        link.textContent = old;
        this.announce("The conversation could not be renamed.");
      }
      link.focus();
    };
    form.addEventListener("submit", (e) => { e.preventDefault(); void finish(true); });
    input.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.preventDefault(); void finish(false); } });
    input.addEventListener("blur", () => void finish(true));
  }

  private async remove(item: HTMLElement): Promise<void> {
    const id = item.dataset.id!;
    const title = item.querySelector(".conversation-link")?.textContent ?? "";
    const next = item.nextElementSibling;
    await this.hub.invoke("Delete", id);
    item.remove();
    this.showEmpty();
    const wasCurrent = id === this.current();
    if (wasCurrent) this.onCurrentDeleted();
    this.toast(`Deleted “${title}”.`, async () => {
      const restored = await this.hub.invoke<ConversationSummary>("Restore", id);
      const li = this.build(restored);
      if (next?.isConnected) next.before(li); else this.list.append(li);
      this.markCurrent();
      this.announce(`Restored “${restored.title}”.`);
    });
  }

  private toast(text: string, undo: () => Promise<void>): void {
    const toast = document.getElementById("chat-toast")!;
    const button = document.getElementById("chat-toast-undo") as HTMLButtonElement;
    document.getElementById("chat-toast-text")!.textContent = text;
    toast.classList.remove("d-none");
    clearTimeout(this.toastTimer);
    const hide = () => toast.classList.add("d-none");
    button.onclick = () => { clearTimeout(this.toastTimer); hide(); void undo(); };
    this.toastTimer = window.setTimeout(hide, 8000);
  }
}

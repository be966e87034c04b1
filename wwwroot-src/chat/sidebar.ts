// The conversation list: pinned on top, then the user's folders, then the rest, newest first, paged and
// searchable; rename in place, delete with undo; pin, archive and move through each item's menu (sidebar-places.ts).
import type { HubConnection } from "@microsoft/signalr";
import { icon } from "../icons";
import { SidebarPlaces } from "./sidebar-places";

export interface ConversationSummary {
  id: string; title: string; updatedAt: string; modelId: number | null;
  pinned?: boolean; folderId?: string | null; archived?: boolean;
}
export interface FolderView { id: string; name: string }
interface ConversationPage { items: ConversationSummary[]; nextBefore: string | null }

export class Sidebar {
  private readonly lists: HTMLElement;
  private readonly list: HTMLElement;
  private readonly pinned: HTMLElement;
  private readonly folders: HTMLElement;
  private readonly search: HTMLInputElement;
  private readonly more: HTMLButtonElement;
  private readonly empty: HTMLElement;
  private readonly places: SidebarPlaces;
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
    this.lists = root.querySelector("#sidebar-lists")!;
    this.list = root.querySelector("#conversation-list")!;
    this.pinned = root.querySelector("#pinned-list")!;
    this.folders = root.querySelector("#folder-groups")!;
    this.search = root.querySelector("#conversation-search")!;
    this.more = root.querySelector("#conversation-more")!;
    this.empty = root.querySelector("#conversation-empty")!;
    this.nextBefore = nextBefore || null;
    this.places = new SidebarPlaces(root, hub, this, announce);
    this.search.addEventListener("input", () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = window.setTimeout(() => void this.reload(), 200);
    });
    this.more.addEventListener("click", () => void this.loadMore());
    this.lists.addEventListener("click", (e) => {
      const button = (e.target as HTMLElement).closest<HTMLElement>("button[data-action]");
      const item = button?.closest<HTMLElement>(".conversation-item");
      if (!button || !item) return;
      if (button.dataset.action === "rename") this.startRename(item);
      if (button.dataset.action === "delete") void this.remove(item);
      if (button.dataset.action === "more") this.places.openMenu(item, button);
    });
  }

  /** A conversation was created or changed (title, activity, pin, folder, archive): put it where it belongs. */
  upsert(c: ConversationSummary): void {
    const existing = this.item(c.id);
    if (c.archived) {
      existing?.remove();
      this.showEmpty();
      return;
    }
    if (this.search.value.trim() && !existing) return;
    const item = existing ?? this.build(c);
    item.querySelector(".conversation-link")!.textContent = c.title;
    this.labelActions(item, c.title);
    const target = this.listFor(c);
    const moved = item.parentElement !== target;
    item.dataset.pinned = c.pinned ? "true" : "false";
    item.dataset.folderId = c.folderId ?? "";
    // Newest activity first: a rename keeps its place, a new reply (or a move to another list) puts it on top.
    if (!existing || moved || Date.parse(c.updatedAt) > Date.parse(existing.dataset.updated ?? "") || !existing.dataset.updated) {
      item.dataset.updated = c.updatedAt;
      target.prepend(item);
    }
    this.markCurrent();
    this.showEmpty();
    if (c.id === this.current()) this.onCurrentRenamed(c.title);
  }

  markCurrent(): void {
    for (const item of this.lists.querySelectorAll<HTMLElement>(".conversation-item")) {
      const current = item.dataset.id === this.current();
      item.classList.toggle("active", current);
      const link = item.querySelector(".conversation-link")!;
      if (current) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }

  /** The whole list again from the server (after a search, a folder change). */
  async reload(): Promise<void> {
    const [page, folders] = await Promise.all([
      this.hub.invoke<ConversationPage>("ListConversations", this.search.value.trim() || null, null),
      this.hub.invoke<FolderView[]>("ListFolders"),
    ]);
    this.places.renderFolders(folders);
    this.pinned.replaceChildren();
    this.list.replaceChildren();
    for (const c of page.items) this.listFor(c).append(this.build(c));
    this.setNext(page.nextBefore);
    this.markCurrent();
    if (this.search.value.trim()) this.announce(`${page.items.length}${page.nextBefore ? "+" : ""} conversations found.`);
  }

  item(id: string): HTMLElement | null {
    return this.lists.querySelector<HTMLElement>(`.conversation-item[data-id="${CSS.escape(id)}"]`);
  }

  build(c: ConversationSummary): HTMLElement {
    const li = document.createElement("li");
    li.className = "conversation-item";
    li.dataset.id = c.id;
    li.dataset.updated = c.updatedAt;
    li.dataset.pinned = c.pinned ? "true" : "false";
    li.dataset.folderId = c.folderId ?? "";
    li.innerHTML = '<a class="conversation-link" data-testid="conversation-link"></a><span class="conversation-actions">' +
      `<button type="button" class="btn btn-sm btn-icon" data-action="rename" title="Rename">${icon("pencil")}</button>` +
      `<button type="button" class="btn btn-sm btn-icon" data-action="delete" title="Delete">${icon("trash")}</button>` +
      `<button type="button" class="btn btn-sm btn-icon" data-action="more" title="Pin, archive, move" aria-expanded="false" data-testid="conversation-more-actions">${icon("three-dots")}</button></span>`;
    const link = li.querySelector<HTMLAnchorElement>("a")!;
    link.href = `/${c.id}`;
    link.textContent = c.title;
    this.labelActions(li, c.title);
    return li;
  }

  /** An empty list says why: nothing found for the search, or nothing there at all. */
  showEmpty(): void {
    const searching = !!this.search.value.trim();
    const count = this.lists.querySelectorAll(".conversation-item").length;
    this.empty.textContent = searching ? "No matches." : "No conversations yet.";
    this.empty.classList.toggle("d-none", count > 0);
    this.pinned.closest("section")!.hidden = this.pinned.children.length === 0;
    // While searching, a folder without a hit is noise; otherwise an empty folder is still there to move things into.
    for (const group of this.folders.querySelectorAll<HTMLElement>(".folder-group"))
      group.classList.toggle("d-none", searching && group.querySelector(".conversation-item") === null);
  }

  private listFor(c: ConversationSummary): HTMLElement {
    if (c.pinned) return this.pinned;
    const folder = c.folderId ? this.places.folderList(c.folderId) : null;
    return folder ?? this.list;
  }

  private async loadMore(): Promise<void> {
    if (!this.nextBefore) return;
    const page = await this.hub.invoke<ConversationPage>("ListConversations", this.search.value.trim() || null, this.nextBefore);
    for (const c of page.items) if (!this.item(c.id)) this.listFor(c).append(this.build(c));
    this.setNext(page.nextBefore);
    this.markCurrent();
  }

  private setNext(next: string | null): void {
    this.nextBefore = next;
    this.more.classList.toggle("d-none", !next);
    this.showEmpty();
  }

  private labelActions(item: HTMLElement, title: string): void {
    item.querySelector("[data-action=rename]")?.setAttribute("aria-label", `Rename “${title}”`);
    item.querySelector("[data-action=delete]")?.setAttribute("aria-label", `Delete “${title}”`);
    item.querySelector("[data-action=more]")?.setAttribute("aria-label", `More for “${title}”`);
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
    const list = item.parentElement;
    await this.hub.invoke("Delete", id);
    item.remove();
    this.showEmpty();
    const wasCurrent = id === this.current();
    if (wasCurrent) this.onCurrentDeleted();
    this.toast(`Deleted “${title}”.`, async () => {
      const restored = await this.hub.invoke<ConversationSummary>("Restore", id);
      const li = this.build(restored);
      if (next?.isConnected) next.before(li); else (list?.isConnected ? list : this.listFor(restored)).append(li);
      this.markCurrent();
      this.showEmpty();
      this.announce(`Restored “${restored.title}”.`);
    });
  }

  toast(text: string, undo: () => Promise<void>): void {
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

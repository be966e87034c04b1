// Where a conversation sits in the sidebar: each item's menu (pin, archive, move to a folder), the folder
// sections (create, rename, delete) and the "Archived" view (unarchive). Every change goes through the hub,
// which checks ownership; the list then shows what the server answered.
import type { HubConnection } from "@microsoft/signalr";
import { icon } from "../icons";
import type { ConversationSummary, FolderView, Sidebar } from "./sidebar";

export class SidebarPlaces {
  private readonly folders: HTMLElement;
  private readonly lists: HTMLElement;
  private readonly archivedView: HTMLElement;
  private readonly archivedList: HTMLElement;
  private readonly archivedEmpty: HTMLElement;
  private readonly showArchived: HTMLButtonElement;
  private readonly newFolder: HTMLButtonElement;
  private menu: HTMLElement | null = null;

  constructor(root: HTMLElement, private readonly hub: HubConnection, private readonly sidebar: Sidebar,
    private readonly announce: (text: string) => void) {
    this.folders = root.querySelector("#folder-groups")!;
    this.lists = root.querySelector("#sidebar-lists")!;
    this.archivedView = root.querySelector("#archived-view")!;
    this.archivedList = root.querySelector("#archived-list")!;
    this.archivedEmpty = root.querySelector("#archived-empty")!;
    this.showArchived = root.querySelector("#show-archived")!;
    this.newFolder = root.querySelector("#new-folder")!;
    this.showArchived.addEventListener("click", () => void this.toggleArchived());
    this.newFolder.addEventListener("click", () => this.startFolderName(null));
    this.folders.addEventListener("click", (e) => {
      const button = (e.target as HTMLElement).closest<HTMLElement>("button[data-folder-action]");
      const group = button?.closest<HTMLElement>(".folder-group");
      if (!button || !group) return;
      if (button.dataset.folderAction === "rename") this.startFolderName(group);
      if (button.dataset.folderAction === "delete") void this.deleteFolder(group);
    });
    this.archivedList.addEventListener("click", (e) => {
      const button = (e.target as HTMLElement).closest<HTMLElement>("button[data-action=unarchive]");
      const item = button?.closest<HTMLElement>(".conversation-item");
      if (item) void this.unarchive(item);
    });
    document.addEventListener("click", (e) => {
      if (this.menu && !this.menu.contains(e.target as Node) && !(e.target as HTMLElement).closest("[data-action=more]")) this.closeMenu(false);
    });
  }

  folderList(id: string): HTMLElement | null {
    return this.folders.querySelector<HTMLElement>(`.folder-group[data-folder-id="${CSS.escape(id)}"] .folder-list`);
  }

  private folderViews(): FolderView[] {
    return [...this.folders.querySelectorAll<HTMLElement>(".folder-group")]
      .map((g) => ({ id: g.dataset.folderId!, name: g.querySelector(".folder-name")!.textContent ?? "" }));
  }

  /** Folder sections as the server has them (their items are filled by the sidebar). */
  renderFolders(folders: FolderView[]): void {
    this.folders.replaceChildren(...folders.map((f) => this.buildFolder(f)));
  }

  private buildFolder(f: FolderView): HTMLElement {
    const section = document.createElement("section");
    section.className = "sidebar-group folder-group";
    section.dataset.folderId = f.id;
    section.dataset.testid = "folder-group";
    section.setAttribute("aria-labelledby", `folder-${f.id}`);
    section.innerHTML = `<div class="folder-header"><h2 class="sidebar-heading" id="folder-${f.id}">${icon("folder")} <span class="folder-name"></span></h2>` +
      '<span class="folder-actions">' +
      `<button type="button" class="btn btn-sm btn-icon" data-folder-action="rename" title="Rename folder">${icon("pencil")}</button>` +
      `<button type="button" class="btn btn-sm btn-icon" data-folder-action="delete" title="Delete folder (its conversations stay)">${icon("trash")}</button>` +
      '</span></div><ul class="conversation-list folder-list"></ul>';
    this.nameFolder(section, f.name);
    return section;
  }

  private nameFolder(section: HTMLElement, name: string): void {
    section.querySelector(".folder-name")!.textContent = name;
    section.querySelector("[data-folder-action=rename]")!.setAttribute("aria-label", `Rename folder “${name}”`);
    section.querySelector("[data-folder-action=delete]")!.setAttribute("aria-label", `Delete folder “${name}”`);
  }

  /** A name field in place: for a new folder (group null) at the top of the folders, or over a folder's heading. */
  private startFolderName(group: HTMLElement | null): void {
    const heading = group?.querySelector<HTMLElement>(".folder-header");
    const old = group?.querySelector(".folder-name")?.textContent ?? "";
    const form = document.createElement("form");
    form.className = "folder-name-form";
    const input = document.createElement("input");
    input.className = "form-control form-control-sm";
    input.maxLength = 100;
    input.value = old;
    input.setAttribute("aria-label", group ? "New folder name" : "Folder name");
    input.dataset.testid = "folder-name-input";
    form.append(input);
    if (group && heading) { heading.hidden = true; group.prepend(form); } else this.folders.prepend(form);
    input.focus();
    input.select();
    let done = false;
    const finish = async (save: boolean) => {
      if (done) return;
      done = true;
      const name = input.value.trim();
      form.remove();
      if (heading) heading.hidden = false;
      if (!save || !name || name === old) { (group?.querySelector<HTMLElement>("[data-folder-action=rename]") ?? this.newFolder).focus(); return; }
      try {
        if (group) {
          const renamed = await this.hub.invoke<FolderView>("RenameFolder", group.dataset.folderId, name);
          this.nameFolder(group, renamed.name);
          this.announce(`Folder renamed to ${renamed.name}.`);
        } else {
          const created = await this.hub.invoke<FolderView>("CreateFolder", name);
          const section = this.buildFolder(created);
          const after = [...this.folders.querySelectorAll<HTMLElement>(".folder-group")]
            .find((g) => (g.querySelector(".folder-name")!.textContent ?? "").localeCompare(created.name) > 0);
          if (after) after.before(section); else this.folders.append(section);
          this.announce(`Folder ${created.name} created.`);
        }
      } catch (e) {
        this.announce(errorText(e, "The folder could not be saved."));
      }
      this.sidebar.showEmpty();
    };
    form.addEventListener("submit", (e) => { e.preventDefault(); void finish(true); });
    input.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.preventDefault(); void finish(false); } });
    input.addEventListener("blur", () => void finish(true));
  }

  private async deleteFolder(group: HTMLElement): Promise<void> {
    const name = group.querySelector(".folder-name")?.textContent ?? "";
    await this.hub.invoke("DeleteFolder", group.dataset.folderId);
    await this.sidebar.reload();
    this.announce(`Folder ${name} deleted; its conversations are back in the list.`);
    this.newFolder.focus();
  }

  /** The item's menu: pin or unpin, archive, and a folder to move it to. */
  openMenu(item: HTMLElement, button: HTMLElement): void {
    const wasOpen = this.menu?.parentElement === item;
    this.closeMenu(false);
    if (wasOpen) return;
    const title = item.querySelector(".conversation-link")?.textContent ?? "";
    const pinned = item.dataset.pinned === "true";
    const menu = document.createElement("div");
    menu.className = "conversation-menu";
    menu.id = "conversation-menu";
    menu.setAttribute("role", "group");
    menu.setAttribute("aria-label", `Options for “${title}”`);
    menu.dataset.testid = "conversation-menu";
    menu.innerHTML =
      `<button type="button" class="btn btn-sm conversation-menu-item" data-place="pin" data-testid="menu-pin">${icon(pinned ? "pin-angle-fill" : "pin-angle")} ${pinned ? "Unpin" : "Pin"}</button>` +
      `<button type="button" class="btn btn-sm conversation-menu-item" data-place="archive" data-testid="menu-archive">${icon("archive")} Archive</button>` +
      '<label class="form-label small mb-0 mt-1" for="menu-folder">Folder</label>' +
      '<select class="form-select form-select-sm" id="menu-folder" data-testid="menu-folder"><option value="">No folder</option></select>';
    const select = menu.querySelector<HTMLSelectElement>("select")!;
    for (const f of this.folderViews()) {
      const option = document.createElement("option");
      option.value = f.id;
      option.textContent = f.name;
      select.append(option);
    }
    select.value = item.dataset.folderId ?? "";
    menu.querySelector("[data-place=pin]")!.addEventListener("click", () => void this.place(item, "Pin", !pinned));
    menu.querySelector("[data-place=archive]")!.addEventListener("click", () => void this.archive(item));
    select.addEventListener("change", () => void this.place(item, "MoveToFolder", select.value || null));
    menu.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.preventDefault(); this.closeMenu(true); } });
    item.append(menu);
    button.setAttribute("aria-expanded", "true");
    button.setAttribute("aria-controls", menu.id);
    this.menu = menu;
    menu.querySelector<HTMLElement>("button")!.focus();
  }

  private closeMenu(focusButton: boolean): void {
    const menu = this.menu;
    if (!menu) return;
    this.menu = null;
    const button = menu.parentElement?.querySelector<HTMLElement>("[data-action=more]");
    button?.setAttribute("aria-expanded", "false");
    button?.removeAttribute("aria-controls");
    menu.remove();
    if (focusButton) button?.focus();
  }

  private async place(item: HTMLElement, method: "Pin" | "MoveToFolder", value: boolean | string | null): Promise<void> {
    this.closeMenu(false);
    try {
      const summary = await this.hub.invoke<ConversationSummary>(method, item.dataset.id, value);
      this.sidebar.upsert(summary);
      const where = summary.pinned ? "Pinned" : method === "Pin" ? "Unpinned"
        : summary.folderId ? `Moved to ${this.folderViews().find((f) => f.id === summary.folderId)?.name ?? "the folder"}` : "Moved out of its folder";
      this.announce(`${where}: ${summary.title}.`);
      this.sidebar.item(summary.id)?.querySelector<HTMLElement>("[data-action=more]")?.focus();
    } catch (e) {
      this.announce(errorText(e, "The conversation could not be moved."));
    }
  }

  private async archive(item: HTMLElement): Promise<void> {
    this.closeMenu(false);
    const id = item.dataset.id!;
    const summary = await this.hub.invoke<ConversationSummary>("Archive", id, true);
    this.sidebar.upsert(summary);
    this.announce(`Archived ${summary.title}.`);
    this.sidebar.toast(`Archived “${summary.title}”.`, async () => {
      this.sidebar.upsert(await this.hub.invoke<ConversationSummary>("Archive", id, false));
      this.announce(`Unarchived ${summary.title}.`);
    });
  }

  private async toggleArchived(): Promise<void> {
    const show = this.archivedView.hidden;
    if (show) {
      const archived = await this.hub.invoke<ConversationSummary[]>("ListArchived");
      this.archivedList.replaceChildren(...archived.map((c) => this.archivedItem(c)));
      this.archivedEmpty.classList.toggle("d-none", archived.length > 0);
    }
    this.archivedView.hidden = !show;
    this.lists.hidden = show;
    this.newFolder.hidden = show;
    this.showArchived.setAttribute("aria-pressed", show ? "true" : "false");
    this.announce(show ? "Showing archived conversations." : "Showing conversations.");
  }

  private archivedItem(c: ConversationSummary): HTMLElement {
    const li = document.createElement("li");
    li.className = "conversation-item";
    li.dataset.id = c.id;
    li.innerHTML = '<a class="conversation-link" data-testid="archived-link"></a>' +
      `<button type="button" class="btn btn-sm btn-icon" data-action="unarchive" data-testid="unarchive" title="Unarchive">${icon("box-arrow-up")}</button>`;
    const link = li.querySelector<HTMLAnchorElement>("a")!;
    link.href = `/${c.id}`;
    link.textContent = c.title;
    li.querySelector("button")!.setAttribute("aria-label", `Unarchive “${c.title}”`);
    return li;
  }

  private async unarchive(item: HTMLElement): Promise<void> {
    const summary = await this.hub.invoke<ConversationSummary>("Archive", item.dataset.id, false);
    item.remove();
    this.archivedEmpty.classList.toggle("d-none", this.archivedList.children.length > 0);
    this.sidebar.upsert(summary);
    this.announce(`Unarchived ${summary.title}.`);
    this.archivedList.querySelector<HTMLElement>("a")?.focus();
  }
}

function errorText(error: unknown, fallback: string): string {
  const message = error instanceof Error ? error.message : "";
  const at = message.indexOf("HubException: ");
  return at >= 0 ? message.slice(at + "HubException: ".length) : fallback;
}

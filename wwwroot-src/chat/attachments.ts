// Files on a question: pasted, dropped or picked in the composer, uploaded at once (one request per batch, so a
// refused batch stores nothing) with progress, shown as removable previews, then sent by id with the question
// and shown on it as thumbnails. The server judges every file by its content and checks the limits again.
import { icon } from "../icons";

export interface AttachmentView {
  id: string; fileName: string; kind: string; contentType: string; sizeBytes: number; size: string;
  width: number | null; height: number | null; url: string; thumbnailUrl: string | null;
}

const uploadPath = "/api/attachments";

function fileIcon(kind: string): string {
  return icon(kind === "pdf" ? "file-earmark-pdf" : "file-earmark-text");
}

function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1).replace(/\.0$/, "")} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, "")} MB`;
}

/** The files on a question, as the server renders them (Features/Chat/_QuestionAttachments.cshtml). */
export function questionAttachments(files: readonly AttachmentView[]): HTMLElement | null {
  if (files.length === 0) return null;
  const list = document.createElement("ul");
  list.className = "msg-attachments";
  list.dataset.testid = "message-attachments";
  for (const file of files) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = file.url;
    if (file.thumbnailUrl) {
      link.className = "attachment-thumb";
      link.target = "_blank";
      link.rel = "noopener";
      link.title = file.fileName;
      const img = document.createElement("img");
      img.src = file.thumbnailUrl;
      img.alt = file.fileName;
      img.dataset.testid = "attachment-thumbnail";
      link.append(img);
    } else {
      link.className = "attachment-file";
      link.download = file.fileName;
      link.innerHTML = fileIcon(file.kind);
      const name = document.createElement("span");
      name.className = "attachment-name";
      name.textContent = file.fileName;
      const size = document.createElement("span");
      size.className = "attachment-size";
      size.textContent = file.size;
      link.append(name, " ", size);
    }
    item.append(link);
    list.append(item);
  }
  return list;
}

export class ComposerAttachments {
  private readonly list: HTMLUListElement;
  private readonly input: HTMLInputElement;
  private readonly token: string;
  private readonly maxFiles: number;
  private readonly maxMegabytes: number;
  private readonly tier: string;
  /** Uploaded and ready to go with the next question, in order. */
  private ready: AttachmentView[] = [];
  private readonly uploads = new Set<XMLHttpRequest>();
  private pendingCount = 0;

  constructor(root: HTMLElement, private readonly showError: (text: string) => void, private readonly announce: (text: string) => void) {
    this.list = root.querySelector("#attachment-previews")!;
    this.input = root.querySelector("#attach-input")!;
    this.token = root.querySelector<HTMLInputElement>("input[name=__RequestVerificationToken]")?.value ?? "";
    this.maxFiles = Number(this.list.dataset.maxFiles ?? 4);
    this.maxMegabytes = Number(this.list.dataset.maxMegabytes ?? 5);
    this.tier = this.list.dataset.tier ?? "free";

    root.querySelector("#attach-button")!.addEventListener("click", () => this.input.click());
    this.input.addEventListener("change", () => {
      this.add([...(this.input.files ?? [])]);
      this.input.value = "";
    });
    root.querySelector<HTMLTextAreaElement>("#composer-input")!.addEventListener("paste", (e) => {
      const files = [...(e.clipboardData?.files ?? [])];
      if (files.length === 0) return;
      // A copied image may come with text (its name, a caption): the image is what was meant.
      e.preventDefault();
      this.add(files);
    });
    const zone = root.querySelector<HTMLElement>(".chat-pane") ?? root;
    zone.addEventListener("dragover", (e) => {
      if (!e.dataTransfer?.types.includes("Files")) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = "copy";
      zone.classList.add("drag-over");
    });
    zone.addEventListener("dragleave", (e) => { if (e.target === zone || !zone.contains(e.relatedTarget as Node | null)) zone.classList.remove("drag-over"); });
    zone.addEventListener("drop", (e) => {
      zone.classList.remove("drag-over");
      const files = [...(e.dataTransfer?.files ?? [])];
      if (files.length === 0) return;
      e.preventDefault();
      this.add(files);
    });
    this.list.addEventListener("click", (e) => {
      const button = (e.target as HTMLElement).closest<HTMLButtonElement>("button[data-action=remove-attachment]");
      if (button) this.remove(button.closest<HTMLElement>("li")!);
    });
  }

  /** True while files are still uploading. */
  get busy(): boolean { return this.pendingCount > 0; }

  /** Files uploaded or uploading for the next question. */
  get count(): number { return this.ready.length + this.pendingCount; }

  /** The files ready for the question being sent; the previews empty. */
  take(): AttachmentView[] {
    const order = [...this.list.querySelectorAll<HTMLElement>("li[data-attachment-id]")].map((li) => li.dataset.attachmentId);
    const files = order.map((id) => this.ready.find((a) => a.id === id)).filter((a): a is AttachmentView => a !== undefined);
    this.ready = [];
    this.list.replaceChildren();
    this.refresh();
    return files;
  }

  /** A send that failed: its files go back to the composer. */
  putBack(files: readonly AttachmentView[]): void {
    for (const file of files) this.showReady(file);
  }

  private add(files: File[]): void {
    if (files.length === 0) return;
    const count = this.ready.length + this.pendingCount + files.length;
    if (count > this.maxFiles) {
      this.showError(`A message can carry at most ${this.maxFiles} files on the ${this.tier} tier; this would make ${count}. Nothing was attached.`);
      return;
    }
    const tooBig = files.find((f) => f.size > this.maxMegabytes * 1024 * 1024);
    if (tooBig) {
      this.showError(`${tooBig.name || "The pasted file"} is ${sizeText(tooBig.size)}; files can be up to ${this.maxMegabytes} MB on the ${this.tier} tier. Nothing was attached.`);
      return;
    }
    const previews = files.map((f) => this.showPending(f));
    const form = new FormData();
    files.forEach((f, i) => form.append("files", f, f.name || `pasted-${i + 1}.${(f.type.split("/")[1] ?? "bin").replace(/[^a-z0-9]/g, "")}`));
    const xhr = new XMLHttpRequest();
    this.uploads.add(xhr);
    this.pendingCount += files.length;
    this.refresh();
    xhr.open("POST", uploadPath);
    xhr.setRequestHeader("RequestVerificationToken", this.token);
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (e) => {
      if (!e.lengthComputable) return;
      for (const p of previews) p.querySelector("progress")!.value = e.loaded / e.total;
    });
    const finish = () => {
      this.uploads.delete(xhr);
      this.pendingCount -= files.length;
    };
    const clear = () => { for (const p of previews) p.remove(); };
    xhr.addEventListener("load", () => {
      const wanted = previews.map((p) => p.isConnected); // a preview removed while uploading: its file is dropped
      finish();
      const body = xhr.response as { attachments?: AttachmentView[]; detail?: string } | null;
      if (xhr.status >= 200 && xhr.status < 300 && body?.attachments) {
        const kept = body.attachments.filter((a, i) => wanted[i] ?? true);
        body.attachments.forEach((a, i) => { if (kept.includes(a)) this.showReady(a, previews[i]); else void this.discard(a.id); });
        this.refresh();
        if (kept.length > 0) this.announce(`${kept.length === 1 ? kept[0].fileName : `${kept.length} files`} attached.`);
      } else {
        clear();
        this.showError(body?.detail ?? `The upload failed (${xhr.status}). Try again.`);
        this.refresh();
      }
    });
    xhr.addEventListener("error", () => { finish(); clear(); this.refresh(); this.showError("The upload failed. Check your connection and try again."); });
    xhr.addEventListener("abort", () => { finish(); clear(); this.refresh(); });
    xhr.send(form);
  }

  private showPending(file: File): HTMLElement {
    const item = this.preview(file.name || "Pasted file", fileIcon(file.type === "application/pdf" ? "pdf" : "text"), sizeText(file.size));
    item.classList.add("uploading");
    const progress = document.createElement("progress");
    progress.max = 1;
    progress.value = 0;
    progress.setAttribute("aria-label", `Uploading ${file.name || "pasted file"}`);
    item.querySelector(".attachment-preview-info")!.append(progress);
    this.list.append(item);
    return item;
  }

  /** Shows an uploaded file, in place of its upload's preview when given (previews keep the order files were added in). */
  private showReady(file: AttachmentView, replacing?: HTMLElement): void {
    let visual: string | HTMLElement = fileIcon(file.kind);
    if (file.thumbnailUrl) {
      const img = document.createElement("img");
      img.src = file.thumbnailUrl;
      img.alt = "";
      visual = img;
    }
    const item = this.preview(file.fileName, visual, file.size);
    item.dataset.attachmentId = file.id;
    this.ready.push(file);
    if (replacing?.isConnected) replacing.replaceWith(item); else this.list.append(item);
    this.refresh();
  }

  private preview(name: string, visual: string | HTMLElement, size: string): HTMLElement {
    const item = document.createElement("li");
    item.className = "attachment-preview";
    item.dataset.testid = "attachment-preview";
    const figure = document.createElement("span");
    figure.className = "attachment-preview-visual";
    if (typeof visual === "string") figure.innerHTML = visual; else figure.append(visual);
    const info = document.createElement("span");
    info.className = "attachment-preview-info";
    const label = document.createElement("span");
    label.className = "attachment-name";
    label.textContent = name;
    const sizeEl = document.createElement("span");
    sizeEl.className = "attachment-size";
    sizeEl.textContent = size;
    info.append(label, sizeEl);
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "btn btn-sm btn-icon attachment-remove";
    remove.dataset.action = "remove-attachment";
    remove.dataset.testid = "remove-attachment";
    remove.setAttribute("aria-label", `Remove ${name}`);
    remove.title = "Remove";
    remove.innerHTML = icon("x-lg");
    item.append(figure, info, remove);
    return item;
  }

  private remove(item: HTMLElement): void {
    const id = item.dataset.attachmentId;
    const name = item.querySelector(".attachment-name")?.textContent ?? "file";
    item.remove();
    if (id) {
      this.ready = this.ready.filter((a) => a.id !== id);
      void this.discard(id);
    }
    // A file still uploading is dropped when its batch lands (see add).
    this.refresh();
    this.announce(`${name} removed.`);
  }

  /** Removes an unsent upload on the server; a failure is harmless (unsent uploads are swept later). */
  private async discard(id: string): Promise<void> {
    try {
      await fetch(`${uploadPath}/${encodeURIComponent(id)}`, { method: "DELETE", headers: { RequestVerificationToken: this.token } });
    } catch {
      /* swept later */
    }
  }

  private refresh(): void {
    this.list.hidden = this.list.childElementCount === 0;
  }
}

// The chat header's Export (Markdown of the branch shown, JSON of the whole tree) and Share (a link to a
// read-only snapshot, made on the server; its secret is shown here once and stored nowhere but in the link).
import type { HubConnection } from "@microsoft/signalr";
import { copyText } from "./render";

export class ShareActions {
  private readonly dialog: HTMLDialogElement;
  private readonly create: HTMLButtonElement;
  private readonly result: HTMLElement;
  private readonly url: HTMLInputElement;
  private readonly error: HTMLElement;

  constructor(root: HTMLElement, private readonly hub: HubConnection, private readonly current: () => string,
    private readonly hubError: (e: unknown) => string) {
    this.dialog = root.querySelector("#share-dialog")!;
    this.create = root.querySelector("#share-create")!;
    this.result = root.querySelector("#share-result")!;
    this.url = root.querySelector("#share-url")!;
    this.error = root.querySelector("#share-error")!;
    // The conversation can change without a reload (the first send of a new chat): links point at it when clicked.
    for (const link of root.querySelectorAll<HTMLAnchorElement>("a[data-export]"))
      link.addEventListener("click", () => { link.href = `/conversations/${this.current()}/export.${link.dataset.export}`; });
    root.querySelector("#share-button")!.addEventListener("click", () => this.open());
    this.create.addEventListener("click", () => void this.share(root.querySelector<HTMLInputElement>("#share-attachments")!.checked));
    const copy = root.querySelector<HTMLButtonElement>("#share-copy")!;
    copy.addEventListener("click", () => void copyText(this.url.value, copy));
  }

  private open(): void {
    this.result.classList.add("d-none");
    this.error.classList.add("d-none");
    this.create.disabled = false;
    this.create.classList.remove("d-none");
    this.dialog.showModal();
    this.create.focus();
  }

  private async share(includeAttachments: boolean): Promise<void> {
    this.create.disabled = true;
    try {
      const path = await this.hub.invoke<string>("CreateShare", this.current(), includeAttachments);
      this.url.value = new URL(path, location.origin).toString();
      this.result.classList.remove("d-none");
      this.create.classList.add("d-none");
      this.url.focus();
      this.url.select();
    } catch (e) {
      this.error.textContent = this.hubError(e);
      this.error.classList.remove("d-none");
      this.create.disabled = false;
    }
  }
}

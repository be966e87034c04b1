// The line by the composer once a daily limit is close ("2 of 15 messages left today · resets 00:00 UTC"):
// asked of the hub when the page connects and after every reply, hidden while every limit is far.
import type { HubConnection } from "@microsoft/signalr";

interface LimitSummary { text: string; percentUsed: number }

export class LimitLine {
  private readonly el: HTMLElement | null;
  private request = 0;

  constructor(root: HTMLElement, private readonly hub: HubConnection) {
    this.el = root.querySelector<HTMLElement>("#limit-summary");
  }

  async refresh(): Promise<void> {
    if (!this.el) return;
    const request = ++this.request;
    let summary: LimitSummary | null;
    try {
      summary = await this.hub.invoke<LimitSummary | null>("GetLimitSummary");
    } catch {
      return; // keeps the last reading
    }
    if (request !== this.request) return; // a newer reading is on its way
    this.el.hidden = !summary;
    if (!summary) return;
    this.el.querySelector("#limit-summary-text")!.textContent = summary.text;
    this.el.classList.toggle("limit-summary-full", summary.percentUsed >= 100);
  }
}

// One reply on screen. Design: the server renders Markdown (Markdig) and pushes throttled HTML
// snapshots (~150 ms) alongside the raw token deltas. The body shows the latest snapshot and a
// plain-text tail of the tokens that arrived after it, so every token is visible at once and the
// Markdown you see while streaming is the same rendering a reload or the final message shows.
import { icon } from "../icons";
import { collapseIfLong, plainTail, typingIndicator } from "./polish";
import { enhance, formatStats, type MessageStats } from "./render";

/** html, when present: the rendering of the whole reply up to and including this delta (a snapshot riding on it). */
export interface TokenDelta { conversationId: string; messageId: number; seq: number; text: string; html?: string | null }
export interface RenderedSnapshot { conversationId: string; messageId: number; seq: number; length: number; html: string }
export interface GenerationCompleted {
  conversationId: string; messageId: number; status: string; seq: number; content: string; html: string; stats: MessageStats; error: string | null;
}
export interface ResumeResult { live: boolean; deltas: TokenDelta[]; content: string | null; seq: number; completed: GenerationCompleted | null }

/** How a reply ended when it did not simply complete; same words as IndexModel.StateLabel on the server. */
export function stateLabel(status: string, source: string): string | null {
  switch (status) {
    case "stopped": return source.length === 0 ? "Stopped before any reply" : "Stopped";
    case "interrupted": return "Interrupted";
    case "failed": return "Failed";
    default: return null;
  }
}

export class Reply {
  seq: number;
  status: string;
  /** The Markdown as the model wrote it so far: what Copy copies (the page shows its rendering). */
  source: string;
  /** Characters of the raw text the current HTML covers. */
  private htmlLength: number;
  /** Raw text from character <see cref="tailStart"/> on, built from deltas. */
  private tail = "";
  private tailStart: number;
  readonly body: HTMLElement;
  private readonly tailEl: HTMLElement;
  private readonly typingEl: HTMLElement;

  constructor(readonly el: HTMLElement, private readonly onChange: () => void) {
    this.seq = Number(el.dataset.seq ?? 0);
    this.status = el.dataset.status ?? "streaming";
    this.htmlLength = Number(el.dataset.length ?? 0);
    this.source = el.dataset.source ?? "";
    delete el.dataset.source; // kept here, not twice in the DOM
    this.tailStart = this.htmlLength;
    this.body = el.querySelector(".msg-body")!;
    this.tailEl = el.querySelector(".msg-tail")!;
    this.typingEl = el.querySelector(".msg-typing") ?? this.tailEl.insertAdjacentElement("afterend", typingIndicator()) as HTMLElement;
    enhance(this.body);
    this.showTyping();
  }

  /** The typing indicator stands in for the reply until its first token. */
  private showTyping(): void {
    this.typingEl.hidden = !(this.streaming && this.source.length === 0);
  }

  get id(): number { return Number(this.el.dataset.messageId); }
  get streaming(): boolean { return this.status === "streaming"; }

  /** Applies a delta; returns false when a gap shows that deltas were missed (resume needed). */
  delta(d: TokenDelta): boolean {
    if (!this.streaming || d.seq <= this.seq) return true;
    if (d.seq !== this.seq + 1) return false;
    this.seq = d.seq;
    this.tail += d.text;
    this.source += d.text;
    if (d.html != null) this.snapshot({ conversationId: d.conversationId, messageId: d.messageId, seq: d.seq, length: this.source.length, html: d.html });
    else this.paintTail();
    return true;
  }

  snapshot(s: RenderedSnapshot): void {
    if (!this.streaming || s.seq > this.seq || s.length < this.htmlLength) return;
    this.body.innerHTML = s.html;
    this.htmlLength = s.length;
    enhance(this.body);
    this.paintTail();
  }

  resume(r: ResumeResult): void {
    if (r.completed) { this.complete(r.completed); return; }
    if (r.content != null && r.seq > this.seq) {
      // The buffer no longer held our position: start over from the full text.
      this.body.replaceChildren();
      this.htmlLength = 0;
      this.tailStart = 0;
      this.tail = r.content;
      this.source = r.content;
      this.seq = r.seq;
      this.paintTail();
      return;
    }
    for (const d of r.deltas) this.delta(d);
  }

  complete(c: GenerationCompleted): void {
    this.status = c.status;
    this.seq = c.seq;
    this.el.dataset.status = c.status;
    this.el.dataset.seq = `${c.seq}`;
    this.source = c.content;
    this.body.innerHTML = c.html;
    enhance(this.body);
    this.tail = "";
    this.tailEl.textContent = "";
    this.showTyping();
    this.el.querySelector(".msg-meta")!.textContent = formatStats(c.stats);
    const error = this.el.querySelector<HTMLElement>(".msg-error")!;
    error.textContent = c.error ?? "";
    error.classList.toggle("d-none", !c.error);
    const state = this.el.querySelector<HTMLElement>(".msg-state")!;
    const label = stateLabel(c.status, c.content);
    state.textContent = label ?? "";
    state.classList.toggle("d-none", label === null);
    const regenerate = this.el.querySelector<HTMLElement>("[data-action=regenerate]");
    if (regenerate) regenerate.textContent = c.status === "failed" || c.status === "interrupted" ? "Retry" : "Regenerate";
    this.onChange();
  }

  private paintTail(): void {
    const from = Math.max(0, this.htmlLength - this.tailStart);
    const start = this.tailStart + from;
    this.tailEl.textContent = plainTail(this.tail.slice(from), start === 0 || this.source[start - 1] === "\n");
    this.showTyping();
    this.onChange();
  }
}

export function userMessage(text: string): HTMLElement {
  const el = document.createElement("article");
  el.className = "msg msg-user";
  el.dataset.testid = "message-user";
  el.innerHTML = '<h2 class="visually-hidden">You said</h2><div class="msg-body"></div>' +
    '<div class="msg-actions"><button type="button" class="btn btn-sm btn-link" data-action="edit" data-testid="edit">Edit</button></div>';
  el.querySelector(".msg-body")!.textContent = text;
  collapseIfLong(el);
  return el;
}

export function assistantMessage(modelName: string): HTMLElement {
  const el = document.createElement("article");
  el.className = "msg msg-assistant";
  el.dataset.testid = "message-assistant";
  el.dataset.status = "streaming";
  el.dataset.seq = "0";
  el.dataset.length = "0";
  el.innerHTML = '<h2 class="visually-hidden">Reply</h2><div class="msg-body md"></div><div class="msg-tail"></div>' + typingIndicator().outerHTML +
    '<p class="msg-state d-none" data-testid="message-state"></p><p class="msg-error d-none" role="alert"></p><footer class="msg-meta small text-body-secondary" data-testid="message-meta"></footer>' +
    `<div class="msg-actions"><button type="button" class="btn btn-sm btn-link" data-action="copy">${icon("clipboard")} <span class="btn-label">Copy</span></button>` +
    '<button type="button" class="btn btn-sm btn-link" data-action="regenerate" data-testid="regenerate">Regenerate</button></div>';
  el.querySelector(".msg-meta")!.textContent = modelName;
  return el;
}

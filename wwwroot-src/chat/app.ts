// The chat screen: hub connection, composer, replies streaming in, model choice per conversation.
import { HubConnectionBuilder, HubConnectionState, LogLevel, type HubConnection } from "@microsoft/signalr";
import { ComposerAttachments, questionAttachments } from "./attachments";
import { type Catalog, type CatalogModel, loadCatalog } from "./catalog";
import { CompareBar, compareBlock, type CompareResult, keepColumn } from "./compare";
import {
  assistantMessage, type GenerationCompleted, Reply, type RenderedSnapshot, type ResumeResult, type TokenDelta, userMessage,
} from "./messages";
import { ChatInstructions } from "./instructions";
import { LimitLine } from "./limit-summary";
import { ModelPicker } from "./model-picker";
import { recentModels } from "./preferences";
import { collapseIfLong } from "./polish";
import { copyText } from "./render";
import { ShareActions } from "./sharing";
import { wireShortcuts } from "./shortcuts";
import { type ConversationSummary, Sidebar } from "./sidebar";
import { Branch } from "./versions";

interface SendResult { conversationId: string; userMessageId: number; assistantMessageId: number }
interface AccountChanged { tier: string; isAdmin: boolean }
interface GenerationStarted { conversationId: string; userMessageId: number; messageId: number; modelName: string | null }

/** HubException text without SignalR's "An unexpected error occurred invoking…" prefix. */
function hubError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const marker = "HubException: ";
  const at = message.indexOf(marker);
  return at >= 0 ? message.slice(at + marker.length) : "The server could not be reached. Check your connection and try again.";
}

export class ChatApp {
  private readonly hub: HubConnection;
  private readonly log: HTMLElement;
  private readonly input: HTMLTextAreaElement;
  private readonly sendButton: HTMLButtonElement;
  private readonly stopButton: HTMLButtonElement;
  private readonly errorEl: HTMLElement;
  private readonly status: HTMLElement;
  private readonly maxChars: number;
  private readonly replies = new Map<number, Reply>();
  /** Events for replies whose element is not known yet (they can beat the Send result). */
  private readonly early = new Map<number, ((r: Reply) => void)[]>();
  private readonly resuming = new Set<number>();
  private conversationId: string;
  private picker: ModelPicker | null = null;
  private catalog: Catalog | null = null;
  private sidebar: Sidebar;
  private readonly compare: CompareBar;
  private readonly instructions: ChatInstructions;
  private readonly branch: Branch;
  private readonly attachments: ComposerAttachments;
  private readonly limits: LimitLine;
  private stickToBottom = true;
  /** Send / regenerate / edit calls in flight from this tab. */
  private requests = 0;
  /** Stop pressed while a send was on its way: the reply it starts is stopped as soon as the server names it. */
  private stopWanted = false;
  private connected: Promise<void> = Promise.resolve();

  constructor(private readonly root: HTMLElement) {
    this.log = root.querySelector("#chat-log")!;
    this.input = root.querySelector("#composer-input")!;
    this.sendButton = root.querySelector("#send-button")!;
    this.stopButton = root.querySelector("#stop-button")!;
    this.errorEl = root.querySelector("#composer-error")!;
    this.status = root.querySelector("#chat-status")!;
    this.conversationId = root.dataset.conversationId ?? "";
    this.maxChars = Number(root.dataset.maxChars ?? 100000);

    this.hub = new HubConnectionBuilder().withUrl("/hubs/chat").withAutomaticReconnect().configureLogging(LogLevel.Warning).build();
    this.hub.on("Delta", (d: TokenDelta) => this.withReply(d.conversationId, d.messageId, (r) => { if (!r.delta(d)) void this.resume(r); }));
    this.hub.on("Snapshot", (s: RenderedSnapshot) => this.withReply(s.conversationId, s.messageId, (r) => r.snapshot(s)));
    this.hub.on("GenerationStarted", (g: GenerationStarted) => this.startedElsewhere(g));
    this.hub.on("GenerationCompleted", (c: GenerationCompleted) => this.withReply(c.conversationId, c.messageId, (r) => this.completed(r, c)));
    this.hub.on("ConversationChanged", (c: ConversationSummary) => this.sidebar.upsert(c));
    this.hub.on("AccountChanged", (a: AccountChanged) => void this.accountChanged(a));
    this.hub.onreconnecting(() => this.announce("Connection lost. Reconnecting…"));
    this.hub.onreconnected(() => { this.announce("Reconnected."); this.hideError(); this.resumeAll(); });
    this.hub.onclose(() => this.showError("The connection to the server was lost. Reload the page to continue; replies keep being written meanwhile."));

    this.sidebar = new Sidebar(root, this.hub, () => this.conversationId, () => this.leaveConversation(),
      (title) => this.setTitle(title), (text) => this.announce(text), root.dataset.nextBefore ?? "");
    new ShareActions(root, this.hub, () => this.conversationId, hubError);

    this.compare = new CompareBar(root);
    this.instructions = new ChatInstructions(root, {
      hub: this.hub, conversationId: () => this.conversationId, model: () => this.picker?.selected ?? null,
      modelById: (id) => this.catalog?.byId.get(id), errorText: hubError, announce: (text) => this.announce(text),
    });
    this.branch = new Branch(this.log, this.hub, {
      removed: (el) => this.replies.delete(Number(el.dataset.messageId)),
      added: (el) => { if (el.classList.contains("msg-assistant")) this.track(new Reply(el, () => this.follow())); },
    });
    this.attachments = new ComposerAttachments(root, (text) => this.showError(text), (text) => this.announce(text));
    this.limits = new LimitLine(root, this.hub);
    for (const el of this.log.querySelectorAll<HTMLElement>(".msg-assistant")) this.track(new Reply(el, () => this.follow()));
    for (const el of this.log.querySelectorAll<HTMLElement>(".msg-user")) collapseIfLong(el);
    this.wireComposer();
    this.wireLog();
    this.wireSidebarToggle();
    wireShortcuts(root, {
      picker: () => this.picker,
      streaming: () => [...this.replies.values()].some((r) => r.streaming),
      stop: () => void this.stop(),
      composer: this.input,
    });
    this.scrollToBottom();
  }

  async start(): Promise<void> {
    const models = this.loadModels();
    this.connected = this.hub.start();
    try {
      await this.connected;
      this.resumeAll();
      void this.limits.refresh();
    } catch {
      this.showError("The chat server could not be reached. Reload the page to try again.");
    }
    this.refreshButtons();
    await models;
    this.root.dataset.ready = "true";
  }

  private async loadModels(): Promise<void> {
    try {
      this.catalog = await loadCatalog();
    } catch (e) {
      this.showError(e instanceof Error ? e.message : "The model list could not be loaded.");
      return;
    }
    const picker = new ModelPicker(this.root.querySelector("#model-picker")!, this.catalog, (m) => void this.modelChosen(m));
    this.compare.fill(this.catalog);
    this.picker = picker;
    const byId = (id: number) => { const m = this.catalog!.byId.get(id); return m && !m.locked ? m : undefined; };
    const current = Number(this.root.dataset.modelId || 0);
    const initial = (current ? this.catalog.byId.get(current) : undefined)
      ?? recentModels().map(byId).find((m) => m)
      ?? this.catalog.groups.flatMap((g) => g.models).find((m) => !m.locked)
      ?? null;
    picker.show(initial);
    await this.connected.catch(() => undefined);
    await this.instructions.attach(picker);
  }

  /** A tier or role change made by an admin (on any node): the same page, the new catalogue and locks. */
  private async accountChanged(account: AccountChanged): Promise<void> {
    if (!this.catalog || !this.picker) return; // still loading: that load sees the new account
    try {
      this.catalog = await loadCatalog();
    } catch {
      return; // the next send is checked on the server anyway
    }
    this.picker.replaceCatalog(this.catalog);
    this.compare.fill(this.catalog);
    this.announce(`Your account changed (${account.tier} tier): the model list was updated.`);
  }

  private async modelChosen(model: CatalogModel): Promise<void> {
    this.input.focus();
    this.announce(`Model ${model.name} selected.`);
    void this.instructions.modelChanged();
    if (!this.conversationId) return;
    try {
      await this.hub.invoke("SetModel", this.conversationId, model.id);
    } catch (e) {
      this.showError(hubError(e));
    }
  }

  private wireComposer(): void {
    const form = this.root.querySelector<HTMLFormElement>("#composer")!;
    form.addEventListener("submit", (e) => { e.preventDefault(); void this.send(); });
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); void this.send(); }
    });
    this.input.addEventListener("input", () => {
      this.autosize();
      if (this.input.value.length <= this.maxChars) this.hideError();
    });
    this.stopButton.addEventListener("click", () => void this.stop());
  }

  private wireLog(): void {
    this.log.addEventListener("scroll", () => {
      // Follow new text only while the reader is at the bottom; never yank them back while they read.
      this.stickToBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 48;
    });
    this.log.addEventListener("click", (e) => {
      const button = (e.target as HTMLElement).closest<HTMLElement>("button[data-action]");
      if (!button) return;
      const message = button.closest<HTMLElement>(".msg");
      switch (button.dataset.action) {
        case "copy-code":
          void copyText(button.closest(".code-block")?.querySelector("code")?.textContent ?? "", button);
          break;
        case "copy": {
          // The Markdown source, not the rendering (whose text would include the code bars' labels).
          const reply = this.replies.get(Number(message?.dataset.messageId));
          void copyText(reply ? reply.source : message?.querySelector(".msg-body")?.textContent ?? "", button);
          break;
        }
        case "regenerate":
          if (message) void this.regenerate(message);
          break;
        case "version":
          if (message) void this.switchVersion(message, Number(button.dataset.versionId), button.dataset.testid ?? "");
          break;
        case "edit":
          if (message) this.startEdit(message);
          break;
        case "keep":
          void this.keep(button.closest(".compare-column")?.querySelector<HTMLElement>(".msg-assistant") ?? null);
          break;
      }
    });
  }

  private wireSidebarToggle(): void {
    const toggle = this.root.querySelector<HTMLButtonElement>("#sidebar-toggle")!;
    toggle.addEventListener("click", () => {
      const open = this.root.classList.toggle("sidebar-open");
      toggle.setAttribute("aria-expanded", `${open}`);
    });
  }

  private async send(): Promise<void> {
    const text = this.input.value;
    if (!text.trim()) { this.showError("The message is empty. Type something first."); return; }
    if (text.length > this.maxChars) {
      this.showError(`The message is ${text.length.toLocaleString("en-US")} characters long; the limit is ${this.maxChars.toLocaleString("en-US")}. Shorten it or send it in parts.`);
      return;
    }
    const model = this.picker?.selected;
    if (!model) { this.showError("Choose a model first."); return; }
    if (this.busy) return;
    if (this.log.querySelector(".compare")) { this.showError("Keep one of the answers first: the conversation goes on with the one you keep."); return; }
    const others = this.compare.active ? this.compare.others(model) : [];
    if (this.compare.active && others.length === 0) { this.showError("Choose another model to compare with, or turn Compare off."); return; }
    if (this.attachments.busy) { this.showError("Files are still uploading. Send once they are attached."); return; }
    if (others.length > 0 && this.attachments.count > 0) { this.showError("Compare sends text only: remove the attachments, or turn Compare off."); return; }
    this.hideError();
    try {
      await this.connected;
    } catch {
      this.showError("The chat server could not be reached. Reload the page to try again.");
      return;
    }

    this.root.querySelector("#chat-welcome")?.remove();
    const parentId = this.branch.lastId; // the question follows the branch shown
    if (others.length > 0) { await this.sendCompare(text, [model.id, ...others]); return; }
    const question = userMessage(text);
    const attached = this.attachments.take();
    const files = questionAttachments(attached);
    if (files) question.querySelector(".msg-body")!.after(files);
    const answer = assistantMessage(model.modelId);
    this.log.append(question, answer);
    this.stickToBottom = true;
    this.scrollToBottom();
    this.input.value = "";
    this.autosize();
    this.input.focus();
    this.setBusy(true);
    this.requests++;
    try {
      const settings = this.instructions.forNewChat(model);
      const result = await this.hub.invoke<SendResult>("Send", {
        conversationId: this.conversationId || null, modelId: model.id, text, parentId, settings, attachmentIds: attached.map((a) => a.id),
      });
      this.instructions.started();
      question.dataset.messageId = `${result.userMessageId}`;
      answer.dataset.messageId = `${result.assistantMessageId}`;
      this.adopt(result.conversationId, model.id);
      this.track(new Reply(answer, () => this.follow()));
      this.announce("Reply started.");
    } catch (e) {
      question.remove();
      answer.remove();
      this.attachments.putBack(attached);
      this.input.value = text;
      this.autosize();
      this.showError(hubError(e));
      this.setBusy(false);
    } finally {
      this.requests--;
      this.stopIfWanted();
    }
  }

  /** One question, a column per model; every column streams as its own reply. */
  private async sendCompare(text: string, modelIds: number[]): Promise<void> {
    const names = modelIds.map((id) => this.catalog?.byId.get(id)?.modelId ?? "");
    const question = userMessage(text);
    const { block, answers } = compareBlock(names);
    this.log.append(question, block);
    this.stickToBottom = true;
    this.scrollToBottom();
    this.input.value = "";
    this.autosize();
    this.setBusy(true);
    this.requests++;
    try {
      const settings = this.instructions.forNewChat(this.catalog!.byId.get(modelIds[0])!);
      const result = await this.hub.invoke<CompareResult>("Compare", { conversationId: this.conversationId || null, modelIds, text, settings });
      this.instructions.started();
      question.dataset.messageId = `${result.userMessageId}`;
      this.adopt(result.conversationId, modelIds[0]);
      answers.forEach((answer, i) => {
        answer.dataset.messageId = `${result.assistantMessageIds[i]}`;
        this.track(new Reply(answer, () => this.follow()));
      });
      this.compare.setActive(false);
      this.announce(`${answers.length} replies started side by side.`);
    } catch (e) {
      question.remove();
      block.remove();
      this.input.value = text;
      this.autosize();
      this.showError(hubError(e));
      this.setBusy(false);
    } finally {
      this.requests--;
      this.stopIfWanted();
    }
  }

  private async keep(answer: HTMLElement | null): Promise<void> {
    const id = Number(answer?.dataset.messageId);
    if (!answer || !id || !this.conversationId) return;
    try {
      await this.hub.invoke("KeepAnswer", this.conversationId, id);
      keepColumn(answer);
      this.announce("Answer kept. The conversation goes on with it.");
      this.input.focus();
    } catch (e) {
      this.showError(hubError(e));
    }
  }

  /** A send that started a conversation: this page now shows it. */
  private adopt(conversationId: string, modelId: number): void {
    if (this.conversationId) return;
    this.conversationId = conversationId;
    this.root.dataset.conversationId = conversationId;
    history.replaceState(null, "", `/${conversationId}`);
    this.sidebar.upsert({ id: conversationId, title: "New chat", updatedAt: new Date().toISOString(), modelId });
  }

  /** Any reply: a new version beside it (the old one stays, one ‹ › away). */
  private async regenerate(reply: HTMLElement): Promise<void> {
    const model = this.picker?.selected;
    const id = Number(reply.dataset.messageId);
    if (!this.conversationId || !model || !id || this.busy) return;
    await this.restart(() => this.hub.invoke<SendResult>("RegenerateReply", this.conversationId, id, model.id), model,
      (_, answer) => this.branch.answeredAgain(reply, answer));
  }

  private async switchVersion(message: HTMLElement, target: number, arrow: string): Promise<void> {
    if (!this.conversationId || !target || this.busy) return;
    this.hideError();
    try {
      this.announce(await this.branch.switchTo(this.conversationId, message, target, arrow));
    } catch (e) {
      this.showError(hubError(e));
    }
  }

  private startEdit(message: HTMLElement): void {
    const body = message.querySelector<HTMLElement>(".msg-body")!;
    if (message.querySelector("form") || this.busy) return;
    const form = document.createElement("form");
    form.className = "msg-edit";
    const area = document.createElement("textarea");
    area.className = "form-control";
    area.value = body.textContent ?? "";
    area.setAttribute("aria-label", "Edit message");
    const save = document.createElement("button");
    save.type = "submit";
    save.className = "btn btn-sm btn-primary";
    save.textContent = "Save and resend";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "btn btn-sm btn-link";
    cancel.textContent = "Cancel";
    form.append(area, save, cancel);
    body.hidden = true;
    body.after(form);
    area.focus();
    const close = () => { form.remove(); body.hidden = false; };
    cancel.addEventListener("click", close);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const model = this.picker?.selected;
      const id = Number(message.dataset.messageId);
      if (!model || !id) return;
      const text = area.value;
      void this.restart(() => this.hub.invoke<SendResult>("Edit", this.conversationId, id, text, model.id), model, (result, answer) => {
        close();
        this.branch.edited(message, result.userMessageId, text, answer);
      });
    });
  }

  /** Regenerate and edit: a new version; <paramref name="place"/> shows it (and its new reply) instead of the old one. */
  private async restart(call: () => Promise<SendResult>, model: CatalogModel, place: (r: SendResult, answer: HTMLElement) => void): Promise<void> {
    this.setBusy(true);
    this.requests++;
    try {
      const result = await call();
      const answer = assistantMessage(model.modelId);
      answer.dataset.messageId = `${result.assistantMessageId}`;
      place(result, answer);
      this.stickToBottom = true;
      this.track(new Reply(answer, () => this.follow()));
      this.announce("Reply started.");
    } catch (e) {
      this.showError(hubError(e));
      this.setBusy(false);
    } finally {
      this.requests--;
      this.stopIfWanted();
    }
  }

  private async stop(): Promise<void> {
    // Before the server has answered the send there is no reply to stop yet (nor, for a new chat, a conversation).
    if (this.requests > 0) { this.stopWanted = true; this.announce("Stopping…"); return; }
    if (!this.conversationId) return;
    try {
      await this.hub.invoke("Stop", this.conversationId);
    } catch (e) {
      this.showError(hubError(e));
    }
    this.input.focus();
  }

  private stopIfWanted(): void {
    if (!this.stopWanted || this.requests > 0) return;
    this.stopWanted = false;
    if ([...this.replies.values()].some((r) => r.streaming)) void this.stop();
  }

  private track(reply: Reply): void {
    this.replies.set(reply.id, reply);
    const waiting = this.early.get(reply.id);
    this.early.delete(reply.id);
    for (const apply of waiting ?? []) apply(reply);
    if (reply.streaming && this.hub.state === HubConnectionState.Connected && waiting === undefined && reply.seq > 0) void this.resume(reply);
    this.refreshButtons();
  }

  private withReply(conversationId: string, messageId: number, apply: (r: Reply) => void): void {
    const reply = this.replies.get(messageId);
    if (reply) { apply(reply); return; }
    // Only a reply this tab is about to show can be early; other conversations' events are not ours to keep.
    if (this.requests === 0 && conversationId !== this.conversationId) return;
    const queue = this.early.get(messageId) ?? [];
    queue.push(apply);
    if (queue.length < 10_000) this.early.set(messageId, queue);
  }

  /**
   * Another tab (or device) started a reply in the conversation shown here, maybe on another branch: show the
   * branch it is on (its question included) and follow it too.
   */
  private startedElsewhere(g: GenerationStarted): void {
    if (this.requests > 0 || g.conversationId !== this.conversationId || this.replies.has(g.messageId)) return;
    this.branch.refresh(this.conversationId).then(() => this.follow(), () => { /* the next reload shows it */ });
  }

  private resumeAll(): void {
    for (const reply of this.replies.values()) if (reply.streaming) void this.resume(reply);
  }

  private async resume(reply: Reply): Promise<void> {
    if (this.resuming.has(reply.id)) return;
    this.resuming.add(reply.id);
    try {
      const result = await this.hub.invoke<ResumeResult>("Resume", reply.id, reply.seq);
      const wasStreaming = reply.streaming;
      reply.resume(result);
      if (wasStreaming && !reply.streaming) this.afterCompletion(reply);
    } catch {
      /* the next delta or the completion event will bring it up to date */
    } finally {
      this.resuming.delete(reply.id);
    }
  }

  private completed(reply: Reply, c: GenerationCompleted): void {
    if (!reply.streaming) return;
    reply.complete(c);
    this.afterCompletion(reply);
  }

  private afterCompletion(reply: Reply): void {
    const words: Record<string, string> = {
      complete: "Reply complete.", stopped: "Reply stopped.", failed: "The reply failed.", interrupted: "The reply was interrupted.",
    };
    this.announce(words[reply.status] ?? "Reply finished.");
    this.refreshButtons();
    void this.instructions.refreshGauge();
    void this.limits.refresh();
  }

  private get busy(): boolean {
    return [...this.replies.values()].some((r) => r.streaming) || this.sendButton.disabled;
  }

  private setBusy(busy: boolean): void {
    this.sendButton.disabled = busy;
    this.stopButton.classList.toggle("d-none", !busy);
    // Regenerate and Edit would be refused while a reply is written: not offered then (chat.css hides them).
    if (busy) this.root.dataset.streaming = "true";
    else delete this.root.dataset.streaming;
  }

  private refreshButtons(): void {
    this.setBusy([...this.replies.values()].some((r) => r.streaming));
  }

  private leaveConversation(): void {
    this.conversationId = "";
    this.root.dataset.conversationId = "";
    history.replaceState(null, "", "/");
    this.replies.clear();
    this.log.replaceChildren();
    this.setTitle("New chat");
    this.refreshButtons();
    this.instructions.reset();
  }

  private setTitle(title: string): void {
    this.root.querySelector("#chat-title")!.textContent = title;
    document.title = `${title} · Aggregator`;
  }

  private follow(): void {
    if (this.stickToBottom) this.scrollToBottom();
  }

  private scrollToBottom(): void {
    this.log.scrollTop = this.log.scrollHeight;
  }

  private autosize(): void {
    this.input.rows = Math.min(10, Math.max(1, this.input.value.split("\n").length));
  }

  private showError(text: string): void {
    this.errorEl.textContent = text;
    this.errorEl.classList.remove("d-none");
  }

  private hideError(): void {
    this.errorEl.classList.add("d-none");
    this.errorEl.textContent = "";
  }

  /** Polite status for screen readers: starts, ends and errors, never individual tokens. */
  private announce(text: string): void {
    this.status.textContent = text;
  }
}

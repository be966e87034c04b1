// Conversations are trees (Features/Chat/ConversationTree.cs) and the log shows one branch of it. Here: the
// ‹ 2 / 3 › control of a message with versions, and re-rendering the branch from a message down after a version
// switch (or a reply started in another tab). The new branch comes from the server's own rendering of the page,
// so Index.cshtml stays the one rendering of a finished message, and nothing needs a reload.
import type { HubConnection } from "@microsoft/signalr";
import { icon } from "../icons";

interface VersionSwitch { leafId: number; branch: number[] }

/** What the page does with messages that leave or join the log (its map of replies, resumes). */
export interface BranchHooks {
  removed(message: HTMLElement): void;
  added(message: HTMLElement): void;
}

function messageId(el: Element | undefined): number {
  return Number((el as HTMLElement | undefined)?.dataset.messageId ?? 0);
}

/** The versions of a message, oldest first (itself alone when it has none). */
export function versionsOf(message: HTMLElement): number[] {
  const list = message.querySelector<HTMLElement>(".msg-versions")?.dataset.versions;
  return list ? list.split(",").map(Number) : [messageId(message)];
}

function arrow(which: "previous" | "next", target: number | undefined): HTMLButtonElement {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn btn-sm btn-icon";
  button.dataset.action = "version";
  button.dataset.testid = `${which}-version`;
  const name = which === "previous" ? "Previous version" : "Next version";
  button.setAttribute("aria-label", name);
  button.title = name;
  if (target) button.dataset.versionId = `${target}`;
  else button.disabled = true;
  button.innerHTML = icon(which === "previous" ? "chevron-left" : "chevron-right");
  return button;
}

/** Same markup as Features/Chat/_MessageVersions.cshtml; null for a message with a single version. */
export function versionControls(versions: number[], id: number): HTMLElement | null {
  if (versions.length < 2) return null;
  const index = Math.max(0, versions.indexOf(id));
  const el = document.createElement("span");
  el.className = "msg-versions";
  el.setAttribute("role", "group");
  el.setAttribute("aria-label", `Version ${index + 1} of ${versions.length}`);
  el.dataset.versions = versions.join(",");
  el.dataset.testid = "versions";
  const label = document.createElement("span");
  label.className = "msg-version-label";
  label.dataset.testid = "version-label";
  label.textContent = `${index + 1} / ${versions.length}`;
  el.append(arrow("previous", versions[index - 1]), label, arrow("next", versions[index + 1]));
  return el;
}

/** Puts a message's ‹ n / m › control in place (first of its actions), or takes it away. */
function setControls(message: HTMLElement, controls: HTMLElement | null): void {
  message.querySelector(".msg-versions")?.remove();
  if (controls) message.querySelector(".msg-actions")?.prepend(controls);
}

export class Branch {
  constructor(
    private readonly log: HTMLElement,
    private readonly hub: HubConnection,
    private readonly hooks: BranchHooks,
  ) {}

  private messages(): HTMLElement[] {
    return [...this.log.querySelectorAll<HTMLElement>(":scope > .msg")];
  }

  /** The last message shown: the one a new question follows (null in a new chat). */
  get lastId(): number | null {
    return messageId(this.messages().pop()) || null;
  }

  /** Regenerate: the new reply (already numbered) takes the old one's place as its newest version. */
  answeredAgain(reply: HTMLElement, answer: HTMLElement): void {
    const versions = [...versionsOf(reply), messageId(answer)];
    this.removeFrom(reply);
    this.log.append(answer);
    setControls(answer, versionControls(versions, messageId(answer)));
  }

  /** Edit: the question becomes its new version (id <paramref name="id"/>), followed only by the new reply. */
  edited(question: HTMLElement, id: number, text: string, answer: HTMLElement): void {
    const versions = [...versionsOf(question), id];
    const next = question.nextElementSibling as HTMLElement | null;
    if (next) this.removeFrom(next);
    question.dataset.messageId = `${id}`;
    question.querySelector(".msg-body")!.textContent = text;
    setControls(question, versionControls(versions, id));
    this.log.append(answer);
  }

  /**
   * Shows version <paramref name="target"/> of <paramref name="message"/>: the server keeps the choice, the log
   * is re-rendered from that message down, which stays where it was on screen and keeps the focus. Returns
   * what to announce.
   */
  async switchTo(conversationId: string, message: HTMLElement, target: number, arrowId: string): Promise<string> {
    const top = message.getBoundingClientRect().top;
    await this.hub.invoke<VersionSwitch>("SwitchVersion", conversationId, target);
    await this.refresh(conversationId);
    const shown = this.messages().find((m) => messageId(m) === target);
    if (!shown) return "";
    this.log.scrollTop += shown.getBoundingClientRect().top - top;
    const arrow = shown.querySelector<HTMLButtonElement>(`[data-testid=${arrowId}]:not(:disabled)`)
      ?? shown.querySelector<HTMLButtonElement>("[data-action=version]:not(:disabled)");
    arrow?.focus();
    return shown.querySelector(".msg-versions")?.getAttribute("aria-label") ?? "";
  }

  /**
   * Re-renders the branch the server shows now: the messages that differ from the first difference down come
   * from the page's HTML; those above stay as they are (their version counts refreshed).
   */
  async refresh(conversationId: string): Promise<void> {
    const response = await fetch(`/${conversationId}`, { headers: { Accept: "text/html" }, credentials: "same-origin" });
    if (!response.ok) throw new Error(`The conversation could not be loaded (${response.status}).`);
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = [...page.querySelectorAll<HTMLElement>("#chat-log > .msg")];
    const shown = this.messages();
    let same = 0;
    while (same < fresh.length && same < shown.length && messageId(fresh[same]) === messageId(shown[same])) same++;
    for (let i = 0; i < same; i++) setControls(shown[i], fresh[i].querySelector<HTMLElement>(".msg-versions"));
    if (shown[same]) this.removeFrom(shown[same]);
    if (fresh.length > 0) this.log.querySelector("#chat-welcome")?.remove();
    for (const el of fresh.slice(same)) {
      this.log.append(document.adoptNode(el));
      this.hooks.added(el);
    }
  }

  /** Takes <paramref name="first"/> and every message after it out of the log. */
  private removeFrom(first: HTMLElement): void {
    const all = this.messages();
    const at = all.indexOf(first);
    if (at < 0) return;
    for (const el of all.slice(at)) {
      this.hooks.removed(el);
      el.remove();
    }
  }
}

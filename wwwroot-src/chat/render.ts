// What happens to server-rendered Markdown once it is in the page: code highlighting (dist/highlight.js,
// loaded on demand), maths (KaTeX, likewise) and copy buttons (no inline script or style: CSP), and the one-line
// stats under a reply.
import { icon } from "../icons";
import { typesetMaths } from "./maths";
type Highlighter = { highlight(code: HTMLElement, language: string): void };
let highlighter: Promise<Highlighter> | null = null;

/** dist/highlight.js under its fingerprinted URL (on #chat-app), loaded the first time a code block shows. */
function loadHighlighter(): Promise<Highlighter> {
  const url = document.getElementById("chat-app")?.dataset.highlighter ?? "/dist/highlight.js";
  highlighter ??= import(url) as Promise<Highlighter>;
  return highlighter;
}

/** Adds copy buttons to the code blocks of a freshly rendered message body, highlights them and typesets maths. */
export function enhance(body: HTMLElement): void {
  typesetMaths(body);
  for (const code of body.querySelectorAll<HTMLElement>("pre > code")) {
    const language = [...code.classList].find((c) => c.startsWith("language-"))?.slice(9);
    if (language) void loadHighlighter().then((h) => h.highlight(code, language), () => { /* stays plain text */ });
    const pre = code.parentElement!;
    if (pre.parentElement?.classList.contains("code-block")) continue;
    const wrapper = document.createElement("div");
    wrapper.className = "code-block";
    const bar = document.createElement("div");
    bar.className = "code-bar";
    const label = document.createElement("span");
    label.textContent = language ?? "text";
    const copy = document.createElement("button");
    copy.type = "button";
    copy.className = "btn btn-sm code-copy";
    copy.dataset.action = "copy-code";
    copy.innerHTML = `${icon("clipboard")} <span class="btn-label">Copy</span>`;
    copy.setAttribute("aria-label", `Copy ${language ?? ""} code`.replace("  ", " "));
    bar.append(label, copy);
    pre.replaceWith(wrapper);
    wrapper.append(bar, pre);
  }
}

/** Copies, then says so on the button for a moment (its label only: the icon stays). */
export async function copyText(text: string, button: HTMLElement): Promise<void> {
  const label = button.querySelector<HTMLElement>(".btn-label") ?? button;
  try {
    await navigator.clipboard.writeText(text);
    label.textContent = "Copied";
    setTimeout(() => (label.textContent = "Copy"), 1500);
  } catch {
    label.textContent = "Copy failed";
  }
}

export interface MessageStats {
  modelName: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  tokensEstimated: boolean;
  timeToFirstTokenMs: number | null;
  durationMs: number | null;
  finishReason: string | null;
}

/** Same text as IndexModel.Meta on the server, so a reload shows what streaming showed. */
export function formatStats(s: MessageStats): string {
  const parts: string[] = [];
  if (s.modelName) parts.push(s.modelName);
  if (s.completionTokens != null) parts.push(`${s.tokensEstimated ? "~" : ""}${s.completionTokens} tokens`);
  if (s.timeToFirstTokenMs != null) parts.push(`TTFT ${(s.timeToFirstTokenMs / 1000).toFixed(2)} s`);
  if (s.completionTokens != null && s.durationMs != null) {
    const streaming = (s.durationMs - (s.timeToFirstTokenMs ?? 0)) / 1000;
    if (streaming > 0 && s.completionTokens > 0) parts.push(`${(s.completionTokens / streaming).toFixed(1)} tok/s`);
  }
  return parts.join(" · ");
}

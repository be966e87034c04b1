// What happens to server-rendered Markdown once it is in the page: code highlighting and copy
// buttons (no inline script or style: CSP), and the one-line stats under a reply.
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import csharp from "highlight.js/lib/languages/csharp";
import css from "highlight.js/lib/languages/css";
import go from "highlight.js/lib/languages/go";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";

const languages = { bash, csharp, css, go, java, javascript, json, python, rust, sql, typescript, xml, yaml };
for (const [name, language] of Object.entries(languages)) hljs.registerLanguage(name, language);
hljs.registerAliases(["sh", "shell", "zsh"], { languageName: "bash" });
hljs.registerAliases(["cs", "c#"], { languageName: "csharp" });
hljs.registerAliases(["js", "jsx"], { languageName: "javascript" });
hljs.registerAliases(["ts", "tsx"], { languageName: "typescript" });
hljs.registerAliases(["html", "svg"], { languageName: "xml" });
hljs.registerAliases(["py"], { languageName: "python" });
hljs.registerAliases(["yml"], { languageName: "yaml" });

/** Highlights code blocks and adds copy buttons inside a freshly rendered message body. */
export function enhance(body: HTMLElement): void {
  for (const code of body.querySelectorAll<HTMLElement>("pre > code")) {
    const language = [...code.classList].find((c) => c.startsWith("language-"))?.slice(9);
    if (language && hljs.getLanguage(language)) {
      code.classList.add("hljs");
      code.innerHTML = hljs.highlight(code.textContent ?? "", { language, ignoreIllegals: true }).value;
    }
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
    copy.textContent = "Copy";
    copy.setAttribute("aria-label", `Copy ${language ?? ""} code`.replace("  ", " "));
    bar.append(label, copy);
    pre.replaceWith(wrapper);
    wrapper.append(bar, pre);
  }
}

export async function copyText(text: string, button: HTMLElement): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    const before = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => (button.textContent = before), 1500);
  } catch {
    button.textContent = "Copy failed";
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

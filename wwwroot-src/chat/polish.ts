// Small pieces of a message's look that both the server-rendered page and live messages use: the typing
// indicator before a reply's first token, the plain-text view of the not-yet-rendered tail, and the collapse
// of a long pasted question.

/** "Writing…" until the first token: a status (announced politely), its dots decorative. */
export function typingIndicator(): HTMLElement {
  const el = document.createElement("p");
  el.className = "msg-typing";
  el.setAttribute("role", "status");
  el.dataset.testid = "typing";
  el.innerHTML = '<span class="typing-dots" aria-hidden="true"><span></span><span></span><span></span></span> Writing…';
  return el;
}

/**
 * The tail of a streaming reply that no snapshot covers yet, as plain text: Markdown syntax (heading hashes, table
 * pipes and delimiter rows, bold/code markers) is left out, so it never flashes raw before the next snapshot
 * renders it. atLineStart: whether the tail starts a line (else its first line is the middle of one).
 */
export function plainTail(tail: string, atLineStart: boolean): string {
  return tail.split("\n").map((line, i) => {
    let text = line;
    if (i > 0 || atLineStart) {
      text = text.replace(/^ {0,3}#{1,6}(\s+|$)/, "");
      if (/^\s*\|/.test(text)) text = /^[\s|:-]*$/.test(text) ? "" : text.replace(/^\s*\|/, "").replace(/\|\s*$/, "").replace(/\s*\|\s*/g, "   ");
    }
    return text.replace(/\*\*|__|`/g, "");
  }).join("\n");
}

const LongLines = 20;
const LongChars = 1500;

/** A long question (pasted logs, code) shows its first lines and a Show more / Show less toggle. */
export function collapseIfLong(message: HTMLElement): void {
  const body = message.querySelector<HTMLElement>(".msg-body");
  if (!body || message.querySelector(".msg-more")) return;
  const text = body.textContent ?? "";
  if (text.split("\n").length <= LongLines && text.length <= LongChars) return;
  body.id ||= `msg-body-${message.dataset.messageId ?? Math.random().toString(36).slice(2)}`;
  message.classList.add("msg-collapsed");
  const toggle = document.createElement("button");
  toggle.type = "button";
  toggle.className = "btn btn-sm btn-link msg-more";
  toggle.dataset.testid = "show-more";
  toggle.setAttribute("aria-controls", body.id);
  toggle.setAttribute("aria-expanded", "false");
  toggle.textContent = "Show more";
  toggle.addEventListener("click", () => {
    const collapsed = message.classList.toggle("msg-collapsed");
    toggle.setAttribute("aria-expanded", `${!collapsed}`);
    toggle.textContent = collapsed ? "Show more" : "Show less";
  });
  body.after(toggle);
}

// Maths in a rendered reply: the server marks it out (MarkdownMaths: span.math / div.math holding escaped TeX);
// KaTeX (dist/maths.js, loaded the first time maths shows) typesets it. enhance() calls this after every snapshot,
// completion and page load, so a reply looks the same while streaming and after a reload.
type Typesetter = { typeset(el: HTMLElement): void };
let typesetter: Promise<Typesetter> | null = null;

function loadTypesetter(): Promise<Typesetter> {
  const url = document.getElementById("chat-app")?.dataset.maths ?? "/dist/maths.js";
  typesetter ??= import(url) as Promise<Typesetter>;
  return typesetter;
}

export function typesetMaths(body: HTMLElement): void {
  const pending = [...body.querySelectorAll<HTMLElement>(".math:not([data-tex])")];
  if (pending.length === 0) return;
  void loadTypesetter().then((t) => {
    // A snapshot may have replaced the body meanwhile: only elements still in the page are typeset.
    for (const el of pending) if (el.isConnected && !el.hasAttribute("data-tex")) t.typeset(el);
  }, () => { /* stays TeX source, still readable */ });
}

// KaTeX as a module of its own (dist/maths.js): the chat page imports it only once a reply shows maths.
import katex from "katex";

/**
 * Typesets one span.math / div.math from MarkdownMaths in place. The TeX is the element's text (escaped by the
 * server). trust:false refuses \href, \url, \htmlClass and the like, so a javascript: URL in maths is shown, never
 * linked; throwOnError:false shows bad TeX in red instead of failing the reply. strict "warn" keeps LaTeX-only rules
 * from turning a model's unicode (é, →) into errors. katex.render builds DOM nodes (its inline sizes are set
 * through the style property, which CSP allows), never an HTML string.
 */
export function typeset(el: HTMLElement): void {
  const tex = el.textContent ?? "";
  el.setAttribute("data-tex", tex);
  katex.render(tex, el, {
    displayMode: el.classList.contains("math-display"),
    throwOnError: false,
    trust: false,
    strict: "warn",
    output: "htmlAndMathml",
    maxExpand: 1000,
  });
}

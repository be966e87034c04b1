// Compare: one question to two or three models, each reply in its own column; the user keeps one to go on.
import type { Catalog, CatalogModel } from "./catalog";
import { assistantMessage } from "./messages";
import { icon } from "../icons";

export interface CompareResult { conversationId: string; userMessageId: number; assistantMessageIds: number[] }

/** The composer's "Compare with" bar: a toggle and up to two more models (native selects, grouped by provider). */
export class CompareBar {
  private readonly toggle: HTMLButtonElement;
  private readonly bar: HTMLElement;
  private readonly selects: HTMLSelectElement[];

  constructor(root: HTMLElement) {
    this.toggle = root.querySelector("#compare-toggle")!;
    this.bar = root.querySelector("#compare-bar")!;
    this.selects = [...this.bar.querySelectorAll<HTMLSelectElement>("select")];
    this.toggle.addEventListener("click", () => this.setActive(!this.active));
  }

  get active(): boolean {
    return this.toggle.getAttribute("aria-pressed") === "true";
  }

  setActive(active: boolean): void {
    this.toggle.setAttribute("aria-pressed", `${active}`);
    this.bar.classList.toggle("d-none", !active);
    if (active) this.selects[0]?.focus();
  }

  /** The models to ask besides the selected one, in column order (empty choices and repeats left out). */
  others(primary: CatalogModel): number[] {
    const ids = this.selects.map((s) => Number(s.value)).filter((id) => id > 0 && id !== primary.id);
    return [...new Set(ids)];
  }

  fill(catalog: Catalog): void {
    for (const [i, select] of this.selects.entries()) {
      const kept = select.value;
      select.replaceChildren(new Option(i === 0 ? "Choose a model" : "None", ""));
      for (const group of catalog.groups) {
        const models = group.models.filter((m) => !m.locked);
        if (models.length === 0) continue;
        const optgroup = document.createElement("optgroup");
        optgroup.label = group.name;
        // The full id beside the name: two models with the same display name stay distinguishable.
        for (const m of models) optgroup.append(new Option(m.name === m.modelId ? m.name : `${m.name} (${m.modelId})`, `${m.id}`));
        select.append(optgroup);
      }
      select.value = kept;
    }
  }
}

/** The columns of a compare as it starts: one streaming reply per model, each with its Keep button. */
export function compareBlock(modelNames: string[]): { block: HTMLElement; answers: HTMLElement[] } {
  const block = document.createElement("div");
  block.className = "compare";
  block.dataset.testid = "compare";
  block.setAttribute("role", "group");
  block.setAttribute("aria-label", "Answers to compare");
  const answers = modelNames.map((name) => {
    const column = document.createElement("div");
    column.className = "compare-column";
    column.dataset.testid = "compare-column";
    const answer = assistantMessage(name);
    const keep = document.createElement("button");
    keep.type = "button";
    keep.className = "btn btn-sm btn-outline-primary compare-keep";
    keep.dataset.action = "keep";
    keep.dataset.testid = "keep-answer";
    keep.innerHTML = `${icon("check2")}<span>Keep this answer</span>`;
    column.append(answer, keep);
    block.append(column);
    return answer;
  });
  return { block, answers };
}

/** After a Keep: the chosen reply takes the compare's place in the conversation; the others stay as its versions. */
export function keepColumn(answer: HTMLElement): void {
  const block = answer.closest<HTMLElement>(".compare");
  if (!block) return;
  block.replaceWith(answer);
}

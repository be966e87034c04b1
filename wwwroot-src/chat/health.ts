// Live model health in the selector: a status mark per model (icon + word, never colour alone) whose word is part of
// the option's accessible name ("GPT-4o gpt-4o failing"), and the figures as the option's description, shown on
// hover and while the option is active (keyboard). Fed by /api/catalog/health, asked for each time the selector opens.
import { icon } from "../icons";

export type HealthState = "healthy" | "degraded" | "failing" | "quiet";

export interface ModelHealth { s: HealthState; label: string; figures: string }

const Glyphs: Record<HealthState, string | null> = {
  healthy: "check-circle-fill", degraded: "exclamation-triangle-fill", failing: "x-octagon-fill", quiet: null,
};

/** Health per catalogue model id; a model left out had no traffic in the last day. */
export async function loadHealth(): Promise<Map<number, ModelHealth>> {
  const response = await fetch("/api/catalog/health", { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`Model health could not be loaded (${response.status}).`);
  const wire = (await response.json()) as { models: Record<string, ModelHealth> };
  return new Map(Object.entries(wire.models).map(([id, h]) => [Number(id), h]));
}

/** The mark and the figures of one option, created empty; <see cref="paintHealth"/> fills them. */
export function healthParts(optionId: string): { mark: HTMLElement; figures: HTMLElement } {
  const mark = document.createElement("span");
  mark.className = "model-health";
  const figures = document.createElement("span");
  figures.className = "model-health-figures";
  figures.id = `${optionId}-health`;
  // Out of the name (it is the description, through aria-describedby, which reads hidden nodes).
  figures.setAttribute("aria-hidden", "true");
  return { mark, figures };
}

export function paintHealth(option: HTMLElement, health: ModelHealth | undefined): void {
  const mark = option.querySelector<HTMLElement>(".model-health");
  const figures = option.querySelector<HTMLElement>(".model-health-figures");
  if (!mark || !figures) return;
  const state = health?.s ?? "quiet";
  mark.dataset.health = state;
  const glyph = Glyphs[state];
  mark.innerHTML = glyph ? `${icon(glyph)} ` : "";
  const label = document.createElement("span");
  label.className = state === "quiet" ? "model-health-label visually-hidden" : "model-health-label";
  label.textContent = health?.label ?? "no recent traffic";
  mark.append(label);
  figures.textContent = health ? health.figures : "No requests in the last day.";
  option.setAttribute("aria-describedby", figures.id);
}

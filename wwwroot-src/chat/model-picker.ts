// The grouped model selector: a combobox (search input) controlling a listbox of provider groups.
// Renders lazily in chunks, so 5,000 models cost a few hundred DOM nodes until the user scrolls.
import { Caps, type Catalog, type CatalogModel, formatContext } from "./catalog";
import { pinnedModels, recentModels, rememberModel, togglePinned } from "./preferences";
import { icon } from "../icons";
import { healthParts, loadHealth, type ModelHealth, paintHealth } from "./health";

/** A saved model + settings, listed first; picking one hands it to the page (chat/instructions.ts). */
export interface PickerPreset { id: number; name: string; modelId: number | null }

type Row =
  | { kind: "group"; key: string; label: string }
  | { kind: "model"; key: string; model: CatalogModel; preset?: PickerPreset };

const Chunk = 150;

export class ModelPicker {
  selected: CatalogModel | null = null;
  private rows: Row[] = [];
  private rendered = 0;
  private active = -1; // index into rows (a model row), -1 when none
  private currentGroup: HTMLElement | null = null;
  private readonly button: HTMLButtonElement;
  private readonly popup: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly list: HTMLElement;
  private readonly label: HTMLElement;
  private readonly count: HTMLElement;
  private presets: PickerPreset[] = [];
  private onPreset: (preset: PickerPreset) => void = () => {};
  private health = new Map<number, ModelHealth>();

  constructor(root: HTMLElement, private catalog: Catalog, private readonly onChoose: (model: CatalogModel) => void) {
    this.button = root.querySelector("#model-button")!;
    this.popup = root.querySelector("#model-popup")!;
    this.input = root.querySelector("#model-search")!;
    this.list = root.querySelector("#model-list")!;
    this.label = root.querySelector("#model-label")!;
    this.count = root.querySelector("#model-count")!;

    this.button.addEventListener("click", () => (this.isOpen ? this.close(true) : this.open()));
    this.button.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") { e.preventDefault(); this.open(); }
    });
    this.input.addEventListener("input", () => this.filter());
    this.input.addEventListener("keydown", (e) => this.onKey(e));
    this.list.addEventListener("scroll", () => {
      if (this.list.scrollTop + this.list.clientHeight > this.list.scrollHeight - 200) this.renderMore();
    });
    this.list.addEventListener("mousedown", (e) => e.preventDefault()); // keep focus in the input
    this.list.addEventListener("click", (e) => this.onClick(e));
    document.addEventListener("mousedown", (e) => {
      if (this.isOpen && !root.contains(e.target as Node)) this.close(false);
    });
  }

  get isOpen(): boolean { return !this.popup.hidden; }

  /** The "Presets" group at the top of the list; picking one calls <paramref name="onPreset"/> instead of choosing a model. */
  setPresets(presets: PickerPreset[], onPreset: (preset: PickerPreset) => void): void {
    this.presets = presets;
    this.onPreset = onPreset;
    if (this.isOpen) this.filter();
  }

  /** Swaps in a newer catalogue (the account's tier changed): same choice if it still exists, new locks. */
  replaceCatalog(catalog: Catalog): void {
    this.catalog = catalog;
    this.show(this.selected ? catalog.byId.get(this.selected.id) ?? null : null);
    if (this.isOpen) this.filter();
  }

  /** Shows a model as chosen without telling the conversation (page load). */
  show(model: CatalogModel | null): void {
    this.selected = model;
    this.label.textContent = model ? model.name : "Choose a model";
    this.button.title = model ? `${model.name} (${model.modelId}) · ${model.group.name}` : "";
  }

  open(): void {
    this.popup.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.input.setAttribute("aria-expanded", "true");
    this.input.value = "";
    this.filter();
    this.input.focus();
    void this.refreshHealth();
  }

  /** Fresh health for the open list, painted into the rendered options in place (the active one stays active). */
  private async refreshHealth(): Promise<void> {
    try {
      this.health = await loadHealth();
    } catch {
      return; // the selector works without it
    }
    for (const option of this.list.querySelectorAll<HTMLElement>(".model-option[data-model-id]"))
      paintHealth(option, this.health.get(Number(option.dataset.modelId)));
  }

  close(focusButton: boolean): void {
    this.popup.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    if (focusButton) this.button.focus();
  }

  private filter(): void {
    const terms = this.input.value.toLowerCase().split(/\s+/).filter(Boolean);
    const rows: Row[] = [];
    let matches = 0;
    const presets: { p: PickerPreset; m: CatalogModel }[] = [];
    for (const p of this.presets) {
      const m = p.modelId === null ? undefined : this.catalog.byId.get(p.modelId);
      if (m && terms.every((t) => `${p.name.toLowerCase()} ${m.haystack}`.includes(t))) presets.push({ p, m });
    }
    if (presets.length > 0) {
      rows.push({ kind: "group", key: "presets", label: "Presets" });
      for (const { p, m } of presets) rows.push({ kind: "model", key: `preset-${p.id}`, model: m, preset: p });
    }
    if (terms.length === 0) {
      const section = (key: string, title: string, ids: number[]) => {
        const models = ids.map((id) => this.catalog.byId.get(id)).filter((m): m is CatalogModel => !!m);
        if (models.length === 0) return;
        rows.push({ kind: "group", key, label: title });
        for (const m of models) rows.push({ kind: "model", key: `${key}-${m.id}`, model: m });
      };
      const pinned = pinnedModels();
      section("pinned", "Pinned", pinned);
      section("recent", "Recently used", recentModels().filter((id) => !pinned.includes(id)));
    }
    for (const group of this.catalog.groups) {
      const models = terms.length === 0 ? group.models : group.models.filter((m) => terms.every((t) => m.haystack.includes(t)));
      if (models.length === 0) continue;
      matches += models.length;
      const shown = terms.length === 0 ? `${group.count}` : `${models.length} of ${group.count}`;
      rows.push({ kind: "group", key: `g${group.providerId}`, label: `${group.name} (${shown})` });
      for (const m of models) rows.push({ kind: "model", key: `g${group.providerId}-${m.id}`, model: m });
    }
    this.rows = rows;
    this.rendered = 0;
    this.currentGroup = null;
    this.list.replaceChildren();
    this.list.scrollTop = 0;
    this.renderMore();
    const total = this.catalog.byId.size;
    this.count.textContent = total === 0
      ? "No models are available yet. An administrator has to add a provider key."
      : terms.length === 0 ? `${total} models` : `${matches} of ${total} models match`;
    const selectedIndex = this.selected ? this.rows.findIndex((r) => r.kind === "model" && !r.preset && r.model.id === this.selected!.id) : -1;
    this.setActive(terms.length === 0 && selectedIndex >= 0 && selectedIndex < this.rendered ? selectedIndex : this.step(-1, 1));
  }

  private renderMore(): void {
    const end = Math.min(this.rows.length, this.rendered + Chunk);
    const fragment = document.createDocumentFragment();
    for (let i = this.rendered; i < end; i++) {
      const row = this.rows[i];
      if (row.kind === "group") {
        const group = document.createElement("div");
        group.setAttribute("role", "group");
        group.className = "model-group";
        const heading = document.createElement("div");
        heading.className = "model-group-label";
        heading.id = `mg-${row.key}`;
        heading.textContent = row.label;
        group.setAttribute("aria-labelledby", heading.id);
        group.append(heading);
        fragment.append(group);
        this.currentGroup = group;
      } else {
        this.currentGroup!.append(row.preset ? this.presetOption(i, row.key, row.model, row.preset) : this.option(i, row.key, row.model));
      }
    }
    this.list.append(fragment);
    this.rendered = end;
  }

  private option(index: number, key: string, m: CatalogModel): HTMLElement {
    const el = document.createElement("div");
    el.id = `mo-${key}`;
    el.className = "model-option";
    el.setAttribute("role", "option");
    el.dataset.modelId = `${m.id}`;
    el.dataset.index = `${index}`;
    el.setAttribute("aria-selected", this.selected?.id === m.id ? "true" : "false");
    if (m.locked) el.setAttribute("aria-disabled", "true");

    const main = document.createElement("span");
    main.className = "model-option-main";
    const name = document.createElement("span");
    name.className = "model-option-name";
    name.textContent = m.name;
    const id = document.createElement("span");
    id.className = "model-option-id";
    id.textContent = m.modelId;
    const { mark, figures } = healthParts(el.id);
    main.append(name, " ", id, " ", mark, figures); // the spaces keep the accessible name readable: "GPT-4o gpt-4o failing vision 128k"

    const badges = document.createElement("span");
    badges.className = "model-badges";
    const badge = (text: string, cls: string, title?: string, glyph?: string) => {
      const b = document.createElement("span");
      b.className = `model-badge ${cls}`;
      b.textContent = text;
      if (glyph) b.insertAdjacentHTML("afterbegin", `${icon(glyph)} `);
      if (title) b.title = title;
      badges.append(" ", b);
    };
    if (m.caps & Caps.Vision) badge("vision", "badge-vision");
    if (m.caps & Caps.Tools) badge("tools", "badge-tools");
    if (m.caps & Caps.Reasoning) badge("reasoning", "badge-reasoning");
    const ctx = formatContext(m.context);
    if (ctx) badge(ctx, "badge-context", `${m.context} tokens of context`);
    if (m.locked) badge(m.tier, "badge-locked", `Needs the ${m.tier} tier`, "lock-fill");
    const star = document.createElement("span");
    star.className = "model-pin";
    star.dataset.pin = "";
    star.setAttribute("aria-hidden", "true");
    star.title = "Pin (Shift+Enter)";
    star.innerHTML = icon(pinnedModels().includes(m.id) ? "star-fill" : "star");
    el.append(main, " ", badges, star);
    paintHealth(el, this.health.get(m.id));
    return el;
  }

  private presetOption(index: number, key: string, m: CatalogModel, preset: PickerPreset): HTMLElement {
    const el = document.createElement("div");
    el.id = `mo-${key}`;
    el.className = "model-option model-option-preset";
    el.setAttribute("role", "option");
    el.setAttribute("aria-selected", "false");
    el.dataset.presetId = `${preset.id}`;
    el.dataset.index = `${index}`;
    if (m.locked) el.setAttribute("aria-disabled", "true");
    const main = document.createElement("span");
    main.className = "model-option-main";
    const name = document.createElement("span");
    name.className = "model-option-name";
    name.textContent = preset.name;
    const model = document.createElement("span");
    model.className = "model-option-id";
    model.textContent = m.name;
    main.append(name, " ", model);
    el.append(main);
    return el;
  }

  private onClick(e: MouseEvent): void {
    const target = e.target as HTMLElement;
    const option = target.closest<HTMLElement>("[role=option]");
    if (!option) return;
    const index = Number(option.dataset.index);
    this.setActive(index);
    if (target.closest("[data-pin]")) this.pin(index);
    else this.choose(index);
  }

  private onKey(e: KeyboardEvent): void {
    switch (e.key) {
      case "ArrowDown": e.preventDefault(); this.setActive(this.step(this.active, 1)); break;
      case "ArrowUp": e.preventDefault(); this.setActive(this.step(this.active, -1)); break;
      case "PageDown": e.preventDefault(); this.setActive(this.step(this.active, 10)); break;
      case "PageUp": e.preventDefault(); this.setActive(this.step(this.active, -10)); break;
      case "Enter":
        e.preventDefault();
        if (this.active < 0) break;
        if (e.shiftKey) this.pin(this.active);
        else this.choose(this.active);
        break;
      case "Escape": e.preventDefault(); this.close(true); break;
      case "Tab": this.close(false); break;
    }
  }

  /** Next model row from <paramref name="from"/> going <paramref name="delta"/> model rows (clamped). */
  private step(from: number, delta: number): number {
    let last = from;
    const direction = Math.sign(delta);
    let remaining = Math.abs(delta);
    for (let i = from + direction; i >= 0 && i < this.rows.length && remaining > 0; i += direction) {
      if (this.rows[i].kind === "model") { last = i; remaining--; }
    }
    return last;
  }

  private setActive(index: number): void {
    this.list.querySelector(".model-option.active")?.classList.remove("active");
    this.active = index;
    if (index < 0) { this.input.removeAttribute("aria-activedescendant"); return; }
    while (index >= this.rendered && this.rendered < this.rows.length) this.renderMore();
    const row = this.rows[index];
    const el = document.getElementById(`mo-${row.key}`);
    if (!el) return;
    el.classList.add("active");
    this.input.setAttribute("aria-activedescendant", el.id);
    el.scrollIntoView({ block: "nearest" });
  }

  private choose(index: number): void {
    const row = this.rows[index];
    if (row?.kind !== "model") return;
    if (row.model.locked) {
      this.count.textContent = `${row.model.name} needs the ${row.model.tier} tier; you are on ${this.catalog.tier}.`;
      return;
    }
    if (row.preset) {
      this.show(row.model);
      this.close(false);
      this.onPreset(row.preset);
      return;
    }
    rememberModel(row.model.id);
    this.show(row.model);
    this.close(false);
    this.onChoose(row.model);
  }

  private pin(index: number): void {
    const row = this.rows[index];
    if (row?.kind !== "model" || row.preset) return;
    const pinned = togglePinned(row.model.id);
    this.count.textContent = `${row.model.name} ${pinned ? "pinned" : "unpinned"}.`;
    for (const star of this.list.querySelectorAll<HTMLElement>(`[data-model-id="${row.model.id}"] [data-pin]`))
      star.innerHTML = icon(pinned ? "star-fill" : "star");
  }
}

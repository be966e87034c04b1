// Instructions and parameters: the "Chat settings" dialog (system prompt, temperature, top P, max output, reasoning
// effort), presets (saved, renamed, deleted there; picked from the model selector) and the composer's context gauge.
// The server checks everything again; the checks here only spare a round trip and keep a new chat's settings sendable.
import type { HubConnection } from "@microsoft/signalr";
import { Caps, type CatalogModel, formatContext } from "./catalog";
import type { ModelPicker } from "./model-picker";

export interface ChatSettings {
  systemPrompt: string | null;
  temperature: number | null;
  topP: number | null;
  maxOutputTokens: number | null;
  reasoningEffort: string | null;
}
export interface Preset { id: number; name: string; modelId: number | null; settings: ChatSettings }
interface SettingsView { settings: ChatSettings; hasCustomInstructions: boolean }
interface ContextUsage { tokens: number; window: number | null; reservedOutput: number }

/** What the chat page lends this module. */
export interface InstructionsHost {
  readonly hub: HubConnection;
  conversationId(): string;
  model(): CatalogModel | null;
  modelById(id: number): CatalogModel | undefined;
  errorText(error: unknown): string;
  announce(text: string): void;
}

const none: ChatSettings = { systemPrompt: null, temperature: null, topP: null, maxOutputTokens: null, reasoningEffort: null };
const SystemPromptMaxChars = 20_000;

/** Why the settings cannot be used with the model (the server's messages), or null. */
function problem(s: ChatSettings, model: CatalogModel): string | null {
  if (s.systemPrompt && s.systemPrompt.length > SystemPromptMaxChars)
    return `The system prompt is ${s.systemPrompt.length.toLocaleString("en-US")} characters long; the limit is ${SystemPromptMaxChars.toLocaleString("en-US")}.`;
  if (s.temperature !== null && (Number.isNaN(s.temperature) || s.temperature < 0 || s.temperature > 2)) return "Temperature must be between 0 and 2.";
  if (s.topP !== null && (Number.isNaN(s.topP) || s.topP < 0 || s.topP > 1)) return "Top P must be between 0 and 1.";
  if (s.maxOutputTokens !== null) {
    if (!Number.isInteger(s.maxOutputTokens) || s.maxOutputTokens < 1) return "Max output tokens must be a whole number, at least 1.";
    if (model.maxOutput && s.maxOutputTokens > model.maxOutput)
      return `${model.name} writes at most ${model.maxOutput.toLocaleString("en-US")} tokens per reply.`;
  }
  return null;
}

export class ChatInstructions {
  /** A new chat's settings until its first question takes them to the server. */
  private pending: ChatSettings = none;
  private presets: Preset[] = [];
  private picker: ModelPicker | null = null;
  private readonly dialog: HTMLDialogElement;
  private readonly form: HTMLFormElement;
  private readonly error: HTMLElement;
  private readonly system: HTMLTextAreaElement;
  private readonly temperature: HTMLInputElement;
  private readonly topP: HTMLInputElement;
  private readonly maxOutput: HTMLInputElement;
  private readonly effort: HTMLSelectElement;
  private readonly gauge: HTMLElement;
  private gaugeRequest = 0;

  constructor(private readonly root: HTMLElement, private readonly host: InstructionsHost) {
    this.dialog = document.querySelector("#chat-settings")!;
    this.form = this.dialog.querySelector("#chat-settings-form")!;
    this.error = this.dialog.querySelector("#settings-error")!;
    this.system = this.dialog.querySelector("#settings-system")!;
    this.temperature = this.dialog.querySelector("#settings-temperature")!;
    this.topP = this.dialog.querySelector("#settings-top-p")!;
    this.maxOutput = this.dialog.querySelector("#settings-max-output")!;
    this.effort = this.dialog.querySelector("#settings-effort")!;
    this.gauge = root.querySelector("#context-gauge")!;

    root.querySelector("#settings-button")!.addEventListener("click", () => void this.open());
    for (const close of this.dialog.querySelectorAll("[data-settings-close]")) close.addEventListener("click", () => this.dialog.close());
    this.form.addEventListener("submit", (e) => { e.preventDefault(); void this.save(); });
    this.dialog.querySelector("#preset-create")!.addEventListener("click", () => void this.createPreset());
    this.dialog.querySelector("#preset-name")!.addEventListener("keydown", (e) => {
      if ((e as KeyboardEvent).key === "Enter") { e.preventDefault(); void this.createPreset(); }
    });
    this.dialog.querySelector("#preset-list")!.addEventListener("click", (e) => this.onPresetAction(e));
  }

  /** The picker is ready (catalogue loaded): presets join it, the gauge shows the selected model. */
  async attach(picker: ModelPicker): Promise<void> {
    this.picker = picker;
    try {
      this.presets = await this.host.hub.invoke<Preset[]>("ListPresets");
    } catch {
      this.presets = []; // the selector works without them
    }
    this.presetsChanged();
    await this.refreshGauge();
  }

  /** Sent with a new chat's first question; what the model cannot take is left out. */
  forNewChat(model: CatalogModel): ChatSettings | null {
    if (this.host.conversationId() || this.pending === none) return null;
    return { ...this.pending, reasoningEffort: model.caps & Caps.Reasoning ? this.pending.reasoningEffort : null };
  }

  /** The first question went out: the settings live on the server now. */
  started(): void { this.pending = none; }

  /** Back to a new chat. */
  reset(): void {
    this.pending = none;
    void this.refreshGauge();
  }

  async modelChanged(): Promise<void> {
    if (this.dialog.open) this.showLimits();
    await this.refreshGauge();
  }

  /** How full the conversation is for the selected model; hidden when the model's window is unknown. */
  async refreshGauge(): Promise<void> {
    const model = this.host.model();
    const request = ++this.gaugeRequest;
    if (!model?.context) { this.gauge.hidden = true; return; }
    let usage: ContextUsage;
    try {
      usage = await this.host.hub.invoke<ContextUsage>("GetContextUsage", this.host.conversationId() || null, model.id);
    } catch {
      return; // keeps the last reading
    }
    if (request !== this.gaugeRequest) return; // a newer reading is on its way
    if (!usage.window) { this.gauge.hidden = true; return; }
    const percent = Math.min(100, Math.round((usage.tokens / usage.window) * 100));
    const text = `~${formatContext(usage.tokens) ?? "0"} of ${formatContext(usage.window)} tokens`;
    this.gauge.hidden = false;
    this.gauge.setAttribute("aria-valuenow", `${percent}`);
    this.gauge.setAttribute("aria-valuetext", `About ${usage.tokens.toLocaleString("en-US")} of ${usage.window.toLocaleString("en-US")} tokens (${percent}%) for ${model.name}`);
    this.gauge.title = `${model.name}: ${usage.tokens.toLocaleString("en-US")} of ${usage.window.toLocaleString("en-US")} tokens, ${usage.reservedOutput.toLocaleString("en-US")} kept for the reply`;
    this.gauge.classList.toggle("context-gauge-full", (usage.tokens + usage.reservedOutput) / usage.window > 0.9);
    this.root.querySelector<HTMLElement>("#context-gauge-fill")!.style.width = `${percent}%`;
    this.root.querySelector("#context-gauge-text")!.textContent = text;
  }

  private async open(): Promise<void> {
    this.hideError();
    let view: SettingsView = { settings: this.pending, hasCustomInstructions: false };
    try {
      const loaded = await this.host.hub.invoke<SettingsView>("GetSettings", this.host.conversationId() || null);
      view = this.host.conversationId() ? loaded : { ...loaded, settings: this.pending };
    } catch (e) {
      this.showError(this.host.errorText(e));
    }
    this.fill(view.settings);
    this.dialog.querySelector("#settings-instructions-state")!.textContent = view.hasCustomInstructions
      ? "Left empty, your custom instructions apply." : "You have no custom instructions.";
    this.showLimits();
    this.renderPresets();
    this.dialog.showModal();
    this.system.focus();
  }

  private fill(s: ChatSettings): void {
    this.system.value = s.systemPrompt ?? "";
    this.temperature.value = s.temperature === null ? "" : `${s.temperature}`;
    this.topP.value = s.topP === null ? "" : `${s.topP}`;
    this.maxOutput.value = s.maxOutputTokens === null ? "" : `${s.maxOutputTokens}`;
    this.effort.value = s.reasoningEffort ?? "";
  }

  /** Only what the selected model takes is offered, with its ceiling. */
  private showLimits(): void {
    const model = this.host.model();
    this.dialog.querySelector("#settings-model")!.textContent = model ? `For replies from ${model.name}.` : "Choose a model first.";
    this.dialog.querySelector<HTMLElement>("#settings-effort-field")!.hidden = !model || !(model.caps & Caps.Reasoning);
    if (model?.maxOutput) this.maxOutput.max = `${model.maxOutput}`;
    else this.maxOutput.removeAttribute("max");
    this.dialog.querySelector("#settings-max-output-help")!.textContent = model?.maxOutput
      ? `Up to ${model.maxOutput.toLocaleString("en-US")} for this model.` : "Empty: the model's default.";
  }

  private read(model: CatalogModel): ChatSettings {
    const number = (input: HTMLInputElement) => (input.validity.badInput ? NaN : input.value.trim() === "" ? null : Number(input.value));
    return {
      systemPrompt: this.system.value.trim() || null,
      temperature: number(this.temperature),
      topP: number(this.topP),
      maxOutputTokens: number(this.maxOutput),
      reasoningEffort: model.caps & Caps.Reasoning ? this.effort.value || null : null,
    };
  }

  private async save(): Promise<void> {
    const model = this.host.model();
    if (!model) { this.showError("Choose a model first."); return; }
    const settings = this.read(model);
    const wrong = problem(settings, model);
    if (wrong) { this.showError(wrong); return; }
    const conversationId = this.host.conversationId();
    try {
      if (conversationId) await this.host.hub.invoke("SaveSettings", conversationId, model.id, settings);
      else this.pending = settings;
    } catch (e) {
      this.showError(this.host.errorText(e));
      return;
    }
    this.dialog.close();
    this.host.announce(conversationId ? "Chat settings saved." : "Chat settings will apply to this new chat.");
    await this.refreshGauge();
  }

  private async createPreset(): Promise<void> {
    const model = this.host.model();
    const nameInput = this.dialog.querySelector<HTMLInputElement>("#preset-name")!;
    if (!model) { this.showError("Choose a model first."); return; }
    const settings = this.read(model);
    const wrong = problem(settings, model);
    if (wrong) { this.showError(wrong); return; }
    try {
      const preset = await this.host.hub.invoke<Preset>("CreatePreset", nameInput.value, model.id, settings);
      this.presets = [...this.presets, preset].sort((a, b) => a.name.localeCompare(b.name));
    } catch (e) {
      this.showError(this.host.errorText(e));
      return;
    }
    this.hideError();
    nameInput.value = "";
    this.presetsChanged();
    this.host.announce("Preset saved.");
  }

  /** A preset picked in the model selector (which already shows its model). */
  private async apply(picked: { id: number }): Promise<void> {
    const preset = this.presets.find((p) => p.id === picked.id);
    const model = preset?.modelId ? this.host.modelById(preset.modelId) : undefined;
    if (!preset || !model) return;
    const conversationId = this.host.conversationId();
    try {
      if (conversationId) await this.host.hub.invoke("ApplyPreset", conversationId, preset.id);
      else this.pending = { ...preset.settings };
    } catch (e) {
      this.host.announce(this.host.errorText(e));
      return;
    }
    this.host.announce(`Preset ${preset.name} applied: ${model.name}.`);
    await this.refreshGauge();
  }

  private onPresetAction(e: Event): void {
    const button = (e.target as HTMLElement).closest<HTMLButtonElement>("button[data-preset-action]");
    const item = button?.closest<HTMLElement>("[data-preset-id]");
    if (!button || !item) return;
    const id = Number(item.dataset.presetId);
    if (button.dataset.presetAction === "delete") void this.deletePreset(id);
    else this.startRename(item, id);
  }

  private startRename(item: HTMLElement, id: number): void {
    const preset = this.presets.find((p) => p.id === id);
    if (!preset || item.querySelector("input")) return;
    const input = document.createElement("input");
    input.className = "form-control form-control-sm";
    input.value = preset.name;
    input.maxLength = 80;
    input.setAttribute("aria-label", `New name for preset ${preset.name}`);
    input.dataset.testid = "preset-rename-input";
    item.querySelector(".preset-name")!.replaceWith(input);
    input.focus();
    input.select();
    let done = false;
    const finish = async (keep: boolean) => {
      if (done) return;
      done = true;
      if (keep && input.value.trim() !== preset.name) {
        try {
          const renamed = await this.host.hub.invoke<Preset>("RenamePreset", id, input.value);
          this.presets = this.presets.map((p) => (p.id === id ? renamed : p)).sort((a, b) => a.name.localeCompare(b.name));
          this.hideError();
          this.host.announce(`Preset renamed to ${renamed.name}.`);
        } catch (err) {
          this.showError(this.host.errorText(err));
        }
      }
      this.presetsChanged();
    };
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") { ev.preventDefault(); void finish(true); }
      if (ev.key === "Escape") { ev.preventDefault(); ev.stopPropagation(); void finish(false); }
    });
    input.addEventListener("blur", () => void finish(true));
  }

  private async deletePreset(id: number): Promise<void> {
    const preset = this.presets.find((p) => p.id === id);
    try {
      await this.host.hub.invoke("DeletePreset", id);
    } catch (e) {
      this.showError(this.host.errorText(e));
      return;
    }
    this.presets = this.presets.filter((p) => p.id !== id);
    this.presetsChanged();
    this.host.announce(`Preset ${preset?.name ?? ""} deleted.`);
  }

  private presetsChanged(): void {
    this.picker?.setPresets(this.presets, (p) => void this.apply(p));
    this.renderPresets();
  }

  private renderPresets(): void {
    const list = this.dialog.querySelector("#preset-list")!;
    list.replaceChildren(...this.presets.map((p) => {
      const li = document.createElement("li");
      li.className = "preset-item";
      li.dataset.presetId = `${p.id}`;
      li.dataset.testid = "preset-item";
      const name = document.createElement("span");
      name.className = "preset-name";
      name.textContent = p.name;
      const model = document.createElement("span");
      model.className = "preset-model small text-body-secondary";
      model.textContent = (p.modelId && this.host.modelById(p.modelId)?.name) || "model unavailable";
      const rename = this.presetButton("rename", "Rename", p.name);
      const remove = this.presetButton("delete", "Delete", p.name);
      li.append(name, " ", model, " ", rename, remove);
      return li;
    }));
    if (this.presets.length === 0) {
      const empty = document.createElement("li");
      empty.className = "small text-body-secondary";
      empty.textContent = "No presets yet.";
      list.append(empty);
    }
  }

  private presetButton(action: string, label: string, presetName: string): HTMLButtonElement {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-sm btn-link";
    button.dataset.presetAction = action;
    button.textContent = label;
    button.setAttribute("aria-label", `${label} preset ${presetName}`);
    return button;
  }

  private showError(text: string): void {
    this.error.textContent = text;
    this.error.classList.remove("d-none");
  }

  private hideError(): void {
    this.error.classList.add("d-none");
    this.error.textContent = "";
  }
}

// Keyboard shortcuts of the chat screen, and the "?" dialog that lists them. Plain keys (/ and ?) act only when
// the person is not typing in a field, so both can still be typed anywhere; Esc closes what is open first
// (a dialog, the model selector) and only then stops a streaming reply.
import { icon } from "../icons";
import type { ModelPicker } from "./model-picker";

export interface ShortcutTargets {
  picker: () => ModelPicker | null;
  streaming: () => boolean;
  stop: () => void;
  composer: HTMLTextAreaElement;
}

const mac = /Mac|iPhone|iPad/.test(navigator.platform);
const mod = mac ? "Cmd" : "Ctrl";
const list: [keys: string[], what: string][] = [
  [[mod, "K"], "Choose a model"],
  [[mod, "Shift", "O"], "New chat"],
  [["Esc"], "Stop the reply being written (closes a popup first)"],
  [["/"], "Write a message"],
  [["?"], "Show these shortcuts"],
];

function typingIn(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && !["button", "checkbox", "radio", "submit", "reset", "range", "color"].includes(target.type);
}

export function wireShortcuts(root: HTMLElement, targets: ShortcutTargets): void {
  const dialog = shortcutsDialog();
  root.querySelector(".chat-header")?.append(openButton(dialog));

  document.addEventListener("keydown", (e) => {
    if (e.isComposing) return;
    const key = e.key.toLowerCase();
    const command = e.ctrlKey || e.metaKey;
    if (command && !e.altKey && !e.shiftKey && key === "k") {
      const picker = targets.picker();
      if (!picker || dialog.open) return;
      e.preventDefault();
      picker.open();
    } else if (command && !e.altKey && e.shiftKey && (key === "o" || e.code === "KeyO")) {
      e.preventDefault();
      root.querySelector<HTMLAnchorElement>("[data-testid=new-chat]")?.click();
    } else if (e.key === "Escape") {
      if (e.defaultPrevented || dialog.open || document.querySelector("dialog[open]")) return;
      const picker = targets.picker();
      if (picker?.isOpen) { e.preventDefault(); picker.close(true); return; }
      if (root.classList.contains("sidebar-open")) { // the phone's sliding sidebar is a popup too
        e.preventDefault();
        root.querySelector<HTMLButtonElement>("#sidebar-toggle")?.click();
        return;
      }
      if (typingIn(e.target) && e.target !== targets.composer) return; // an edit or rename field's own Esc
      if (targets.streaming()) { e.preventDefault(); targets.stop(); }
    } else if (command || e.altKey || typingIn(e.target) || dialog.open) {
      // not a plain key outside a field: typed as usual
    } else if (e.key === "/") {
      e.preventDefault();
      targets.composer.focus();
    } else if (e.key === "?") {
      e.preventDefault();
      dialog.showModal();
    }
  });
}

function openButton(dialog: HTMLDialogElement): HTMLButtonElement {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn btn-sm btn-icon chat-shortcuts-button";
  button.title = "Keyboard shortcuts (?)";
  button.dataset.testid = "shortcuts-button";
  button.innerHTML = `${icon("keyboard")}<span class="visually-hidden">Keyboard shortcuts</span>`;
  button.addEventListener("click", () => dialog.showModal());
  return button;
}

/** A modal dialog (showModal: the page behind is inert, Esc closes); Tab is kept inside it. */
function shortcutsDialog(): HTMLDialogElement {
  const dialog = document.createElement("dialog");
  dialog.className = "shortcuts-dialog";
  dialog.id = "shortcuts-dialog";
  dialog.dataset.testid = "shortcuts-dialog";
  dialog.setAttribute("aria-labelledby", "shortcuts-title");
  dialog.innerHTML = '<div class="shortcuts-head"><h2 class="h5 mb-0" id="shortcuts-title">Keyboard shortcuts</h2>' +
    `<button type="button" class="btn btn-sm btn-icon" data-close autofocus>${icon("x-lg")}<span class="visually-hidden">Close</span></button></div>` +
    '<dl class="shortcuts-list"></dl>';
  const dl = dialog.querySelector("dl")!;
  for (const [keys, what] of list) {
    const dt = document.createElement("dt");
    keys.forEach((k, i) => {
      if (i > 0) dt.append(" + ");
      const kbd = document.createElement("kbd");
      kbd.textContent = k;
      dt.append(kbd);
    });
    const dd = document.createElement("dd");
    dd.textContent = what;
    dl.append(dt, dd);
  }
  dialog.querySelector("[data-close]")!.addEventListener("click", () => dialog.close());
  dialog.addEventListener("click", (e) => { if (e.target === dialog) dialog.close(); }); // the backdrop
  dialog.addEventListener("keydown", (e) => {
    if (e.key !== "Tab") return;
    const focusable = [...dialog.querySelectorAll<HTMLElement>("button, [href], input, [tabindex]:not([tabindex='-1'])")];
    if (focusable.length === 0) return;
    e.preventDefault();
    const at = focusable.indexOf(document.activeElement as HTMLElement);
    const next = at < 0 ? 0 : (at + (e.shiftKey ? -1 : 1) + focusable.length) % focusable.length;
    focusable[next].focus();
  });
  document.body.append(dialog);
  return dialog;
}

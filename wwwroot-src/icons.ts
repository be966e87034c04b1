// bootstrap-icons glyphs from the sprite the build writes to dist/icons.svg (only the names listed in
// build.mjs ship). The layout puts the sprite's fingerprinted URL on <body data-icons>, as Html.Icon does.

/** Markup of an icon; decorative: the button around it carries the accessible name. */
export function icon(name: string): string {
  const sprite = document.body.dataset.icons ?? "/dist/icons.svg";
  return `<svg class="bi" aria-hidden="true" focusable="false"><use href="${sprite}#${name}"></use></svg>`;
}

// Small DOM helpers the demo page and the support console share (bundled into each by esbuild).

/** An element with properties (or attributes, for names with a dash) and children; text children are never parsed as HTML. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, string> = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key in element && !key.includes('-')) (element as unknown as Record<string, string>)[key] = value;
    else element.setAttribute(key, value);
  }
  element.append(...children);
  return element;
}

/** Only http(s) URLs become links or image sources. */
export function isSafeUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value, location.href).protocol);
  } catch {
    return false;
  }
}

/** The element the page cannot work without. */
export function required<T extends HTMLElement>(selector: string, root: ParentNode = document): T {
  const element = root.querySelector<T>(selector);
  if (element === null) throw new Error(`the page is missing ${selector}`);
  return element;
}

/** Shows a short text in `snackbar` for `ms`, replacing the one before. */
export function snackbar(element: HTMLElement, ms: number): (text: string) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (text) => {
    element.textContent = text;
    element.hidden = false;
    clearTimeout(timer);
    timer = setTimeout(() => (element.hidden = true), ms);
  };
}

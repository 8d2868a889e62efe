import { isHttpUrl } from '../common/http-url';

/** One entry of extension.buttons as the server understood it (SPEC v2 §2). */
export interface MessageButton {
  id: string;
  text: string;
  /** a tracked link */
  url: string | null;
  /** executed by the server (SPEC §7) */
  action: string | null;
}

const MAX_BUTTONS = 3;
const MAX_TEXT = 200;
const MAX_ID = 64;
const MAX_URL = 2048;
const MAX_ACTION = 255;

// template fields are operator-defined: a malformed entry is dropped, the message and the other buttons kept
export function readButtons(extension: Record<string, unknown> | null): MessageButton[] {
  const entries = extension?.buttons;
  if (!Array.isArray(entries)) return [];
  const buttons: MessageButton[] = [];
  entries.slice(0, MAX_BUTTONS).forEach((entry: unknown, index) => {
    const button = toButton(entry, String(index));
    if (button !== null && !buttons.some((other) => other.id === button.id)) buttons.push(button);
  });
  return buttons;
}

function toButton(entry: unknown, defaultId: string): MessageButton | null {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return null;
  const { id, text, url, action } = entry as Record<string, unknown>;
  if (typeof text !== 'string' || text.trim() === '' || text.length > MAX_TEXT) return null;
  if (id !== undefined && (typeof id !== 'string' || id === '' || id.length > MAX_ID)) return null;
  if (url !== undefined && (typeof url !== 'string' || url.length > MAX_URL || !isHttpUrl(url))) return null;
  if (action !== undefined && (typeof action !== 'string' || action === '' || action.length > MAX_ACTION)) return null;
  // a link and an action at once: which the player meant is unknown
  if (url !== undefined && action !== undefined) return null;
  return { id: id ?? defaultId, text, url: url ?? null, action: action ?? null };
}

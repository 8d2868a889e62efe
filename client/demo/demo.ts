// The demo page: an operator's site using the SDK the way an operator would. Everything the
// player sees comes from the SDK; /demo/token stands in for the operator's backend.
import { createInbox, type Inbox, type InboxStatus, type MessageView } from '../src/cim-inbox';

const TOAST_MS = 8_000;
const MAX_TOASTS = 4;
const PAGE_SIZE = 20;

const $ = <T extends HTMLElement>(selector: string): T => {
  const element = document.querySelector<T>(selector);
  if (element === null) throw new Error(`demo page is missing ${selector}`);
  return element;
};

const ui = {
  status: $('[data-testid=status]'),
  statusText: $('.status__text'),
  bell: $<HTMLButtonElement>('[data-testid=bell]'),
  badge: $('[data-testid=badge]'),
  player: $('[data-testid=player]'),
  banner: $('[data-testid=banner]'),
  form: $<HTMLFormElement>('[data-testid=player-form]'),
  playerInput: $<HTMLInputElement>('#player-id'),
  command: $('[data-testid=simulate-command]'),
  drawer: $('[data-testid=drawer]'),
  backdrop: $('[data-testid=backdrop]'),
  list: $<HTMLUListElement>('[data-testid=inbox-list]'),
  listState: $('[data-testid=inbox-state]'),
  unreadOnly: $<HTMLInputElement>('[data-testid=unread-only]'),
  markAllRead: $<HTMLButtonElement>('[data-testid=mark-all-read]'),
  loadMore: $<HTMLButtonElement>('[data-testid=load-more]'),
  toasts: $('[data-testid=toasts]'),
  snackbar: $('[data-testid=snackbar]'),
};

let player = new URLSearchParams(location.search).get('user')?.trim() || 'player-1';
let inbox: Inbox | null = null;
let generation = 0;
let nextCursor: string | null = null;
let listLoaded = false;
const items = new Map<string, { view: MessageView; element: HTMLLIElement }>();

// ---- the operator's backend, played by the demo route ----

async function fetchToken(expiresIn?: number): Promise<string> {
  const response = await fetch('/demo/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ext_user_id: player, ...(expiresIn === undefined ? {} : { expires_in: expiresIn }) }),
  });
  if (!response.ok) throw new Error(`the token route answered HTTP ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}

// ---- wiring the SDK ----

async function start(options: { expired?: boolean } = {}): Promise<void> {
  const mine = ++generation;
  inbox?.close();
  inbox = null;
  resetInbox();
  ui.player.textContent = player;
  ui.playerInput.value = player;
  ui.command.textContent = `npm run simulate -- --user ${shellQuote(player)}`;
  let token: string;
  try {
    // "Expire the session": a token that is already expired, and no way to refresh it
    token = await fetchToken(options.expired ? -60 : undefined);
  } catch {
    renderStatus('offline');
    showBanner('bad', 'Could not get a player token from the server.', 'Try again', () => void start());
    return;
  }
  if (mine !== generation) return;
  const sdk = createInbox({ url: location.origin, token, getToken: options.expired ? undefined : () => fetchToken() });
  inbox = sdk;
  sdk.onStatus((status) => {
    renderStatus(status);
    // (re)load the list whenever the live connection is (re)established: it catches up on changes
    if (status === 'connected') void loadInbox(true);
  });
  sdk.onUnread(renderBadge);
  sdk.onMessage(onMessage);
  sdk.onUpdate(onUpdate);
}

function onMessage(view: MessageView): void {
  if (view.display !== 'inbox') showToast(view);
  if (view.display !== 'popup') {
    ringBell();
    if (listLoaded && (!ui.unreadOnly.checked || view.read_at === null)) upsertItem(view, true);
  }
}

function onUpdate(view: MessageView): void {
  const entry = items.get(view.id);
  if (entry === undefined) return;
  entry.view = view;
  patchItem(entry.element, view);
}

// ---- status, banner, badge ----

const STATUS_TEXT: Record<InboxStatus, string> = {
  connecting: 'Connecting…',
  connected: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  unauthorized: 'Signed out',
  closed: 'Closed',
};

function renderStatus(status: InboxStatus): void {
  ui.status.dataset.status = status;
  ui.statusText.textContent = STATUS_TEXT[status];
  if (status === 'reconnecting') showBanner('warn', 'Connection lost — reconnecting. Messages sent meanwhile will arrive as soon as we are back.');
  else if (status === 'offline') showBanner('warn', 'You are offline. We will reconnect when the network is back.');
  else if (status === 'unauthorized') showBanner('bad', 'Your session has expired, so new messages cannot reach you.', 'Sign in again', () => void start());
  else hideBanner();
}

function showBanner(kind: 'warn' | 'bad', text: string, action?: string, onAction?: () => void): void {
  ui.banner.replaceChildren(el('span', {}, text));
  ui.banner.className = kind === 'bad' ? 'banner banner--bad' : 'banner';
  ui.banner.dataset.kind = kind;
  if (action !== undefined && onAction !== undefined) {
    const button = el('button', { className: 'btn btn--small', type: 'button' }, action);
    button.addEventListener('click', onAction);
    ui.banner.append(button);
  }
  ui.banner.hidden = false;
}

function hideBanner(): void {
  ui.banner.hidden = true;
  ui.banner.replaceChildren();
}

function renderBadge(count: number): void {
  ui.badge.dataset.count = String(count);
  ui.badge.textContent = count > 99 ? '99+' : String(count);
  ui.badge.hidden = count === 0;
  ui.bell.setAttribute('aria-label', count === 0 ? 'Notifications' : `Notifications, ${count} unread`);
}

function ringBell(): void {
  ui.bell.classList.remove('bell--ring');
  void ui.bell.offsetWidth; // restart the animation
  ui.bell.classList.add('bell--ring');
}

// ---- message content, shared by toasts and the inbox ----

function titleOf(view: MessageView): string | null {
  const title = view.extension?.title;
  return typeof title === 'string' && title.trim().length > 0 ? title.trim() : null;
}

function stringField(view: MessageView, key: string): string | null {
  const value = view.extension?.[key];
  return typeof value === 'string' && value.trim().length > 0 ? value.trim() : null;
}

function content(view: MessageView, options: { eyebrow?: string } = {}): HTMLElement[] {
  const nodes: HTMLElement[] = [];
  const eyebrow = view.priority === 'high' ? 'Important' : options.eyebrow;
  if (eyebrow !== undefined) nodes.push(el('span', { className: `eyebrow${view.priority === 'high' ? ' eyebrow--high' : ''}` }, eyebrow));
  const title = titleOf(view);
  // no title: say so quietly instead of showing an empty heading
  nodes.push(el('p', { className: title === null ? 'title title--missing' : 'title' }, title ?? 'New message'));
  nodes.push(el('p', { className: view.body.trim() === '' ? 'text text--empty' : 'text' }, view.body.trim() === '' ? '(no text)' : view.body));
  const description = stringField(view, 'description');
  if (description !== null) nodes.push(el('p', { className: 'desc' }, description));
  const chips = ['action', 'instrument'].map((key) => stringField(view, key)).filter((value): value is string => value !== null);
  if (chips.length > 0) nodes.push(el('div', { className: 'chips' }, ...chips.map((chip) => el('span', { className: 'chip' }, chip))));
  return nodes;
}

function media(view: MessageView): HTMLElement | null {
  const url = stringField(view, 'image_url');
  if (url === null || !isSafeUrl(url)) return null;
  const image = el('img', { className: 'media', alt: '', loading: 'lazy', decoding: 'async' });
  // a broken image becomes a visible placeholder, never an empty box
  image.addEventListener(
    'error',
    () => image.replaceWith(el('div', { className: 'media media--broken', role: 'img', 'aria-label': 'image unavailable' }, 'Image unavailable')),
    { once: true },
  );
  image.src = url;
  return image;
}

function ctaButton(view: MessageView, onFollow: () => void): HTMLAnchorElement | null {
  if (view.cta_link === null || !isSafeUrl(view.cta_link)) return null;
  // the tracked link records the click (and the implied delivered/opened) before redirecting
  const link = el(
    'a',
    {
      className: view.priority === 'high' ? 'btn btn--danger' : 'btn',
      href: view.cta_link,
      target: '_blank',
      rel: 'noopener',
    },
    stringField(view, 'cta_text') ?? 'Open',
  );
  link.dataset.testid = 'cta';
  link.addEventListener('click', (event) => {
    event.stopPropagation();
    onFollow();
  });
  return link;
}

// ---- toasts ----

function showToast(view: MessageView): void {
  if (ui.toasts.querySelector(`[data-id="${CSS.escape(view.id)}"]`) !== null) return;
  const toast = el('div', { className: `toast${view.priority === 'high' ? ' toast--high' : ''}`, role: 'alert' });
  toast.dataset.testid = 'toast';
  toast.dataset.id = view.id;
  const close = el('button', { className: 'icon-btn toast__close', type: 'button', 'aria-label': 'Dismiss' }, icon('close'));
  close.addEventListener('click', (event) => {
    event.stopPropagation();
    dismiss(toast);
  });
  const image = media(view);
  const body = el('div', { className: 'toast__body' }, ...content(view, { eyebrow: 'New message' }));
  const cta = ctaButton(view, () => setTimeout(() => dismiss(toast), 300));
  if (cta !== null) body.append(el('div', { className: 'actions' }, cta));
  toast.append(...(image === null ? [] : [image]), body, close);
  // clicking the toast itself means the player read it
  toast.addEventListener('click', () => {
    act(() => inbox!.opened(view.id), 'mark this message opened');
    dismiss(toast);
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    // important messages stay until the player deals with them
    if (view.priority !== 'high') timer = setTimeout(() => dismiss(toast), TOAST_MS);
  };
  toast.addEventListener('mouseenter', () => clearTimeout(timer));
  toast.addEventListener('mouseleave', arm);
  arm();
  ui.toasts.prepend(toast);
  const all = ui.toasts.querySelectorAll<HTMLElement>('.toast:not(.toast--leaving)');
  for (let i = MAX_TOASTS; i < all.length; i++) dismiss(all[i]);
}

function dismiss(toast: HTMLElement): void {
  if (toast.classList.contains('toast--leaving')) return;
  toast.classList.add('toast--leaving');
  setTimeout(() => toast.remove(), 200);
}

// ---- the inbox drawer ----

function resetInbox(): void {
  items.clear();
  ui.list.replaceChildren();
  nextCursor = null;
  listLoaded = false;
  ui.loadMore.hidden = true;
  ui.listState.textContent = '';
  renderBadge(0);
  for (const toast of ui.toasts.querySelectorAll<HTMLElement>('.toast')) toast.remove();
}

async function loadInbox(fresh: boolean): Promise<void> {
  const sdk = inbox;
  if (sdk === null) return;
  if (fresh) ui.listState.textContent = listLoaded ? '' : 'Loading…';
  try {
    const page = await sdk.list({ limit: PAGE_SIZE, unread: ui.unreadOnly.checked, cursor: fresh ? null : nextCursor });
    if (sdk !== inbox) return;
    if (fresh) {
      items.clear();
      ui.list.replaceChildren();
    }
    for (const view of page.items) upsertItem(view, false);
    nextCursor = page.next_cursor;
    listLoaded = true;
    ui.loadMore.hidden = nextCursor === null;
    renderListState();
  } catch (error) {
    if (sdk !== inbox) return;
    ui.listState.replaceChildren(el('span', {}, `Could not load your messages (${(error as Error).message}). `));
    const retry = el('button', { className: 'btn btn--small btn--ghost', type: 'button' }, 'Retry');
    retry.addEventListener('click', () => void loadInbox(true));
    ui.listState.append(retry);
  }
}

function renderListState(): void {
  if (items.size > 0) ui.listState.textContent = '';
  else ui.listState.textContent = ui.unreadOnly.checked ? 'No unread messages.' : 'You are all caught up. New messages will appear here.';
}

function upsertItem(view: MessageView, fresh: boolean): void {
  const existing = items.get(view.id);
  if (existing !== undefined) {
    existing.view = view;
    patchItem(existing.element, view);
    return;
  }
  const element = renderItem(view);
  items.set(view.id, { view, element });
  // newest first: find the first item older than this one
  const before = [...items.values()].find((entry) => entry.element.isConnected && entry.view.created_at < view.created_at);
  ui.list.insertBefore(element, before?.element ?? null);
  if (fresh) element.classList.add('item--new');
  renderListState();
}

function renderItem(view: MessageView): HTMLLIElement {
  const item = el('li', { className: 'item' });
  item.dataset.testid = 'inbox-item';
  item.dataset.id = view.id;
  const nodes = content(view);
  const title = nodes.filter((node) => node.classList.contains('title'));
  const rest = nodes.filter((node) => !node.classList.contains('title'));
  const head = el('div', { className: 'item__head' }, ...title, el('time', { dateTime: view.created_at }, ago(view.created_at)));
  const main = el(
    'div',
    { className: 'item__main' },
    ...rest.filter((node) => node.classList.contains('eyebrow')),
    head,
    ...rest.filter((node) => !node.classList.contains('eyebrow')),
  );
  const image = media(view);
  if (image !== null) main.append(image);
  const cta = ctaButton(view, () => undefined);
  if (cta !== null) main.append(el('div', { className: 'actions' }, cta));
  const archive = el('button', { className: 'icon-btn item__archive', type: 'button', 'aria-label': 'Archive', title: 'Archive' }, icon('archive'));
  archive.dataset.testid = 'archive';
  archive.addEventListener('click', (event) => {
    event.stopPropagation();
    item.classList.add('item--leaving');
    act(
      async () => {
        await inbox!.archive(view.id);
        items.delete(view.id);
        setTimeout(() => {
          item.remove();
          renderListState();
        }, 180);
      },
      'archive this message',
      () => item.classList.remove('item--leaving'),
    );
  });
  item.append(el('span', { className: 'item__dot' }), main, archive);
  item.addEventListener('click', () => {
    item.classList.toggle('item--expanded');
    const current = items.get(view.id)?.view ?? view;
    if (current.opened_at === null) {
      patchItem(item, { ...current, opened_at: new Date().toISOString(), read_at: current.read_at ?? new Date().toISOString() });
      act(() => inbox!.opened(view.id), 'mark this message opened');
    }
  });
  patchItem(item, view);
  return item;
}

function patchItem(item: HTMLElement, view: MessageView): void {
  item.classList.toggle('item--unread', view.read_at === null);
  item.classList.toggle('item--high', view.priority === 'high');
  item.dataset.read = view.read_at === null ? 'false' : 'true';
}

function openDrawer(open: boolean): void {
  ui.drawer.classList.toggle('drawer--open', open);
  ui.drawer.setAttribute('aria-hidden', String(!open));
  ui.bell.setAttribute('aria-expanded', String(open));
  ui.backdrop.hidden = !open;
}

// ---- small helpers ----

/** Runs a player action; a failure is shown, never left as an unhandled rejection. */
function act(work: () => Promise<unknown>, what: string, onError?: () => void): void {
  if (inbox === null) return;
  work().catch((error: Error) => {
    onError?.();
    notice(`Could not ${what}: ${error.message}`);
  });
}

let noticeTimer: ReturnType<typeof setTimeout> | undefined;
function notice(text: string): void {
  ui.snackbar.textContent = text;
  ui.snackbar.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => (ui.snackbar.hidden = true), 4_000);
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key in element && !key.includes('-')) (element as unknown as Record<string, string>)[key] = value;
    else element.setAttribute(key, value);
  }
  element.append(...children);
  return element;
}

// drawn, not typed: emoji and symbol glyphs depend on the fonts the player's system has
const ICONS = {
  close: 'M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6 10.6 12 5 6.4z',
  archive: 'M4 4h16a1 1 0 0 1 1 1v3a1 1 0 0 1-1 1v10a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V9a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1zm1 2v1h14V6zm1 3v9h12V9zm3 2h6v2H9z',
};

function icon(name: keyof typeof ICONS): SVGSVGElement {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('d', ICONS[name]);
  svg.append(path);
  return svg;
}

function isSafeUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value, location.href).protocol);
  } catch {
    return false;
  }
}

function ago(iso: string): string {
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 45) return 'just now';
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

// ---- page events ----

ui.bell.addEventListener('click', () => openDrawer(!ui.drawer.classList.contains('drawer--open')));
ui.backdrop.addEventListener('click', () => openDrawer(false));
$('[data-action=close-drawer]').addEventListener('click', () => openDrawer(false));
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') openDrawer(false);
});
ui.unreadOnly.addEventListener('change', () => void loadInbox(true));
ui.loadMore.addEventListener('click', () => void loadInbox(false));
ui.markAllRead.addEventListener('click', () => {
  act(async () => {
    await inbox!.readAll();
    for (const entry of items.values()) {
      entry.view = { ...entry.view, read_at: entry.view.read_at ?? new Date().toISOString() };
      patchItem(entry.element, entry.view);
    }
  }, 'mark all messages read');
});
ui.form.addEventListener('submit', (event) => {
  event.preventDefault();
  const next = ui.playerInput.value.trim();
  if (next.length === 0) return;
  player = next;
  history.replaceState(null, '', `?user=${encodeURIComponent(player)}`);
  void start();
});
$('[data-action=expire]').addEventListener('click', () => void start({ expired: true }));
$('[data-action=copy]').addEventListener('click', () => {
  navigator.clipboard?.writeText(ui.command.textContent ?? '').then(
    () => notice('Copied'),
    () => notice('Copy it by hand: the browser refused the clipboard'),
  );
});
setInterval(() => {
  for (const { view, element } of items.values()) {
    const time = element.querySelector('time');
    if (time !== null) time.textContent = ago(view.created_at);
  }
}, 30_000);

void start();

// The demo page: an operator's site using the SDK the way an operator would. Everything the
// player sees comes from the SDK; /demo/token stands in for the operator's backend.
import { el, isSafeUrl, required, snackbar } from '../shared/dom';
import { createInbox, type Inbox, InboxError, type InboxStatus, type MessageView } from '../src/cim-inbox';

const TOAST_MS = 8_000;
const PAGE_SIZE = 20;

const $ = <T extends HTMLElement>(selector: string): T => required<T>(selector);

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
  starredOnly: $<HTMLInputElement>('[data-testid=starred-only]'),
  markAllRead: $<HTMLButtonElement>('[data-testid=mark-all-read]'),
  archiveAll: $<HTMLButtonElement>('[data-testid=archive-all]'),
  loadMore: $<HTMLButtonElement>('[data-testid=load-more]'),
  toasts: $('[data-testid=toasts]'),
  popupQueue: $('[data-testid=popup-queue]'),
  holdPopups: $<HTMLInputElement>('[data-testid=hold-popups]'),
  snackbar: $('[data-testid=snackbar]'),
};

let player = new URLSearchParams(location.search).get('user')?.trim() || 'player-1';
let inbox: Inbox | null = null;
let generation = 0;
let nextCursor: string | null = null;
let listLoaded = false;
const items = new Map<string, { view: MessageView; element: HTMLLIElement }>();

interface Popup {
  view: MessageView;
  element: HTMLElement;
  /** the inbox that handed it over: told when it is gone, so it hands over the next */
  sdk: Inbox;
  timer?: ReturnType<typeof setTimeout>;
}
let popup: Popup | null = null;
let waitingPopups: readonly MessageView[] = [];

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
  sdk.onVoid(onVoid);
  // a game page holds popups during a round: set before the first popup can be handed over
  if (ui.holdPopups.checked) sdk.holdPopups();
  sdk.onPopupQueue((waiting) => {
    waitingPopups = waiting;
    renderQueue();
  });
  sdk.onPopup((view) => showPopup(sdk, view));
}

// every message reaches the inbox list here, held popups included; popups come one at a time through onPopup
function onMessage(view: MessageView): void {
  if (view.display === 'popup') return;
  ringBell();
  if (listLoaded && matchesFilters(view)) upsertItem(view, true);
}

function onUpdate(view: MessageView): void {
  // read elsewhere (another tab, the click-tracking link): its popup has done its job
  if (popup?.view.id === view.id && view.opened_at !== null) dismissPopup(popup);
  const entry = items.get(view.id);
  if (entry === undefined) {
    // starred in another tab while only favourites are listed: the server knows where it goes in the list
    if (listLoaded && ui.starredOnly.checked && view.starred_at !== null && view.display !== 'popup') void loadInbox(true);
    return;
  }
  entry.view = view;
  patchItem(entry.element, view);
  if (ui.starredOnly.checked && view.starred_at === null) removeItem(view.id);
}

function onVoid(id: string): void {
  if (popup?.view.id === id) dismissPopup(popup);
  removeItem(id);
}

function matchesFilters(view: MessageView): boolean {
  return (!ui.unreadOnly.checked || view.read_at === null) && (!ui.starredOnly.checked || view.starred_at !== null);
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
  if (view.body_html !== null) nodes.push(richBody(view.body_html));
  else nodes.push(el('p', { className: view.body.trim() === '' ? 'text text--empty' : 'text' }, view.body.trim() === '' ? '(no text)' : view.body));
  const description = stringField(view, 'description');
  if (description !== null) nodes.push(el('p', { className: 'desc' }, description));
  const chips = ['action', 'instrument'].map((key) => stringField(view, key)).filter((value): value is string => value !== null);
  if (chips.length > 0) nodes.push(el('div', { className: 'chips' }, ...chips.map((chip) => el('span', { className: 'chip' }, chip))));
  return nodes;
}

/** body_html comes sanitized by the server (no script, handler, frame or javascript: link), so it may be innerHTML. */
function richBody(html: string): HTMLElement {
  const container = el('div', { className: 'rich' });
  container.dataset.testid = 'rich-body';
  container.innerHTML = html;
  // error does not bubble: caught on its way down, so a broken image in the body becomes a small placeholder
  container.addEventListener(
    'error',
    (event) => {
      if (event.target instanceof HTMLImageElement) event.target.replaceWith(el('span', { className: 'rich__broken' }, 'image unavailable'));
    },
    true,
  );
  return container;
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

/**
 * The message's own buttons: a url button is a plain link to its tracked URL (which records the click with the button's
 * id, and is never blocked as a popup); an action button asks the server; a close-only button exists only in a popup
 * (`onClose` given), where it dismisses it.
 */
function messageButtons(view: MessageView, hasCta: boolean, onClose?: () => void): HTMLElement[] {
  return view.buttons.flatMap((button, index): HTMLElement[] => {
    const primary = index === 0 && !hasCta && (button.link !== null || button.action !== null);
    const className = primary ? (view.priority === 'high' ? 'btn btn--danger' : 'btn') : 'btn btn--ghost';
    let node: HTMLElement;
    if (button.link !== null) {
      if (!isSafeUrl(button.link)) return [];
      node = el('a', { className, href: button.link, target: '_blank', rel: 'noopener noreferrer' }, button.text);
      node.addEventListener('click', (event) => {
        event.stopPropagation();
        if (onClose !== undefined) setTimeout(onClose, 300);
      });
    } else if (button.action !== null) {
      const press = el('button', { className, type: 'button' }, button.text);
      press.addEventListener('click', (event) => {
        event.stopPropagation();
        pressAction(view, button.id, button.text, press);
        onClose?.();
      });
      node = press;
    } else if (onClose !== undefined) {
      node = el('button', { className: 'btn btn--ghost', type: 'button' }, button.text);
      node.addEventListener('click', (event) => {
        event.stopPropagation();
        onClose();
      });
    } else {
      return [];
    }
    node.dataset.testid = 'msg-button';
    node.dataset.buttonId = button.id;
    return [node];
  });
}

function pressAction(view: MessageView, buttonId: string, text: string, element: HTMLButtonElement): void {
  const sdk = inbox;
  if (sdk === null) return;
  element.disabled = true;
  sdk
    .pressButton(view.id, buttonId)
    .then(
      (press) =>
        notice(
          press.pending === true
            ? `“${text}” is on its way: the result will show here`
            : press.message || (press.ok === false ? `“${text}” did not go through` : `“${text}”: done`),
        ),
      // 409: the operator has not set up server-side actions yet, which the player should hear plainly
      (error: Error) =>
        notice(
          error instanceof InboxError && error.status === 409 ? `“${text}” is not available: ${error.message}` : `Could not press “${text}”: ${error.message}`,
        ),
    )
    .finally(() => (element.disabled = false));
}

// ---- the popup: one on screen, handed over by the SDK; closing it lets the next one come ----

function showPopup(sdk: Inbox, view: MessageView): void {
  if (sdk !== inbox) return;
  const toast = el('div', { className: `toast${view.priority === 'high' ? ' toast--high' : ''}`, role: 'alert' });
  toast.dataset.testid = 'toast';
  toast.dataset.id = view.id;
  const current: Popup = { view, element: toast, sdk };
  const close = (): void => dismissPopup(current);
  const closeButton = el('button', { className: 'icon-btn toast__close', type: 'button', 'aria-label': 'Dismiss' }, icon('close'));
  closeButton.addEventListener('click', (event) => {
    event.stopPropagation();
    close();
  });
  const image = media(view);
  const body = el('div', { className: 'toast__body' }, ...content(view, { eyebrow: 'New message' }));
  const cta = ctaButton(view, () => setTimeout(close, 300));
  const actions = [...(cta === null ? [] : [cta]), ...messageButtons(view, cta !== null, close)];
  if (actions.length > 0) body.append(el('div', { className: 'actions' }, ...actions));
  toast.append(...(image === null ? [] : [image]), body, closeButton);
  // clicking the toast itself means the player read it
  toast.addEventListener('click', () => {
    act(() => sdk.opened(view.id), 'mark this message opened');
    close();
  });
  const arm = (): void => {
    // important messages stay until the player deals with them
    if (view.priority !== 'high') current.timer = setTimeout(close, TOAST_MS);
  };
  toast.addEventListener('mouseenter', () => clearTimeout(current.timer));
  toast.addEventListener('mouseleave', arm);
  arm();
  popup = current;
  ui.toasts.prepend(toast);
  renderQueue();
}

function dismissPopup(current: Popup): void {
  const toast = current.element;
  if (toast.classList.contains('toast--leaving')) return;
  clearTimeout(current.timer);
  toast.classList.add('toast--leaving');
  // no longer "the popup on screen" for anyone looking, while it slides out
  toast.removeAttribute('data-testid');
  if (popup === current) popup = null;
  renderQueue();
  // the next one comes once this one has left, so two never share the screen
  setTimeout(() => {
    toast.remove();
    current.sdk.closePopup(current.view.id);
  }, 200);
}

function renderQueue(): void {
  const count = waitingPopups.length;
  ui.popupQueue.dataset.count = String(count);
  ui.popupQueue.hidden = count === 0;
  ui.popupQueue.textContent = ui.holdPopups.checked ? `${count} waiting · popups on hold` : `${count} more waiting`;
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
  if (popup !== null) clearTimeout(popup.timer);
  popup = null;
  waitingPopups = [];
  ui.toasts.replaceChildren();
  renderQueue();
}

async function loadInbox(fresh: boolean): Promise<void> {
  const sdk = inbox;
  if (sdk === null) return;
  if (fresh) ui.listState.textContent = listLoaded ? '' : 'Loading…';
  try {
    const page = await sdk.list({ limit: PAGE_SIZE, unread: ui.unreadOnly.checked, starred: ui.starredOnly.checked, cursor: fresh ? null : nextCursor });
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
  else if (ui.starredOnly.checked)
    ui.listState.textContent = ui.unreadOnly.checked ? 'No unread favourites.' : 'No favourites yet. Star a message to keep it here.';
  else ui.listState.textContent = ui.unreadOnly.checked ? 'No unread messages.' : 'You are all caught up. New messages will appear here.';
}

function removeItem(id: string): void {
  const entry = items.get(id);
  if (entry === undefined) return;
  items.delete(id);
  entry.element.remove();
  renderListState();
}

function upsertItem(view: MessageView, fresh: boolean): void {
  const existing = items.get(view.id);
  if (existing !== undefined) {
    existing.view = view;
    patchItem(existing.element, view);
    return;
  }
  const element = renderItem(view);
  // newest first: before the first item on screen that is older (the map's order is arrival, not the list's)
  const before = [...ui.list.children].find((node) => {
    const other = items.get((node as HTMLElement).dataset.id ?? '');
    return other !== undefined && Date.parse(other.view.created_at) < Date.parse(view.created_at);
  });
  ui.list.insertBefore(element, before ?? null);
  items.set(view.id, { view, element });
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
  const actions = [...(cta === null ? [] : [cta]), ...messageButtons(view, cta !== null)];
  if (actions.length > 0) main.append(el('div', { className: 'actions' }, ...actions));
  const star = el('button', { className: 'icon-btn item__star', type: 'button' });
  star.dataset.testid = 'star';
  star.addEventListener('click', (event) => {
    event.stopPropagation();
    const current = items.get(view.id)?.view ?? view;
    const starring = current.starred_at === null;
    const optimistic = { ...current, starred_at: starring ? new Date().toISOString() : null };
    const entry = items.get(view.id);
    if (entry !== undefined) entry.view = optimistic;
    patchItem(item, optimistic);
    act(
      async () => {
        await (starring ? inbox!.star(view.id) : inbox!.unstar(view.id));
        if (!starring && ui.starredOnly.checked) removeItem(view.id);
      },
      starring ? 'add this message to favourites' : 'remove this message from favourites',
      () => {
        const back = items.get(view.id);
        if (back !== undefined) back.view = current;
        patchItem(item, current);
      },
    );
  });
  const archive = el('button', { className: 'icon-btn item__archive', type: 'button', 'aria-label': 'Archive', title: 'Archive' }, icon('archive'));
  archive.dataset.testid = 'archive';
  archive.addEventListener('click', (event) => {
    event.stopPropagation();
    // its popup, if on screen, goes too (the SDK forgets it and hands over the next)
    if (popup?.view.id === view.id) dismissPopup(popup);
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
  item.append(el('span', { className: 'item__dot' }), main, el('div', { className: 'item__side' }, star, archive));
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
  const starred = view.starred_at !== null;
  const star = item.querySelector<HTMLButtonElement>('[data-testid=star]');
  if (star !== null && star.getAttribute('aria-pressed') !== String(starred)) {
    star.setAttribute('aria-pressed', String(starred));
    star.setAttribute('aria-label', starred ? 'Remove from favourites' : 'Add to favourites');
    star.title = starred ? 'Favourite' : 'Add to favourites';
    star.replaceChildren(icon(starred ? 'star' : 'starOutline'));
  }
}

/** Archives every listed message; the SDK drops their waiting popups, and the one on screen (unless popup-only) goes too. */
async function archiveEverything(sdk: Inbox): Promise<void> {
  const archived = await sdk.archiveAll();
  if (sdk !== inbox) return;
  if (popup !== null && popup.view.display !== 'popup') dismissPopup(popup);
  items.clear();
  ui.list.replaceChildren();
  nextCursor = null;
  ui.loadMore.hidden = true;
  renderListState();
  notice(archived === 0 ? 'Nothing to archive' : `Archived ${archived} message${archived === 1 ? '' : 's'}`);
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

const notice = snackbar(ui.snackbar, 4_000);

// drawn, not typed: emoji and symbol glyphs depend on the fonts the player's system has
const ICONS = {
  close: 'M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6 10.6 12 5 6.4z',
  archive: 'M4 4h16a1 1 0 0 1 1 1v3a1 1 0 0 1-1 1v10a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V9a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1zm1 2v1h14V6zm1 3v9h12V9zm3 2h6v2H9z',
  star: 'M12 17.27 18.18 21l-1.64-7.03L22 9.24l-7.19-.61L12 2 9.19 8.63 2 9.24l5.46 4.73L5.82 21z',
  starOutline:
    'm22 9.24-7.19-.62L12 2 9.19 8.63 2 9.24l5.46 4.73L5.82 21 12 17.27 18.18 21l-1.63-7.03zM12 15.4l-3.76 2.27 1-4.28-3.32-2.88 4.38-.38L12 6.1l1.71 4.04 4.38.38-3.32 2.88 1 4.28z',
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
ui.starredOnly.addEventListener('change', () => void loadInbox(true));
ui.holdPopups.addEventListener('change', () => {
  if (ui.holdPopups.checked) inbox?.holdPopups();
  else inbox?.releasePopups();
});
ui.archiveAll.addEventListener('click', () => {
  const sdk = inbox;
  if (sdk !== null) act(() => archiveEverything(sdk), 'archive your messages');
});
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

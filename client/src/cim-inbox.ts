import { io, type Socket } from 'socket.io-client';

/** A message as the server sends it (SPEC §3 "message view"); `cta_link` is made absolute by the SDK. */
export interface MessageView {
  /** equals the ext_message_id Smartico knows */
  id: string;
  im_uid: string;
  body: string;
  /** the Smartico template fields, untouched (title, image_url, cta_text, …) */
  extension: Record<string, unknown> | null;
  display: 'popup' | 'inbox' | 'both';
  priority: 'high' | 'normal';
  category: string | null;
  /** click-tracking link for extension.cta_url: follow it and the click is recorded */
  cta_link: string | null;
  created_at: string;
  delivered_at: string | null;
  opened_at: string | null;
  clicked_at: string | null;
  read_at: string | null;
  expires_at: string | null;
  /** extension.body_html sanitized by the server: safe to set as innerHTML */
  body_html: string | null;
  /** up to three buttons; `link` is a tracked URL, `action` a server-executed action */
  buttons: Array<{ id: string; text: string; link: string | null; action: string | null }>;
  /** when the player made it a favourite */
  starred_at: string | null;
  /** whether this delivery should show as a popup (the server applies the cap and the age rule) */
  popup: boolean;
  action_result: { button_id: string; ok: boolean; message: string; at: string } | null;
}

/**
 * - `connecting`: the first connection is being made
 * - `connected`: live; messages arrive as they are sent
 * - `reconnecting`: the connection was lost (or the token is being refreshed); retrying on its own
 * - `offline`: as `reconnecting`, while the browser says it has no network
 * - `unauthorized`: the token was refused and could not be refreshed; call `setToken()` to resume
 * - `closed`: `close()` was called
 */
export type InboxStatus = 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'unauthorized' | 'closed';

export interface InboxOptions {
  /** where cim-inbox is served, e.g. `https://inbox.example.com` (a path prefix is kept) */
  url: string;
  /** the player's JWT, minted by the operator's backend (`sub` = ext_user_id) */
  token: string;
  /** called for a fresh token when the current one is refused or has expired */
  getToken?: () => string | Promise<string>;
  /**
   * socket.io transports, default `['websocket']`: one connection, so any instance behind a plain round-robin
   * load balancer can take it. `['polling', 'websocket']` adds HTTP long-polling (for networks that block
   * WebSocket), and then the load balancer must keep each client on one instance (sticky sessions).
   */
  transports?: Array<'polling' | 'websocket' | 'webtransport'>;
  /** timeout of one REST call or socket action, default 10 s */
  timeoutMs?: number;
}

export interface ListOptions {
  /** `next_cursor` of the previous page */
  cursor?: string | null;
  /** only unread messages */
  unread?: boolean;
  /** only favourites */
  starred?: boolean;
  /** only this `extension.category` */
  category?: string;
  /** page size, 1–100 (default 20) */
  limit?: number;
}

export interface InboxPage {
  items: MessageView[];
  next_cursor: string | null;
}

/** Unread inbox messages: `count` in total, `categories` per `extension.category` (uncategorised ones only in `count`). */
export interface UnreadCounts {
  count: number;
  categories: Record<string, number>;
}

/** Why a message was taken back (SPEC §7): the app removes it from the screen at once. */
export type VoidReason = string;

export interface Inbox {
  readonly status: InboxStatus;
  /** the last unread count the server pushed, null before the first */
  readonly unread: number | null;
  /** the last unread counts per category the server pushed, null before the first */
  readonly unreadCategories: Readonly<Record<string, number>> | null;
  /** each message once, however often the server re-sends it (it is acked for you), popups held or not */
  onMessage(listener: (message: MessageView) => void): Unsubscribe;
  /** called at once with the current count when known, then on every change (of the total or of a category) */
  onUnread(listener: (count: number, categories: Readonly<Record<string, number>>) => void): Unsubscribe;
  /** a message changed state elsewhere (another tab, a click-tracking link, mark-all-read, a favourite) */
  onUpdate(listener: (message: MessageView) => void): Unsubscribe;
  /** a message was voided or suppressed by the operator: remove it from the screen now (its popup is closed for you) */
  onVoid(listener: (id: string, reason: VoidReason) => void): Unsubscribe;
  /** called at once with the current status, then on every change */
  onStatus(listener: (status: InboxStatus) => void): Unsubscribe;
  /**
   * The popup to show now: one at a time, `high` priority first then the oldest, never one that expired, was voided
   * or was opened elsewhere while it waited. Only deliveries the server marks `popup: true` come here. The next one
   * comes after `closePopup()`. Popups that arrive before the first listener is added wait for it.
   */
  onPopup(listener: (message: MessageView) => void): Unsubscribe;
  /** the popups waiting, in the order they will be shown; called at once, then on every change */
  onPopupQueue(listener: (waiting: readonly MessageView[]) => void): Unsubscribe;
  /** the popup on screen is gone (closed, followed, timed out): the next one may come */
  closePopup(id: string): void;
  /** no new popup is handed over until `releasePopups()` (a game round, a deposit, a KYC form); messages still arrive */
  holdPopups(): void;
  releasePopups(): void;
  readonly popupsHeld: boolean;
  opened(id: string): Promise<void>;
  /** `buttonId`: which of the message's buttons was pressed, recorded in the message's timeline */
  clicked(id: string, buttonId?: string): Promise<void>;
  archive(id: string): Promise<void>;
  star(id: string): Promise<void>;
  unstar(id: string): Promise<void>;
  /**
   * Presses a button: a `url` button records the click and resolves its target in `link` (open it); a close button
   * resolves `{ link: null }`; an `action` button runs the operator's action on the server and resolves its result.
   */
  pressButton(id: string, buttonId: string): Promise<ButtonPress>;
  list(options?: ListOptions): Promise<InboxPage>;
  /** marks every message read; returns how many changed */
  readAll(): Promise<number>;
  /** archives every listed message, or only those of `category`; returns how many */
  archiveAll(category?: string): Promise<number>;
  unreadCount(): Promise<number>;
  unreadCounts(): Promise<UnreadCounts>;
  /** replaces the token (e.g. after `unauthorized`) and reconnects if needed */
  setToken(token: string): void;
  close(): void;
}

export type Unsubscribe = () => void;

/** What pressing a button did: `link` to open (a `url` button), or an action's outcome. */
export interface ButtonPress {
  link: string | null;
  /** an action button: the operator's answer (also the message's `action_result`) */
  ok?: boolean;
  message?: string;
  /** an action button whose operator did not answer within 10 s: the result follows through `onUpdate` */
  pending?: boolean;
}

/** A refused REST call or socket action; `status` is the HTTP status when there was one. */
export class InboxError extends Error {
  override readonly name = 'InboxError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export function createInbox(options: InboxOptions): Inbox {
  return new InboxClient(options);
}

type ActionReply = { ok: true } | { ok: false; error: string };
type Action = 'opened' | 'clicked' | 'archive' | 'star' | 'unstar';
interface ActionPayload {
  id: string;
  button_id?: string;
}
type Timer = ReturnType<typeof setTimeout>;

interface ServerToClientEvents {
  message: (view: MessageView, ack?: () => void) => void;
  /** `as_of`: when the count was taken (µs); instances broadcast independently, so one may arrive after a newer one */
  unread: (payload: { count: number; categories?: Record<string, number>; as_of?: number }) => void;
  update: (view: MessageView) => void;
  void: (payload: { id: string; reason?: string }) => void;
}

type ClientToServerEvents = Record<Action, (payload: ActionPayload, ack: (reply: ActionReply) => void) => void>;

// the core runs in browsers and in Node; browser-only globals are looked up, never assumed
interface BrowserGlobals {
  navigator?: { onLine?: boolean };
  addEventListener?: (type: string, listener: () => void) => void;
  removeEventListener?: (type: string, listener: () => void) => void;
}
const env = globalThis as unknown as BrowserGlobals;

const MAX_REMEMBERED_IDS = 10_000;
// popups nobody shows (the page never listens, or holds for hours) do not grow without end: the oldest normal go first
const MAX_WAITING_POPUPS = 100;
// a refreshed token this close to its expiry is refreshed again before use
const TOKEN_EXPIRY_MARGIN_MS = 10_000;
const RECONNECT_DELAY_MS = 500;
const MAX_RECONNECT_DELAY_MS = 10_000;

class InboxClient implements Inbox {
  private readonly apiBase: string;
  private readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  private readonly getToken?: () => string | Promise<string>;
  private readonly timeoutMs: number;
  private readonly seen = new Set<string>();
  private readonly listeners = {
    message: new Set<(message: MessageView) => void>(),
    unread: new Set<(count: number, categories: Readonly<Record<string, number>>) => void>(),
    update: new Set<(message: MessageView) => void>(),
    void: new Set<(id: string, reason: VoidReason) => void>(),
    status: new Set<(status: InboxStatus) => void>(),
    popup: new Set<(message: MessageView) => void>(),
    popupQueue: new Set<(waiting: readonly MessageView[]) => void>(),
  };
  private readonly popups = new PopupQueue();
  private token: string;
  private current: InboxStatus = 'connecting';
  private unreadCount_: number | null = null;
  private unreadCategories_: Readonly<Record<string, number>> | null = null;
  private unreadAsOf = 0;
  private refreshing: Promise<string> | null = null;
  // a freshly refreshed token that is refused too means the player is signed out: stop there
  private refreshedSinceConnect = false;
  private reconnectDelay = RECONNECT_DELAY_MS;
  private reconnectTimer?: Timer;
  private closed = false;

  constructor(options: InboxOptions) {
    if (typeof options.url !== 'string' || options.url.length === 0) throw new TypeError('createInbox: `url` is required');
    if (typeof options.token !== 'string') throw new TypeError('createInbox: `token` must be a string');
    const url = new URL(options.url);
    const prefix = url.pathname.replace(/\/+$/, '');
    this.apiBase = `${url.origin}${prefix}`;
    this.token = options.token;
    this.getToken = options.getToken;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.socket = io(`${url.origin}/inbox`, {
      path: `${prefix}/socket.io`,
      transports: options.transports ?? ['websocket'],
      // read at every (re)connect, so a refreshed token is used from the next attempt on
      auth: (send) => send({ token: this.token }),
      autoConnect: false,
      timeout: this.timeoutMs,
    });
    this.listen();
    env.addEventListener?.('online', this.onOnline);
    env.addEventListener?.('offline', this.onOffline);
    this.socket.connect();
  }

  get status(): InboxStatus {
    return this.current;
  }

  get unread(): number | null {
    return this.unreadCount_;
  }

  get unreadCategories(): Readonly<Record<string, number>> | null {
    return this.unreadCategories_;
  }

  get popupsHeld(): boolean {
    return this.popups.held;
  }

  onMessage(listener: (message: MessageView) => void): Unsubscribe {
    return this.subscribe(this.listeners.message, listener);
  }

  onUnread(listener: (count: number, categories: Readonly<Record<string, number>>) => void): Unsubscribe {
    const unsubscribe = this.subscribe(this.listeners.unread, listener);
    if (this.unreadCount_ !== null) this.call(() => listener(this.unreadCount_!, this.unreadCategories_ ?? {}), undefined);
    return unsubscribe;
  }

  onUpdate(listener: (message: MessageView) => void): Unsubscribe {
    return this.subscribe(this.listeners.update, listener);
  }

  onVoid(listener: (id: string, reason: VoidReason) => void): Unsubscribe {
    return this.subscribe(this.listeners.void, listener);
  }

  onPopup(listener: (message: MessageView) => void): Unsubscribe {
    const unsubscribe = this.subscribe(this.listeners.popup, listener);
    // popups that arrived before the page listened are waiting for it
    this.showNextPopup();
    return unsubscribe;
  }

  onPopupQueue(listener: (waiting: readonly MessageView[]) => void): Unsubscribe {
    const unsubscribe = this.subscribe(this.listeners.popupQueue, listener);
    this.call(listener, this.popups.waiting());
    return unsubscribe;
  }

  closePopup(id: string): void {
    if (!this.popups.close(id)) return;
    this.showNextPopup();
  }

  holdPopups(): void {
    if (this.popups.held) return;
    this.popups.held = true;
    this.popupQueueChanged();
  }

  releasePopups(): void {
    if (!this.popups.held) return;
    this.popups.held = false;
    this.showNextPopup();
  }

  onStatus(listener: (status: InboxStatus) => void): Unsubscribe {
    const unsubscribe = this.subscribe(this.listeners.status, listener);
    this.call(listener, this.current);
    return unsubscribe;
  }

  opened(id: string): Promise<void> {
    return this.act('opened', id);
  }

  clicked(id: string, buttonId?: string): Promise<void> {
    return this.act('clicked', id, buttonId);
  }

  archive(id: string): Promise<void> {
    return this.act('archive', id);
  }

  star(id: string): Promise<void> {
    return this.act('star', id);
  }

  unstar(id: string): Promise<void> {
    return this.act('unstar', id);
  }

  async pressButton(id: string, buttonId: string): Promise<ButtonPress> {
    if (typeof id !== 'string' || id.length === 0) throw new InboxError('a message id is required');
    if (typeof buttonId !== 'string' || buttonId.length === 0) throw new InboxError('a button id is required');
    const press = await this.request<ButtonPress>('POST', `/inbox/messages/${encodeURIComponent(id)}/buttons/${encodeURIComponent(buttonId)}`);
    return { ...press, link: press.link === null ? null : this.absolute(press.link) };
  }

  async list(options: ListOptions = {}): Promise<InboxPage> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.cursor) query.set('cursor', options.cursor);
    if (options.unread) query.set('unread', 'true');
    if (options.starred) query.set('starred', 'true');
    if (options.category) query.set('category', options.category);
    const search = query.toString();
    const page = await this.request<InboxPage>('GET', `/inbox/messages${search ? `?${search}` : ''}`);
    return { items: page.items.map((view) => this.normalize(view)), next_cursor: page.next_cursor };
  }

  async readAll(): Promise<number> {
    return (await this.request<{ read: number }>('POST', '/inbox/read-all')).read;
  }

  async archiveAll(category?: string): Promise<number> {
    const search = category === undefined ? '' : `?${new URLSearchParams({ category }).toString()}`;
    const archived = (await this.request<{ archived: number }>('POST', `/inbox/archive-all${search}`)).archived;
    // what it archived (every listed message, of that category) has no business popping up any more; the one on
    // screen is the page's to close
    this.popups.dropWaiting((message) => message.display !== 'popup' && (category === undefined || message.category === category));
    this.popupQueueChanged();
    return archived;
  }

  async unreadCount(): Promise<number> {
    return (await this.unreadCounts()).count;
  }

  async unreadCounts(): Promise<UnreadCounts> {
    const counts = await this.request<{ count: number; categories?: Record<string, number> }>('GET', '/inbox/unread-count');
    return { count: counts.count, categories: counts.categories ?? {} };
  }

  setToken(token: string): void {
    if (this.closed) return;
    this.token = token;
    this.refreshedSinceConnect = false;
    if (this.socket.connected || this.socket.active) return;
    this.setStatus('reconnecting');
    this.socket.connect();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.popups.clear();
    env.removeEventListener?.('online', this.onOnline);
    env.removeEventListener?.('offline', this.onOffline);
    this.socket.disconnect();
    this.setStatus('closed');
    for (const set of Object.values(this.listeners)) set.clear();
  }

  private listen(): void {
    this.socket.on('connect', () => {
      this.refreshedSinceConnect = false;
      this.reconnectDelay = RECONNECT_DELAY_MS;
      this.setStatus('connected');
    });
    this.socket.on('connect_error', (error) => {
      if (this.closed) return;
      if (error.message === 'unauthorized') {
        void this.onUnauthorized();
        return;
      }
      this.setStatus('reconnecting');
      // socket.io retries transport errors by itself; anything else the server refused, we retry
      if (!this.socket.active) this.scheduleReconnect();
    });
    this.socket.on('disconnect', (reason) => {
      if (this.closed || reason === 'io client disconnect') return;
      this.setStatus('reconnecting');
      // the server hung up on purpose (token expiry, failed catch-up): socket.io leaves that to us
      if (reason === 'io server disconnect') void this.reconnectAfterKick();
    });
    this.socket.on('message', (view, ack) => {
      // acked even when already seen: the server re-sends what it never heard an ack for
      if (typeof ack === 'function') ack();
      if (!isView(view) || this.seen.has(view.id)) return;
      this.remember(view.id);
      const message = this.normalize(view);
      this.emit(this.listeners.message, message);
      if (message.popup === true && this.popups.add(message, MAX_WAITING_POPUPS)) this.showNextPopup();
    });
    this.socket.on('unread', (payload) => {
      const count = payload?.count;
      if (typeof count !== 'number') return;
      const asOf = payload.as_of;
      if (typeof asOf === 'number') {
        if (asOf < this.unreadAsOf) return;
        this.unreadAsOf = asOf;
      }
      const categories = isCounts(payload.categories) ? payload.categories : {};
      if (count === this.unreadCount_ && sameCounts(categories, this.unreadCategories_)) return;
      this.unreadCount_ = count;
      this.unreadCategories_ = categories;
      for (const listener of [...this.listeners.unread]) this.call(() => listener(count, categories), undefined);
    });
    this.socket.on('update', (view) => {
      if (!isView(view)) return;
      const message = this.normalize(view);
      // opened in another tab, or expired: the player has no use for its popup any more
      if (this.popups.update(message)) this.popupQueueChanged();
      this.emit(this.listeners.update, message);
    });
    this.socket.on('void', (payload) => {
      const id = payload?.id;
      if (typeof id !== 'string') return;
      const reason = typeof payload.reason === 'string' ? payload.reason : 'voided';
      // a push of it still on its way (accepted just before the void) is acked but never handed over
      this.remember(id);
      const wasOnScreen = this.popups.remove(id);
      for (const listener of [...this.listeners.void]) this.call(() => listener(id, reason), undefined);
      if (wasOnScreen) this.showNextPopup();
      else this.popupQueueChanged();
    });
  }

  /** Hands the next popup over when none is on screen and popups are not held; tells queue listeners what waits. */
  private showNextPopup(): void {
    if (this.closed) return;
    const next = this.listeners.popup.size > 0 ? this.popups.next(Date.now()) : undefined;
    this.popupQueueChanged();
    if (next !== undefined) this.emit(this.listeners.popup, next);
  }

  private popupQueueChanged(): void {
    if (this.listeners.popupQueue.size === 0) return;
    this.emit(this.listeners.popupQueue, this.popups.waiting());
  }

  private async onUnauthorized(): Promise<void> {
    if (this.getToken === undefined || this.refreshedSinceConnect) {
      this.setStatus('unauthorized');
      return;
    }
    this.setStatus('reconnecting');
    try {
      await this.refreshToken();
    } catch {
      this.setStatus('unauthorized');
      return;
    }
    this.refreshedSinceConnect = true;
    if (!this.closed) this.socket.connect();
  }

  private async reconnectAfterKick(): Promise<void> {
    if (this.getToken !== undefined && expiresWithin(this.token, TOKEN_EXPIRY_MARGIN_MS)) {
      try {
        await this.refreshToken();
      } catch {
        this.setStatus('unauthorized');
        return;
      }
      if (!this.closed) this.socket.connect();
      return;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    clearTimeout(this.reconnectTimer);
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, MAX_RECONNECT_DELAY_MS);
    this.reconnectTimer = setTimeout(() => {
      if (!this.closed && !this.socket.connected) this.socket.connect();
    }, delay);
  }

  /** One refresh at a time, however many callers (socket and REST) find the token stale together. */
  private refreshToken(): Promise<string> {
    const getToken = this.getToken;
    if (getToken === undefined) return Promise.reject(new InboxError('the token was refused and there is no getToken hook', 401));
    this.refreshing ??= (async () => {
      try {
        const token = await getToken();
        if (typeof token !== 'string' || token.length === 0) throw new InboxError('getToken returned no token', 401);
        this.token = token;
        return token;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /** Over the socket when connected (one round trip), else REST; both are answered by the same service. */
  private async act(action: Action, id: string, buttonId?: string): Promise<void> {
    if (typeof id !== 'string' || id.length === 0) throw new InboxError('a message id is required');
    if (action === 'archive') this.forgetPopup(id);
    if (this.socket.connected) {
      let reply: ActionReply | undefined;
      const payload: ActionPayload = buttonId === undefined ? { id } : { id, button_id: buttonId };
      try {
        reply = (await this.socket.timeout(this.timeoutMs).emitWithAck(action, payload)) as ActionReply;
      } catch {
        // no answer in time: the REST call below is idempotent, so trying again there is safe
      }
      if (reply?.ok) return;
      if (reply !== undefined && reply.error !== 'temporarily unavailable') throw new InboxError(reply.error);
    }
    const path = `/inbox/messages/${encodeURIComponent(id)}`;
    if (action === 'archive') await this.request('DELETE', path);
    else if (action === 'star') await this.request('POST', `${path}/star`);
    else if (action === 'unstar') await this.request('DELETE', `${path}/star`);
    // REST has no button id for a plain click; a button press with its id goes through pressButton()
    else await this.request('POST', `${path}/${action}`);
  }

  /** An archived message's popup has no business showing any more. */
  private forgetPopup(id: string): void {
    if (this.popups.remove(id)) this.showNextPopup();
    else this.popupQueueChanged();
  }

  private async request<T>(method: string, path: string, retried = false): Promise<T> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let response: Response;
    try {
      response = await fetch(`${this.apiBase}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, accept: 'application/json' },
        signal: controller.signal,
      });
    } catch (error) {
      throw new InboxError(controller.signal.aborted ? 'the server did not answer in time' : `network error: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    if (response.status === 401 && !retried && this.getToken !== undefined) {
      await this.refreshToken();
      return this.request<T>(method, path, true);
    }
    if (response.status === 204) return undefined as T;
    const body = (await response.json().catch(() => null)) as Record<string, unknown> | null;
    if (!response.ok) {
      const message = body?.message;
      throw new InboxError(Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : `HTTP ${response.status}`, response.status);
    }
    return body as T;
  }

  /** Click-tracking links are relative unless the server has PUBLIC_URL: make them point at the server. */
  private normalize(view: MessageView): MessageView {
    const buttons = Array.isArray(view.buttons)
      ? view.buttons.map((button) => ({ ...button, link: button.link === null ? null : this.absolute(button.link) }))
      : [];
    return { ...view, cta_link: view.cta_link === null ? null : this.absolute(view.cta_link), buttons };
  }

  private absolute(link: string): string | null {
    if (/^https?:\/\//i.test(link)) return link;
    try {
      return new URL(link, `${this.apiBase}/`).href;
    } catch {
      return null;
    }
  }

  private remember(id: string): void {
    this.seen.add(id);
    // a Set iterates in insertion order: forget the oldest first
    if (this.seen.size > MAX_REMEMBERED_IDS) this.seen.delete(this.seen.values().next().value as string);
  }

  private setStatus(status: InboxStatus): void {
    const next = status === 'reconnecting' && env.navigator?.onLine === false ? 'offline' : status;
    if (next === this.current || (this.closed && next !== 'closed')) return;
    this.current = next;
    this.emit(this.listeners.status, next);
  }

  private readonly onOnline = (): void => {
    if (this.closed || this.socket.connected || this.current === 'unauthorized') return;
    this.setStatus('reconnecting');
    clearTimeout(this.reconnectTimer);
    this.socket.connect();
  };

  private readonly onOffline = (): void => {
    if (!this.socket.connected && this.current === 'reconnecting') this.setStatus('offline');
  };

  private subscribe<L>(set: Set<L>, listener: L): Unsubscribe {
    set.add(listener);
    return () => void set.delete(listener);
  }

  private emit<T>(set: Set<(value: T) => void>, value: T): void {
    for (const listener of [...set]) this.call(listener, value);
  }

  /** A throwing listener is the app's bug: reported as uncaught, without breaking the SDK's own handling. */
  private call<T>(listener: (value: T) => void, value: T): void {
    try {
      listener(value);
    } catch (error) {
      setTimeout(() => {
        throw error;
      });
    }
  }
}

/**
 * The popups of one inbox: at most one on screen, the rest waiting. `next()` picks `high` first, then the oldest
 * (`created_at`, then arrival), skipping any that expired while they waited.
 */
class PopupQueue {
  held = false;
  private onScreen: string | null = null;
  private readonly queued = new Map<string, { view: MessageView; arrival: number }>();
  private arrivals = 0;

  /** false when it was already queued or on screen, or was the one dropped to keep the queue within `limit` */
  add(view: MessageView, limit: number): boolean {
    if (this.onScreen === view.id || this.queued.has(view.id)) return false;
    this.queued.set(view.id, { view, arrival: this.arrivals++ });
    while (this.queued.size > limit) {
      const waiting = this.ordered();
      this.queued.delete((waiting.find((queued) => queued.priority !== 'high') ?? waiting[0]).id);
    }
    return this.queued.has(view.id);
  }

  dropWaiting(matches: (view: MessageView) => boolean): void {
    for (const [id, { view }] of this.queued) if (matches(view)) this.queued.delete(id);
  }

  /** The popup to show now, or undefined (one on screen, held, or none waiting); expired ones are dropped. */
  next(now: number): MessageView | undefined {
    this.dropExpired(now);
    if (this.held || this.onScreen !== null) return undefined;
    const [first] = this.ordered();
    if (first === undefined) return undefined;
    this.queued.delete(first.id);
    this.onScreen = first.id;
    return first;
  }

  close(id: string): boolean {
    if (this.onScreen !== id) return false;
    this.onScreen = null;
    return true;
  }

  /** Removes it wherever it is; true when it was on screen. */
  remove(id: string): boolean {
    this.queued.delete(id);
    return this.close(id);
  }

  /** A changed message: dropped when it was opened elsewhere or has expired, else kept up to date; true if the queue changed. */
  update(view: MessageView): boolean {
    const entry = this.queued.get(view.id);
    if (entry === undefined) return false;
    if (view.opened_at !== null || isExpired(view, Date.now())) this.queued.delete(view.id);
    else entry.view = view;
    return true;
  }

  waiting(): MessageView[] {
    this.dropExpired(Date.now());
    return this.ordered();
  }

  clear(): void {
    this.queued.clear();
    this.onScreen = null;
  }

  private dropExpired(now: number): void {
    for (const [id, { view }] of this.queued) if (isExpired(view, now)) this.queued.delete(id);
  }

  private ordered(): MessageView[] {
    return [...this.queued.values()]
      .sort((a, b) => rank(a.view) - rank(b.view) || Date.parse(a.view.created_at) - Date.parse(b.view.created_at) || a.arrival - b.arrival)
      .map((entry) => entry.view);
  }
}

const rank = (view: MessageView): number => (view.priority === 'high' ? 0 : 1);

function isExpired(view: MessageView, now: number): boolean {
  return view.expires_at !== null && Date.parse(view.expires_at) <= now;
}

function isCounts(value: unknown): value is Record<string, number> {
  return typeof value === 'object' && value !== null && Object.values(value).every((count) => typeof count === 'number');
}

function sameCounts(a: Record<string, number>, b: Record<string, number> | null): boolean {
  if (b === null) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

function isView(value: unknown): value is MessageView {
  return typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string';
}

/** Reads `exp` from a JWT without verifying it (the server does that); unreadable counts as expired. */
function expiresWithin(token: string, marginMs: number): boolean {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const { exp } = JSON.parse(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, '='))) as { exp?: unknown };
    return typeof exp !== 'number' || exp * 1000 - Date.now() < marginMs;
  } catch {
    return true;
  }
}

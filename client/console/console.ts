// The support console (SPEC v2 §5): a page over the /support API. It holds no secret: staff sign in with a
// support key, kept in this tab's session storage and sent as the bearer. Views are hash routes, so they can be
// linked: #/search?…, #/message/<id>, #/player/<ext_user_id>?brand=<brand>.
import { el, isSafeUrl, required, snackbar } from '../shared/dom';

// ---- what the /support API answers (the OpenAPI document at /docs has every field) ----

type Status = 'accepted' | 'delivered' | 'opened' | 'clicked' | 'failed' | 'rejected';

interface Button {
  id: string;
  text: string;
  link: string | null;
  action: string | null;
}

interface SupportMessage {
  id: string;
  im_uid: string;
  ext_user_id: string;
  brand: string;
  gateway_id: string;
  status: Status;
  body: string;
  body_html: string | null;
  extension: Record<string, unknown> | null;
  display: string;
  priority: string;
  category: string | null;
  cta_link: string | null;
  buttons: Button[];
  created_at: string;
  expires_at: string | null;
  archived_at: string | null;
  voided_at: string | null;
  void_reason: string | null;
  suppressed: boolean;
  callback_url: string;
}

interface MessageList {
  items: SupportMessage[];
  next_cursor: string | null;
}

interface MessageDetail {
  message: SupportMessage;
  timeline: Array<{ event: string; at: string; button_id?: string }>;
  callbacks: Array<{ status: string; attempted_at: string; http_status: number | null; error: string | null; duration_ms: number }>;
  outbox: Array<{
    status: string;
    state: 'pending' | 'sent' | 'dead';
    attempts: number;
    next_attempt_at: string | null;
    sent_at: string | null;
    last_error: string | null;
  }>;
}

interface PlayerDetail {
  brand: string;
  ext_user_id: string;
  unread_count: number;
  last_seen_at: string | null;
  connected: boolean | null;
  suppression: { state: 'none' | 'cooling_off' | 'self_excluded'; until: string | null; set_at: string | null };
  messages: MessageList;
}

const STATUSES: Status[] = ['accepted', 'delivered', 'opened', 'clicked', 'rejected', 'failed'];
const KEY_STORAGE = 'cim-console.support-key';
const PAGE_SIZE = 50;
/** While a callback is pending the detail re-reads itself this often, so a retry's attempt shows up by itself. */
const PENDING_REFRESH_MS = 1_500;

const ui = {
  nav: required('[data-testid=nav]'),
  session: required('[data-testid=session]'),
  zone: required('[data-testid=zone]'),
  signOut: required<HTMLButtonElement>('[data-testid=sign-out]'),
  signin: required('[data-testid=signin]'),
  signinForm: required<HTMLFormElement>('[data-testid=signin-form]'),
  signinError: required('[data-testid=signin-error]'),
  keyInput: required<HTMLInputElement>('#support-key'),
  view: required('[data-testid=view]'),
  confirm: required<HTMLDialogElement>('[data-testid=confirm]'),
  snackbar: required('[data-testid=snackbar]'),
};

// ---- the API ----

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function storedKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

async function request<T>(path: string, init: { method?: string; key?: string } = {}): Promise<T> {
  const key = init.key ?? storedKey();
  if (key === null) throw new ApiError(401, 'not signed in');
  let response: Response;
  try {
    response = await fetch(path, { method: init.method ?? 'GET', headers: { authorization: `Bearer ${key}`, accept: 'application/json' }, cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'The server did not answer. Check the connection and try again.');
  }
  const body: unknown = await response.json().catch(() => null);
  if (response.ok) return body as T;
  if (response.status === 401 && init.key === undefined) signOut('The server no longer accepts this key. Sign in again.');
  throw new ApiError(response.status, errorText(response.status, body));
}

function errorText(status: number, body: unknown): string {
  const message = (body as { message?: unknown } | null)?.message;
  const text = Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : null;
  if (status === 429) return 'Too many requests with this key: wait a minute and try again.';
  return text === null ? `The server answered HTTP ${status}.` : `${text} (HTTP ${status})`;
}

// ---- session ----

async function signIn(key: string): Promise<void> {
  ui.signinError.hidden = true;
  const submit = required<HTMLButtonElement>('[data-testid=signin-submit]');
  submit.disabled = true;
  try {
    // the cheapest authenticated call: one message of whatever the key may see
    await request<MessageList>('/support/messages?limit=1', { key });
    sessionStorage.setItem(KEY_STORAGE, key);
    ui.keyInput.value = '';
    route();
  } catch (error) {
    const status = (error as ApiError).status;
    showSignInError(status === 401 ? 'That key was not accepted. Check it and try again.' : (error as Error).message);
  } finally {
    submit.disabled = false;
  }
}

function showSignInError(text: string): void {
  ui.signinError.textContent = text;
  ui.signinError.hidden = false;
}

function signOut(reason?: string): void {
  sessionStorage.removeItem(KEY_STORAGE);
  route();
  if (reason !== undefined) showSignInError(reason);
}

// ---- routing ----

type Route = { view: 'search'; params: URLSearchParams } | { view: 'message'; id: string } | { view: 'player'; id: string; brand: string | null };

function currentRoute(): Route {
  const raw = location.hash.replace(/^#/, '');
  const queryAt = raw.indexOf('?');
  const path = queryAt < 0 ? raw : raw.slice(0, queryAt);
  const params = new URLSearchParams(queryAt < 0 ? '' : raw.slice(queryAt + 1));
  const [view, id] = path.split('/').filter((part) => part.length > 0);
  const decoded = id === undefined ? '' : safeDecode(id);
  if (view === 'message' && decoded !== '') return { view: 'message', id: decoded };
  if (view === 'player' && decoded !== '') return { view: 'player', id: decoded, brand: params.get('brand') };
  return { view: 'search', params };
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

const messageHref = (id: string): string => `#/message/${encodeURIComponent(id)}`;
const playerHref = (id: string, brand: string): string => `#/player/${encodeURIComponent(id)}?brand=${encodeURIComponent(brand)}`;

/** Bumped on every navigation: an answer for a view no longer shown is dropped. */
let generation = 0;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;

function route(): void {
  generation++;
  clearTimeout(refreshTimer);
  closeConfirm();
  ui.snackbar.hidden = true; // a notice belongs to the view it was given in
  const signedIn = storedKey() !== null;
  ui.signin.hidden = signedIn;
  ui.nav.hidden = !signedIn;
  ui.session.hidden = !signedIn;
  ui.view.replaceChildren();
  if (!signedIn) {
    document.title = 'Sign in · Support console';
    ui.keyInput.focus();
    return;
  }
  const current = currentRoute();
  for (const link of ui.nav.querySelectorAll<HTMLElement>('[data-nav]')) link.classList.toggle('nav__link--active', link.dataset.nav === current.view);
  if (current.view === 'message') void showMessage(current.id, generation);
  else if (current.view === 'player') void showPlayer(current.id, current.brand, generation);
  else void showSearch(current.params, generation);
}

// ---- search ----

const FILTERS = ['ext_user_id', 'im_uid', 'status', 'brand', 'from', 'to'] as const;

async function showSearch(params: URLSearchParams, at: number): Promise<void> {
  document.title = 'Search · Support console';
  const form = searchForm(params);
  const results = el('section', { className: 'card card--flush' });
  ui.view.replaceChildren(el('h1', { className: 'page-title' }, 'Search messages'), form, results);
  const query = new URLSearchParams();
  // limit is not in the form: a link may carry it (e.g. a shorter page)
  for (const name of [...FILTERS, 'limit']) {
    const value = params.get(name);
    if (value !== null && value !== '') query.set(name, value);
  }
  await messageTable(results, query, at, 'No message matches these filters.');
}

function searchForm(params: URLSearchParams): HTMLFormElement {
  const field = (name: string, label: string, input: HTMLElement, wide = false): HTMLElement =>
    el('label', { className: wide ? 'field field--wide' : 'field' }, el('span', { className: 'field__label' }, label), input);
  const text = (name: string, placeholder: string): HTMLInputElement =>
    el('input', { name, value: params.get(name) ?? '', placeholder, spellcheck: 'false', autocomplete: 'off', 'data-testid': `filter-${name}` });
  const status = el(
    'select',
    { name: 'status', 'data-testid': 'filter-status' },
    el('option', { value: '' }, 'any'),
    ...STATUSES.map((s) => el('option', { value: s }, s)),
  );
  status.value = params.get('status') ?? '';
  const instant = (name: string): HTMLInputElement => {
    const iso = params.get(name);
    return el('input', { name, type: 'datetime-local', step: '1', value: iso === null ? '' : toLocalInput(iso), 'data-testid': `filter-${name}` });
  };
  const form = el(
    'form',
    { className: 'card filters', 'data-testid': 'search-form' },
    field('ext_user_id', 'Player (ext_user_id)', text('ext_user_id', 'e.g. 12345'), true),
    field('im_uid', 'im_uid', text('im_uid', "Smartico's id"), true),
    field('status', 'Status', status),
    field('brand', 'Brand', text('brand', 'any')),
    field('from', 'Created from', instant('from')),
    field('to', 'Created to', instant('to')),
    el(
      'div',
      { className: 'filters__actions' },
      el('button', { className: 'btn', type: 'submit', 'data-testid': 'search-submit' }, 'Search'),
      el('a', { className: 'btn btn--ghost', href: '#/search' }, 'Clear'),
    ),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const next = new URLSearchParams();
    for (const name of FILTERS) {
      const raw = data.get(name);
      const value = typeof raw === 'string' ? raw.trim() : '';
      if (value === '') continue;
      // datetime-local is the browser's zone; the API and the link carry UTC
      next.set(name, name === 'from' || name === 'to' ? new Date(value).toISOString() : value);
    }
    const hash = `#/search?${next.toString()}`;
    if (location.hash === hash) route();
    else location.hash = hash;
  });
  return form;
}

/** A dense table of messages with a "More" button over next_cursor; empty, loading and error states in place. */
async function messageTable(container: HTMLElement, query: URLSearchParams, at: number, emptyText: string, first?: MessageList): Promise<void> {
  const body = el('tbody');
  const table = el(
    'table',
    { className: 'table', 'data-testid': 'results' },
    el('thead', {}, el('tr', {}, ...['Created', 'Status', 'Player', 'Brand', 'Message', 'im_uid', 'Id'].map((name) => el('th', {}, name)))),
    body,
  );
  const more = el('button', { className: 'btn btn--ghost', type: 'button', 'data-testid': 'more' }, 'More');
  const footer = el('div', { className: 'table-footer' });
  let cursor: string | null = null;
  let shown = 0;

  const load = async (): Promise<void> => {
    more.disabled = true;
    const page = new URLSearchParams(query);
    if (!page.has('limit')) page.set('limit', String(PAGE_SIZE));
    if (cursor !== null) page.set('cursor', cursor);
    try {
      const list = first !== undefined && cursor === null ? first : await request<MessageList>(`/support/messages?${page.toString()}`);
      if (at !== generation) return;
      for (const message of list.items) body.append(messageRow(message));
      shown += list.items.length;
      cursor = list.next_cursor;
      if (shown === 0) {
        container.replaceChildren(emptyState(emptyText));
        return;
      }
      footer.replaceChildren(
        el('span', { className: 'muted', 'data-testid': 'result-count' }, `${shown} message${shown === 1 ? '' : 's'}${cursor === null ? '' : ', more older'}`),
      );
      if (cursor !== null) footer.append(more);
      container.replaceChildren(table, footer);
    } catch (error) {
      if (at !== generation) return;
      if (shown === 0) container.replaceChildren(errorState(error));
      else notice((error as Error).message);
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener('click', () => void load());
  container.replaceChildren(loadingState('Searching…'));
  await load();
}

function messageRow(message: SupportMessage): HTMLTableRowElement {
  const title = titleOf(message);
  const summary = el(
    'a',
    { className: 'row-link', href: messageHref(message.id) },
    el('span', { className: title === null ? 'cell-title cell-title--missing' : 'cell-title' }, title ?? '(no title)'),
    el('span', { className: 'cell-body' }, plainBody(message)),
  );
  const row = el(
    'tr',
    { 'data-testid': 'result', 'data-id': message.id },
    el('td', { className: 'nowrap' }, timeEl(message.created_at)),
    el('td', {}, statusPills(message)),
    el('td', {}, el('a', { className: 'mono', href: playerHref(message.ext_user_id, message.brand), 'data-testid': 'player-link' }, message.ext_user_id)),
    el('td', {}, el('span', { className: 'chip' }, message.brand)),
    el('td', { className: 'cell-message' }, summary),
    el('td', { className: 'mono cell-clip', title: message.im_uid }, message.im_uid),
    el('td', { className: 'mono nowrap', title: message.id }, `${message.id.slice(0, 8)}…`),
  );
  row.addEventListener('click', (event) => {
    if (!(event.target instanceof Element) || event.target.closest('a') === null) location.hash = messageHref(message.id);
  });
  return row;
}

// ---- message detail ----

async function showMessage(id: string, at: number, refresh = false): Promise<void> {
  if (!refresh) {
    document.title = 'Message · Support console';
    ui.view.replaceChildren(backLink(), loadingState('Loading the message…'));
  }
  let detail: MessageDetail;
  try {
    detail = await request<MessageDetail>(`/support/messages/${encodeURIComponent(id)}`);
  } catch (error) {
    if (at !== generation) return;
    const status = (error as ApiError).status;
    if (refresh && status !== 404) {
      // a failed background refresh keeps what is on screen
      refreshTimer = setTimeout(() => void showMessage(id, at, true), PENDING_REFRESH_MS * 2);
      return;
    }
    ui.view.replaceChildren(
      backLink(),
      status === 404 || status === 400
        ? notFoundState('Message not found', `No message with id ${id} — or it belongs to a brand this key does not reach.`)
        : errorState(error),
    );
    return;
  }
  if (at !== generation) return;
  document.title = `${titleOf(detail.message) ?? 'Message'} · Support console`;
  ui.view.replaceChildren(backLink(), ...messageDetail(detail, at));
  const pending = detail.outbox.some((entry) => entry.state === 'pending');
  if (pending) refreshTimer = setTimeout(() => void showMessage(id, at, true), PENDING_REFRESH_MS);
}

function messageDetail(detail: MessageDetail, at: number): HTMLElement[] {
  const { message } = detail;
  const head = el(
    'header',
    { className: 'detail-head', 'data-testid': 'message-head' },
    el('h1', { className: 'page-title' }, titleOf(message) ?? '(no title)'),
    statusPills(message),
    detail.outbox.some((entry) => entry.state === 'dead')
      ? pill('callback dead', 'state-dead', 'Smartico was not told of every status: see the callbacks')
      : '',
    el('span', { className: 'mono muted', 'data-testid': 'message-id' }, message.id),
  );
  return [
    head,
    el(
      'div',
      { className: 'detail-grid' },
      el('div', { className: 'detail-col' }, preview(message), facts(message)),
      el('div', { className: 'detail-col' }, timeline(detail.timeline), callbacks(detail, at)),
    ),
  ];
}

/** The message as the player saw it. Nothing in it acts: links are shown, not followed (a tracked link would count as the player's click). */
function preview(message: SupportMessage): HTMLElement {
  const card = el('section', { className: 'card', 'data-testid': 'preview' }, sectionTitle('As the player saw it'));
  const phone = el('div', { className: 'preview' });
  const image = stringField(message, 'image_url');
  if (image !== null && isSafeUrl(image)) {
    const img = el('img', { className: 'preview__image', alt: '', loading: 'lazy', decoding: 'async', referrerPolicy: 'no-referrer' });
    img.addEventListener('error', () => img.replaceWith(el('div', { className: 'preview__image preview__image--broken' }, 'Image unavailable')), {
      once: true,
    });
    img.src = image;
    phone.append(img);
  }
  const title = titleOf(message);
  phone.append(el('p', { className: title === null ? 'preview__title preview__title--missing' : 'preview__title' }, title ?? '(no title)'));
  if (message.body_html !== null) phone.append(inertRichBody(message.body_html));
  else phone.append(el('p', { className: 'preview__text' }, message.body.trim() === '' ? '(no text)' : message.body));
  const description = stringField(message, 'description');
  if (description !== null) phone.append(el('p', { className: 'preview__desc' }, description));
  const buttons: HTMLElement[] = [];
  if (message.cta_link !== null) buttons.push(buttonChip(stringField(message, 'cta_text') ?? 'Open', 'call to action', message.cta_link));
  for (const button of message.buttons) {
    const kind = button.link !== null ? 'link' : button.action !== null ? `action ${button.action}` : 'closes the message';
    buttons.push(buttonChip(button.text, kind, button.link));
  }
  if (buttons.length > 0) phone.append(el('div', { className: 'preview__buttons', 'data-testid': 'buttons' }, ...buttons));
  card.append(phone);
  return card;
}

/** body_html was sanitized by the server at ingest; here its links are also disarmed, so nothing in it navigates. */
function inertRichBody(html: string): HTMLElement {
  const container = el('div', { className: 'preview__rich', 'data-testid': 'rich-body' });
  container.innerHTML = html;
  for (const link of container.querySelectorAll('a')) {
    const href = link.getAttribute('href');
    link.removeAttribute('href');
    link.removeAttribute('target');
    if (href !== null) link.title = `links to ${href}`;
  }
  return container;
}

function buttonChip(text: string, kind: string, link: string | null): HTMLElement {
  return el(
    'span',
    { className: 'preview__button', title: link === null ? kind : `${kind}: ${link}`, 'data-testid': 'button' },
    text,
    el('span', { className: 'preview__button-kind' }, kind),
  );
}

function facts(message: SupportMessage): HTMLElement {
  const rows: Array<[string, Node | string]> = [
    ['Player', el('a', { className: 'mono', href: playerHref(message.ext_user_id, message.brand), 'data-testid': 'detail-player' }, message.ext_user_id)],
    ['Brand', message.brand],
    ['Gateway', el('span', { className: 'mono' }, message.gateway_id)],
    ['im_uid', el('span', { className: 'mono' }, message.im_uid)],
    ['Display · priority', `${message.display} · ${message.priority}`],
    ['Category', message.category ?? '—'],
    ['Created', timeEl(message.created_at)],
    ['Expires', optionalTime(message.expires_at, 'never')],
    ['Archived', optionalTime(message.archived_at, 'no')],
    ['Voided', message.voided_at === null ? 'no' : el('span', {}, timeEl(message.voided_at), message.void_reason === null ? '' : ` — ${message.void_reason}`)],
    ['Suppressed', message.suppressed ? 'yes — hidden by a responsible-gambling suppression' : 'no'],
    ['Callback URL', el('span', { className: 'mono break' }, message.callback_url)],
  ];
  return el('section', { className: 'card' }, sectionTitle('Details'), definitionList(rows));
}

function definitionList(rows: Array<[string, Node | string]>): HTMLElement {
  return el('dl', { className: 'facts' }, ...rows.flatMap(([name, value]) => [el('dt', {}, name), el('dd', {}, value)]));
}

function timeline(entries: MessageDetail['timeline']): HTMLElement {
  const card = el('section', { className: 'card', 'data-testid': 'timeline' }, sectionTitle('Timeline'));
  if (entries.length === 0) {
    card.append(emptyState('No event recorded.'));
    return card;
  }
  const list = el('ol', { className: 'timeline' });
  entries.forEach((entry, index) => {
    const previous = entries[index - 1];
    const gap = previous === undefined ? null : Date.parse(entry.at) - Date.parse(previous.at);
    list.append(
      el(
        'li',
        { className: `timeline__step timeline__step--${entry.event}`, 'data-testid': 'timeline-step', 'data-event': entry.event },
        el('span', { className: 'timeline__dot' }),
        el(
          'div',
          { className: 'timeline__main' },
          el('span', { className: 'timeline__event' }, entry.event),
          entry.button_id === undefined ? '' : el('span', { className: 'chip' }, `button ${entry.button_id}`),
          el('span', { className: 'timeline__time' }, timeEl(entry.at)),
        ),
        gap === null ? el('span', { className: 'timeline__gap muted' }, 'start') : el('span', { className: 'timeline__gap' }, `+${duration(gap)}`),
      ),
    );
  });
  card.append(list);
  return card;
}

function callbacks(detail: MessageDetail, at: number): HTMLElement {
  const dead = detail.outbox.filter((entry) => entry.state === 'dead').length;
  const requeue = el(
    'button',
    { className: `btn btn--small ${dead === 0 ? 'btn--ghost' : 'btn--danger'}`, type: 'button', 'data-testid': 'requeue' },
    'Re-queue dead callbacks',
  );
  requeue.disabled = dead === 0;
  requeue.title = dead === 0 ? 'No callback is dead' : `${dead} dead callback${dead === 1 ? '' : 's'} will be tried again`;
  requeue.addEventListener('click', () => void requeueDead(detail.message.id, dead, at));
  const head = el('div', { className: 'section-head' }, sectionTitle('Status callbacks to Smartico'), requeue);
  const card = el('section', { className: 'card', 'data-testid': 'callbacks' }, head);

  if (detail.outbox.length === 0) card.append(emptyState('No status callback queued for this message.'));
  else {
    card.append(
      el(
        'table',
        { className: 'table table--inner', 'data-testid': 'outbox' },
        el('thead', {}, el('tr', {}, ...['Status', 'State', 'Attempts', 'Next attempt', 'Sent', 'Last error'].map((name) => el('th', {}, name)))),
        el(
          'tbody',
          {},
          ...detail.outbox.map((entry) =>
            el(
              'tr',
              { 'data-testid': 'outbox-entry', 'data-status': entry.status, 'data-state': entry.state },
              el('td', {}, entry.status),
              el('td', {}, pill(entry.state, `state-${entry.state}`)),
              el('td', { className: 'num' }, String(entry.attempts)),
              el('td', { className: 'nowrap' }, optionalTime(entry.next_attempt_at, '—')),
              el('td', { className: 'nowrap' }, optionalTime(entry.sent_at, '—')),
              el('td', entry.last_error === null ? {} : { className: 'error-text' }, entry.last_error ?? '—'),
            ),
          ),
        ),
      ),
    );
  }

  card.append(el('h3', { className: 'subhead' }, `Attempts (${detail.callbacks.length})`));
  if (detail.callbacks.length === 0) card.append(emptyState('No callback attempted yet.'));
  else {
    card.append(
      el(
        'table',
        { className: 'table table--inner', 'data-testid': 'attempts' },
        el('thead', {}, el('tr', {}, ...['When', 'Status', 'HTTP', 'Result', 'Duration'].map((name) => el('th', {}, name)))),
        el(
          'tbody',
          {},
          ...detail.callbacks.map((attempt) =>
            el(
              'tr',
              { 'data-testid': 'attempt', 'data-status': attempt.status, 'data-ok': String(attempt.error === null) },
              el('td', { className: 'nowrap' }, timeEl(attempt.attempted_at)),
              el('td', {}, attempt.status),
              el('td', { className: 'num mono' }, attempt.http_status === null ? '—' : String(attempt.http_status)),
              el('td', {}, attempt.error === null ? pill('ok', 'state-sent') : el('span', { className: 'error-text' }, attempt.error)),
              el('td', { className: 'num' }, duration(attempt.duration_ms)),
            ),
          ),
        ),
      ),
    );
  }
  return card;
}

async function requeueDead(id: string, dead: number, at: number): Promise<void> {
  const confirmed = await confirmDialog(
    'Re-queue dead callbacks?',
    `${dead} dead status callback${dead === 1 ? '' : 's'} of this message will be sent to Smartico again, with a fresh retry window.`,
    'Re-queue',
  );
  if (!confirmed || at !== generation) return;
  try {
    const { requeued } = await request<{ requeued: number }>(`/support/messages/${encodeURIComponent(id)}/callbacks/retry`, { method: 'POST' });
    notice(requeued === 0 ? 'Nothing to re-queue: no callback was dead any more.' : `Re-queued ${requeued} callback${requeued === 1 ? '' : 's'}.`);
  } catch (error) {
    notice(`Could not re-queue: ${(error as Error).message}`);
  }
  if (at !== generation) return;
  clearTimeout(refreshTimer);
  await showMessage(id, at, true);
}

// ---- player ----

async function showPlayer(id: string, brand: string | null, at: number): Promise<void> {
  document.title = `Player ${id} · Support console`;
  ui.view.replaceChildren(backLink(), loadingState('Loading the player…'));
  let player: PlayerDetail;
  try {
    player = await request<PlayerDetail>(`/support/players/${encodeURIComponent(id)}${brand === null ? '' : `?brand=${encodeURIComponent(brand)}`}`);
  } catch (error) {
    if (at !== generation) return;
    const status = (error as ApiError).status;
    ui.view.replaceChildren(backLink(), status === 404 ? notFoundState('Player not found', 'This key does not reach that brand.') : errorState(error));
    return;
  }
  if (at !== generation) return;
  const online =
    player.connected === null
      ? pill('unknown', 'state-unknown', 'Some instance did not answer in time')
      : player.connected
        ? pill('online now', 'state-online')
        : pill('offline', 'state-offline');
  const stats = el(
    'section',
    { className: 'stats', 'data-testid': 'player-stats' },
    stat('Connection', online, 'connected'),
    stat('Last seen', player.last_seen_at === null ? 'never' : timeEl(player.last_seen_at), 'last-seen'),
    stat('Unread', el('span', { className: 'stat__number' }, String(player.unread_count)), 'unread'),
    stat('Suppression', suppression(player.suppression), 'suppression'),
  );
  const messages = el('section', { className: 'card card--flush' });
  ui.view.replaceChildren(
    backLink(),
    el(
      'header',
      { className: 'detail-head' },
      el('h1', { className: 'page-title' }, 'Player ', el('span', { className: 'mono' }, player.ext_user_id)),
      el('span', { className: 'chip' }, player.brand),
    ),
    stats,
    el('h2', { className: 'section-title section-title--outside' }, 'Messages'),
    messages,
  );
  const query = new URLSearchParams({ ext_user_id: player.ext_user_id, brand: player.brand });
  await messageTable(messages, query, at, 'This player has no messages.', player.messages);
}

function stat(label: string, value: Node | string, testid: string): HTMLElement {
  return el(
    'div',
    { className: 'card stat', 'data-testid': `stat-${testid}` },
    el('span', { className: 'stat__label' }, label),
    el('div', { className: 'stat__value' }, value),
  );
}

function suppression(value: PlayerDetail['suppression']): HTMLElement {
  if (value.state === 'none') return pill('none', 'state-offline');
  const label = value.state === 'self_excluded' ? 'self-excluded' : 'cooling off';
  return el('span', {}, pill(label, 'state-dead'), value.until === null ? ' indefinitely' : el('span', {}, ' until ', timeEl(value.until)));
}

// ---- pieces ----

function titleOf(message: SupportMessage): string | null {
  return stringField(message, 'title');
}

function stringField(message: SupportMessage, key: string): string | null {
  const value = message.extension?.[key];
  return typeof value === 'string' && value.trim().length > 0 ? value.trim() : null;
}

/** The body as a line of text for the table (a rich body's text, never its markup). */
function plainBody(message: SupportMessage): string {
  if (message.body_html === null) return message.body;
  return new DOMParser().parseFromString(message.body_html, 'text/html').body.textContent ?? '';
}

function statusPills(message: SupportMessage): HTMLElement {
  const pills = el('span', { className: 'pills' }, pill(message.status, `status-${message.status}`));
  pills.dataset.testid = 'status';
  pills.dataset.status = message.status;
  if (message.voided_at !== null) pills.append(pill('voided', 'flag'));
  if (message.suppressed) pills.append(pill('suppressed', 'flag'));
  if (message.archived_at !== null) pills.append(pill('archived', 'flag'));
  return pills;
}

function pill(text: string, kind: string, title?: string): HTMLElement {
  return el('span', { className: `pill pill--${kind}`, ...(title === undefined ? {} : { title }) }, text);
}

function sectionTitle(text: string): HTMLElement {
  return el('h2', { className: 'section-title' }, text);
}

function backLink(): HTMLElement {
  return el('a', { className: 'back', href: '#/search', 'data-testid': 'back' }, '← Search');
}

function loadingState(text: string): HTMLElement {
  return el('div', { className: 'state state--loading', 'data-testid': 'loading', role: 'status' }, el('span', { className: 'spinner' }), text);
}

function emptyState(text: string): HTMLElement {
  return el('div', { className: 'state state--empty', 'data-testid': 'empty' }, text);
}

function notFoundState(title: string, text: string): HTMLElement {
  return el('div', { className: 'state state--empty state--big', 'data-testid': 'not-found' }, el('strong', {}, title), el('span', {}, text));
}

function errorState(error: unknown): HTMLElement {
  return el('div', { className: 'state state--error', 'data-testid': 'error', role: 'alert' }, (error as Error).message);
}

const TIME_FORMAT = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** A time in the browser's zone; the UTC instant on hover. */
function timeEl(iso: string): HTMLTimeElement {
  const date = new Date(iso);
  return el('time', { dateTime: iso, title: `${date.toISOString().replace('T', ' ').replace('Z', ' UTC')}` }, TIME_FORMAT.format(date));
}

function optionalTime(iso: string | null, none: string): Node | string {
  return iso === null ? none : timeEl(iso);
}

/** A datetime-local value (the browser's zone, to the second) for an instant. */
function toLocalInput(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

function duration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const seconds = Math.round(ms / 1_000);
  if (seconds < 3_600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3_600)} h ${Math.floor((seconds % 3_600) / 60)} min`;
  return `${Math.floor(seconds / 86_400)} d ${Math.floor((seconds % 86_400) / 3_600)} h`;
}

let confirmResolve: ((ok: boolean) => void) | null = null;

function confirmDialog(title: string, text: string, action: string): Promise<boolean> {
  required('[data-testid=confirm-title]').textContent = title;
  required('[data-testid=confirm-text]').textContent = text;
  required('[data-testid=confirm-ok]').textContent = action;
  ui.confirm.returnValue = '';
  ui.confirm.showModal();
  return new Promise((resolve) => (confirmResolve = resolve));
}

function closeConfirm(): void {
  if (ui.confirm.open) ui.confirm.close('cancel');
}

ui.confirm.addEventListener('close', () => {
  confirmResolve?.(ui.confirm.returnValue === 'ok');
  confirmResolve = null;
});

const notice = snackbar(ui.snackbar, 5_000);

// ---- start ----

ui.zone.textContent = `Times in ${Intl.DateTimeFormat().resolvedOptions().timeZone} · UTC on hover`;
ui.signinForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const key = ui.keyInput.value.trim();
  if (key === '') showSignInError('Enter a support key.');
  else void signIn(key);
});
ui.signOut.addEventListener('click', () => signOut());
window.addEventListener('hashchange', route);
route();

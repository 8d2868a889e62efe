import sanitizeHtml from 'sanitize-html';

// what a message body needs: text structure, links and images; no script, style, frame, object, form or handler
const ALLOWED_TAGS = [
  ...['p', 'br', 'hr', 'div', 'span', 'b', 'strong', 'i', 'em', 'u', 's', 'small', 'sub', 'sup', 'mark'],
  ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre', 'code', 'ul', 'ol', 'li'],
  ...['table', 'thead', 'tbody', 'tr', 'th', 'td', 'a', 'img'],
];

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: ALLOWED_TAGS,
  allowedAttributes: {
    a: ['href', 'title', 'target', 'rel'],
    img: ['src', 'alt', 'title', 'width', 'height'],
    td: ['colspan', 'rowspan'],
    th: ['colspan', 'rowspan'],
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['http', 'https'] },
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  // links open apart from the page and learn nothing of it
  transformTags: {
    a: (tagName, attribs) => ({ tagName, attribs: { ...attribs, target: '_blank', rel: 'noopener noreferrer' } }),
  },
};

/** extension.body_html made safe to render (SPEC v2 §2), once at ingest; null when absent or nothing is left. */
export function sanitizeRichBody(value: unknown): string | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  const clean = sanitizeHtml(value, OPTIONS).trim();
  return clean === '' ? null : clean;
}

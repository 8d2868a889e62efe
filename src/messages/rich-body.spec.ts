import { sanitizeRichBody } from './rich-body';

// OWASP XSS filter-evasion cases (https://cheatsheetseries.owasp.org/cheatsheets/XSS_Filter_Evasion_Cheat_Sheet.html)
const HOSTILE: Array<[string, string]> = [
  ['script tag', '<script>alert(1)</script>'],
  ['script with src', '<SCRIPT SRC=https://xss.example/xss.js></SCRIPT>'],
  ['img onerror', '<img src=x onerror="alert(1)">'],
  ['img onerror without quotes', '<IMG SRC=/ onerror=alert(String.fromCharCode(88,83,83))></img>'],
  ['javascript: href', '<a href="javascript:alert(1)">x</a>'],
  ['javascript: with entities', '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>'],
  ['javascript: with hex entities, no semicolons', '<a href="&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A;alert(1)">x</a>'],
  ['javascript: with an embedded tab', '<a href="jav\tascript:alert(1);">x</a>'],
  ['javascript: with an embedded newline entity', '<a href="jav&#x0A;ascript:alert(1);">x</a>'],
  ['javascript: mixed case with spaces', '<a href=" JaVaScRiPt:alert(1)">x</a>'],
  ['img javascript: src', '<IMG SRC="javascript:alert(\'XSS\');">'],
  ['svg onload', '<svg onload=alert(1)>'],
  ['svg with script', '<svg><script>alert(1)</script></svg>'],
  ['iframe srcdoc', '<iframe srcdoc="<script>alert(1)</script>"></iframe>'],
  ['iframe src', '<iframe src="https://evil.example"></iframe>'],
  ['style tag', '<style>@import "https://evil.example/x.css";</style>'],
  ['style attribute with expression', '<div style="background:url(javascript:alert(1))">x</div>'],
  ['data URL link', '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>'],
  ['data URL image', '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">'],
  ['object', '<object data="javascript:alert(1)"></object>'],
  ['embed', '<embed src="https://evil.example/x.swf">'],
  ['form with action', '<form action="https://evil.example"><input name=p></form>'],
  ['meta refresh', '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">'],
  ['body onload', '<body onload=alert(1)>'],
  ['event handler on a allowed tag', '<b onmouseover="alert(1)">x</b>'],
  ['malformed nested script', '<scr<script>ipt>alert(1)</scr</script>ipt>'],
  ['protocol-relative link', '<a href="//evil.example/x">x</a>'],
  ['vbscript', '<a href="vbscript:msgbox(1)">x</a>'],
  ['base tag', '<base href="javascript:alert(1)//">'],
  ['link stylesheet', '<link rel="stylesheet" href="javascript:alert(1)">'],
];

describe('sanitizeRichBody', () => {
  it.each(HOSTILE)('%s leaves nothing executable', (_name, html) => {
    const clean = sanitizeRichBody(`<p>before</p>${html}<p>after</p>`) ?? '';
    expect(clean).not.toMatch(/<\s*(script|style|iframe|object|embed|form|input|svg|meta|base|link|body)\b/i);
    expect(clean).not.toMatch(/\son\w+\s*=/i);
    expect(clean).not.toMatch(/(javascript|vbscript|data):/i);
    expect(clean).not.toMatch(/href="\/\//i);
    expect(clean).not.toMatch(/style=/i);
    expect(clean).toContain('<p>before</p>');
  });

  it('keeps structure, safe links (made noopener) and https images', () => {
    expect(
      sanitizeRichBody('<h2>Bonus</h2><p>Get <b>50</b> <a href="https://c.example/p?a=1&amp;b=2">now</a></p><img src="https://c.example/i.png" alt="i">'),
    ).toBe(
      '<h2>Bonus</h2><p>Get <b>50</b> <a href="https://c.example/p?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">now</a></p><img src="https://c.example/i.png" alt="i" />',
    );
    expect(sanitizeRichBody('<a href="mailto:help@c.example">mail</a>')).toContain('href="mailto:help@c.example"');
  });

  it.each([[undefined], [42], [''], ['   '], ['<script>x</script>']])('is null for %j', (value) => {
    expect(sanitizeRichBody(value)).toBeNull();
  });
});

// Peer-controlled text on its way to a terminal: every byte that could steer the terminal (C0/C1
// controls, DEL), reorder what is shown (bidi overrides and isolates) or break encoders (lone
// surrogates) becomes a visible escape. Backslash is doubled so an escape cannot be forged.

const HEX = '0123456789abcdef';

function hex2(code: number): string {
  return HEX[(code >> 4) & 15]! + HEX[code & 15]!;
}

function hex4(code: number): string {
  return hex2(code >> 8) + hex2(code & 0xff);
}

function isBidiControl(code: number): boolean {
  return (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069) || code === 0x200e || code === 0x200f || code === 0x061c;
}

function escapeUnit(s: string, i: number): { text: string; width: number } {
  const code = s.charCodeAt(i);
  if (code === 0x5c) return { text: '\\\\', width: 1 };
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return { text: '\\x' + hex2(code), width: 1 };
  if (code >= 0xd800 && code <= 0xdbff) {
    const next = s.charCodeAt(i + 1);
    if (next >= 0xdc00 && next <= 0xdfff) return { text: s.slice(i, i + 2), width: 2 };
    return { text: '\\u' + hex4(code), width: 1 };
  }
  if (code >= 0xdc00 && code <= 0xdfff) return { text: '\\u' + hex4(code), width: 1 };
  if (isBidiControl(code)) return { text: '\\u' + hex4(code), width: 1 };
  return { text: s[i]!, width: 1 };
}

/**
 * Escapes `s` for display. With `max`, the result is at most `max` characters (code points),
 * ending in '…' when something was cut; an escape sequence is never cut in half.
 */
export function escapeText(s: string, max?: number): string {
  if (max === undefined) {
    let out = '';
    for (let i = 0; i < s.length; ) {
      const unit = escapeUnit(s, i);
      out += unit.text;
      i += unit.width;
    }
    return out;
  }
  if (max <= 0) return '';
  const pieces: string[] = [];
  const lengths: number[] = [];
  let length = 0;
  for (let i = 0; i < s.length; ) {
    const unit = escapeUnit(s, i);
    const units = unit.width === 2 ? 1 : unit.text.length;
    if (length + units > max) {
      while (pieces.length > 0 && length + 1 > max) {
        pieces.pop();
        length -= lengths.pop()!;
      }
      return pieces.join('') + '…';
    }
    pieces.push(unit.text);
    lengths.push(units);
    length += units;
    i += unit.width;
  }
  return pieces.join('');
}

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Peer text for HTML, in element content or a quoted attribute: escaped as for the terminal
 * first (controls, bidi overrides), then every character HTML gives a meaning.
 */
export function escapeHtml(s: string, max?: number): string {
  return htmlEntities(escapeText(s, max));
}

/** Text already escaped for the terminal (escapeText, describeMessage...), made safe for HTML. */
export function htmlEntities(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]!);
}

/**
 * Characters left as they are in Markdown cells; the rest become entities. Not `@` (a GitHub
 * mention), `#` (an issue link), `$` (math), `~` (strikethrough).
 */
const MARKDOWN_PLAIN = /[A-Za-z0-9 .,:;=()+\-/?!'_…]/;
/** The same for mermaid text: not `:`, `-` (arrows), `%` (comments), `;` and `#` (entity codes). */
const MERMAID_PLAIN = /[A-Za-z0-9 .,=()+/?!'_…]/;

/**
 * Peer text for a GitHub Markdown table cell: anything but letters, digits and harmless
 * punctuation becomes a numeric character reference, so no `|`, backtick, `<`, `*`, `[` or
 * newline can end the cell, open code or a link, or inject HTML.
 */
export function escapeMarkdown(s: string, max?: number): string {
  return markdownEntities(escapeText(s, max));
}

/** Text already escaped for the terminal, made safe for a Markdown table cell. */
export function markdownEntities(s: string): string {
  let out = '';
  for (const ch of s) out += MARKDOWN_PLAIN.test(ch) ? ch : `&#${ch.codePointAt(0)};`;
  return out;
}

/**
 * Peer text for a mermaid statement (a message or note text, a participant label): mermaid's own
 * entity codes (`#60;`) for anything but plain characters, so no `;`, `#`, `%%`, `<br>`, arrow,
 * colon-led syntax or newline can end the statement or the code fence around it.
 */
export function escapeMermaid(s: string, max?: number): string {
  return mermaidEntities(escapeText(s, max));
}

/** Text already escaped for the terminal, made safe for a mermaid statement. */
export function mermaidEntities(s: string): string {
  let out = '';
  for (const ch of s) out += MERMAID_PLAIN.test(ch) ? ch : `#${ch.codePointAt(0)};`;
  return out;
}

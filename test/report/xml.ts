/**
 * A tiny strict XML parser for the tests: every tag closed and properly nested, attribute
 * values quoted, no duplicate attributes, `&` only as a known entity, `<` never in text or
 * attribute values, exactly one root element. Throws on the first violation; returns the tree.
 */

export interface El {
  name: string;
  attrs: Record<string, string>;
  children: El[];
  /** Decoded text directly inside this element (children's text excluded). */
  text: string;
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*/;
const ENTITY = /^&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/;

function decode(s: string, where: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '<') throw new Error(`raw '<' in ${where}: ${JSON.stringify(s.slice(Math.max(0, i - 20), i + 20))}`);
    if (c !== '&') {
      out += c;
      continue;
    }
    const m = ENTITY.exec(s.slice(i));
    if (!m) throw new Error(`bare '&' in ${where}: ${JSON.stringify(s.slice(i, i + 20))}`);
    const e = m[1];
    out += e === 'amp' ? '&' : e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'quot' ? '"' : e === 'apos' ? "'" : String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    i += m[0].length - 1;
  }
  return out;
}

export function parseXml(src: string, o: { doctype?: boolean } = {}): El {
  let i = 0;
  if (o.doctype) {
    const m = /^<!DOCTYPE html>\s*/.exec(src);
    if (!m) throw new Error('expected <!DOCTYPE html> first');
    i = m[0].length;
  }
  const root: El = { name: '#document', attrs: {}, children: [], text: '' };
  const stack: El[] = [root];
  while (i < src.length) {
    const lt = src.indexOf('<', i);
    const textEnd = lt < 0 ? src.length : lt;
    if (textEnd > i) {
      const text = decode(src.slice(i, textEnd), `text inside <${stack[stack.length - 1].name}>`);
      if (stack.length === 1 && text.trim() !== '') throw new Error(`text outside the root element: ${JSON.stringify(text.slice(0, 40))}`);
      stack[stack.length - 1].text += text;
    }
    if (lt < 0) break;
    i = lt;
    if (src.startsWith('<!--', i)) {
      const end = src.indexOf('-->', i);
      if (end < 0) throw new Error('unclosed comment');
      i = end + 3;
      continue;
    }
    if (src.startsWith('</', i)) {
      const m = /^<\/([A-Za-z_:][-A-Za-z0-9_:.]*)\s*>/.exec(src.slice(i));
      if (!m) throw new Error(`malformed end tag at ${i}: ${JSON.stringify(src.slice(i, i + 30))}`);
      const top = stack.pop();
      if (!top || top === root || top.name !== m[1]) throw new Error(`</${m[1]}> closes <${top?.name}> at ${i}`);
      i += m[0].length;
      continue;
    }
    i++;
    const nm = NAME.exec(src.slice(i));
    if (!nm) throw new Error(`malformed tag at ${i - 1}: ${JSON.stringify(src.slice(i - 1, i + 30))}`);
    const el: El = { name: nm[0], attrs: {}, children: [], text: '' };
    i += nm[0].length;
    for (;;) {
      const ws = /^\s*/.exec(src.slice(i))![0].length;
      i += ws;
      if (src.startsWith('/>', i)) {
        i += 2;
        stack[stack.length - 1].children.push(el);
        break;
      }
      if (src[i] === '>') {
        i++;
        stack[stack.length - 1].children.push(el);
        stack.push(el);
        break;
      }
      if (ws === 0) throw new Error(`expected whitespace before an attribute in <${el.name}> at ${i}`);
      const an = NAME.exec(src.slice(i));
      if (!an) throw new Error(`malformed attribute in <${el.name}> at ${i}: ${JSON.stringify(src.slice(i, i + 30))}`);
      i += an[0].length;
      if (src[i] !== '=') throw new Error(`attribute ${an[0]} of <${el.name}> has no value`);
      i++;
      const q = src[i];
      if (q !== '"' && q !== "'") throw new Error(`attribute ${an[0]} of <${el.name}> is not quoted`);
      const end = src.indexOf(q, i + 1);
      if (end < 0) throw new Error(`unterminated attribute ${an[0]} of <${el.name}>`);
      if (an[0] in el.attrs) throw new Error(`duplicate attribute ${an[0]} in <${el.name}>`);
      el.attrs[an[0]] = decode(src.slice(i + 1, end), `attribute ${an[0]} of <${el.name}>`);
      i = end + 1;
    }
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1].name}>`);
  if (root.children.length !== 1) throw new Error(`expected one root element, got ${root.children.length}`);
  return root.children[0];
}

export function findAll(el: El, pred: (e: El) => boolean, out: El[] = []): El[] {
  if (pred(el)) out.push(el);
  for (const c of el.children) findAll(c, pred, out);
  return out;
}

export const byClass = (c: string) => (e: El) => (e.attrs.class ?? '').split(/\s+/).includes(c);

/** All text under an element, in document order. */
export function textOf(el: El): string {
  return el.text + el.children.map(textOf).join('');
}

/** Parses an SVG path made of M/L/h/v commands into its subpaths of absolute points. */
export function pathPoints(d: string): Array<Array<[number, number]>> {
  const tokens = d.match(/[MLhvHV]|-?\d*\.?\d+(?:e-?\d+)?/g) ?? [];
  const subs: Array<Array<[number, number]>> = [];
  let cmd = '';
  let x = 0;
  let y = 0;
  for (let k = 0; k < tokens.length; ) {
    const t = tokens[k];
    if (/[MLhvHV]/.test(t)) {
      cmd = t;
      k++;
      continue;
    }
    if (cmd === 'M' || cmd === 'L') {
      x = Number(tokens[k]);
      y = Number(tokens[k + 1]);
      k += 2;
      if (cmd === 'M') {
        subs.push([]);
        cmd = 'L'; // implicit lineto after a moveto
      }
    } else if (cmd === 'h') {
      x += Number(t);
      k++;
    } else if (cmd === 'v') {
      y += Number(t);
      k++;
    } else throw new Error(`unsupported path command ${cmd}`);
    subs[subs.length - 1].push([x, y]);
  }
  return subs;
}

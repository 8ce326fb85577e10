/**
 * A strict JSON reader for file headers (RFC 8259). Unlike `JSON.parse` it rejects duplicate
 * object keys (which `JSON.parse` silently resolves to the last one), keeps objects as `Map`s
 * (so a key such as `__proto__` is just a key), and bounds the nesting depth, so a hostile
 * header can neither hide an entry nor overflow the stack.
 */

/** A parsed JSON value; objects are `Map`s in file order. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export type JsonObject = Map<string, JsonValue>;

/** Thrown by {@link parseJsonStrict}; callers wrap the message into their own error type. */
export class JsonSyntaxError extends Error {}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/**
 * Parses `text` as one JSON value surrounded by optional whitespace.
 * Throws a {@link JsonSyntaxError} saying what was expected where.
 */
export function parseJsonStrict(text: string, maxDepth = 64): JsonValue {
  let pos = 0;
  const fail = (what: string): never => {
    const found = pos < text.length ? JSON.stringify(text.slice(pos, pos + 12)) : 'the end of the text';
    throw new JsonSyntaxError(`${what} at character ${pos}, found ${found}`);
  };
  const skipWs = (): void => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      pos++;
    }
  };
  const parseString = (): string => {
    // pos is at the opening quote.
    pos++;
    let out = '';
    let chunk = pos;
    for (;;) {
      if (pos >= text.length) fail('unterminated string');
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        out += text.slice(chunk, pos);
        pos++;
        return out;
      }
      if (c < 0x20) fail('unescaped control character in a string');
      if (c !== 0x5c) {
        pos++;
        continue;
      }
      out += text.slice(chunk, pos);
      const e = text[pos + 1];
      pos += 2;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const hex = text.slice(pos, pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          pos += 4;
          break;
        }
        default:
          pos -= 2;
          fail('bad escape');
      }
      chunk = pos;
    }
  };
  const parseValue = (depth: number): JsonValue => {
    skipWs();
    if (pos >= text.length) fail('expected a value');
    const c = text[pos];
    if (c === '{' || c === '[') {
      if (depth >= maxDepth) fail(`nesting deeper than ${maxDepth}`);
      pos++;
      skipWs();
      if (c === '[') {
        const arr: JsonValue[] = [];
        if (text[pos] === ']') {
          pos++;
          return arr;
        }
        for (;;) {
          arr.push(parseValue(depth + 1));
          skipWs();
          if (text[pos] === ',') pos++;
          else if (text[pos] === ']') {
            pos++;
            return arr;
          } else fail("expected ',' or ']'");
        }
      }
      const obj: JsonObject = new Map();
      if (text[pos] === '}') {
        pos++;
        return obj;
      }
      for (;;) {
        skipWs();
        if (text[pos] !== '"') fail('expected a string key');
        const keyPos = pos;
        const key = parseString();
        if (obj.has(key)) {
          pos = keyPos;
          fail(`duplicate key ${JSON.stringify(key)}`);
        }
        skipWs();
        if (text[pos] !== ':') fail("expected ':'");
        pos++;
        obj.set(key, parseValue(depth + 1));
        skipWs();
        if (text[pos] === ',') pos++;
        else if (text[pos] === '}') {
          pos++;
          return obj;
        } else fail("expected ',' or '}'");
      }
    }
    if (c === '"') return parseString();
    if (text.startsWith('true', pos)) {
      pos += 4;
      return true;
    }
    if (text.startsWith('false', pos)) {
      pos += 5;
      return false;
    }
    if (text.startsWith('null', pos)) {
      pos += 4;
      return null;
    }
    NUMBER.lastIndex = pos;
    const m = NUMBER.exec(text);
    if (m === null) return fail('expected a value');
    pos += m[0].length;
    return Number(m[0]);
  };
  const value = parseValue(0);
  skipWs();
  if (pos !== text.length) fail('unexpected text after the value');
  return value;
}

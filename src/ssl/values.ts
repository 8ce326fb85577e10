/**
 * Value types of options: how one option's value is read from command-line text and from JSON
 * (a saved config), and what it must be. ssl/config.ts builds its options table from these; a
 * command's own options (cli.ts) use them too.
 */

/** How an option's value is read from the command line and from a saved config. */
export interface ValueType<T> {
  /** What a valid value is, as error messages say it: "an integer ≥ 1". */
  readonly expected: string;
  /** The value a command-line text means, or undefined when it is not valid. */
  text(s: string): T | undefined;
  /** The value a JSON value means, or undefined when it is not valid. */
  json(v: unknown): T | undefined;
  /** The value as the command line writes it (help defaults, error messages). */
  show(v: T): string;
  /** True for on/off flags (`--bn`, `--no-bn`), which take no value on the command line. */
  readonly flag?: boolean;
}

export const isInt = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
export const isNum = (v: unknown, ok: (x: number) => boolean): v is number => typeof v === 'number' && Number.isFinite(v) && ok(v);
/** Number() accepts '', ' ', '0x10' and '1e3'; an option's number must look like a decimal number. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
export const decimal = (s: string): number | undefined => (DECIMAL.test(s.trim()) ? Number(s) : undefined);

/** An integer in [min, max]. */
export function intType(min: number, max = Infinity): ValueType<number> {
  return {
    expected: max === Infinity ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`,
    text: (s) => {
      const n = decimal(s);
      return isInt(n, min, max) ? n : undefined;
    },
    json: (v) => (isInt(v, min, max) ? v : undefined),
    show: String,
  };
}

/** A finite number for which `ok` holds. */
export function numberType(expected: string, ok: (x: number) => boolean): ValueType<number> {
  return {
    expected,
    text: (s) => {
      const n = decimal(s);
      return isNum(n, ok) ? n : undefined;
    },
    json: (v) => (isNum(v, ok) ? v : undefined),
    show: String,
  };
}

/** One of a fixed list of words. */
export function choiceType<T extends string>(choices: readonly T[]): ValueType<T> {
  const ok = (v: unknown): v is T => typeof v === 'string' && (choices as readonly string[]).includes(v);
  return { expected: `one of ${choices.join(', ')}`, text: (s) => (ok(s) ? s : undefined), json: (v) => (ok(v) ? v : undefined), show: (v) => v };
}

/** On/off: `--name` or `--no-name` on the command line, a boolean in JSON. */
export const booleanType: ValueType<boolean> = {
  expected: 'true or false',
  flag: true,
  text: (s) => (s === 'true' ? true : s === 'false' ? false : undefined),
  json: (v) => (typeof v === 'boolean' ? v : undefined),
  show: String,
};

/** `n` numbers written as `a,b,…`, each valid for `item`. */
export function listType<T>(n: number, item: ValueType<T>, expected: string): ValueType<T[]> {
  return {
    expected,
    text: (s) => {
      const parts = s.split(',');
      if (parts.length !== n) return undefined;
      const out = parts.map((p) => item.text(p));
      return out.every((x) => x !== undefined) ? (out as T[]) : undefined;
    },
    json: (v) => {
      if (!Array.isArray(v) || v.length !== n) return undefined;
      const out = v.map((x) => item.json(x));
      return out.every((x) => x !== undefined) ? (out as T[]) : undefined;
    },
    show: (v) => v.map((x) => item.show(x)).join(','),
  };
}

/** A path; `''` on the command line means "none" (null) when `optional`. */
export function pathType(optional: boolean): ValueType<string | null> {
  // A NUL byte makes every file call throw; no path needs one.
  const ok = (s: string) => s !== '' && !s.includes('\0') && s.length <= 4096;
  return {
    expected: optional ? 'a directory path' : 'a non-empty path',
    text: (s) => (ok(s) ? s : optional && s === '' ? null : undefined),
    json: (v) => (typeof v === 'string' && ok(v) ? v : optional && v === null ? null : undefined),
    show: (v) => v ?? '',
  };
}

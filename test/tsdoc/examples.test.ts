/**
 * Every TSDoc `@example` under src/ type-checks against the library. Each example becomes a module:
 * its own `import` lines and every other name of `spikessl/node` and `spikessl/internals`, then
 * its body inside an async function. An example's free variables (the
 * `train`, `images`, … its prose supplies) are reported as "Cannot find name" and allowed: they
 * type as `any`. Every other error — a wrong argument, a missing option, a name the library does not
 * export — fails the test with the example's file and line.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const src = join(root, 'src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

interface Example {
  where: string;
  code: string;
}

/** The ```ts blocks after each `@example` tag of every doc comment. */
export function examplesOf(file: string, text: string): Example[] {
  const out: Example[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*\*\s*@example\b/.test(lines[i])) continue;
    let j = i + 1;
    while (j < lines.length && !/^\s*\*\s*```/.test(lines[j])) j++;
    const body: string[] = [];
    for (j++; j < lines.length && !/^\s*\*\s*```/.test(lines[j]); j++) body.push(lines[j].replace(/^\s*\* ?/, ''));
    out.push({ where: `${relative(root, file)}:${i + 1}`, code: body.join('\n') });
  }
  return out;
}

/**
 * A free variable: "Cannot find name 'x'" (2304; 2552 with a suggestion; 2582/2593 when the name
 * is a test runner's, as `test`), "No value exists in scope for the shorthand property 'x'"
 * (18004), and a callback parameter without a type because what it is passed to is free (7006).
 */
const ALLOWED = new Set([2304, 2552, 2582, 2593, 18004, 7006]);

describe('TSDoc @example blocks', () => {
  it('every one type-checks against the library (free variables aside)', () => {
    const examples = files(src).flatMap((f) => examplesOf(f, readFileSync(f, 'utf8')));
    expect(examples.length).toBeGreaterThan(100);
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      // No DOM: its globals (name, frames, …) would give examples' free variables a type.
      lib: ['lib.es2022.d.ts'],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [join(root, 'node_modules', '@types')],
      paths: { spikessl: [join(src, 'index.ts')], 'spikessl/node': [join(src, 'node.ts')], 'spikessl/internals': [join(src, 'internals.ts')] },
    };
    // Every name the entries export, for the examples that import nothing.
    const probe = ts.createProgram([join(src, 'node.ts'), join(src, 'internals.ts')], options);
    const checker = probe.getTypeChecker();
    const names = (entry: string) => checker.getExportsOfModule(checker.getSymbolAtLocation(probe.getSourceFile(join(src, entry))!)!).map((s) => s.name);
    const nodeNames = names('node.ts');
    const internalNames = names('internals.ts').filter((n) => !nodeNames.includes(n));
    /** The example's own imports, then every other name of the entries. */
    const preamble = (imports: string[]) => {
      const own = new Set(imports.flatMap((l) => (/\{([^}]*)\}/.exec(l)?.[1] ?? '').split(',').map((n) => n.trim().replace(/^type\s+/, '').split(/\s+as\s+/).pop()!)));
      const rest = (names: string[], from: string) => `import { ${names.filter((n) => !own.has(n)).join(', ')} } from '${from}';`;
      return [...imports, rest(nodeNames, 'spikessl/node'), rest(internalNames, 'spikessl/internals')].join('\n') + '\n';
    };

    const virtual = new Map<string, Example>();
    const texts = new Map<string, string>();
    examples.forEach((e, i) => {
      const lines = e.code.split('\n');
      const imports = lines.filter((l) => /^import\b/.test(l));
      const body = lines.filter((l) => !/^import\b/.test(l));
      const name = join(root, 'test', 'tsdoc', `__example_${i}.ts`);
      virtual.set(name, e);
      texts.set(name, `${preamble(imports)}export async function example(): Promise<void> {\n${body.join('\n')}\n}\n`);
    });
    const host = ts.createCompilerHost(options);
    const read = host.readFile;
    const getSourceFile = host.getSourceFile;
    host.fileExists = ((exists) => (f: string) => texts.has(f) || exists(f))(host.fileExists);
    host.readFile = (f) => texts.get(f) ?? read(f);
    host.getSourceFile = (f, lang, onError, create) => (texts.has(f) ? ts.createSourceFile(f, texts.get(f)!, lang) : getSourceFile(f, lang, onError, create));
    const program = ts.createProgram([...texts.keys()], options, host);
    const problems: string[] = [];
    for (const [name, e] of virtual) {
      for (const d of program.getSemanticDiagnostics(program.getSourceFile(name))) {
        if (ALLOWED.has(d.code)) continue;
        problems.push(`${e.where}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
      }
      for (const d of program.getSyntacticDiagnostics(program.getSourceFile(name))) problems.push(`${e.where}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
    }
    expect(problems).toEqual([]);
  }, 120_000);
});

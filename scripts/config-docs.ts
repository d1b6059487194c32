// The tables of docs/configuration.md, generated from the zod schema (src/config/schema.ts): each key's
// type, default and meaning. Prose around the tables is written by hand; each table sits between
// `<!-- config-table: <section> -->` and `<!-- /config-table -->`. `npm run gen:docs` rewrites them and
// a test fails when they are stale. A key's meaning is its `.meta({ description })` in the schema;
// `docType` and `docDefault` override what the schema alone would say.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { configSchema } from '../src/config/schema.ts';

const DOC = new URL('../docs/configuration.md', import.meta.url);

interface Def {
  type: string;
  format?: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  element?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  shape?: Record<string, z.ZodType>;
  entries?: Record<string, string>;
  values?: unknown[];
  defaultValue?: unknown;
  checks?: { _zod: { def: { check: string; value?: number; inclusive?: boolean; format?: string } } }[];
}
interface Meta {
  description?: string;
  docType?: string;
  docDefault?: string;
  /** A mapping documented in one row, its keys in prose (permissions' actions). */
  docLeaf?: boolean;
}

const defOf = (s: z.ZodType) => s._zod.def as unknown as Def;
const metaOf = (s: z.ZodType): Meta => (z.globalRegistry.get(s) as Meta | undefined) ?? {};

/** The meta of a key: the first found from the outside in (`.meta()` may sit on a wrapper or inside). */
function keyMeta(s: z.ZodType): Meta {
  const out: Meta = {};
  for (let cur: z.ZodType | undefined = s; cur; cur = innerOf(cur)) {
    const m = metaOf(cur);
    out.description ??= m.description;
    out.docType ??= m.docType;
    out.docDefault ??= m.docDefault;
    out.docLeaf ??= m.docLeaf;
  }
  return out;
}

function innerOf(s: z.ZodType): z.ZodType | undefined {
  const d = defOf(s);
  if (d.innerType) return d.innerType;
  if (d.type === 'pipe') return d.in;
  return undefined;
}

function unwrap(s: z.ZodType): z.ZodType {
  let cur = s;
  for (let next = innerOf(cur); next; next = innerOf(cur)) cur = next;
  return cur;
}

/** How a key's value is written, in words. */
function typeText(s: z.ZodType): string {
  const meta = keyMeta(s);
  if (meta.docType) return meta.docType;
  const u = unwrap(s);
  const d = defOf(u);
  switch (d.type) {
    case 'boolean':
      return 'boolean';
    case 'number': {
      const checks = (d.checks ?? []).map((c) => c._zod.def);
      const int = checks.some((c) => c.check === 'number_format' && c.format?.includes('int'));
      const min = checks.find((c) => c.check === 'greater_than');
      const max = checks.find((c) => c.check === 'less_than');
      const word = int ? 'integer' : 'number';
      if (min && max && min.inclusive && max.inclusive) return `${word} ${min.value}–${max.value}`;
      const parts = [
        min ? `${min.inclusive ? '≥' : '>'} ${min.value}` : '',
        max ? `${max.inclusive ? 'at most' : 'below'} ${max.value}` : '',
      ].filter(Boolean);
      return parts.length ? `${word} ${parts.join(', ')}` : word;
    }
    case 'string': {
      const checks = (d.checks ?? []).map(
        (c) => c._zod.def as { check: string; minimum?: number; maximum?: number; format?: string },
      );
      if (d.format === 'url' || checks.some((c) => c.format === 'url')) return 'URL';
      const min = checks.find((c) => c.check === 'min_length')?.minimum;
      const max = checks.find((c) => c.check === 'max_length')?.maximum;
      if (min !== undefined && max !== undefined) return `text, ${min}–${max} characters`;
      return 'text';
    }
    case 'enum':
      return orList(Object.values(d.entries ?? {}).map((v) => `\`${v}\``));
    case 'array':
      return `list of ${plural(typeText(d.element!))}`;
    case 'object':
      return 'mapping';
    case 'record':
      return 'mapping';
    default:
      return d.type;
  }
}

/** `Slack user id (\`U…\`)` → `Slack user ids (\`U…\`)`; lists of choices stay as they are. */
function plural(type: string): string {
  if (type.startsWith('`') || /^(text|integer|number)\b/.test(type)) return type;
  const paren = type.indexOf(' (');
  const head = paren === -1 ? type : type.slice(0, paren);
  const tail = paren === -1 ? '' : type.slice(paren);
  return `${head.endsWith('s') ? head : `${head}s`}${tail}`;
}

function orList(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

/** The default, as it would be written in YAML; `required`, `absent` or `see below` otherwise. */
function defaultText(s: z.ZodType, required: string): string {
  const meta = keyMeta(s);
  if (meta.docDefault) return meta.docDefault;
  for (let cur: z.ZodType | undefined = s; cur; cur = innerOf(cur)) {
    const d = defOf(cur);
    if (d.type === 'default') return `\`${yamlValue(d.defaultValue)}\``;
    if (d.type === 'prefault') return 'see below';
    if (d.type === 'optional') return 'absent';
  }
  return required;
}

function yamlValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(yamlValue).join(', ')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v);
    return entries.length ? `{ ${entries.map(([k, x]) => `${k}: ${yamlValue(x)}`).join(', ')} }` : '{}';
  }
  return String(v);
}

/** Object keys of a section, nested mappings flattened (`match.tag.key`); list items are described by their keys. */
function rows(s: z.ZodType, prefix = ''): string[][] {
  const u = unwrap(s);
  const d = defOf(u);
  const shape = d.type === 'object' ? d.shape : d.type === 'array' ? objectShape(d.element!) : undefined;
  if (!shape) return [];
  const out: string[][] = [];
  for (const [key, child] of Object.entries(shape)) {
    const path = `${prefix}${key}`;
    const meta = keyMeta(child);
    const inner = defOf(unwrap(child));
    if (meta.description || inner.type !== 'object' || meta.docLeaf)
      out.push([`\`${path}\``, typeText(child), defaultText(child, 'required'), meta.description ?? '']);
    if (inner.type === 'object' && !meta.docLeaf) out.push(...rows(child, `${path}.`));
  }
  return out;
}

function objectShape(s: z.ZodType): Record<string, z.ZodType> | undefined {
  const d = defOf(unwrap(s));
  return d.type === 'object' ? d.shape : undefined;
}

function table(body: string[][]): string {
  const esc = (c: string) => c.replaceAll('|', '\\|').replaceAll('\n', ' ');
  return [
    '| Key | Type | Default | Meaning |',
    '|---|---|---|---|',
    ...body.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

/** Every generated table: `top` (the top-level keys) and one per top-level mapping. */
export function configTables(): Record<string, string> {
  const shape = defOf(configSchema).shape!;
  const tables: Record<string, string> = {
    top: table(
      Object.entries(shape).map(([key, s]) => [
        `\`${key}\``,
        typeText(s),
        defaultText(s, 'required'),
        keyMeta(s).description ?? '',
      ]),
    ),
  };
  for (const [key, s] of Object.entries(shape)) {
    const r = rows(s);
    if (r.length) tables[key] = table(r);
  }
  return tables;
}

/** docs/configuration.md with every marked table regenerated; throws on a missing or unknown marker. */
export async function renderConfigDoc(): Promise<string> {
  const text = await readFile(DOC, 'utf8');
  const tables = configTables();
  const seen = new Set<string>();
  const out = text.replace(
    /<!-- config-table: ([\w-]+) -->\n[\s\S]*?<!-- \/config-table -->/g,
    (_m, name: string) => {
      const t = tables[name];
      if (t === undefined) throw new Error(`docs/configuration.md has a table "${name}" the schema does not`);
      seen.add(name);
      return `<!-- config-table: ${name} -->\n${t}\n<!-- /config-table -->`;
    },
  );
  const missing = Object.keys(tables).filter((n) => !seen.has(n));
  if (missing.length) throw new Error(`docs/configuration.md lacks tables for: ${missing.join(', ')}`);
  return out;
}

if (fileURLToPath(import.meta.url) === process.argv[1]) {
  const tables = configTables();
  if (process.argv.includes('--print'))
    for (const [k, t] of Object.entries(tables)) process.stdout.write(`## ${k}\n${t}\n\n`);
  else {
    await writeFile(DOC, await renderConfigDoc());
    process.stdout.write('wrote docs/configuration.md\n');
  }
}

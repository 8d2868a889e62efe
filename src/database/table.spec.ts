import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { QueryRunner } from 'typeorm';

import { presenceTable } from '../inbox/presence.table';
import { messageEventTable, messageTable } from '../messages/message.table';
import { CALLBACK_STATUSES, MESSAGE_EVENTS } from '../messages/message-status';
import { messageActionTable } from '../operator/message-action.table';
import { suppressionTable } from '../operator/suppression.table';
import { CALLBACK_STATES, callbackAttemptTable, callbackTable } from '../tracking/callback.table';
import { migrations } from './migrations';
import type { Columns, Table } from './table';

type DeclaredTable = Pick<Table<Columns>, 'name' | 'columns'> & { names: readonly string[] };

const DECLARED: DeclaredTable[] = [messageTable, messageEventTable, callbackTable, callbackAttemptTable, presenceTable, suppressionTable, messageActionTable];

interface MigratedColumn {
  type: string;
  nullable: boolean;
  hasDefault: boolean;
}

const TYPES: Record<string, string> = { bigserial: 'bigint', serial: 'integer', int: 'integer', int4: 'integer', int8: 'bigint', int2: 'smallint' };

/** Splits on commas outside parentheses. */
function splitTopLevel(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of body) {
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
      continue;
    }
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    current += char;
  }
  return [...parts, current].map((part) => part.trim()).filter((part) => part !== '');
}

function parseColumn(definition: string): [string, MigratedColumn] {
  const [name, type] = definition.split(/\s+/);
  return [
    name,
    {
      type: TYPES[type.toLowerCase()] ?? type.toLowerCase(),
      nullable: !/\bNOT NULL\b|\bPRIMARY KEY\b/i.test(definition),
      hasDefault: /\bDEFAULT\b|serial\b/i.test(definition),
    },
  ];
}

async function migrationStatements(): Promise<string[]> {
  const statements: string[] = [];
  const runner = { query: (sql: string) => Promise.resolve(void statements.push(sql)) } as unknown as QueryRunner;
  for (const Migration of migrations) await new Migration().up(runner);
  return statements;
}

/** The tables the migrations build, read from the statements their up() runs. */
async function migratedSchema(): Promise<Map<string, Map<string, MigratedColumn>>> {
  const statements = await migrationStatements();
  const tables = new Map<string, Map<string, MigratedColumn>>();
  for (const statement of statements.map((sql) => sql.replace(/--[^\n]*/g, ''))) {
    const created = /^\s*CREATE TABLE (\w+) \(([\s\S]*)\)\s*$/i.exec(statement);
    if (created) {
      const definitions = splitTopLevel(created[2]).filter((part) => !/^(CONSTRAINT|PRIMARY KEY|UNIQUE|CHECK|FOREIGN KEY)\b/i.test(part));
      tables.set(created[1], new Map(definitions.map(parseColumn)));
    }
    for (const [, table, added] of statement.matchAll(/ALTER TABLE (\w+) ADD COLUMN (?:IF NOT EXISTS )?([^,;]+)/gi)) {
      const [name, column] = parseColumn(added.trim());
      tables.get(table)?.set(name, column);
    }
    for (const [, table, dropped] of statement.matchAll(/ALTER TABLE (\w+) DROP COLUMN (?:IF EXISTS )?(\w+)/gi)) tables.get(table)?.delete(dropped);
  }
  return tables;
}

describe('table declarations', () => {
  it.each(DECLARED.map((table) => [table.name, table] as const))('%s matches the migrated schema column for column', async (name, table) => {
    const migrated = (await migratedSchema()).get(name);
    expect(migrated).toBeDefined();
    const declared = Object.fromEntries(Object.entries(table.columns).map(([column, spec]) => [column, { type: spec.type, nullable: spec.nullable }]));
    const actual = Object.fromEntries([...migrated!].map(([column, spec]) => [column, { type: spec.type, nullable: spec.nullable }]));
    expect(declared).toEqual(actual);
  });

  it.each(DECLARED.map((table) => [table.name, table] as const))(
    '%s: a column the INSERT leaves out has a DEFAULT, or is null until set',
    async (name, table) => {
      const migrated = (await migratedSchema()).get(name)!;
      for (const column of table.names) {
        const spec = table.columns[column];
        if (spec.inserted) continue;
        expect({ column, hasDefault: migrated.get(column)?.hasDefault }).toEqual({ column, hasDefault: !spec.nullable });
      }
    },
  );

  it('reads the column lists from the declaration, in its order', () => {
    expect(messageTable.list(['id', 'ext_user_id'], 'm')).toBe('m.id, m.ext_user_id');
    expect(messageTable.recordset(['id', 'extension'])).toBe('id uuid, extension jsonb');
    expect(messageTable.defaulted).toEqual(['created_at']);
    expect(callbackTable.inserted).toEqual(['message_id', 'status', 'funnel_rank']);
  });
});

const SQL_WORDS = new Set(
  `select insert into update delete from where and or not null is in as on conflict do nothing returning with set case when then else end
   order by limit for skip locked join union all exists offset distinct group values ordinality interval epoch extract now unnest count min
   coalesce any desc asc json_to_recordset cim_claim_callbacks cim_suppression_at cim_player_lock_key pg_advisory_xact_lock gen_random_uuid jsonb_build_object timestamptz cross lateral left statement_timestamp float8`.split(
    /\s+/,
  ),
);

/** Each template literal of a TypeScript source, nested templates inlined where they are interpolated. */
export function templates(source: string): string[] {
  const found: string[] = [];
  let at = 0;
  const skipQuoted = (quote: string): void => {
    for (at += 1; at < source.length && source[at] !== quote; at += 1) if (source[at] === '\\') at += 1;
    at += 1;
  };
  const readTemplate = (): string => {
    let text = '';
    for (at += 1; at < source.length && source[at] !== '`'; at += 1) {
      if (source[at] === '\\') at += 1;
      else if (source[at] === '$' && source[at + 1] === '{') {
        at += 2;
        text += ` ${readExpression()} `;
      } else text += source[at];
    }
    return text;
  };
  // the templates inside `${…}`, up to its closing brace
  const readExpression = (): string => {
    let depth = 0;
    let inner = '';
    for (; at < source.length; at += 1) {
      const char = source[at];
      if (char === '`') inner += readTemplate();
      else if (char === "'" || char === '"') {
        skipQuoted(char);
        at -= 1;
      } else if (char === '{') depth += 1;
      else if (char === '}' && depth-- === 0) return inner;
    }
    return inner;
  };
  for (; at < source.length; at += 1) {
    const char = source[at];
    if (char === '/' && source[at + 1] === '/') at = source.indexOf('\n', at);
    else if (char === '/' && source[at + 1] === '*') at = source.indexOf('*/', at) + 1;
    else if (char === "'" || char === '"') {
      skipQuoted(char);
      at -= 1;
    } else if (char === '`') found.push(readTemplate());
    if (at < 0) break;
  }
  return found;
}

/** The identifiers of `sql` that name no declared column of the tables it reads (nor a keyword or a name it defines). */
export function undeclaredColumns(sql: string, tables: DeclaredTable[]): string[] {
  const byName = new Map(tables.map((table) => [table.name, new Set<string>(table.names)]));
  const text = sql
    .replace(/'[^']*'/g, ' ')
    .replace(/"\w+"/g, ' ')
    .replace(/::\w+(\[\])?/g, ' ')
    .replace(/\$\d+/g, ' ');
  const local = new Set<string>();
  for (const [, name] of text.matchAll(/(\w+)\s+AS\s*\(/gi)) local.add(name);
  for (const [, name, columns] of text.matchAll(/\bAS\s+(\w+)(?:\s*\(([^)]*)\))?/gi)) {
    local.add(name);
    for (const column of (columns ?? '').split(',')) if (column.trim() !== '') local.add(column.trim().split(/\s+/)[0]);
  }
  const aliases = new Map<string, string>();
  for (const [, table, alias] of text.matchAll(/(?:\bFROM|\bJOIN|\bUPDATE|,)\s+(\w+)\s+(\w+)/gi)) {
    if (SQL_WORDS.has(alias.toLowerCase())) continue;
    local.add(alias);
    if (byName.has(table)) aliases.set(alias, table);
  }
  const read = [...text.matchAll(/\b(?:FROM|JOIN|UPDATE|INTO)\s+(\w+)/gi)].map(([, table]) => table).filter((table) => byName.has(table));
  const visible = new Set((read.length > 0 ? read : [...byName.keys()]).flatMap((table) => [...byName.get(table)!]));
  const wrong: string[] = [];
  for (const [, qualifier, name] of text.matchAll(/(?:\b(\w+)\.)?\b([A-Za-z_]\w*)\b(?!\.)/g)) {
    if (/^\d/.test(name)) continue;
    const table = qualifier === undefined ? undefined : (aliases.get(qualifier) ?? (byName.has(qualifier) ? qualifier : undefined));
    if (table !== undefined) {
      if (!byName.get(table)!.has(name)) wrong.push(`${qualifier}.${name}`);
    } else if (!SQL_WORDS.has(name.toLowerCase()) && !local.has(name) && !byName.has(name) && !visible.has(name)) wrong.push(name);
  }
  return wrong;
}

describe('status vocabulary', () => {
  it.each([
    ['event', MESSAGE_EVENTS],
    ['status', CALLBACK_STATUSES],
    ['state', CALLBACK_STATES],
  ])('the last CHECK on %s allows exactly what message-status.ts and callback.table.ts list', async (column, values) => {
    const checks = [...(await migrationStatements()).join('\n').matchAll(new RegExp(`CHECK \\(${column} IN \\(([^)]*)\\)\\)`, 'g'))];
    const allowed = checks[checks.length - 1][1].split(',').map((value) => value.trim().replace(/'/g, ''));
    expect([...allowed].sort()).toEqual([...values].sort());
  });
});

describe('SQL in the repositories', () => {
  const sources = ['messages', 'tracking', 'support', 'inbox', 'operator']
    .flatMap((folder) => readdirSync(join(__dirname, '..', folder)).map((file) => join(__dirname, '..', folder, file)))
    .filter((path) => /\.(repository|sql)\.ts$|message-status\.ts$|inbox-cursor\.ts$/.test(path));

  it.each(sources.map((path) => [path.slice(path.indexOf('src/')), path]))('%s names only declared columns', (_name, path) => {
    const wrong = templates(readFileSync(path, 'utf8')).flatMap((sql) => undeclaredColumns(sql, DECLARED));
    expect(wrong).toEqual([]);
  });

  it('catches a column the declaration lacks, and one of the wrong table', () => {
    expect(undeclaredColumns('SELECT id, rejected_at FROM messages WHERE read_at IS NULL', DECLARED)).toEqual(['rejected_at']);
    expect(undeclaredColumns('SELECT m.id, c.body FROM messages m JOIN callbacks c ON c.message_id = m.id', DECLARED)).toEqual(['c.body']);
    expect(undeclaredColumns('SELECT last_seen_at FROM messages', DECLARED)).toEqual(['last_seen_at']);
  });

  it('reads templates with nested templates, leaving comments and strings out', () => {
    expect(templates("// `not this`\nconst a = 'x`y'; const b = `SELECT ${f(`id FROM t`)} WHERE ${x ? 'a' : 'b'}`;")).toEqual(['SELECT  id FROM t  WHERE   ']);
  });
});

export type SqlType = 'uuid' | 'text' | 'jsonb' | 'timestamptz' | 'bigint' | 'smallint' | 'integer' | 'boolean';

/** One column of a table declaration; `T` is its value as pg hands it to us. */
export class Column<T, Inserted extends boolean = true> {
  declare readonly value: T;

  constructor(
    readonly type: SqlType,
    readonly nullable: boolean = false,
    /** false: the INSERT that creates the row leaves it to its DEFAULT, or null until an update sets it */
    readonly inserted: Inserted = true as Inserted,
  ) {}

  orNull(): Column<T | null, Inserted> {
    return new Column<T | null, Inserted>(this.type, true, this.inserted);
  }

  notInserted(): Column<T, false> {
    return new Column<T, false>(this.type, this.nullable, false);
  }
}

export const uuid = (): Column<string> => new Column('uuid');
export const text = <T extends string = string>(): Column<T> => new Column('text');
export const jsonb = <T>(): Column<T> => new Column('jsonb');
export const timestamptz = (): Column<Date> => new Column('timestamptz');
// pg hands int8 over as text: it may not fit a number
export const bigint = (): Column<string> => new Column('bigint');
export const integer = (): Column<number> => new Column('integer');
export const smallint = (): Column<number> => new Column('smallint');
export const boolean = (): Column<boolean> => new Column('boolean');

export type Columns = Record<string, Column<unknown, boolean>>;

type ColumnsOf<T> = T extends Table<infer C> ? C : never;
export type RowOf<T> = { [K in keyof ColumnsOf<T>]: ColumnsOf<T>[K]['value'] };
export type InsertOf<T> = { [K in keyof ColumnsOf<T> as ColumnsOf<T>[K] extends Column<unknown, true> ? K : never]: ColumnsOf<T>[K]['value'] };

export class Table<C extends Columns> {
  readonly names: ReadonlyArray<keyof C & string>;
  readonly inserted: ReadonlyArray<keyof C & string>;
  readonly defaulted: ReadonlyArray<keyof C & string>;
  readonly unset: ReadonlyArray<keyof C & string>;

  constructor(
    readonly name: string,
    readonly columns: C,
  ) {
    this.names = Object.keys(columns);
    this.inserted = this.names.filter((name) => columns[name].inserted);
    this.defaulted = this.names.filter((name) => !columns[name].inserted && !columns[name].nullable);
    this.unset = this.names.filter((name) => !columns[name].inserted && columns[name].nullable);
  }

  list(names: ReadonlyArray<keyof C & string> = this.names, alias?: string): string {
    return names.map((name) => (alias === undefined ? name : `${alias}.${name}`)).join(', ');
  }

  recordset(names: ReadonlyArray<keyof C & string> = this.names): string {
    return names.map((name) => `${name} ${this.columns[name].type}`).join(', ');
  }

  col(name: keyof C & string): string {
    return name;
  }
}

export function defineTable<C extends Columns>(name: string, columns: C): Table<C> {
  return new Table(name, columns);
}

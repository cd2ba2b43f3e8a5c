/**
 * The part of better-sqlite3's API this project uses. The package ships no types and
 * @types/better-sqlite3 is not installed; replace this file with it when it is.
 */
declare module 'better-sqlite3' {
  namespace Database {
    type BindValue = string | number | bigint | Buffer | null;

    interface RunResult {
      changes: number;
      lastInsertRowid: number | bigint;
    }

    interface Statement {
      run(...params: BindValue[]): RunResult;
      get(...params: BindValue[]): unknown;
      all(...params: BindValue[]): unknown[];
    }

    interface Options {
      readonly?: boolean;
      fileMustExist?: boolean;
      timeout?: number;
    }

    interface Database {
      readonly open: boolean;
      readonly name: string;
      prepare(sql: string): Statement;
      exec(sql: string): this;
      pragma(source: string, options?: { simple?: boolean }): unknown;
      transaction<Args extends unknown[], Result>(fn: (...args: Args) => Result): (...args: Args) => Result;
      close(): this;
    }

    interface DatabaseConstructor {
      new (filename: string, options?: Options): Database;
      SqliteError: new (message: string, code: string) => Error & { code: string };
    }
  }

  const Database: Database.DatabaseConstructor;
  export = Database;
}

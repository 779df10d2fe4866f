// Typed reads of environment variables, shared by every reader of AIPAYGENT_* (src/env.ts, payments, sign-up).

export interface EnvReader {
  /** The variable's text; undefined when unset or empty. */
  get(name: string): string | undefined;
  /** An integer, or undefined when unset or empty; anything else is a TypeError naming the variable. */
  int(name: string): number | undefined;
  /** 1/true or 0/false, or undefined when unset or empty; anything else is a TypeError naming the variable. */
  flag(name: string): boolean | undefined;
}

export function envReader(env: NodeJS.ProcessEnv): EnvReader {
  const get = (name: string) => (env[name] === '' ? undefined : env[name]);
  return {
    get,
    int(name) {
      const raw = get(name);
      if (raw === undefined) return undefined;
      const n = Number(raw);
      if (!Number.isSafeInteger(n)) throw new TypeError(`${name} must be an integer (got "${raw}")`);
      return n;
    },
    flag(name) {
      const raw = get(name);
      if (raw === undefined) return undefined;
      if (raw === '1' || raw === 'true') return true;
      if (raw === '0' || raw === 'false') return false;
      throw new TypeError(`${name} must be 1 or 0 (got "${raw}")`);
    },
  };
}

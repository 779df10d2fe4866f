// How a benchmark starts another of its scripts: the way it runs itself. `npm run bench` runs the
// tsc output (.bench/, what a user's server runs: no tsx loader, no esbuild name helpers in closures);
// `npx tsx bench/<script>.ts` runs the TypeScript sources.
import { fileURLToPath } from 'node:url';

const compiled = !import.meta.url.endsWith('.ts');

/** Node arguments that run bench script `name` (without extension), e.g. `spawn(process.execPath, scriptArgs('server'))`. */
export function scriptArgs(name: string): string[] {
  const file = fileURLToPath(new URL(`./${name}.${compiled ? 'js' : 'ts'}`, import.meta.url));
  return compiled ? [file] : ['--import', 'tsx', file];
}

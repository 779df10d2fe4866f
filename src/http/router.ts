// Matches (method, path) to a route: exact paths through one Map lookup, ":param" paths by segments.
import type { Method, Route } from './route.js';
import type { CoreResponse } from './types.js';

export type Match =
  | { kind: 'route'; route: Route; params: Record<string, string> }
  /** `render`: the error shape of the routes on that path (Anthropic's under /v1), when they have their own. */
  | { kind: 'method_not_allowed'; allow: string[]; render?: (res: CoreResponse) => CoreResponse }
  /**
   * A path of ours whose parameter is not valid percent-encoded UTF-8 ("/admin/keys/%ZZ"), or empty before
   * another segment ("/admin/keys//rotate", `empty`): a 400, never the host's 404.
   */
  | { kind: 'bad_parameter'; name: string; empty?: true; render?: (res: CoreResponse) => CoreResponse };

interface Pattern {
  segments: string[];
  byMethod: Map<string, Route>;
}

export class Router {
  private readonly exact = new Map<string, Map<string, Route>>();
  private readonly patterns: Pattern[] = [];
  private readonly prefixes: Array<{ prefix: string; route: Route }> = [];
  /** The documented routes (hidden ones are served but not listed). */
  readonly routes: Route[] = [];

  add(route: Route): void {
    if (!route.hidden) this.routes.push(route);
    if (!route.path.includes('/:')) {
      const byMethod = this.exact.get(route.path) ?? new Map<string, Route>();
      byMethod.set(route.method, route);
      this.exact.set(route.path, byMethod);
      return;
    }
    const segments = route.path.split('/');
    let pattern = this.patterns.find((p) => p.segments.join('/') === route.path);
    if (!pattern) this.patterns.push((pattern = { segments, byMethod: new Map() }));
    pattern.byMethod.set(route.method, route);
  }

  /**
   * `route` answers every method on every path under `prefix` that no other route matches: the
   * Anthropic-compatible `/v1` answers Anthropic's JSON 404 there, never the host's HTML page.
   * Served, not documented.
   */
  addPrefix(prefix: string, route: Route): void {
    this.prefixes.push({ prefix, route });
  }

  /** undefined: not a path of ours, the host handles it. */
  match(method: string, rawPath: string): Match | undefined {
    const path = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath;
    const wanted = method === 'HEAD' ? 'GET' : method;
    const byMethod = this.exact.get(path);
    if (byMethod) return pick(byMethod, wanted, {});
    const parts = path.split('/');
    for (const p of this.patterns) {
      if (p.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      let undecodable: string | undefined;
      let empty: string | undefined;
      for (let i = 0; i < parts.length && ok; i++) {
        const seg = p.segments[i]!;
        if (seg.startsWith(':')) {
          const value = safeDecode(parts[i]!);
          // An empty last segment is the parent path (stripped above); an empty one inside is a bad parameter.
          if (value === '') i === parts.length - 1 ? (ok = false) : (empty ??= seg.slice(1));
          else if (value === undefined) undecodable ??= seg.slice(1);
          else params[seg.slice(1)] = value;
        } else ok = seg === parts[i];
      }
      if (ok && (undecodable ?? empty) !== undefined) {
        const render = renderOf(p.byMethod);
        return { kind: 'bad_parameter', name: (undecodable ?? empty)!, ...(undecodable === undefined && { empty: true as const }), ...(render && { render }) };
      }
      if (ok) return pick(p.byMethod, wanted, params);
    }
    for (const f of this.prefixes) if (path === f.prefix || path.startsWith(`${f.prefix}/`)) return { kind: 'route', route: f.route, params: {} };
    return undefined;
  }
}

function pick(byMethod: Map<string, Route>, method: string, params: Record<string, string>): Match {
  const route = byMethod.get(method);
  if (route) return { kind: 'route', route, params };
  const render = renderOf(byMethod);
  return { kind: 'method_not_allowed', allow: [...byMethod.keys()] as Method[], ...(render && { render }) };
}

/** The error shape of the routes on one path, when they have their own (Anthropic's under /v1). */
function renderOf(byMethod: Map<string, Route>): ((res: CoreResponse) => CoreResponse) | undefined {
  let render: ((res: CoreResponse) => CoreResponse) | undefined;
  for (const r of byMethod.values()) if (r.renderError) render = r.renderError.bind(r);
  return render;
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

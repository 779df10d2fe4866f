// A generous estimate of a request's prompt tokens, made before the call to size the hold.

/** What one image costs at most: Anthropic scales images down to about 1.15 megapixels (~1,600 tokens). */
const IMAGE_TOKENS = 1600;
/** Tool use adds a system prompt of a few hundred tokens; counted once when tools are present. */
const TOOLS_OVERHEAD = 1000;
/** Message framing (roles, separators). */
const BASE_OVERHEAD = 64;
/**
 * Bytes per token assumed. English averages about 4 bytes per token, code and CJK less; 3 keeps the
 * estimate above the real count in the usual cases. The real usage is settled after the call anyway.
 */
const BYTES_PER_TOKEN = 3;

/**
 * Estimated prompt tokens of a Messages API request body: UTF-8 bytes of every string (keys
 * excluded) / 3, images at their maximum, base64 documents by their decoded size. Iterative,
 * so a hostile body cannot overflow the stack (its depth is already bounded by the body limits).
 */
export function estimatePromptTokens(body: Record<string, unknown>): number {
  let bytes = 0;
  let images = 0;
  const stack: unknown[] = [body.system, body.messages, body.tools, body.tool_choice];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') bytes += Buffer.byteLength(v, 'utf8');
    else if (Array.isArray(v)) for (const item of v) stack.push(item);
    else if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.type === 'image') {
        images++;
        continue;
      }
      const source = o.type === 'document' ? (o.source as Record<string, unknown> | undefined) : undefined;
      if (source?.type === 'base64' && typeof source.data === 'string') {
        bytes += Math.ceil((source.data.length * 3) / 4);
        continue;
      }
      for (const child of Object.values(o)) stack.push(child);
    }
  }
  const hasTools = Array.isArray(body.tools) && body.tools.length > 0;
  return Math.ceil(bytes / BYTES_PER_TOKEN) + images * IMAGE_TOKENS + BASE_OVERHEAD + (hasTools ? TOOLS_OVERHEAD : 0);
}

/** Estimated tokens of one text, by the same rule (UTF-8 bytes / 3, rounded up): sizes injected memory context. */
export function estimateTextTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / BYTES_PER_TOKEN);
}

/** How many web searches the request allows at most (`max_uses` of a web_search tool; 0 without one). */
export function maxWebSearches(body: Record<string, unknown>): number {
  if (!Array.isArray(body.tools)) return 0;
  let n = 0;
  for (const t of body.tools as Array<Record<string, unknown> | null>) {
    if (t && typeof t.type === 'string' && t.type.startsWith('web_search')) {
      // Without max_uses the model decides; 10 is a generous hold, the real count is settled.
      n += Number.isSafeInteger(t.max_uses) && (t.max_uses as number) > 0 ? (t.max_uses as number) : 10;
    }
  }
  return n;
}

// Standard Webhooks signing: HMAC-SHA256 over "<id>.<timestamp>.<body>" with the endpoint's secret, sent as "v1,<base64>".
import { createHmac } from 'node:crypto';

/** The three headers of one attempt; `timestampSeconds` is the attempt's time (receivers reject stale ones). */
export function signatureHeaders(key: Buffer, id: string, timestampSeconds: number, body: string): Record<string, string> {
  const signature = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(timestampSeconds), 'webhook-signature': `v1,${signature}` };
}

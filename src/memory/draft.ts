// The state a batch of mutations works on: the stored JSON (parsed lazily), its TTL, and what changed.
import { etagOfText } from './codec.js';

/** An expected refusal of one mutation (mapped to an HTTP error by the routes). */
export interface Refusal {
  code: 'precondition_failed' | 'conflict' | 'not_found' | 'payload_too_large' | 'invalid_request' | 'store_unavailable';
  message: string;
}

export const refuse = (code: Refusal['code'], message: string): Refusal => ({ code, message });

export class Draft {
  private text: string | null;
  private value: unknown;
  private parsed = false;
  private etag: string | null;
  /** True once a mutation changed the value (or removed the memory). */
  changed = false;
  /** The TTL the next write uses (null: never expires). */
  ttlMs: number | null;
  /** Operations applied, for the history entry. */
  readonly ops: string[] = [];
  /** Set by a restore: the version it copied. */
  restoredFrom: number | undefined;

  constructor(loaded: { text: string; etag: string; ttlMs: number | null } | null, defaultTtlMs: number | null) {
    this.text = loaded?.text ?? null;
    this.etag = loaded?.etag ?? null;
    this.ttlMs = loaded ? loaded.ttlMs : defaultTtlMs;
  }

  get exists(): boolean {
    return this.parsed ? this.value !== undefined : this.text !== null;
  }

  /** The current value (owned by the draft: a mutation may change it in place, then calls `touched`). */
  getValue(): unknown {
    if (!this.parsed) {
      this.value = this.text === null ? undefined : JSON.parse(this.text);
      this.parsed = true;
    }
    return this.value;
  }

  /** Replaces the value (undefined: the memory is removed). */
  setValue(value: unknown): void {
    this.value = value;
    this.parsed = true;
    this.touched();
  }

  /** Replaces the content with ready JSON text (a store or a restore: no parse needed). */
  setText(text: string, etag: string): void {
    this.text = text;
    this.etag = etag;
    this.parsed = false;
    this.value = undefined;
    this.changed = true;
  }

  /** Records that the value was changed in place. */
  touched(): void {
    this.text = null;
    this.etag = null;
    this.changed = true;
  }

  /**
   * The value when a mutation changed it and it was not serialized yet (else undefined): limits on
   * its shape must be checked before JSON.stringify, which recurses and overflows on deep values.
   */
  unserialized(): unknown {
    return this.text === null && this.parsed ? this.value : undefined;
  }

  /** JSON text of the current value (null when absent). */
  currentText(): string | null {
    if (this.text === null && this.parsed && this.value !== undefined) this.text = JSON.stringify(this.value);
    return this.text;
  }

  /** Content ETag of the current value, computed only when a condition needs it after a change. */
  currentEtag(): string {
    if (this.etag === null) this.etag = etagOfText(this.currentText() ?? 'null');
    return this.etag;
  }
}

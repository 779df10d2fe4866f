// The state a batch of mutations works on: the stored JSON (parsed lazily), its TTL, and what changed.
import { etagOfText } from './codec.js';

/** An expected refusal of one mutation (mapped to an HTTP error by the routes). */
export interface Refusal {
  code: 'precondition_failed' | 'conflict' | 'not_found' | 'payload_too_large' | 'invalid_request' | 'store_unavailable' | 'upstream_error' | 'upstream_timeout';
  message: string;
}

export const refuse = (code: Refusal['code'], message: string): Refusal => ({ code, message });

export class Draft {
  private text: string | null;
  private value: unknown;
  private parsed = false;
  private etag: string | null;
  /** True while the value is one a mutation built (not text a store or restore gave, checked by its door). */
  private built = false;
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
    this.built = false;
    this.changed = true;
  }

  /** Records that the value was changed in place. */
  touched(): void {
    this.text = null;
    this.etag = null;
    this.built = true;
    this.changed = true;
  }

  /**
   * The value a mutation built (else undefined), whether or not a later mutation of the batch already
   * serialized it (for an ETag, or to edit its text): what every write must check before it is stored.
   */
  builtValue(): unknown {
    return this.built ? this.value : undefined;
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

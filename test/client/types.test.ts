// The client's response types and the server's documented response schemas stay one shape (checked by tsc; vitest runs the rest).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type * as C from '../../src/client/types.js';
import type * as A from '../../src/client/admin-types.js';
import type * as S from '../../src/http/openapi-schemas.js';

/** true when both have the same field names. */
type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false;

it('client types match the documented response schemas', () => {
  expectTypeOf<SameKeys<C.MemoryWritten, z.output<typeof S.MemoryStored>>>().toEqualTypeOf<true>();
  expectTypeOf<z.output<typeof S.MemoryStored>>().toExtend<C.MemoryWritten>();
  expectTypeOf<SameKeys<C.Memory, z.output<typeof S.MemoryRetrieved>>>().toEqualTypeOf<true>();
  expectTypeOf<z.output<typeof S.MemoryRetrieved>>().toExtend<C.Memory>();
  expectTypeOf<SameKeys<C.MemoryKey, z.output<typeof S.MemoryKey>>>().toEqualTypeOf<true>();
  expectTypeOf<z.output<typeof S.MemoryKey>>().toExtend<C.MemoryKey>();
  expectTypeOf<SameKeys<C.MemoryListPage, z.output<typeof S.MemoryList>>>().toEqualTypeOf<true>();
  expectTypeOf<z.output<typeof S.MemoryList>>().toExtend<C.MemoryListPage>();
  expectTypeOf<SameKeys<C.MemoryDeleted, z.output<typeof S.MemoryDeleted>>>().toEqualTypeOf<true>();
  expectTypeOf<z.output<typeof S.MemoryDeleted>>().toExtend<C.MemoryDeleted>();
  expectTypeOf<SameKeys<C.UserErased, z.output<typeof S.UserErased>>>().toEqualTypeOf<true>();
  expectTypeOf<z.output<typeof S.UserErased>>().toExtend<C.UserErased>();
  expectTypeOf<SameKeys<C.SearchResults, z.output<typeof S.MemorySearchResults>>>().toEqualTypeOf<true>();
  expectTypeOf<z.output<typeof S.MemorySearchResults>>().toExtend<C.SearchResults>();
  expectTypeOf<SameKeys<C.SearchHit, z.output<typeof S.MemorySearchResults>['results'][number]>>().toEqualTypeOf<true>();
  expectTypeOf<SameKeys<C.SignupChallenge, z.output<typeof S.SignupChallenge>>>().toEqualTypeOf<true>();
  expectTypeOf<z.output<typeof S.SignupChallenge>>().toExtend<C.SignupChallenge>();
  expectTypeOf<SameKeys<C.SignedUp, z.output<typeof S.SignedUp>>>().toEqualTypeOf<true>();
  expectTypeOf<z.output<typeof S.SignedUp>>().toExtend<C.SignedUp>();
  expectTypeOf<SameKeys<C.Balance, z.output<typeof S.Balance>>>().toEqualTypeOf<true>();
  expectTypeOf<z.output<typeof S.Balance>>().toExtend<C.Balance>();
  expectTypeOf<SameKeys<C.LedgerEntry, z.output<typeof S.LedgerEntry>>>().toEqualTypeOf<true>();
  expectTypeOf<z.output<typeof S.LedgerEntry>>().toExtend<C.LedgerEntry>();
  expectTypeOf<SameKeys<C.LedgerPage, z.output<typeof S.Ledger>>>().toEqualTypeOf<true>();
  expectTypeOf<z.output<typeof S.Ledger>>().toExtend<C.LedgerPage>();
  expectTypeOf<SameKeys<A.CreatedKey, z.output<typeof S.KeyCreated>>>().toEqualTypeOf<true>();
  expectTypeOf<z.output<typeof S.KeyCreated>>().toExtend<A.CreatedKey>();
  expectTypeOf<SameKeys<A.RotatedKey, z.output<typeof S.KeyRotated>>>().toEqualTypeOf<true>();
  expectTypeOf<z.output<typeof S.KeyRotated>>().toExtend<A.RotatedKey>();
  expectTypeOf<SameKeys<A.AdminKey, z.output<typeof S.KeyInfo>>>().toEqualTypeOf<true>();
  expectTypeOf<z.output<typeof S.KeyInfo>>().toExtend<A.AdminKey>();
  expectTypeOf<SameKeys<A.AdminKeyList, z.output<typeof S.KeyList>>>().toEqualTypeOf<true>();
  expectTypeOf<SameKeys<A.AccountSummary, z.output<typeof S.AccountSummary>>>().toEqualTypeOf<true>();
  expectTypeOf<z.output<typeof S.AccountSummary>>().toExtend<A.AccountSummary>();
  expectTypeOf<SameKeys<A.AccountPage, z.output<typeof S.AccountList>>>().toEqualTypeOf<true>();
  expectTypeOf<SameKeys<A.AccountDetail, z.output<typeof S.AccountDetail>>>().toEqualTypeOf<true>();
  expectTypeOf<z.output<typeof S.AccountDetail>>().toExtend<A.AccountDetail>();
  expectTypeOf<SameKeys<A.UsageReport, z.output<typeof S.UsageReport>>>().toEqualTypeOf<true>();
  expectTypeOf<z.output<typeof S.UsageReport>>().toExtend<A.UsageReport>();
  expectTypeOf<z.output<typeof S.CreditsGranted>>().toExtend<A.Granted>();
  expectTypeOf<z.output<typeof S.CreditsDuplicate>>().toExtend<A.Granted>();
  expectTypeOf<z.output<typeof S.Payment>>().toExtend<C.PaymentInfo>();
  expectTypeOf<z.output<typeof S.AnthropicMessage>>().toExtend<C.ClaudeMessage>();
  expectTypeOf<z.output<typeof S.PurchasePending>>().toExtend<C.Purchase>();
  expectTypeOf<z.output<typeof S.PurchaseCredited>>().toExtend<C.Purchase>();
  expect(true).toBe(true);
});

it('the client imports no server code: only its own files (it ships to agents, not servers)', () => {
  const dir = fileURLToPath(new URL('../../src/client/', import.meta.url));
  for (const file of readdirSync(dir)) {
    const source = readFileSync(join(dir, file), 'utf8');
    const specifiers = [...source.matchAll(/^\s*(?:import|export)[^'"]*from\s+'([^']+)'/gm)].map((x) => x[1]!);
    expect(specifiers.filter((s) => !s.startsWith('./')), file).toEqual([]);
  }
});

// RFC 7396 and RFC 6902 as their appendices state them, and prototype safety.
//
// The `rfc6902` package (5.4.0) was evaluated and dropped; the cases it got wrong are the own-member
// and "__proto__" tests below: remove "/arr/length" succeeded and deleted the FIRST element; inherited
// names ("/toString") and string members ("/s/length") counted as existing; replace "/arr/-" and
// "/arr/1e0" succeeded and changed nothing; add under a number threw a TypeError; add "/__proto__"
// replaced the object's prototype and "/__proto__/x" wrote "/x"; a real "constructor" member could not
// be tested; values lost their own "__proto__" members; and it went on after a failed operation.
import { describe, expect, it } from 'vitest';
import { applyJsonPatch, type PatchOperation } from '../../src/memory/json-patch.js';
import { parsePointer } from '../../src/memory/json-pointer.js';
import { cloneJson, jsonEqual } from '../../src/memory/json-value.js';
import { applyMergePatch } from '../../src/memory/merge-patch.js';

const J = (s: string): unknown => JSON.parse(s);

describe('JSON Merge Patch (RFC 7396)', () => {
  // Appendix A, row by row: ORIGINAL, PATCH, RESULT.
  const APPENDIX_A: Array<[string, string, string]> = [
    ['{"a":"b"}', '{"a":"c"}', '{"a":"c"}'],
    ['{"a":"b"}', '{"b":"c"}', '{"a":"b","b":"c"}'],
    ['{"a":"b"}', '{"a":null}', '{}'],
    ['{"a":"b","b":"c"}', '{"a":null}', '{"b":"c"}'],
    ['{"a":["b"]}', '{"a":"c"}', '{"a":"c"}'],
    ['{"a":"c"}', '{"a":["b"]}', '{"a":["b"]}'],
    ['{"a":{"b":"c"}}', '{"a":{"b":"d","c":null}}', '{"a":{"b":"d"}}'],
    ['{"a":[{"b":"c"}]}', '{"a":[1]}', '{"a":[1]}'],
    ['["a","b"]', '["c","d"]', '["c","d"]'],
    ['{"a":"b"}', '["c"]', '["c"]'],
    ['{"a":"foo"}', 'null', 'null'],
    ['{"a":"foo"}', '"bar"', '"bar"'],
    ['{"e":null}', '{"a":1}', '{"e":null,"a":1}'],
    ['[1,2]', '{"a":"b","c":null}', '{"a":"b"}'],
    ['{}', '{"a":{"bb":{"ccc":null}}}', '{"a":{"bb":{}}}'],
  ];
  it.each(APPENDIX_A)('Appendix A: %s + %s = %s', (original, patch, result) => {
    const target = J(original);
    const before = JSON.stringify(target);
    expect(applyMergePatch(target, J(patch))).toEqual(J(result));
    expect(JSON.stringify(target)).toBe(before); // the target is never changed in place
  });

  it('the example of section 3', () => {
    const target = J('{"title":"Goodbye!","author":{"givenName":"John","familyName":"Doe"},"tags":["example","sample"],"content":"This will be unchanged"}');
    const patch = J('{"title":"Hello!","phoneNumber":"+01-123-456-7890","author":{"familyName":null},"tags":["example"]}');
    expect(applyMergePatch(target, patch)).toEqual(
      J('{"title":"Hello!","author":{"givenName":"John"},"tags":["example"],"content":"This will be unchanged","phoneNumber":"+01-123-456-7890"}'),
    );
  });

  it('treats "__proto__" and "constructor" as plain members, never touching a prototype', () => {
    const out = applyMergePatch(J('{"a":1}'), J('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}')) as object;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(JSON.stringify(out)).toBe('{"a":1,"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const removed = applyMergePatch(J('{"__proto__":1,"b":2}'), J('{"__proto__":null}'));
    expect(JSON.stringify(removed)).toBe('{"b":2}');
  });
});

describe('JSON Patch (RFC 6902)', () => {
  const ok = (doc: string, ops: string, result: string) => {
    const r = applyJsonPatch(J(doc), J(ops) as PatchOperation[]);
    expect(r).toEqual({ ok: true, value: J(result) });
  };
  const fails = (doc: string, ops: string, reason: 'test' | 'path') => {
    const input = J(doc);
    const r = applyJsonPatch(input, J(ops) as PatchOperation[]);
    expect(r).toMatchObject({ ok: false, reason });
    expect(input).toEqual(J(doc));
  };

  it('A.1 adding an object member', () => ok('{"foo":"bar"}', '[{"op":"add","path":"/baz","value":"qux"}]', '{"baz":"qux","foo":"bar"}'));
  it('A.2 adding an array element', () => ok('{"foo":["bar","baz"]}', '[{"op":"add","path":"/foo/1","value":"qux"}]', '{"foo":["bar","qux","baz"]}'));
  it('A.3 removing an object member', () => ok('{"baz":"qux","foo":"bar"}', '[{"op":"remove","path":"/baz"}]', '{"foo":"bar"}'));
  it('A.4 removing an array element', () => ok('{"foo":["bar","qux","baz"]}', '[{"op":"remove","path":"/foo/1"}]', '{"foo":["bar","baz"]}'));
  it('A.5 replacing a value', () => ok('{"baz":"qux","foo":"bar"}', '[{"op":"replace","path":"/baz","value":"boo"}]', '{"baz":"boo","foo":"bar"}'));
  it('A.6 moving a value', () =>
    ok('{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}', '[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]',
      '{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}'));
  it('A.7 moving an array element', () => ok('{"foo":["all","grass","cows","eat"]}', '[{"op":"move","from":"/foo/1","path":"/foo/3"}]', '{"foo":["all","cows","eat","grass"]}'));
  it('A.8 testing a value: success', () => ok('{"baz":"qux","foo":["a",2,"c"]}', '[{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]', '{"baz":"qux","foo":["a",2,"c"]}'));
  it('A.9 testing a value: error', () => fails('{"baz":"qux"}', '[{"op":"test","path":"/baz","value":"bar"}]', 'test'));
  it('A.10 adding a nested member object', () => ok('{"foo":"bar"}', '[{"op":"add","path":"/child","value":{"grandchild":{}}}]', '{"foo":"bar","child":{"grandchild":{}}}'));
  it('A.11 ignoring unrecognized elements', () => ok('{"foo":"bar"}', '[{"op":"add","path":"/baz","value":"qux","xyz":123}]', '{"foo":"bar","baz":"qux"}'));
  it('A.12 adding to a nonexistent target', () => fails('{"foo":"bar"}', '[{"op":"add","path":"/baz/bat","value":"qux"}]', 'path'));
  it('A.14 ~ escape ordering', () => ok('{"/":9,"~1":10}', '[{"op":"test","path":"/~01","value":10}]', '{"/":9,"~1":10}'));
  it('A.15 comparing strings and numbers', () => fails('{"/":9,"~1":10}', '[{"op":"test","path":"/~01","value":"10"}]', 'test'));
  it('A.16 adding an array value', () => ok('{"foo":["bar"]}', '[{"op":"add","path":"/foo/-","value":["abc","def"]}]', '{"foo":["bar",["abc","def"]]}'));

  it('applies all operations or none: a failed test after an add leaves the document as it was', () => {
    fails('{"a":1}', '[{"op":"add","path":"/b","value":2},{"op":"test","path":"/a","value":2},{"op":"add","path":"/c","value":3}]', 'test');
  });

  it('resolves own members only: inherited names, string members and non-index array tokens do not exist', () => {
    fails('{"arr":[1,2,3]}', '[{"op":"remove","path":"/arr/length"}]', 'path');
    fails('{"a":1}', '[{"op":"remove","path":"/toString"}]', 'path');
    fails('{"s":"abc"}', '[{"op":"test","path":"/s/length","value":3}]', 'test');
    fails('{"arr":[1]}', '[{"op":"replace","path":"/arr/-","value":9}]', 'path');
    fails('{"arr":[1,2]}', '[{"op":"replace","path":"/arr/1e0","value":9}]', 'path');
    fails('{"arr":[1,2]}', '[{"op":"add","path":"/arr/01","value":9}]', 'path');
    fails('{"arr":[1,2]}', '[{"op":"add","path":"/arr/3","value":9}]', 'path');
    fails('{"a":5}', '[{"op":"add","path":"/a/b","value":1}]', 'path');
    fails('{"a":{"b":1}}', '[{"op":"move","from":"/a","path":"/a/b/c"}]', 'path');
  });

  it('treats "__proto__", "constructor" and "prototype" as ordinary member names', () => {
    ok('{}', '[{"op":"add","path":"/__proto__","value":{"polluted":true}}]', '{"__proto__":{"polluted":true}}');
    const added = applyJsonPatch({}, [{ op: 'add', path: '/__proto__', value: { polluted: true } }]);
    expect(added.ok && Object.getPrototypeOf(added.value)).toBe(Object.prototype);
    expect(added.ok && JSON.stringify(added.value)).toBe('{"__proto__":{"polluted":true}}');
    fails('{}', '[{"op":"add","path":"/__proto__/x","value":1}]', 'path');
    ok('{"constructor":"Bob"}', '[{"op":"test","path":"/constructor","value":"Bob"},{"op":"replace","path":"/constructor","value":"Al"}]', '{"constructor":"Al"}');
    const kept = applyJsonPatch({}, [{ op: 'add', path: '/v', value: J('{"__proto__":1,"k":2}') }]);
    expect(kept.ok && JSON.stringify(kept.value)).toBe('{"v":{"__proto__":1,"k":2}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('JSON Pointer syntax (RFC 6901)', () => {
    expect(parsePointer('')).toEqual([]);
    expect(parsePointer('/a~1b/m~0n/')).toEqual(['a/b', 'm~n', '']);
    expect(parsePointer('a')).toBeNull();
    expect(parsePointer('/a~2')).toBeNull();
  });

  it('helpers: cloneJson keeps own "__proto__" members; jsonEqual ignores member order', () => {
    const v = J('{"__proto__":{"x":1},"a":[1,{"b":2}]}');
    const c = cloneJson(v);
    expect(JSON.stringify(c)).toBe(JSON.stringify(v));
    expect(jsonEqual(J('{"a":1,"b":[1,2]}'), J('{"b":[1,2],"a":1}'))).toBe(true);
    expect(jsonEqual(J('[1,2]'), J('[2,1]'))).toBe(false);
    expect(jsonEqual(J('{"a":null}'), J('{}'))).toBe(false);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProperties, PropertiesSyntaxError } from '../../src/config/properties.js';

test('parses the separators, comments and blank lines of server.properties', () => {
  const text = ['# comment', '! also a comment', '', 'a=1', 'b: 2', 'c 3', '  d  =  spaced value ', 'e=', 'f'].join('\n');
  const entries = parseProperties(text).map((e) => [e.key, e.value, e.line]);
  assert.deepEqual(entries, [
    ['a', '1', 4],
    ['b', '2', 5],
    ['c', '3', 6],
    ['d', 'spaced value ', 7],
    ['e', '', 8],
    ['f', '', 9],
  ]);
});

test('joins backslash continuations and keeps escaped backslashes', () => {
  const text = 'listeners=PLAINTEXT://a:1,\\\n    PLAINTEXT://b:2\npath=C:\\\\dir\\\\\nnext=x\r\nu=\\u0041\\tb\\=c';
  const entries = parseProperties(text);
  assert.deepEqual(
    entries.map((e) => [e.key, e.value]),
    [
      ['listeners', 'PLAINTEXT://a:1,PLAINTEXT://b:2'],
      ['path', 'C:\\dir\\'],
      ['next', 'x'],
      ['u', 'A\tb=c'],
    ],
  );
});

test('escaped separators belong to the key', () => {
  assert.deepEqual(parseProperties('a\\=b\\:c=d').map((e) => [e.key, e.value]), [['a=b:c', 'd']]);
});

test('a malformed unicode escape is reported with its line', () => {
  assert.throws(() => parseProperties('ok=1\nbad=\\u12'), (err: unknown) => err instanceof PropertiesSyntaxError && err.line === 2);
});

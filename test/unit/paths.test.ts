import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { containingFolder, folderOf, uriToPath, workDirOf } from '../../server/src/core/util/paths';
import { BoundedCache } from '../../server/src/core/util/boundedCache';
import { documentKind, kindOfLine, sniffKind } from '../../server/src/core/formats/documentKind';

const root = path.resolve('/ws');
const nested = path.join(root, 'data');

test('folderOf: the innermost folder of a nested multi-root workspace, whatever the folder order', () => {
  const file = path.join(nested, 'a.tasks.jsonl');
  assert.equal(folderOf([root, nested], file), nested);
  assert.equal(folderOf([nested, root], file), nested);
  assert.equal(folderOf([root, nested], path.join(root, 'b.jsonl')), root);
  // A folder whose name merely starts the same is not a parent.
  assert.equal(containingFolder([path.join(root, 'dat')], file), undefined);
  // Outside every folder: the first folder (where workspace settings live); none without folders.
  assert.equal(folderOf([nested, root], path.resolve('/elsewhere/x.jsonl')), nested);
  assert.equal(folderOf([], file), undefined);
  assert.equal(workDirOf([], file), nested);
});

test('uriToPath: file URIs only, malformed ones give undefined', () => {
  assert.equal(uriToPath('untitled:Untitled-1'), undefined);
  assert.equal(uriToPath('file://remote-host/%'), undefined);
  assert.equal(uriToPath(`file://${path.join(root, 'a b.jsonl').replace(/ /g, '%20')}`), path.join(root, 'a b.jsonl'));
});

test('documentKind: by name first, then by the first non-blank line of a .jsonl/.json', () => {
  const task = '{"prompt_audio": "a.wav", "prompt_text": "x", "syn_text": "y", "uttid": "u"}';
  const rule = '{"word": "行", "context": "银行", "phoneme": "hang2"}';
  assert.equal(documentKind('x.tasks.jsonl', rule), 'tasks');
  assert.equal(documentKind('G2P_replace_dict.jsonl', task), 'dictionary');
  assert.equal(documentKind('a.g2p.jsonl', ''), 'dictionary');
  assert.equal(documentKind('batch.jsonl', `\n\uFEFF${task}`), 'tasks');
  assert.equal(documentKind('rules.json', `\n  \n${rule}`), 'dictionary');
  assert.equal(documentKind('notes.txt', task), undefined);
  assert.equal(documentKind('other.jsonl', '{"a": 1}'), undefined);
  assert.equal(sniffKind('\n'.repeat(60) + task), undefined, 'only the first 50 lines are looked at');
  assert.equal(kindOfLine('<|ZH|>x'), 'dictionary');
});

test('BoundedCache: at most two generations; a hit in the old one survives the next turn, the rest is forgotten', () => {
  const c = new BoundedCache<string, number>(2);
  c.set('a', 1);
  c.set('b', 2);
  // The current generation is full: 'c' starts a new one, a and b are the old one.
  c.set('c', 3);
  assert.equal(c.size, 3);
  // 'a' is used: it moves to the current generation.
  assert.equal(c.get('a'), 1);
  // The current generation (c, a) is full: 'd' turns it into the old one; 'b', not used, is dropped.
  c.set('d', 4);
  assert.equal(c.get('b'), undefined);
  assert.deepEqual(
    ['a', 'c', 'd'].map((k) => c.get(k)),
    [1, 3, 4],
  );
  assert.ok(c.size <= 4);
  c.clear();
  assert.equal(c.size, 0);
  assert.equal(c.get('a'), undefined);
});

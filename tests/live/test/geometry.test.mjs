// The viewer's pure helpers: letterboxing, pointer mapping, modifiers, shortcuts, backoff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fit, toFraction, fromRemote, modifiers, shortcut, backoff } from '../../../web/live/geometry.js';

test('a wide frame in a tall box is letterboxed top and bottom', () => {
  const r = fit(800, 800, 1280, 720);
  assert.deepEqual(r, { x: 0, y: 175, w: 800, h: 450 });
  // The same picture at twice the pixels (HiDPI) lands in the same place.
  assert.deepEqual(fit(800, 800, 2560, 1440), r);
});

test('points map to fractions of the image, bars map to nothing', () => {
  const r = fit(800, 800, 1280, 720);
  assert.deepEqual(toFraction(400, 400, r), { x: 0.5, y: 0.5 });
  assert.equal(toFraction(400, 100, r), null);
  assert.deepEqual(toFraction(400, 100, r, true), { x: 0.5, y: 0 });
  const back = fromRemote(640, 360, 1280, 720, r);
  assert.deepEqual(back, { x: 400, y: 400 });
});

test('modifiers on every event, Cmd as Ctrl on a Mac', () => {
  assert.equal(modifiers({ ctrlKey: true, shiftKey: true }), 10);
  assert.equal(modifiers({ metaKey: true }), 4);
  assert.equal(modifiers({ metaKey: true }, true), 2);
  assert.equal(modifiers({ altKey: true }), 1);
});

test('paste and copy shortcuts are recognised', () => {
  assert.equal(shortcut({ ctrlKey: true, key: 'v', code: 'KeyV' }), 'paste');
  assert.equal(shortcut({ metaKey: true, key: 'c', code: 'KeyC' }, true), 'copy');
  assert.equal(shortcut({ ctrlKey: true, key: 'a', code: 'KeyA' }), null);
  assert.equal(shortcut({ key: 'v', code: 'KeyV' }), null);
});

test('reconnect backoff grows and is capped', () => {
  const mid = () => 0.5;
  assert.equal(backoff(0, mid), 500);
  assert.equal(backoff(3, mid), 4000);
  assert.equal(backoff(20, mid), 10000);
});

// The viewer's pure helpers: letterboxing, pointer mapping, modifiers, shortcuts, typed
// characters, backoff, close codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  fit, toFraction, fromRemote, modifiers, keyModifiers, typesCharacter, shortcut, backoff, closeMeaning, endedText,
} from '../../../web/live/geometry.js';

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

test('paste, copy and cut shortcuts are recognised', () => {
  assert.equal(shortcut({ ctrlKey: true, key: 'v', code: 'KeyV' }), 'paste');
  assert.equal(shortcut({ metaKey: true, key: 'c', code: 'KeyC' }, true), 'copy');
  // Cut is told apart: the viewer reads the selection before the key empties it.
  assert.equal(shortcut({ ctrlKey: true, key: 'x', code: 'KeyX' }), 'cut');
  assert.equal(shortcut({ metaKey: true, key: 'x', code: 'KeyX' }, true), 'cut');
  // A Russian layout: the character differs, the physical key decides.
  assert.equal(shortcut({ ctrlKey: true, key: 'с', code: 'KeyC' }), 'copy');
  assert.equal(shortcut({ ctrlKey: true, key: 'a', code: 'KeyA' }), null);
  assert.equal(shortcut({ key: 'v', code: 'KeyV' }), null);
});

/** A keydown as a browser reports it; `altGraph` is what getModifierState('AltGraph') says. */
const key = (init, altGraph = false) => ({
  ctrlKey: false, altKey: false, metaKey: false, shiftKey: false, ...init,
  getModifierState: (m) => m === 'AltGraph' && altGraph,
});

test('AltGr and Mac Option characters are typed, never taken for shortcuts', () => {
  // Windows: AltGr is Ctrl+Alt, and the AltGraph state says it is AltGr.
  const at = key({ key: '@', code: 'KeyQ', ctrlKey: true, altKey: true }, true);
  assert.equal(typesCharacter(at), true);
  assert.equal(keyModifiers(at), 0, 'sent without Ctrl and Alt, so the page types it');
  assert.equal(shortcut(at), null);
  const ogonek = key({ key: 'Ą', code: 'KeyA', ctrlKey: true, altKey: true, shiftKey: true }, true);
  assert.equal(keyModifiers(ogonek), 8, 'Shift stays');
  // AltGr+V on a layout where it types a character is not a paste.
  assert.equal(shortcut(key({ key: '„', code: 'KeyV', ctrlKey: true, altKey: true }, true)), null);
  // A German Mac: Option+L is "@"; Option with Cmd or Ctrl is a shortcut.
  const option = key({ key: '@', code: 'KeyL', altKey: true });
  assert.equal(typesCharacter(option, true), true);
  assert.equal(keyModifiers(option, true), 0);
  assert.equal(typesCharacter(key({ key: '@', code: 'KeyL', altKey: true, metaKey: true }), true), false);
  // Off a Mac, Alt+letter stays Alt+letter (menus, access keys).
  assert.equal(typesCharacter(key({ key: 'f', code: 'KeyF', altKey: true })), false);
  assert.equal(keyModifiers(key({ key: 'f', code: 'KeyF', altKey: true })), 1);
  // Real shortcuts keep their modifiers; named keys are not characters.
  const selectAll = key({ key: 'a', code: 'KeyA', ctrlKey: true });
  assert.equal(typesCharacter(selectAll), false);
  assert.equal(keyModifiers(selectAll), 2);
  assert.equal(typesCharacter(key({ key: 'Enter', code: 'Enter' })), false);
  assert.equal(typesCharacter(key({ key: 'ArrowLeft', code: 'ArrowLeft', ctrlKey: true, altKey: true }, true)), false);
  assert.equal(typesCharacter(key({ key: 'é', code: 'Digit2' })), true);
  assert.equal(typesCharacter(key({ key: '\u0008', code: 'Backspace' })), false);
});

test('close codes: ended and expired stop the viewer, anything else retries', () => {
  assert.equal(closeMeaning(4000), 'ended');
  assert.equal(closeMeaning(4001), 'expired');
  for (const code of [1000, 1006, 1011, 4002]) assert.equal(closeMeaning(code), 'retry');
});

test('the ended text says it once, with the reason as a sentence of its own', () => {
  assert.deepEqual(endedText('session', 'stopped by the client'), {
    headline: 'This session has ended.', detail: 'Stopped by the client.',
  });
  assert.deepEqual(endedText('session', 'Session timed out after 15m of inactivity'), {
    headline: 'This session has ended.', detail: 'Session timed out after 15m of inactivity.',
  });
  assert.equal(endedText('session', null).detail, '');
  assert.equal(endedText('expired').headline, 'This link has expired.');
});

test('reconnect backoff grows and is capped', () => {
  const mid = () => 0.5;
  assert.equal(backoff(0, mid), 500);
  assert.equal(backoff(3, mid), 4000);
  assert.equal(backoff(20, mid), 10000);
});

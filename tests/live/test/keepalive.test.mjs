// Keepalive: the server pings every viewer socket (a still page sends nothing, and proxies cut
// quiet WebSockets after a minute or so), and drops a viewer that stops answering. The client
// here is a bare TCP socket speaking just enough WebSocket to see the server's frames; it never
// answers a ping, as a vanished viewer would not.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { startTandem, launchChromium } from '../support.mjs';

let tandem;
let chromium;

before(async () => {
  [tandem, chromium] = await Promise.all([startTandem(), launchChromium()]);
});

after(async () => {
  if (chromium) await chromium.close();
  if (tandem) await tandem.stop();
});

/** Opens the live view's WebSocket of `liveUrl` on a raw socket; `onFrame(opcode)` hears every
 * frame the server sends; resolves with the socket once upgraded. */
function rawViewer(liveUrl, onFrame, onEnd) {
  const url = new URL(liveUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    socket.on('error', reject);
    socket.on('close', onEnd);
    socket.on('connect', () => {
      socket.write([
        `GET ${url.pathname}/ws${url.search} HTTP/1.1`, `Host: ${url.host}`, 'Upgrade: websocket',
        'Connection: Upgrade', `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
        'Sec-WebSocket-Version: 13', '', '',
      ].join('\r\n'));
    });
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString();
        if (!head.startsWith('HTTP/1.1 101')) { reject(new Error(head)); return; }
        upgraded = true;
        buffer = buffer.subarray(end + 4);
        resolve(socket);
      }
      // Server frames are unmasked: opcode, length (7 bits, or 16/64 more), payload.
      for (;;) {
        if (buffer.length < 2) return;
        let length = buffer[1] & 0x7f;
        let offset = 2;
        if (length === 126) { if (buffer.length < 4) return; length = buffer.readUInt16BE(2); offset = 4; }
        if (length === 127) { if (buffer.length < 10) return; length = Number(buffer.readBigUInt64BE(2)); offset = 10; }
        if (buffer.length < offset + length) return;
        onFrame(buffer[0] & 0x0f);
        buffer = buffer.subarray(offset + length);
      }
    });
  });
}

test('the server pings quiet viewers, keeps those that answer and drops one that never does', async () => {
  const session = (await tandem.api('POST', '/sessions', {})).json;
  // A real viewer, whose browser answers pings, watches the same still page.
  const page = await chromium.newPage();
  await page.goto(session.liveUrl);
  await page.waitForFunction(() => window.tandemLive && window.tandemLive.connected);
  const pings = [];
  let closed = null;
  const opened = Date.now();
  await new Promise((resolve, reject) => {
    rawViewer(session.liveUrl, (opcode) => { if (opcode === 0x9) pings.push(Date.now() - opened); }, () => {
      closed = Date.now() - opened;
      resolve();
    }).catch(reject);
  });
  // The first ping comes while nothing else is sent, well within the minute after which
  // proxies cut a quiet socket; the silent viewer is dropped after leaving it unanswered.
  assert.ok(pings.length >= 1, 'a ping came');
  assert.ok(pings[0] < 35000, `first ping after ${pings[0]} ms`);
  assert.ok(closed > pings[0], `dropped (${closed} ms) after an unanswered ping (${pings[0]} ms)`);
  // The real viewer answered the same pings and is still there, never having reconnected.
  await new Promise((r) => setTimeout(r, 3000));
  assert.deepEqual(await page.evaluate(() => [window.tandemLive.connected, window.tandemLive.reconnects]), [true, 0]);
  await page.close();
  await tandem.api('POST', `/sessions/${session.id}/stop`, {});
});

// The Live tab as a person uses it, in Debian's Chromium with a WAV file as the microphone:
// pick an example portrait, open Live, Record, let the file play, Stop; what the page showed
// goes to OUT_DIR for tests/test_browser_live.py to judge.
//
//   node tests/browser/live.mjs URL OUT_DIR SPEECH.wav SECONDS [EXAMPLE]
//   node tests/browser/live.mjs URL OUT_DIR --no-microphone
//
// OUT_DIR gets result.json (the frames the player showed: time, index, jaw opening; its
// counters; the status line), frame-NNNN.jpg (frames caught while playing, the number being
// the frame's index) and page.png. With --no-microphone Chromium has no fake device and no
// fake permission prompt (headless denies it), and result.json says what the page said.
// Exit code 0 when the script ran to the end (the judging is the test's); 1 otherwise.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [url, outDir, speech, secondsArg, example = 'astronaut'] = process.argv.slice(2);
if (!url || !outDir || !speech) {
  console.error('usage: node live.mjs URL OUT_DIR SPEECH.wav SECONDS [EXAMPLE] | --no-microphone');
  process.exit(2);
}
const noMicrophone = speech === '--no-microphone';
const recordSeconds = Number(secondsArg || 10);
const executablePath = process.env.VASA_CHROMIUM || '/usr/bin/chromium';
const started = Date.now();
const log = (message) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${message}`);
fs.mkdirSync(outDir, { recursive: true });

const microphone = noMicrophone ? [] : [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream', // grants the permission prompt
  // %noloop: play the file once, then silence, instead of starting it again
  `--use-file-for-fake-audio-capture=${path.resolve(speech)}%noloop`,
];
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'vasa-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  viewport: { width: 1280, height: 1000 },
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--autoplay-policy=no-user-gesture-required',
    ...microphone,
  ],
});
const page = context.pages()[0] ?? (await context.newPage());
const problems = [];
page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));

const toasts = page.locator('[data-testid="toast-text"]');
const statusText = async () => (await page.locator('#live-status').innerText()).trim();
const result = { problems, toasts: [], status: null, frames: [], counters: null };

let failed = false;
try {
  log(`opening ${url}`);
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  await page.locator('#examples').waitFor({ timeout: 60_000 });
  log(`picking the example portrait "${example}"`);
  await page.locator('#examples').getByRole('button', { name: example, exact: true }).click();
  await page.locator('#overlay img').first().waitFor({ state: 'visible', timeout: 120_000 });

  log('opening the Live tab');
  await page.getByRole('tab', { name: 'Live' }).click();
  const record = page.locator('#live-microphone').getByRole('button', { name: /record/i });
  await record.first().waitFor({ state: 'visible', timeout: 30_000 });
  await record.first().click();
  log('recording');

  if (noMicrophone) {
    await page.waitForTimeout(6000);
  } else {
    // Frames arrive within a few seconds (the first chunk also builds the session).
    await page.waitForFunction(() => (window.vasaLive?.shown.length ?? 0) > 0, null,
      { timeout: 45_000, polling: 100 });
    log('first frame shown');
    // Catch frames as the player shows them, for a person (and the test) to look at.
    const deadline = Date.now() + recordSeconds * 1000;
    let caught = -1;
    while (Date.now() < deadline) {
      const shot = await page.evaluate(() => {
        const s = window.vasaLive.shown;
        return s.length ? { index: s[s.length - 1].index, jpeg: window.vasaLive.last } : null;
      });
      if (shot && shot.index !== caught) {
        caught = shot.index;
        const name = `frame-${String(shot.index).padStart(4, '0')}.jpg`;
        fs.writeFileSync(path.join(outDir, name), Buffer.from(shot.jpeg.split(',')[1], 'base64'));
      }
      await page.waitForTimeout(150);
    }
    await page.screenshot({ path: path.join(outDir, 'page.png'), fullPage: true });
    log('stop');
    const stop = page.locator('#live-microphone').getByRole('button', { name: /stop/i });
    await stop.first().click();
    await page.waitForFunction(() => document.querySelector('#live-status')?.innerText
      .includes('Stopped.'), null, { timeout: 30_000, polling: 200 });
    await page.waitForTimeout(800); // the finishing batch plays out
    const live = await page.evaluate(() => {
      const { last, ...rest } = window.vasaLive;
      return rest;
    });
    result.frames = live.shown;
    delete live.shown;
    result.counters = live;
    result.stats = (await page.locator('#live-face .vasa-live-stats').innerText()).trim();
  }
  result.status = await statusText();
  result.toasts = await toasts.allInnerTexts();
  log(`status: ${result.status}`);
  if (result.stats) log(`player: ${result.stats}`);
  if (result.toasts.length) log(`toasts: ${result.toasts.join(' | ')}`);
} catch (error) {
  failed = true;
  console.error(`FAILED: ${error.message}`);
  for (const problem of problems) console.error(problem);
  try {
    result.status = await statusText();
    result.toasts = await toasts.allInnerTexts();
    console.error(`status: ${result.status}; toasts: ${result.toasts.join(' | ')}`);
  } catch {}
} finally {
  fs.writeFileSync(path.join(outDir, 'result.json'), JSON.stringify(result, null, 1));
  try {
    await page.screenshot({ path: path.join(outDir, 'end.png'), fullPage: true });
  } catch {}
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

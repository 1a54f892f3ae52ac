// The app as a person uses it, in Debian's Chromium: pick an example portrait, Analyze,
// open Generate, type a sentence, Generate, and check that the talking-face video plays.
//
//   node tests/browser/generate.mjs URL SCREENSHOT.png [EXAMPLE]
//
// Run by tests/test_browser.py, which starts the app. playwright-core (not playwright)
// because it never downloads a browser of its own: it drives the system's Chromium.
// Exit code 0 when the video plays; otherwise 1, with what the page showed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [url, screenshot, example = 'astronaut'] = process.argv.slice(2);
if (!url || !screenshot) {
  console.error('usage: node generate.mjs URL SCREENSHOT.png [EXAMPLE]');
  process.exit(2);
}
const executablePath = process.env.VASA_CHROMIUM || '/usr/bin/chromium';
const generateSeconds = Number(process.env.VASA_BROWSER_GENERATE_S || 300); // CPU only
const SENTENCE = 'Hello students.'; // short: the test renders every frame on the CPU

const started = Date.now();
const log = (message) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${message}`);

// A fresh profile, and no background traffic: the machine's network is closed, and
// Chromium's own update, sync and field-trial calls would only be refused.
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'vasa-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: [
    '--headless',
    '--no-sandbox', // CI runs as root, where Chromium's sandbox refuses to start
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
const page = context.pages()[0] ?? (await context.newPage());
const problems = [];
page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));

// Gradio shows a raised gr.Error as a toast: fail on it at once instead of timing out.
const errorToast = page.locator('[data-testid="toast-body"].error [data-testid="toast-text"]');
async function until(what, locator, seconds) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if ((await errorToast.count()) > 0) {
      throw new Error(`the app showed an error while waiting for ${what}: ` +
        (await errorToast.allInnerTexts()).join(' | '));
    }
    if ((await locator.count()) > 0 && (await locator.first().isVisible())) return locator.first();
    await page.waitForTimeout(250);
  }
  throw new Error(`no ${what} after ${seconds} s`);
}

let failed = false;
try {
  log(`opening ${url} in ${executablePath}`);
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  const generate = page.locator('#generate-button');
  await generate.waitFor({ timeout: 60_000 });

  // The examples are buttons labelled with the portrait's name.
  log(`picking the example portrait "${example}"`);
  await page.locator('#examples').getByRole('button', { name: example, exact: true }).click();
  // The portrait input shows the picture instead of its upload prompt.
  await page.getByRole('button', { name: 'Drop an image file here to upload' })
    .waitFor({ state: 'hidden', timeout: 30_000 });
  // A new portrait is analysed at once: its Face Mesh fit appears beside it.
  await until('Face Mesh fit', page.locator('#overlay img'), 120);

  log('Generate');
  await page.locator('#generate-text textarea').fill(SENTENCE);
  await generate.click();
  await until('live preview', page.locator('#preview img'), generateSeconds);
  log(`generating "${SENTENCE}" (up to ${generateSeconds} s)`);
  const video = await until('video', page.locator('#talking-video video[src]'), generateSeconds);

  // Playable: the browser decoded its first frames, knows its length, and time moves on.
  const state = await video.evaluate(async (v) => {
    if (v.readyState < 2) {
      await new Promise((resolve, reject) => {
        v.addEventListener('loadeddata', resolve, { once: true });
        v.addEventListener('error', () => reject(new Error(`video error ${v.error?.code}: ${v.error?.message}`)), { once: true });
        setTimeout(() => reject(new Error(`video not loaded after 30 s, readyState ${v.readyState}`)), 30_000);
      });
    }
    v.muted = true; // autoplay rules allow muted playback without a user gesture
    await v.play();
    await new Promise((resolve) => setTimeout(resolve, 700));
    v.pause();
    const played = v.currentTime;
    // Show a frame from the middle of the clip in the screenshot.
    await new Promise((resolve) => {
      v.addEventListener('seeked', resolve, { once: true });
      v.currentTime = v.duration / 2;
    });
    return { src: v.currentSrc, readyState: v.readyState, duration: v.duration, played,
      width: v.videoWidth, height: v.videoHeight };
  });
  log(`video: ${JSON.stringify(state)}`);
  const bad = [];
  if (!(state.readyState >= 2)) bad.push(`readyState ${state.readyState} < 2`);
  if (!(state.duration > 0)) bad.push(`duration ${state.duration}`);
  if (!(state.width > 0 && state.height > 0)) bad.push(`size ${state.width}x${state.height}`);
  if (!(state.played > 0)) bad.push(`playback did not advance (currentTime ${state.played})`);
  if (bad.length) throw new Error(`the video does not play: ${bad.join(', ')}`);
  log('the video plays');
} catch (error) {
  failed = true;
  console.error(`FAILED: ${error.message}`);
  for (const problem of problems) console.error(problem);
} finally {
  // A screenshot either way: of the result, or of where it went wrong.
  try {
    fs.mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    log(`screenshot: ${screenshot}`);
  } catch (error) {
    console.error(`no screenshot: ${error.message}`);
  }
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

// The lecturer's demo, in Debian's Chromium, at a projector's 1366x768 and a phone's 390x844:
// on the first screen, without scrolling, Generate and (after clicking it) the live frames;
// then the lecturer's path (pick an example -> Generate -> play -> change the emotion ->
// Generate again), timed, the Edit picture beside its sliders, and the Reenact example.
// On every tab, at both sizes, axe-core (tests/browser/axe.mjs) and a text-contrast pass of
// our own: any contrast or missing-name violation fails, listed one line a node.
//
//   node tests/browser/lecturer.mjs URL OUT_DIR
//
// Run by tests/test_browser.py, which starts the app. Screenshots go to OUT_DIR (desktop-*.png,
// phone-*.png) for a person to look at. Exit code 0 when every check held; otherwise 1.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { axe, BLOCKING, describe } from './axe.mjs';

const [url, outDir] = process.argv.slice(2);
if (!url || !outDir) {
  console.error('usage: node lecturer.mjs URL OUT_DIR');
  process.exit(2);
}
const executablePath = process.env.VASA_CHROMIUM || '/usr/bin/chromium';
const waitSeconds = Number(process.env.VASA_BROWSER_GENERATE_S || 300); // CPU only
const started = Date.now();
const log = (message) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${message}`);
fs.mkdirSync(outDir, { recursive: true });

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'vasa-chromium-'));
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

const failures = [];
const check = (ok, what) => {
  log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

async function until(page, what, locator, seconds) {
  const toast = page.locator('[data-testid="toast-body"].error [data-testid="toast-text"]');
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if ((await toast.count()) > 0) {
      throw new Error(`the app showed an error while waiting for ${what}: ` +
        (await toast.allInnerTexts()).join(' | '));
    }
    if ((await locator.count()) > 0 && (await locator.first().isVisible())) return locator.first();
    await page.waitForTimeout(200);
  }
  throw new Error(`no ${what} after ${seconds} s`);
}

// Inside the first screen: the whole box between the top and the bottom of the viewport.
async function onFirstScreen(page, selector) {
  const box = await page.locator(selector).first().boundingBox();
  const view = page.viewportSize();
  const scrolled = await page.evaluate(() => window.scrollY);
  return box !== null && box.y + scrolled >= 0 && box.y + scrolled + box.height <= view.height &&
    box.x >= 0 && box.x + box.width <= view.width;
}

// In view now (after whatever scrolling the page did itself).
async function inView(page, selector) {
  const box = await page.locator(selector).first().boundingBox();
  const view = page.viewportSize();
  return box !== null && box.y >= 0 && box.y + Math.min(box.height, 120) <= view.height;
}

// Text below 4.5:1 against its background, and pictures without alt text, on what is shown.
async function audit(page) {
  return page.evaluate(() => {
    const rgb = (c) => (c.match(/[\d.]+/g) || ['0', '0', '0']).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const back = (e) => {
      for (; e; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor);
        if (c.length < 4 || c[3] > 0.5) return c;
      }
      return [255, 255, 255];
    };
    const bad = [];
    for (const e of document.querySelectorAll('body *')) {
      const r = e.getBoundingClientRect();
      const s = getComputedStyle(e);
      if (!r.width || !r.height || s.visibility === 'hidden' || Number(s.opacity) < 0.1) continue;
      if (e.tagName === 'IMG' && !(e.getAttribute('alt') || '').trim()) {
        bad.push(`image without alt text: ${e.closest('[id]')?.id}`);
      }
      if (![...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
      const a = lum(rgb(s.color));
      const b = lum(back(e));
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      if (ratio < 4.5) bad.push(`contrast ${ratio.toFixed(2)}: "${e.textContent.trim().slice(0, 30)}"`);
    }
    return bad;
  });
}

// A tab by its name; on a narrow screen Gradio may fold some into its "More tabs" menu.
async function openTab(page, name) {
  const tab = page.getByRole('tab', { name, exact: true });
  if (!(await tab.isVisible())) {
    await page.getByRole('button', { name: 'More tabs' }).click();
    await page.locator('.overflow-dropdown button', { hasText: name }).click();
  } else {
    await tab.click();
  }
  await page.waitForTimeout(500);
}

// Opens a closed accordion (group) by its title, so that axe sees what is inside it.
async function expand(page, title) {
  const head = page.locator('.label-wrap', { hasText: title }).first();
  if ((await head.count()) && !(await head.getAttribute('class')).includes('open')) {
    await head.click();
    await page.waitForTimeout(300);
  }
}

// axe and our own contrast pass on what the page shows now; every rule axe broke is counted
// in `axeCounts` (the note's figures), the contrast and naming ones fail the test.
const axeCounts = {};
async function accessible(page, where) {
  const found = await axe(page);
  for (const v of found) axeCounts[v.rule] = (axeCounts[v.rule] || 0) + v.nodes.length;
  const blocking = found.filter((v) => BLOCKING.has(v.rule));
  const others = found.filter((v) => !BLOCKING.has(v.rule));
  if (others.length) log(`note: ${where}: axe also reports\n    ${describe(others).join('\n    ')}`);
  check(blocking.length === 0, `${where}: axe finds no contrast or naming violation` +
    (blocking.length ? `\n    ${describe(blocking).join('\n    ')}` : ''));
  const bad = await audit(page);
  check(bad.length === 0, `${where}: no text under 4.5:1 nor picture without alt ${bad.join('; ')}`);
}

// Every tab at this size, its closed groups opened; back on Generate after.
async function everyTab(page, name) {
  for (const tab of ['Generate', 'Edit', 'Live', 'Reenact', 'Learn']) {
    await openTab(page, tab);
    if (tab === 'Generate') {
      for (const group of ['Controls', 'Sampling and output']) await expand(page, group);
    }
    if (tab === 'Edit') await until(page, 'Edit picture', page.locator('#edit-image img'), 60);
    await accessible(page, `${name}: ${tab}`);
  }
  await openTab(page, 'Generate');
}

async function plays(page, selector) {
  const video = await until(page, 'video', page.locator(`${selector} video[src]`), waitSeconds);
  return video.evaluate(async (v) => {
    if (v.readyState < 2) {
      await new Promise((resolve, reject) => {
        v.addEventListener('loadeddata', resolve, { once: true });
        setTimeout(() => reject(new Error(`video not loaded, readyState ${v.readyState}`)), 30_000);
      });
    }
    v.muted = true;
    await v.play();
    await new Promise((resolve) => setTimeout(resolve, 500));
    v.pause();
    return v.currentTime > 0 && v.duration > 0;
  });
}

async function open(viewport) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on('pageerror', (error) => log(`page error: ${error.message}`));
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  await page.locator('#generate-button').waitFor({ timeout: 60_000 });
  await page.waitForTimeout(1000); // fonts and images settle
  return { context, page };
}

// The motion curves, in view, for a person to read (a phone's is the test of the figure).
async function curves(page) {
  await openTab(page, 'Generate');
  const plot = page.locator('#curves img');
  if (!(await plot.count())) return log('no motion curves shown');
  await plot.scrollIntoViewIfNeeded();
  const file = path.join(outDir, `${page.viewportSize().width < 700 ? 'phone' : 'desktop'}-curves.png`);
  await page.locator('#curves').screenshot({ path: file });
  log(`screenshot ${file}`);
}

const shot = async (page, name) => {
  const file = path.join(outDir, `${name}.png`);
  await page.screenshot({ path: file });
  log(`screenshot ${file}`);
};

let failed = false;
try {
  for (const [name, viewport] of [['desktop', { width: 1366, height: 768 }],
    ['phone', { width: 390, height: 844 }]]) {
    log(`--- ${name} ${viewport.width}x${viewport.height}`);
    const { context, page } = await open(viewport);
    await shot(page, `${name}-first-screen`);
    for (const what of ['#portrait', '#generate-text', '#generate-voice', '#generate-button']) {
      check(await onFirstScreen(page, what), `${name}: ${what} on the first screen`);
    }
    if (name === 'desktop') {
      check(await onFirstScreen(page, '#preview'), `${name}: #preview on the first screen`);
      check(await onFirstScreen(page, '#generate-recording'), `${name}: the recording box too`);
    }
    check((await page.locator('#generate-input-used').innerText()).includes('the text'),
      `${name}: the page says the text will be used`);

    // The lecturer's path at 256 px (chosen first, untimed, the group closed again), timed:
    // an example, Generate, play, another emotion, Generate.
    await expand(page, 'Sampling and output');
    await page.locator('#tab-generate').getByRole('radio', { name: '256', exact: true }).check();
    await page.locator('.label-wrap', { hasText: 'Sampling and output' }).first().click();
    const path0 = Date.now();
    await page.locator('#examples').getByRole('button', { name: 'grace_hopper', exact: true }).click();
    // A new portrait is analysed at once (its fit is hidden on a phone): wait for the picture.
    await until(page, 'portrait', page.locator('#portrait img'), 60);
    if (name === 'desktop') await until(page, 'Face Mesh fit', page.locator('#overlay img'), 120);
    await page.locator('#generate-button').click();
    await until(page, 'live preview', page.locator('#preview img'), waitSeconds);
    // The page brings the preview into view itself where it is below the button (a phone),
    // while its frames show (at 256 px a run may end within two seconds; then it steps aside).
    const seen = Date.now() + 5000;
    let framesInView = false;
    while (Date.now() < seen && (await page.locator('#preview img').count())) {
      if ((framesInView = await inView(page, '#preview'))) break;
      await page.waitForTimeout(100);
    }
    if (framesInView) await shot(page, `${name}-generating`);
    check(framesInView, `${name}: the live frames are in view after Generate`);
    check(await plays(page, '#talking-video'), `${name}: the video plays`);
    // The result alone: the preview steps aside once the video is there.
    check(!(await page.locator('#preview').isVisible()), `${name}: the preview goes with the video`);
    await shot(page, `${name}-result`);
    if (name === 'desktop') {
      await page.locator('#controls').getByText('Controls', { exact: false }).first().click();
      const emotion = page.locator('#controls input[role="listbox"], #controls input').first();
      await emotion.click();
      await page.getByRole('option', { name: 'happy', exact: true }).click();
      await page.locator('#generate-button').click();
      // A new run: the status leaves "done" (speaking..., frame n of m), then comes back to it.
      await until(page, 'second run', page.locator('#status', { hasNotText: 'done' }), 30);
      await until(page, 'second video', page.locator('#status', { hasText: 'done' }), waitSeconds);
      check(await plays(page, '#talking-video'), `${name}: the happy video plays`);
      log(`the lecturer's path took ${((Date.now() - path0) / 1000).toFixed(1)} s`);
      await shot(page, `${name}-after-path`);
    }
    await curves(page);
    await everyTab(page, name);
    // A bad input: one visible error, as readable and as well named as the rest.
    const text = page.locator('#generate-text textarea');
    const said = await text.inputValue();
    await text.fill('');
    await page.locator('#generate-button').click();
    const toast = page.locator('[data-testid="toast-body"].error');
    await toast.first().waitFor({ timeout: 30_000 });
    await page.waitForTimeout(800); // the toast has faded in: contrast is measured at full colour
    const badges = page.locator('[data-testid="status-tracker"] .error:visible');
    check((await toast.count()) === 1 && (await toast.innerText()).includes('type something') &&
      (await badges.count()) === 0, `${name}: an empty text gives one clear error (the toast alone)`);
    await accessible(page, `${name}: the error`);
    await shot(page, `${name}-error`);
    const close = page.locator('[data-testid="toast-close"]');
    if (await close.count()) await close.first().click(); // an error stays until closed
    await toast.first().waitFor({ state: 'detached', timeout: 10_000 });
    await text.fill(said);
    if (name === 'desktop') {
      // A full example row: portrait, sentence, voice and emotion, with its video.
      await page.locator('#generate-examples').getByRole('button').nth(2).click();
      await until(page, 'example video', page.locator('#status', { hasText: 'an example' }), waitSeconds);
      check((await page.locator('#generate-text textarea').inputValue()).startsWith('Bonjour'),
        `${name}: the French example fills the sentence`);
      await shot(page, `${name}-example`);
    }

    // Edit: the picture stays in view while the last slider moves.
    await openTab(page, 'Edit');
    await page.locator('#edit-image').waitFor();
    // Arrow keys on a slider re-render the picture (no mouse release needed).
    const picture = page.locator('#edit-image img');
    await until(page, 'Edit picture', picture, 60);
    const before = await picture.getAttribute('src');
    const jaw = page.locator('#edit-sliders .block', { hasText: 'jaw_open' })
      .locator('input[type="range"]').first();
    await jaw.focus();
    for (let i = 0; i < 10; i += 1) await page.keyboard.press('ArrowRight');
    const changed = Date.now() + 15000;
    while ((await picture.getAttribute('src')) === before && Date.now() < changed) {
      await page.waitForTimeout(200);
    }
    check((await picture.getAttribute('src')) !== before, `${name}: arrow keys re-render the picture`);
    const sliders = page.locator('#edit-sliders input[type="range"]');
    const last = sliders.last();
    await last.scrollIntoViewIfNeeded();
    await last.focus();
    await page.keyboard.press('ArrowRight');
    await page.waitForTimeout(1500);
    check(await inView(page, '#edit-image'), `${name}: the Edit picture is in view at the last slider`);
    await shot(page, `${name}-edit`);

    if (name === 'desktop') {
      // Reenact with the kit's own driving clip.
      await openTab(page, 'Reenact');
      await page.locator('#driver-example').click();
      await until(page, 'driving clip', page.locator('#driver video[src]'), 120);
      await page.locator('#reenact-button').click();
      check(await plays(page, '#reenact-video'), `${name}: the reenacted video plays`);
      check(!(await page.locator('#reenact-preview').isVisible()),
        `${name}: the Reenact preview goes with the video`);
      await accessible(page, `${name}: Reenact, with its video`);
      await shot(page, `${name}-reenact`);
    }
    await context.close();
  }
  log(`axe violations, nodes per rule: ${JSON.stringify(axeCounts)}`);
} catch (error) {
  failed = true;
  console.error(`FAILED: ${error.message}`);
} finally {
  await browser.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
if (failures.length) console.error(`FAILED checks:\n  ${failures.join('\n  ')}`);
process.exit(failed || failures.length ? 1 : 0);

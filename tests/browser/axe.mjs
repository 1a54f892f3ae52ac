// axe-core (npm, run inside the page) on what a page shows now: the WCAG 2.1 A and AA rules.
// `axe(page)` returns every violation; `BLOCKING` names the rules the lecturer test fails on
// (contrast and missing names or labels), the others are reported only.
import { createRequire } from 'node:module';
import fs from 'node:fs';

const source = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// Text contrast, and every rule about an element without a name or label a screen reader needs.
export const BLOCKING = new Set([
  'color-contrast', 'label', 'image-alt', 'input-image-alt', 'svg-img-alt', 'role-img-alt',
  'button-name', 'link-name', 'select-name', 'input-button-name', 'frame-title',
  'document-title', 'html-has-lang', 'aria-command-name', 'aria-input-field-name',
  'aria-meter-name', 'aria-progressbar-name', 'aria-toggle-field-name', 'aria-tooltip-name',
  'aria-dialog-name', 'aria-text', 'area-alt', 'object-alt', 'summary-name',
]);

// Violations as [{rule, impact, help, nodes: [{target, summary}]}].
export async function axe(page) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
    await page.addScriptTag({ content: source });
  }
  return page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({
      rule: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({
        target: n.target.join(' '),
        summary: (n.failureSummary || '').replace(/\s+/g, ' ').slice(0, 200),
        html: n.html.slice(0, 160),
      })),
    }));
  });
}

// One line per node: "rule (impact): target: why".
export const describe = (violations) => violations.flatMap((v) => v.nodes.map(
  (n) => `${v.rule} (${v.impact}): ${n.target}: ${n.summary} [${n.html}]`));

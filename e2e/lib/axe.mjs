// axe-core in the page under test: every console page the suites visit is checked with axe's
// default rules (WCAG 2.x A and AA plus best practices) and a violation fails the step. The
// script is evaluated through the DevTools protocol, which the page's Content-Security-Policy
// does not govern, so the policy stays on while it runs.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const AXE_SOURCE = await readFile(require.resolve("axe-core/axe.min.js"), "utf8");

/** The page's axe-core violations, one line each: rule, impact, help and the first elements. */
export async function axeViolations(page) {
  const loaded = await page.evaluate(() => typeof window.axe !== "undefined");
  if (!loaded) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const results = await window.axe.run(document, { resultTypes: ["violations"] });
    return results.violations.map(
      (v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`,
    );
  });
}

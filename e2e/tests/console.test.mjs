// The admin console in a real browser (Debian's headless Chromium driven by playwright-core),
// against `insights serve` started by e2e/run.sh: the demo admin's first sign-in, the SCIM token
// lifecycle with the credentials dialog and its download, a real SCIM request with the token,
// a cards import, and the activity log. Steps run in order and build on each other; every page
// visited is saved as a screenshot.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { axeViolations } from "../lib/axe.mjs";

const BASE = required("INSIGHTS_URL");
const EMAIL = required("INSIGHTS_ADMIN_EMAIL");
const ONE_TIME_PASSWORD = required("INSIGHTS_ONE_TIME_PASSWORD");
const SCREENSHOTS = required("SCREENSHOT_DIR");
const DOWNLOADS = process.env.DOWNLOAD_DIR ?? tmpdir();
const NEW_PASSWORD = "e2e correct horse battery";
const USER_NAME = "ann.lee@demo.example";
const SCIM_PASSWORD = "Hunter2-never-logged";

/** Flags for Chromium as root on a machine with a closed network (see TOOLCHAIN.md). */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the suite through e2e/run.sh`);
  return value;
}

let browser;
/** Messages of the browser about content the Content-Security-Policy blocked. */
const cspViolations = [];
let context;
let page;
let shot = 0;
/** What the steps learn and pass on. */
const state = { tenantUrl: "", firstToken: "", secondToken: "", userId: "" };

/** RFC 4648 base32 (an authenticator app's key) to bytes. */
function base32Bytes(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  const out = [];
  for (const char of text.replace(/[\s=]/g, "").toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The 6-digit RFC 6238 code (SHA-1, 30 s) of `secret` at `seconds`: the authenticator app. */
function totp(secret, seconds) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(seconds / 30)));
  const mac = createHmac("sha1", base32Bytes(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

/** Saves a full-page screenshot named after the step, and fails on any axe-core violation. */
async function screenshot(name) {
  shot += 1;
  const file = path.join(SCREENSHOTS, `${String(shot).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  assert.deepEqual(await axeViolations(page), [], `axe-core on ${name} (${page.url()})`);
}

/**
 * Every visible form control on the page has a label (its own <label for>, a wrapping label,
 * or aria-label), so it is announced and reachable by keyboard with a name.
 */
async function assertLabelled(where) {
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll("input, select, textarea")]
      .filter((el) => el.type !== "hidden" && el.offsetParent !== null)
      .filter((el) => el.labels.length === 0 && !el.getAttribute("aria-label"))
      .map((el) => el.outerHTML),
  );
  assert.deepEqual(unlabelled, [], `unlabelled controls on ${where}`);
}

/** A SCIM request made the way an identity provider makes it. */
async function scim(method, resource, token, body) {
  const response = await fetch(`${state.tenantUrl}${resource}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/scim+json",
      accept: "application/scim+json",
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

/** The page's HTML once it has stopped navigating (at most 5 s of retries). */
async function settledContent() {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await page.waitForLoadState();
      return await page.content();
    } catch (error) {
      if (attempt >= 20) throw error;
      await page.waitForTimeout(250);
    }
  }
}

/** A step of the walk-through; when it fails, the page as it was is saved too. */
function step(title, fn) {
  it(title, async () => {
    try {
      await fn();
    } catch (error) {
      const name = title.replace(/[^a-z0-9]+/gi, "-").slice(0, 60);
      await page?.screenshot({ path: path.join(SCREENSHOTS, `FAILED-${name}.png`), fullPage: true }).catch(() => {});
      throw error;
    }
  });
}

/** The token shown in the SCIM Credentials dialog, with its Tenant URL. */
async function readDialog() {
  const dialog = page.locator("dialog.credentials");
  await dialog.waitFor({ state: "visible" });
  assert.equal(await dialog.getByRole("heading").textContent(), "SCIM Credentials");
  const token = await dialog.getByLabel("Token", { exact: true }).inputValue();
  const tenantUrl = await dialog.getByLabel("Tenant URL", { exact: true }).inputValue();
  // Each value names the identity provider fields it goes into.
  assert.match(await page.locator("#issued-token-fields").textContent(), /Okta: OAuth Bearer Token · Entra ID: Secret Token/);
  assert.match(await page.locator("#issued-tenant-url-fields").textContent(), /Okta: SCIM 2\.0 Base Url · Entra ID: Tenant URL/);
  assert.match(token, /^scim_[A-Za-z0-9]{32,}$/);
  assert.match(tenantUrl, new RegExp(`^${BASE}/scim/v2/[0-9a-f-]{36}$`));
  return { token, tenantUrl };
}

describe("admin console in headless Chromium", { concurrency: 1 }, () => {
  before(async () => {
    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      headless: true,
      chromiumSandbox: false,
      args: CHROMIUM_ARGS,
    });
    context = await browser.newContext({
      acceptDownloads: true,
      viewport: { width: 1280, height: 860 },
    });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    // Every page runs under a strict Content-Security-Policy: anything it blocks is a defect.
    page.on("console", (message) => {
      if (/Content.Security.Policy|Refused to (load|apply|execute)/i.test(message.text())) {
        cspViolations.push(`${page.url()}: ${message.text()}`);
      }
    });
  });

  after(async () => {
    await browser?.close();
  });

  step("sends a visitor to the sign-in page, which works from the keyboard", async () => {
    await page.goto(`${BASE}/console/users`);
    assert.match(page.url(), /\/console\/login\?next=%2Fconsole%2Fusers$/);
    await assertLabelled("sign-in");
    await screenshot("sign-in");

    await page.getByLabel("Email").focus();
    await page.keyboard.type(EMAIL);
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.id), "password");
    await page.keyboard.type("not the password");
    await page.keyboard.press("Enter");
    await page.getByRole("alert").waitFor();
    // The email is kept and the cursor waits in the password field.
    assert.equal(await page.getByLabel("Email").inputValue(), EMAIL);
    assert.equal(await page.evaluate(() => document.activeElement.id), "password");
    assert.equal(
      (await page.getByRole("alert").textContent()).trim(),
      "The email or password is not right.",
    );
    await screenshot("sign-in-wrong-password");
  });

  step("signs in with the one-time password and must change it first", async () => {
    await page.getByLabel("Password").fill(ONE_TIME_PASSWORD);
    await page.getByLabel("Password").press("Enter");
    await page.waitForURL(`${BASE}/console/password`);
    assert.ok(await page.getByText("You signed in with a one-time password").isVisible());
    await assertLabelled("change password");
    await screenshot("change-one-time-password");

    // Any other page sends the admin back here until the password is changed.
    await page.goto(`${BASE}/console/activity`);
    assert.equal(page.url(), `${BASE}/console/password`);

    await page.getByLabel("Current password").fill(ONE_TIME_PASSWORD);
    await page.getByLabel(/^New password/).fill("short");
    await page.getByLabel("Repeat the new password").fill("short");
    // The browser's own minlength check stops the form; the server checks too.
    await page.getByRole("button", { name: "Change password" }).click();
    assert.equal(page.url(), `${BASE}/console/password`);

    await page.getByLabel(/^New password/).fill(NEW_PASSWORD);
    await page.getByLabel("Repeat the new password").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Change password" }).click();
    await page.waitForURL(`${BASE}/console/secure/advanced/user-group-sync`);
    assert.ok(await page.getByText("Your password was changed.").isVisible());
  });

  step("explains that SCIM needs OpenID sign-in and keeps Generate disabled", async () => {
    assert.ok(await page.getByRole("heading", { name: "OpenID sign-in is needed first" }).isVisible());
    const generate = page.getByRole("button", { name: "Generate Token" });
    assert.ok(await generate.isDisabled());
    await screenshot("user-group-sync-needs-openid");
  });

  step("switches the sign-in type to OpenID in Sign-in settings", async () => {
    await page.getByRole("link", { name: "Sign-in settings" }).first().click();
    await page.waitForURL(`${BASE}/console/settings/sign-in`);
    await assertLabelled("sign-in settings");
    await page.getByLabel("OpenID Connect (your identity provider)").check();
    await page.getByLabel("Issuer URL").fill("https://idp.example/");
    await page.getByLabel("Client id").fill("insights-demo");
    await page.getByLabel(/^Client secret/).fill("demo-client-secret");
    await page.getByRole("button", { name: "Save" }).click();
    await page.waitForURL(`${BASE}/console/settings/sign-in`);
    assert.ok(await page.getByText("Sign-in settings saved.").isVisible());
    assert.equal(await page.getByLabel("Issuer URL").inputValue(), "https://idp.example/");
    assert.ok(!(await page.content()).includes("demo-client-secret"), "the secret is not shown back");
    await screenshot("sign-in-settings-openid");
  });

  step("generates a token and shows it once in the SCIM Credentials dialog", async () => {
    await page.getByRole("link", { name: "Secure" }).click();
    await page.waitForURL(`${BASE}/console/secure/advanced/user-group-sync`);
    await assertLabelled("user and group sync");
    await screenshot("user-group-sync-ready");
    await page.getByRole("button", { name: "Generate Token" }).click();

    const { token, tenantUrl } = await readDialog();
    state.firstToken = token;
    state.tenantUrl = tenantUrl;
    // The dialog is modal: focus stays inside it.
    assert.ok(await page.evaluate(() => document.querySelector("dialog.credentials").matches(":modal")));
    await screenshot("scim-credentials-dialog");
  });

  step("copies the token and downloads a credentials file named after the tenant", async () => {
    await page.locator('button[data-copy="issued-token"]').click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), state.firstToken);

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download" }).click(),
    ]);
    assert.equal(download.suggestedFilename(), "demo-scim-credentials.txt");
    const file = path.join(DOWNLOADS, download.suggestedFilename());
    await download.saveAs(file);
    const content = await readFile(file, "utf8");
    assert.equal(content, `Tenant URL: ${state.tenantUrl}\nToken: ${state.firstToken}\n`);
  });

  step("accepts the token in a real SCIM request", async () => {
    const created = await scim("POST", "/Users", state.firstToken, {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      userName: USER_NAME,
      name: { givenName: "Ann", familyName: "Lee" },
      emails: [{ value: USER_NAME, type: "work", primary: true }],
      password: SCIM_PASSWORD,
      active: true,
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    state.userId = created.json.id;
    const wrong = await scim("GET", "/Users", `${state.firstToken}x`);
    assert.equal(wrong.status, 401);
  });

  step("never shows the token again: not after back, reload or a GET", async () => {
    await page.getByRole("button", { name: "Done" }).click();
    await page.locator("dialog.credentials").waitFor({ state: "hidden" });
    // Reloading the POST's answer re-sends the same form: nothing new is minted or shown.
    await page.reload();
    assert.ok(!(await page.content()).includes(state.firstToken), "the reload shows the token");
    assert.ok(await page.getByText("already shown once").isVisible());
    // Leaving and coming back with the back button does not bring it back either: the answer
    // is never stored (no-store), and the browser would have to send the form again.
    await page.goto(`${BASE}/console/users`);
    await page.goBack().catch(() => {});
    assert.ok(!(await settledContent()).includes(state.firstToken), "back shows the token");
    await page.goto(`${BASE}/console/secure/advanced/user-group-sync`);
    assert.ok(!(await page.content()).includes(state.firstToken), "the page shows the token");
    assert.equal(await page.locator("dialog.credentials").count(), 0);
    const last4 = state.firstToken.slice(-4);
    assert.ok(await page.getByText(`••••${last4}`).isVisible());
    await page.goto(`${BASE}/console/direct/settings`);
    assert.ok(!(await page.content()).includes(state.firstToken));
    assert.ok(await page.getByText(`••••${last4}`).isVisible());
    // The Tenant URL sits in a read-only field with Copy beside it.
    assert.equal(await page.locator("input[readonly]").evaluateAll(
      (inputs, url) => inputs.filter((input) => input.value === url && input.offsetParent !== null).length, state.tenantUrl), 1);
    await screenshot("direct-settings");
  });

  step("shows the wrong token's refusal in the connection-health line, linked to the refusals", async () => {
    const health = page.locator("#connection-health");
    // The refusal is counted off the request path and stored within about a second.
    for (let attempt = 0; ; attempt += 1) {
      await page.goto(`${BASE}/console/secure/advanced/user-group-sync`);
      if (/Rejected:/.test(await health.textContent()) || attempt >= 20) break;
      await page.waitForTimeout(250);
    }
    assert.match(await health.getAttribute("class"), /\bred\b/);
    assert.match(await health.textContent(), /Rejected: 1 request in the last hour used a token that is not this organisation's/);
    assert.match(await health.textContent(), /Paste the current token into your identity provider/);
    await screenshot("health-rejected");
    await health.getByRole("link", { name: "See the refused requests" }).click();
    await page.waitForURL(/operation=rejected/);
    assert.match(await page.locator("table.data").textContent(), /Unknown token/);
    await screenshot("activity-rejected");
  });

  step("tests the connection through the Tenant URL and shows the timed checklist", async () => {
    await page.goto(`${BASE}/console/secure/advanced/user-group-sync`);
    await page.getByRole("button", { name: "Test the connection" }).click();
    await page.waitForURL(/#connection-test$/);
    const section = page.locator("#connection-test");
    assert.match(await section.textContent(), /Passed at .*13 steps/s);
    assert.equal(await section.locator("li.problem").count(), 0);
    assert.match(await page.locator(".flash").textContent(), /Connection test passed: 13 steps/);
    await screenshot("connection-test");
  });

  step("adds a webhook endpoint, shows its signing secret once and sends a test", async () => {
    await page.goto(`${BASE}/console/secure/advanced/user-group-sync`);
    const panel = page.locator("#notifications");
    assert.match(await panel.textContent(), /E-mail is off/);
    await page.getByLabel("Endpoint URL").fill("http://127.0.0.1:9/insights-hook");
    await page.getByRole("button", { name: "Add endpoint" }).click();
    const secret = await page.locator("#new-endpoint-secret").inputValue();
    assert.match(secret, /^whsec_/);
    await screenshot("notifications-endpoint-added");
    await page.goto(`${BASE}/console/secure/advanced/user-group-sync`);
    assert.ok(!(await page.content()).includes(secret), "the secret is shown once");
    assert.match(await panel.textContent(), new RegExp(`secret ending in ${secret.slice(-4).replace(/[+/=]/g, "\\$&")}`));
    await page.getByRole("button", { name: "Send a test" }).click();
    await page.waitForURL(/#notifications$/);
    assert.match(await page.locator(".flash").textContent(), /A test was sent on 1 channel/);
    await screenshot("notifications-test-sent");
  });

  step("regenerates the token and shows both tokens' states", async () => {
    await page.goto(`${BASE}/console/secure/advanced/user-group-sync`);
    await page.getByText("Regenerate Token").click();
    assert.ok(await page.getByText("keeps working until your identity provider first uses the new one").isVisible());
    await screenshot("regenerate-confirmation");
    await page.getByRole("button", { name: "Yes, regenerate the token" }).click();
    const { token } = await readDialog();
    assert.notEqual(token, state.firstToken);
    state.secondToken = token;
    await page.keyboard.press("Escape");
    await page.locator("dialog.credentials").waitFor({ state: "hidden" });

    await page.goto(`${BASE}/console/secure/advanced/user-group-sync`);
    const html = await page.content();
    assert.ok(!html.includes(state.secondToken) && !html.includes(state.firstToken));
    assert.ok(await page.getByText(`••••${state.secondToken.slice(-4)}`).isVisible());
    const previous = page.locator("table.data tr", { hasText: `••••${state.firstToken.slice(-4)}` });
    assert.match(await previous.textContent(), /Still valid until/);
    assert.ok(await previous.getByRole("button", { name: "Revoke now" }).isVisible());
    await screenshot("user-group-sync-two-tokens");

    // Both work until the identity provider uses the new one; then the old one is retired.
    assert.equal((await scim("GET", "/Users?count=1", state.firstToken)).status, 200);
    assert.equal((await scim("GET", `/Users/${state.userId}`, state.secondToken)).status, 200);
    assert.equal((await scim("GET", "/Users?count=1", state.firstToken)).status, 401);
    await page.reload();
    const retired = page.locator("table.data tr", { hasText: `••••${state.firstToken.slice(-4)}` });
    assert.match(await retired.textContent(), /Retired when Okta first used the new token/);
    assert.equal(await page.getByRole("button", { name: "Revoke now" }).count(), 0);
    await screenshot("user-group-sync-old-token-retired");
  });

  step("imports a cards CSV for the SCIM user and shows the cards on the user's page", async () => {
    await page.getByRole("link", { name: "Import" }).click();
    await page.waitForURL(`${BASE}/console/import`);
    await assertLabelled("import");
    // SCIM manages the users: cards-only is the default and users import is discouraged.
    assert.ok(await page.getByLabel(/Cards only/).isChecked());
    assert.ok(await page.getByText("Importing users is not recommended").isVisible());
    await screenshot("import");
    await page.getByLabel(/CSV file/).setInputFiles({
      name: "badges.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(`userName,cardNumber\n${USER_NAME},BADGE-0001\n${USER_NAME},BADGE-0002\nghost@demo.example,BADGE-0003\n`),
    });
    await page.getByRole("button", { name: "Import" }).click();
    await page.waitForURL(/\/console\/import\/[0-9a-f-]{36}$/);
    // The job page refreshes itself until the job is done.
    await page.getByText("Finished").waitFor({ timeout: 60_000 });
    assert.ok(await page.getByText("2 created, 0 updated, 1 error").first().isVisible());
    assert.ok(await page.getByText("No user with userName or email").isVisible());
    await screenshot("import-job-report");

    await page.getByRole("link", { name: "Users" }).click();
    await page.getByLabel("Search").fill("ann.lee");
    await page.getByLabel("Search").press("Enter");
    await page.waitForURL(/q=ann\.lee/);
    await assertLabelled("users");
    await screenshot("users");
    // The list shows the person's name, with the userName beside it.
    const listed = page.locator("table.data tr", { hasText: USER_NAME });
    assert.match(await listed.textContent(), /Ann Lee/);
    await listed.getByRole("link", { name: "Ann Lee" }).click();
    await page.waitForURL(`${BASE}/console/users/${state.userId}`);
    const cards = page.locator("section", { has: page.getByRole("heading", { name: "Cards" }) });
    assert.ok(await cards.getByText("BADGE-0001").isVisible());
    assert.ok(await cards.getByText("BADGE-0002").isVisible());
    assert.ok(await page.getByText("Managed by your identity provider over SCIM").isVisible());
    await assertLabelled("user");
    await screenshot("user-with-cards");

    // An admin can add a card by hand too.
    await page.getByLabel("Add a card").fill("BADGE-0100");
    await page.getByLabel("Add a card").press("Enter");
    await page.getByText("Card BADGE-0100 added.").waitFor();
    assert.ok(await cards.getByText("BADGE-0100").isVisible());
  });

  step("says who holds a card number that is taken, where the admin is looking", async () => {
    const bob = await scim("POST", "/Users", state.secondToken, {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      userName: "bob.kay@demo.example",
      name: { givenName: "Bob", familyName: "Kay" },
    });
    assert.equal(bob.status, 201, JSON.stringify(bob.json));
    await page.setViewportSize({ width: 390, height: 700 });
    await page.goto(`${BASE}/console/users/${bob.json.id}`);
    await page.getByLabel("Add a card").fill("BADGE-0001");
    await page.getByLabel("Add a card").press("Enter");
    const inline = page.locator("#card-error");
    await inline.waitFor();
    assert.match(await inline.textContent(), /BADGE-0001 already belongs to Ann Lee/);
    // In view without scrolling: the field is focused and its message sits above it.
    assert.ok(await inline.evaluate((el) => {
      const box = el.getBoundingClientRect();
      return box.top >= 0 && box.bottom <= window.innerHeight;
    }), "the card error is out of view");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "card_number");
    assert.equal(await page.getByLabel("Add a card").inputValue(), "BADGE-0001");
    const summary = page.locator(".error-summary");
    assert.equal(await summary.getByRole("link", { name: /Open Ann Lee/ }).count(), 1);
    await screenshot("card-taken");
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  step("shows the SCIM request in Activity with the password redacted", async () => {
    await page.getByRole("link", { name: "Activity", exact: true }).click();
    await page.waitForURL(`${BASE}/console/activity`);
    await assertLabelled("activity");
    const row = page
      .locator("table.data tr")
      .filter({ has: page.locator(`a[href="/console/users/${state.userId}"]`) })
      .filter({ hasText: "Create user" });
    await row.waitFor();
    assert.match(await row.textContent(), /201/);
    assert.ok(await page.locator("section.chart svg").isVisible(), "the chart");
    await screenshot("activity");
    await row.locator("a[href^='/console/activity/']").click();
    await page.waitForURL(/\/console\/activity\/\d+$/);
    const payload = await page.getByLabel("Request body as JSON").textContent();
    assert.match(payload, new RegExp(USER_NAME.replace(".", "\\.")));
    assert.match(payload, /\[redacted\]/);
    assert.ok(!(await page.content()).includes(SCIM_PASSWORD), "the password is shown");
    await screenshot("activity-event");
  });

  step("searches the activity, filters it by operation and follows a chart bar", async () => {
    await page.goto(`${BASE}/console/activity`);
    await page.getByLabel("Search").fill("ann.lee");
    await page.getByLabel("Search").press("Enter");
    await page.waitForURL(/[?&]q=ann\.lee/);
    assert.ok((await page.locator(`table.data a[href="/console/users/${state.userId}"]`).count()) >= 1, "rows name the user");
    await page.getByLabel("Operation").selectOption("create");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/operation=create/);
    assert.match(page.url(), /q=ann\.lee/, "the search stays in the URL");
    assert.equal((await page.locator(".list-summary").textContent()).trim(), "1 event");
    await screenshot("activity-search");

    await page.goto(`${BASE}/console/activity?range=1h`);
    assert.match(await page.locator("#chart-title").textContent(), /Requests per minute, last hour/);
    const label = await page.evaluate(
      () => [...document.querySelectorAll("section.chart svg a")].map((a) => a.getAttribute("aria-label")).find((l) => !/: 0 requests/.test(l)),
    );
    assert.ok(label, "a bar with requests");
    await page.locator(`section.chart svg a[aria-label="${label}"]`).click();
    await page.waitForURL(/from=\d+&to=\d+/);
    assert.match(await page.locator("#interval").textContent(), /Only requests from/);
    assert.ok((await page.locator("table.data tbody tr").count()) >= 1, "the bar's requests are listed");
    await screenshot("activity-bar");
  });

  step("lists groups", async () => {
    const group = await scim("POST", "/Groups", state.secondToken, {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
      displayName: "Badge holders",
      members: [{ value: state.userId }],
    });
    assert.equal(group.status, 201, JSON.stringify(group.json));
    await page.getByRole("link", { name: "Groups" }).click();
    await page.waitForURL(`${BASE}/console/groups`);
    const row = page.locator("table.data tr", { hasText: "Badge holders" });
    assert.match(await row.textContent(), /1/);
    await screenshot("groups");
    await row.getByRole("link").click();
    assert.ok(await page.getByRole("link", { name: /Ann Lee|ann\.lee/ }).isVisible());
    await screenshot("group");
  });

  step("holds an imported user's match for review, side by side, and links it", async () => {
    await page.goto(`${BASE}/console/import`);
    await page.locator("input[name=kind][value=users]").check();
    await page.getByLabel(/CSV file/).setInputFiles({
      name: "staff.csv",
      mimeType: "text/csv",
      buffer: Buffer.from("userName,givenName,familyName,email\nmia.wong@demo.example,Mia,Wong,mia.wong@demo.example\n"),
    });
    await page.getByRole("button", { name: "Import" }).click();
    await page.waitForURL(/\/console\/import\/[0-9a-f-]{36}$/);
    await page.getByText("Finished").waitFor({ timeout: 60_000 });

    // The identity provider does not see the imported user, and its create waits for a review.
    const lookup = `/Users?filter=${encodeURIComponent('userName eq "mia.wong@demo.example"')}`;
    assert.equal((await scim("GET", lookup, state.secondToken)).json.totalResults, 0);
    const held = await scim("POST", "/Users", state.secondToken, {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      userName: "mia.wong@demo.example",
      name: { givenName: "Mia", familyName: "Wong-Okta" },
      emails: [{ value: "mia.wong@demo.example", primary: true }],
    });
    assert.equal(held.status, 409, JSON.stringify(held.json));
    assert.match(held.json.detail, /review/);

    await page.goto(`${BASE}/console/secure/advanced/user-group-sync`);
    await page.getByRole("link", { name: "Review them" }).click();
    await page.waitForURL(/\/safety#review$/);
    const conflict = page.locator("li.conflict", { hasText: "mia.wong@demo.example" });
    assert.match(await conflict.textContent(), /CSV import/);
    assert.match(await conflict.textContent(), /Mia Wong-Okta/);
    await assertLabelled("provisioning safety");
    await screenshot("safety-review");
    await conflict.getByRole("button", { name: /^Link/ }).click();
    await page.getByText("mia.wong@demo.example is linked").waitFor();
    assert.ok(await page.getByText("Nothing to review").isVisible());
    const found = await scim("GET", lookup, state.secondToken);
    assert.equal(found.json.totalResults, 1);
    assert.equal(found.json.Resources[0].name.familyName, "Wong-Okta");
  });

  step("trips the circuit breaker on a mass deactivation, undoes it and is acknowledged", async () => {
    const ids = [];
    for (let n = 0; n < 53; n += 1) {
      const created = await scim("POST", "/Users", state.secondToken, {
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
        userName: `leaver${n}@demo.example`,
        name: { givenName: "Leaver", familyName: `${n}` },
      });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      ids.push(created.json.id);
    }
    for (const id of ids) {
      const off = await scim("PATCH", `/Users/${id}`, state.secondToken, {
        schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        Operations: [{ op: "replace", value: { active: false } }],
      });
      assert.equal(off.status, 200);
    }
    // The server decides every 2 s in this run (INSIGHTS_NOTICE_INTERVAL_SECONDS).
    const banner = page.locator("#breaker");
    for (let attempt = 0; attempt < 20 && !(await banner.count()); attempt += 1) {
      await page.waitForTimeout(500);
      await page.goto(`${BASE}/console/secure/advanced/user-group-sync`);
    }
    assert.match(await banner.textContent(), /Your identity provider deactivated 5\d( and deleted \d+)? of \d+ users in/);
    await screenshot("breaker-banner");
    await banner.getByRole("link", { name: /Undo or Acknowledge/ }).click();
    await page.locator("#breaker details summary").click();
    assert.ok(await page.locator("#breaker table").getByText("leaver0@demo.example").isVisible());
    await screenshot("breaker-batch");
    await page.getByRole("button", { name: /^Undo/ }).click();
    await page.getByText("Undone: 53 user(s) reactivated and 0 restored").waitFor();
    assert.ok(await page.getByText("still has these users deactivated or unassigned").isVisible());
    const back = await scim("GET", `/Users/${ids[0]}`, state.secondToken);
    assert.equal(back.json.active, true);
    await page.getByRole("button", { name: "Acknowledge" }).click();
    await page.getByText("Acknowledged: the banner is gone").waitFor();
    assert.equal(await page.locator("#breaker").count(), 0);
    await screenshot("safety-after-acknowledge");
  });

  step("stages a shadow run for review and discards it", async () => {
    await page.goto(`${BASE}/console/secure/advanced/user-group-sync/safety`);
    await page.getByRole("button", { name: "Start shadow mode" }).click();
    await page.waitForURL(/\/shadow$/);
    const staged = await scim("POST", "/Users", state.secondToken, {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      userName: "shadow.only@demo.example",
    });
    assert.equal(staged.status, 201);
    const renamed = await scim("PATCH", `/Users/${state.userId}`, state.secondToken, {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [{ op: "replace", path: "displayName", value: "Ann Shadow" }],
    });
    assert.equal(renamed.status, 200);
    await page.reload();
    assert.ok(await page.getByRole("link", { name: "Users to create: 1" }).isVisible());
    const update = page.locator("table.data tr", { hasText: "Users to update" });
    assert.match(await update.textContent(), /displayName: .* → “Ann Shadow”/);
    await assertLabelled("shadow review");
    await screenshot("shadow-review");
    await page.getByText("Discard", { exact: true }).click();
    await page.getByRole("button", { name: "Discard the staged changes" }).click();
    await page.getByText("Shadow mode ended").waitFor();
    assert.equal((await scim("GET", `/Users/${staged.json.id}`, state.secondToken)).status, 404);
  });

  step("invites a viewer, who accepts the link in another browser and gets a read-only console; the audit log shows it", async () => {
    await page.goto(`${BASE}/console/admins`);
    await page.getByLabel("E-mail address").fill("viewer@demo.example");
    await page.getByLabel("Role", { exact: true }).selectOption("viewer");
    await page.getByRole("button", { name: "Invite", exact: true }).click();
    const link = await page.locator("#invitation-link").inputValue();
    assert.match(link, /\/console\/invitations\/[0-9a-f-]{36}\.[A-Za-z0-9]{43}$/);
    await assertLabelled("admins");
    await screenshot("admins-invited");
    const other = await browser.newContext();
    const mine = page;
    try {
      page = await other.newPage();
      await page.goto(`${BASE}${new URL(link).pathname}`);
      await screenshot("invitation");
      await page.getByLabel(/^Password/).fill("viewer password 12345");
      await page.getByLabel("Repeat the password").fill("viewer password 12345");
      await page.getByRole("button", { name: "Accept and sign in" }).click();
      await page.getByText("Welcome: you are now Viewer").waitFor();
      assert.equal(await page.getByRole("link", { name: "Admins" }).count(), 0);
      assert.equal(await page.getByRole("button", { name: "Generate Token" }).count(), 0);
      await screenshot("viewer-user-group-sync");
      const forced = await page.goto(`${BASE}/console/admins`);
      assert.equal(forced.status(), 403);
      await page.getByText("does not allow this page or action").waitFor();
    } finally {
      page = mine;
      await other.close();
    }
    await page.goto(`${BASE}/console/audit`);
    await page.getByRole("cell", { name: "Invitation accepted" }).waitFor();
    await page.getByLabel("Action").selectOption("admin_invited");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByRole("cell", { name: "viewer@demo.example" }).waitFor();
    assert.equal(await page.getByRole("cell", { name: "Invitation accepted" }).count(), 0);
    await assertLabelled("audit log");
    await screenshot("audit-log");
  });

  step("sets up two-step sign-in from the QR code's key, keeps the recovery codes, then signs in with a code", async () => {
    const other = await browser.newContext();
    await other.grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE });
    const mine = page;
    try {
      page = await other.newPage();
      await page.goto(`${BASE}/console/login`);
      await page.getByLabel("Email").fill("viewer@demo.example");
      await page.getByLabel("Password").fill("viewer password 12345");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("link", { name: "Two-step sign-in" }).click();
      await page.getByRole("button", { name: "Set up two-step sign-in" }).click();
      await page.getByRole("img", { name: /QR code/ }).waitFor();
      const secret = (await page.locator("#totp-secret").textContent()).replace(/\s/g, "");
      assert.match(secret, /^[A-Z2-7]{32}$/);
      await assertLabelled("two-step setup");
      await screenshot("mfa-scan");
      // The previous step's code (one step of skew is allowed), so the current one is left for sign-in.
      await page.getByLabel("Code from the app").fill(totp(secret, Date.now() / 1000 - 30));
      await page.getByRole("button", { name: "Turn on two-step sign-in" }).click();
      await page.getByText("Two-step sign-in is on").waitFor();
      const codes = (await page.getByLabel("Recovery codes").inputValue()).trim().split("\n");
      assert.equal(codes.length, 10);
      assert.ok(codes.every((code) => /^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/.test(code)), codes.join(","));
      await page.getByRole("button", { name: "Copy" }).click();
      await page.getByRole("button", { name: "Copied" }).waitFor();
      assert.equal((await page.evaluate(() => navigator.clipboard.readText())).trim(), codes.join("\n"));
      await screenshot("mfa-recovery-codes");
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByLabel("Email").fill("viewer@demo.example");
      await page.getByLabel("Password").fill("viewer password 12345");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: "Two-step sign-in" }).waitFor();
      await assertLabelled("two-step sign-in");
      await screenshot("mfa-code");
      await page.getByLabel("Code").fill(totp(secret, Date.now() / 1000));
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: "User and Group Sync" }).waitFor();
      await page.goto(`${BASE}/console/mfa`);
      await page.getByText("You have 10 unused recovery codes").waitFor();
    } finally {
      page = mine;
      await other.close();
    }
  });

  step("fits a phone's screen without sideways scrolling", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [name, url] of [
      ["phone-user-group-sync", "/console/secure/advanced/user-group-sync"],
      ["phone-safety", "/console/secure/advanced/user-group-sync/safety"],
      ["phone-users", "/console/users"],
      ["phone-user", `/console/users/${state.userId}`],
      ["phone-groups", "/console/groups"],
      ["phone-activity", "/console/activity"],
      ["phone-activity-chart", "/console/activity?range=24h&q=ann"],
      ["phone-settings", "/console/direct/settings"],
      ["phone-sign-in-settings", "/console/settings/sign-in"],
      ["phone-not-found", "/console/users/00000000-0000-0000-0000-000000000000"],
      ["phone-import", "/console/import"],
      ["phone-admins", "/console/admins"],
      ["phone-audit", "/console/audit"],
      ["phone-mfa", "/console/mfa"],
    ]) {
      await page.goto(`${BASE}${url}`);
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      assert.ok(overflow <= 0, `${url} is ${overflow}px wider than the screen`);
      // Filter labels sit above their controls, not squeezed beside them.
      const beside = await page.evaluate(() =>
        [...document.querySelectorAll(".filters label")]
          .filter((label) => label.control && label.getBoundingClientRect().bottom > label.control.getBoundingClientRect().top + 1)
          .map((label) => label.textContent.trim()),
      );
      assert.deepEqual(beside, [], `${url}: labels beside their controls`);
      await screenshot(name);
    }
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  step("loaded every page without a Content-Security-Policy violation", async () => {
    assert.deepEqual(cspViolations, []);
  });

  step("signs out with the Sign out button, after which the console needs a new sign-in", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${BASE}/console/login`);
    await page.goto(`${BASE}/console/secure/advanced/user-group-sync`);
    assert.match(page.url(), /\/console\/login\?next=/);
    await screenshot("signed-out");
  });
});

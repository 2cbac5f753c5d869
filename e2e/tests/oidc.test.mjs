// End-user sign-in in a real browser through a real OpenID provider's own login and consent
// pages: a provisioned user signs in to /t/{tenant}/login and lands on their page, a user the
// provider knows but Insights does not gets the "not provisioned" page, and sign-out logs out
// at the provider too. The provider is the certified `oidc-provider` package
// (crates/testkit/oidc-provider), on loopback; the tenant and its SCIM token come from the
// `insights` command line, against the same embedded database as the server under test.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { chromium } from "playwright-core";
import { axeViolations } from "../lib/axe.mjs";

const BASE = required("INSIGHTS_URL");
const BIN = required("INSIGHTS_BIN");
const SCREENSHOTS = required("SCREENSHOT_DIR");
const PROVIDER_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../crates/testkit/oidc-provider");
const CHROMIUM_ARGS = [
  "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const run = promisify(execFile);

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the suite through e2e/run.sh`);
  return value;
}

async function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Runs the `insights` CLI with the server's environment and parses its JSON output. */
async function insights(...args) {
  const { stdout } = await run(BIN, [...args, "--json"], { env: process.env });
  return JSON.parse(stdout);
}

let provider;
let browser;
let page;
let shot = 0;
const state = { tenant: "", secret: "", issuer: "" };

async function screenshot(name) {
  shot += 1;
  await page.screenshot({ path: path.join(SCREENSHOTS, `oidc-${String(shot).padStart(2, "0")}-${name}.png`), fullPage: true });
  // Insights' own pages are checked with axe-core; the provider's login pages are not ours.
  if (page.url().startsWith(BASE)) {
    assert.deepEqual(await axeViolations(page), [], `axe-core on ${name} (${page.url()})`);
  }
}

/** Signs in at the provider's own pages as `login`. */
async function signInAtProvider(login) {
  await page.goto(`${BASE}/t/${state.tenant}/login`);
  await page.waitForURL(/\/interaction\//);
  await screenshot(`provider-login-${login}`);
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', "any password");
  await page.click('button[type="submit"]');
  // The provider asks for consent once per client and account.
  if (await page.locator('input[name="prompt"][value="consent"]').count()) {
    await screenshot(`provider-consent-${login}`);
    await page.click('button[type="submit"]');
  }
  await page.waitForLoadState("networkidle");
}

describe("OpenID Connect sign-in in a browser", () => {
  before(async () => {
    const port = await freePort();
    state.issuer = `http://127.0.0.1:${port}`;
    state.secret = `secret-${Date.now()}`;
    const created = await insights(
      "tenant", "create", "--name", "Oidc Co", "--scim",
      "--openid-issuer", state.issuer, "--openid-client-id", "insights", "--openid-client-secret", state.secret,
    );
    state.tenant = created.tenant_id;
    const config = {
      port,
      clients: [{
        client_id: "insights",
        client_secret: state.secret,
        redirect_uris: [`${BASE}/t/${state.tenant}/callback`],
        post_logout_redirect_uris: [`${BASE}/t/${state.tenant}/signed-out`],
      }],
      accounts: {
        ann: { email: "ann@oidc.example", preferred_username: "ann@oidc.example", name: "Ann Lee" },
        eve: { email: "eve@oidc.example", preferred_username: "eve@oidc.example" },
      },
    };
    provider = spawn("node", ["server.js"], { cwd: PROVIDER_DIR, env: { ...process.env, OIDC_TEST_CONFIG: JSON.stringify(config) }, stdio: ["ignore", "pipe", "ignore"] });
    const lines = createInterface({ input: provider.stdout });
    const ready = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the OpenID provider did not start in 20 s")), 20_000);
      lines.once("line", (line) => { clearTimeout(timer); resolve(line); });
    });
    lines.on("line", () => {});
    assert.equal(ready, `READY ${state.issuer}`);

    // Provision Ann over SCIM, as Okta would.
    const { token, tenant_url } = await insights("token", "generate", "--tenant", state.tenant);
    const created_user = await fetch(`${tenant_url}/Users`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/scim+json" },
      body: JSON.stringify({
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
        userName: "ann@oidc.example",
        name: { givenName: "Ann", familyName: "Lee" },
        displayName: "Ann Lee",
        emails: [{ value: "ann@oidc.example", primary: true, type: "work" }],
        active: true,
      }),
    });
    assert.equal(created_user.status, 201);

    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
    page = await (await browser.newContext()).newPage();
  });

  after(async () => {
    await browser?.close();
    provider?.kill("SIGTERM");
  });

  it("a provisioned user signs in through the provider's login page and sees their page", async () => {
    await signInAtProvider("ann");
    assert.match(page.url(), new RegExp(`/t/${state.tenant}/me$`));
    await screenshot("signed-in");
    assert.equal(await page.locator("h1").innerText(), "Ann Lee");
    assert.ok((await page.content()).includes("ann@oidc.example"));
  });

  it("signing out ends the session and logs out at the provider", async () => {
    await page.click('form[action$="/logout"] button');
    // oidc-provider asks whether to sign out of the provider too.
    if (page.url().startsWith(state.issuer)) {
      await screenshot("provider-logout");
      const yes = page.locator('button[name="logout"], button[type="submit"]').first();
      await yes.click();
    }
    await page.waitForURL(new RegExp(`/t/${state.tenant}/signed-out$`));
    await screenshot("signed-out");
    assert.equal(await page.getByRole("link", { name: "Sign in again" }).count(), 1);
    assert.equal(await page.getByText("Try again").count(), 0);
    await page.goto(`${BASE}/t/${state.tenant}/me`);
    assert.ok(page.url().startsWith(state.issuer) || page.url().endsWith("/login"), `still signed in at ${page.url()}`);
  });

  it("a user the provider knows but who was never provisioned gets a clear page", async () => {
    const context = await browser.newContext();
    page = await context.newPage();
    await signInAtProvider("eve");
    await screenshot("not-provisioned");
    assert.ok((await page.content()).includes("has not been provisioned"));
    await context.close();
  });
});

// Drives Swagger UI at /docs/ in headless Chromium like a person would: Authorize with the
// OAuth2 password flow (POST /api/v1/auth/token), then "Try it out" on GET /api/v1/auth/me.
// usage: node docs_authorize.mjs BASE_URL EMAIL PASSWORD SCREENSHOT_PATH
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../../web/package.json"));
const { chromium } = require("playwright-core");

const [base, email, password, shot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage();
try {
  page.setDefaultTimeout(20000);
  await page.goto(`${base}/docs/`);
  await page.getByRole("button", { name: /Authorize/ }).first().click();
  await page.locator("input#oauth_username").fill(email);
  await page.locator("input#oauth_password").fill(password);
  const token = page.waitForResponse((r) => r.url().endsWith("/api/v1/auth/token"));
  await page.getByRole("button", { name: "Apply given OAuth2 credentials" }).click();
  const tokenResponse = await token;
  if (tokenResponse.status() !== 200) throw new Error(`token endpoint answered ${tokenResponse.status()}`);
  await page.getByRole("button", { name: "Close" }).first().click();

  const op = page.locator("#operations-auth-auth_me_get");
  await op.locator(".opblock-summary").click();
  await op.getByRole("button", { name: "Try it out" }).click();
  const me = page.waitForResponse((r) => r.url().endsWith("/api/v1/auth/me"));
  await op.getByRole("button", { name: "Execute" }).click();
  const meResponse = await me;
  if (meResponse.status() !== 200) throw new Error(`/auth/me answered ${meResponse.status()}`);
  const body = await meResponse.json();
  if (body.email !== email) throw new Error(`/auth/me returned ${JSON.stringify(body)}`);
  if (shot) await page.screenshot({ path: shot, fullPage: false });
  console.log("swagger authorize + try-it-out: ok");
} catch (e) {
  if (shot) await page.screenshot({ path: shot.replace(/\.png$/, "-failed.png") });
  throw e;
} finally {
  await browser.close();
}

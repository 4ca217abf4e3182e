// End-to-end test of the demo chat that cmd/roomcast serves at /: two
// people in headless Chromium join the room "lobby", see each other in its
// member list, and talk (in the room, then privately); a third, in a tenant
// namespace, joins a "lobby" of its own and hears none of it. It saves a
// screenshot of the second person's page to artifacts/browser.png.
//
//   make browser
//
// which installs Debian's chromium when missing, runs `npm ci` in web/ and
// builds the server; by hand:
//
//   go build -o /tmp/roomcast ./cmd/roomcast
//   cd interop && ROOMCAST_BIN=/tmp/roomcast ROOMCAST_WEB=../web node --test browser.test.mjs
//
// Without ROOMCAST_BIN (as in `make interop`, which runs every *.test.mjs)
// the test is skipped.

import { test } from "node:test";
import assert from "node:assert/strict";
import { accessSync, constants, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startServer } from "./lib/server.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const WEB = path.resolve(process.env.ROOMCAST_WEB || path.join(HERE, "..", "web"));
const ARTIFACTS = path.join(HERE, "artifacts");
const STEP = 20_000; // one awaited thing on a page (CI machines can be busy)

// Playwright gives the browser a fresh --user-data-dir of its own.
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-quic",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
];

const skip = process.env.ROOMCAST_BIN ? false : "ROOMCAST_BIN is not set: run `make browser`";

test("demo chat: two people in one room, and a tenant apart", { skip, timeout: 180_000 }, async (t) => {
  try {
    accessSync(CHROMIUM, constants.X_OK);
  } catch {
    assert.fail(`${CHROMIUM} is missing: run \`make chromium\` (or set CHROMIUM)`);
  }
  const server = await startServer(process.env.ROOMCAST_BIN, {
    ROOMCAST_WEB: WEB,
    ROOMCAST_LOG_LEVEL: "warn",
  });
  t.after(() => server.stop());
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  t.after(() => browser.close());

  const alice = await openChat(browser, server.url, "alice", "/");
  const bob = await openChat(browser, server.url, "bob", "/");
  await join(alice, "lobby");
  await join(bob, "lobby");

  // The live member list: each page shows both names.
  for (const page of [alice, bob]) await membersAre(page, ["alice", "bob"]);

  // A message to the room reaches the other page.
  await post(alice, "hello from alice");
  await seeEntry(bob, "room", "#lobby · alice", "hello from alice");

  // A private message, through the socket id of the member list's button.
  await bob.locator("#members li", { hasText: "alice" }).getByRole("button", { name: "Message" }).click();
  await bob.fill("#pm-text", "psst, alice");
  await bob.click("#pm-send");
  await seeEntry(alice, "private", "private from bob", "psst, alice");
  await seeEntry(bob, "private", "private to alice", "psst, alice");

  // The rooms of another namespace are other rooms.
  const carol = await openChat(browser, server.url, "carol", "/tenant-acme");
  await join(carol, "lobby");
  await membersAre(carol, ["carol"]);
  await post(alice, "only for the lobby of /");
  await seeEntry(bob, "room", "#lobby · alice", "only for the lobby of /");
  await post(carol, "only for the lobby of /tenant-acme");
  await seeEntry(carol, "room", "#lobby · carol", "only for the lobby of /tenant-acme");
  await membersAre(alice, ["alice", "bob"]);
  assert.equal(await countEntries(carol, "alice"), 0, "carol (/tenant-acme) got a message of /");
  assert.equal(await countEntries(bob, "carol"), 0, "bob (/) got a message of /tenant-acme");

  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(path.join(ARTIFACTS, ".gitignore"), "*\n"); // screenshots are not sources
  await bob.screenshot({ path: path.join(ARTIFACTS, "browser.png") });

  for (const page of [alice, bob, carol]) {
    assert.deepEqual(page.errors, [], `errors on ${page.who}'s page`);
  }
});

test("the client bundle at /socket.io/socket.io.js, as the Node.js server serves it", { skip }, async (t) => {
  const server = await startServer(process.env.ROOMCAST_BIN, { ROOMCAST_WEB: WEB, ROOMCAST_LOG_LEVEL: "warn" });
  t.after(() => server.stop());
  const url = `${server.url}/socket.io/socket.io.js`;

  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /^application\/javascript/);
  assert.equal(res.headers.get("cache-control"), "public, max-age=0");
  const etag = res.headers.get("etag");
  assert.match(etag ?? "", /^".+"$/);
  assert.match(await res.text(), /Socket\.IO v4\.8\./);

  for (const tag of [etag, `W/${etag}`]) {
    const again = await fetch(url, { headers: { "If-None-Match": tag } });
    assert.equal(again.status, 304, `If-None-Match: ${tag}`);
  }
  const map = await fetch(`${server.url}/socket.io/socket.io.min.js.map`);
  assert.equal(map.status, 200);
  assert.match(map.headers.get("content-type"), /^application\/json/);
  await map.arrayBuffer();
  // A name of the Node.js server's pattern that the package does not ship.
  const missing = await fetch(`${server.url}/socket.io/socket.io.msgpack.js`);
  assert.equal(missing.status, 404);
  await missing.arrayBuffer();
});

/** Opens the demo in a context of its own and connects as name to nsp. */
async function openChat(browser, url, name, nsp) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 640 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP);
  page.who = name;
  page.errors = [];
  page.on("pageerror", (err) => page.errors.push(err.message));
  page.on("console", (msg) => {
    if (msg.type() === "error") page.errors.push(msg.text());
  });
  await page.goto(url + "/");
  await page.fill("#name", name);
  await page.selectOption("#nsp", nsp);
  await page.click("#connect");
  await page.waitForSelector('#status[data-state="online"]');
  return page;
}

async function join(page, room) {
  await page.fill("#room", room);
  await page.click("#join");
  await page.waitForSelector(`#rooms button.room[aria-pressed="true"]:text-is("#${room}")`);
}

async function post(page, text) {
  await page.fill("#text", text);
  await page.click("#send");
}

/** Waits until the member list shows exactly names (the page's own with " (you)"). */
async function membersAre(page, names) {
  const want = names.map((n) => (n === page.who ? `${n} (you)` : n)).sort();
  await page
    .waitForFunction(
      (want) => {
        const got = [...document.querySelectorAll("#members .member")].map((e) => e.textContent).sort();
        return JSON.stringify(got) === JSON.stringify(want);
      },
      want,
      { timeout: STEP }
    )
    .catch(async () => {
      const got = await page.locator("#members .member").allTextContents();
      assert.fail(`${page.who}'s member list: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    });
}

/** Waits for an entry of the log with that kind, meta and text. */
async function seeEntry(page, kind, meta, text) {
  const entry = page.locator(`#log li.entry.${kind}`, {
    has: page.locator(".text", { hasText: text }),
  });
  await entry.filter({ has: page.locator(".meta", { hasText: meta }) }).first().waitFor();
}

/** Counts the log entries that mention who. */
function countEntries(page, who) {
  return page.locator("#log li.entry", { hasText: who }).count();
}

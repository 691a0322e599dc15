// console.mjs — the console page in a real headless Chromium, against the
// real recoveryd-console, recoveryd and redis-server that
// tests/test_console_browser.sh started (README, "Console"; issue 11).
//
// Each check prints "ok NAME" or "FAIL NAME: why"; the last line is
// "N passed, N failed". What it needs comes from the environment:
//   PW_DIR      the directory whose node_modules holds playwright-core
//   BASE        the console's address, http://127.0.0.1:PORT
//   REDIS_SOCK  the private redis-server's unix socket (or REDIS_PORT)
//   SUP, VIEWER user names (password: the same name followed by "-pw")
//   SHOTS       where the screenshots go (console-queue.png, ...)
//   CODE        a resolution code the configuration has
//   CHROMIUM    the browser (default /usr/bin/chromium)
//   CTL, CONF   recoveryctl and the configuration, for a change made
//               outside the page
//
// Redis is read with redis-cli (execFile, argv: no shell) to check what
// the page did, and written only to push events as a telephony system
// would (XADD ivr:events).

import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import path from "node:path";

const env = process.env;
const require = createRequire(path.resolve(env.PW_DIR, "package.json"));
const { chromium } = require("playwright-core");

const BASE = env.BASE;
const SUP = env.SUP, VIEWER = env.VIEWER;
const SHOTS = env.SHOTS;
const CODE = env.CODE || "callback-done";
const STEP_MS = 15000;	// the longest a single wait may take (a loaded
			// machine runs other suites beside this one)
// redis-cli's address: the suite's unix socket, or REDIS_PORT by hand.
const RARGS = env.REDIS_SOCK ? ["-s", env.REDIS_SOCK] :
    ["-p", env.REDIS_PORT || "6379"];

let passed = 0, failed = 0;
function ok(name) { passed++; console.log("ok " + name); }
function fail(name, why) {
	failed++;
	console.log("FAIL " + name + ": " + String(why).split("\n")[0]);
}
function check(name, cond, why) {
	if (cond)
		ok(name);
	else
		fail(name, why === undefined ? "condition false" : why);
	return cond;
}
// step(name, fn): a check that passes when fn resolves.
async function step(name, fn) {
	try {
		await fn();
		ok(name);
		return true;
	} catch (e) {
		fail(name, e && e.message ? e.message : e);
		return false;
	}
}

function redis(...args) {
	return execFileSync("redis-cli", [...RARGS, ...args],
	    { encoding: "utf8" }).replace(/\n$/, "");
}
function hget(key, field) {
	return redis("HGET", key, field);
}
// history(id): the case's history entries (redis-cli prints one list
// element a line when its output is not a terminal; compact JSON has no
// newline).
function history(id) {
	return redis("LRANGE", "ivr:case:" + id + ":history", "0", "-1")
	    .split("\n").filter((l) => l.startsWith("{"))
	    .map((l) => JSON.parse(l));
}
function caseOf(customer) {
	return redis("GET", "ivr:opencase:" + customer);
}

async function login(page, user) {
	await page.goto(BASE + "/");
	await page.waitForSelector("#login-form", { state: "visible",
	    timeout: STEP_MS });
	await page.fill("#login-user", user);
	await page.fill("#login-password", user + "-pw");
	await page.click("#login-submit");
	await page.waitForSelector("#who:not([hidden])", { timeout: STEP_MS });
}

// labelled(page): every field of the view has a label element or an
// aria-label, every button a text or an aria-label.
async function labelled(page) {
	const bad = await page.$$eval("#view input, #view select, " +
	    "#view textarea, #view button", (els) => els.filter((e) => {
		if (e.tagName === "BUTTON")
			return e.textContent.trim() === "" &&
			    !e.getAttribute("aria-label");
		return e.labels.length === 0 && !e.getAttribute("aria-label");
	    }).map((e) => e.outerHTML.slice(0, 80)));
	if (bad.length)
		throw new Error("unlabelled: " + bad.join(" "));
}

async function main() {
	let browser;
	try {
		/* A loaded CI machine once took more than 20 s to start it:
		 * up to 60 s, and a second try. */
		const opts = { executablePath: env.CHROMIUM ||
		    "/usr/bin/chromium", args: ["--no-sandbox"], timeout: 60000 };
		browser = await chromium.launch(opts).catch(() =>
		    chromium.launch(opts));
		ok("chromium starts (" + browser.version() + ")");
	} catch (e) {
		fail("chromium starts", e.message);
		return;
	}
	try {
		await run(browser);
	} catch (e) {
		fail("the browser run finished", e.stack || e);
	} finally {
		await browser.close();
	}
}

async function run(browser) {
	const problems = [];
	// watch(page, refusals): collect the page's errors. A 401 while
	// looking for a session before the login is expected, and so are the
	// 409s and blocked streams of a test that provokes them; anything
	// refused by the CSP is not.
	const watch = (page, refusals) => {
		page.on("pageerror", (e) => problems.push("page error: " + e.message));
		page.on("console", (m) => {
			const t = m.text();
			if (m.type() === "error" && !/status of 401/.test(t) &&
			    !(refusals && /status of 409|ERR_FAILED|stream/.test(t)))
				problems.push("console: " + t);
		});
	};
	const ctx = await browser.newContext({ viewport: { width: 1366,
	    height: 768 } });
	const page = await ctx.newPage();
	watch(page);
	const changes = [];
	let csrf = "";
	page.on("request", (r) => {
		const u = new URL(r.url());
		if (u.pathname.startsWith("/api/") && r.method() !== "GET" &&
		    u.pathname !== "/api/login")
			changes.push({ path: u.pathname, token:
			    r.headers()["x-csrf-token"] || "" });
	});
	page.on("response", async (r) => {
		if (new URL(r.url()).pathname === "/api/login" && r.ok())
			csrf = (await r.json()).csrf;
	});

	// Cases already open when the supervisor arrives, and a CRM hash.
	redis("HSET", "ivr:customer:KB1", "name", "Ana Silva", "tier", "gold",
	    "ltv", "12400", "segment", "retail");
	redis("XADD", "ivr:events", "*", "type", "complaint", "complaint_id",
	    "P1", "customer_id", "KS1", "severity", "critical", "text",
	    "Billed twice after cancelling");
	redis("XADD", "ivr:events", "*", "type", "rating", "call_id", "CS2",
	    "customer_id", "KS2", "agent_id", "A3", "queue", "sales", "csat",
	    "2", "comment", "The line dropped twice");
	redis("XADD", "ivr:events", "*", "type", "rating", "call_id", "CS3",
	    "customer_id", "KS3", "agent_id", "A9", "queue", "tech", "csat",
	    "1", "comment", "Still no internet");

	// --- the login page and its headers ---------------------------------
	const first = await page.goto(BASE + "/");
	const csp = first.headers()["content-security-policy"] || "";
	check("the page is served with a CSP without inline script",
	    /default-src 'self'/.test(csp) && !/unsafe-inline/.test(csp), csp);
	await page.waitForSelector("#login-form", { state: "visible",
	    timeout: STEP_MS });
	check("the login form is shown without a session",
	    await page.isVisible("#login-user") && !(await page.isVisible("#nav")));
	await page.fill("#login-user", SUP);
	await page.fill("#login-password", "wrong");
	await page.click("#login-submit");
	await step("a wrong password is said in words", async () => {
		await page.waitForSelector("#error:not([hidden])", { timeout: STEP_MS });
		const t = await page.textContent("#error-text");
		if (!/wrong|fail/i.test(t))
			throw new Error("message: " + t);
	});
	await page.fill("#login-password", SUP + "-pw");
	await page.click("#login-submit");
	await step("log in as a supervisor", async () => {
		await page.waitForSelector("#who:not([hidden])", { timeout: STEP_MS });
		const name = await page.textContent("#who-name");
		if (name !== SUP)
			throw new Error("header shows " + name);
	});
	await step("the live stream is connected", () =>
	    page.waitForFunction(() => document.getElementById("live")
		.classList.contains("on"), null, { timeout: STEP_MS }));

	// --- an event appears without reload -----------------------------------
	// A second stream of the test's own notes when each "cases" message
	// arrives, so that a slow step says where its time went: the XADD
	// (redis-cli), the daemon and console (message), the page's read of
	// the queue (/api/cases) or its drawing.
	await page.evaluate(() => {
		window.__noReload = 1;
		performance.setResourceTimingBufferSize(10000);
		window.__sse = [];
		window.__es = new EventSource("/api/stream");
		window.__es.addEventListener("cases", (e) =>
		    window.__sse.push([Date.now(), e.data]));
	});
	await page.waitForFunction(() => window.__es.readyState === 1, null,
	    { timeout: STEP_MS });
	const comment = "Waited 40 minutes <b>twice</b> & nobody called back";
	const t0 = Date.now();
	const xid = redis("XADD", "ivr:events", "*", "type", "rating",
	    "call_id", "CB1", "customer_id", "KB1", "agent_id", "A7", "queue",
	    "billing", "csat", "1", "comment", comment);
	let id = "";
	await step("a pushed event's case appears in the queue within 1 s " +
	    "without reload", async () => {
		await page.waitForFunction(() => [...document.querySelectorAll(
		    "tr[data-case]")].some((r) => r.textContent.includes("KB1")),
		    null, { timeout: STEP_MS, polling: 20 });
		const ms = Date.now() - t0;
		if (await page.evaluate(() => window.__noReload) !== 1)
			throw new Error("the page was reloaded");
		id = caseOf("KB1");
		const b = await page.evaluate((cid) => {
			const m = window.__sse.find((x) => x[1].includes(cid));
			const at = m ? m[0] : 0;
			const f = performance.getEntriesByType("resource")
			    .filter((r) => r.name.includes("/api/cases") &&
				performance.timeOrigin + r.responseEnd >= at)
			    .map((r) => [performance.timeOrigin + r.startTime,
				performance.timeOrigin + r.responseEnd]);
			window.__es.close();
			return { at, f: f.length ? f[0] : null };
		}, id);
		// From the moment Redis took the event (its entry ID's time,
		// the same clock): starting redis-cli is not the product's.
		const rel = (t) => (t ? Math.round(t - t0) : "?");
		const since = ms - (Number(xid.split("-")[0]) - t0);
		const why = "XADD +" + (Number(xid.split("-")[0]) - t0) +
		    " ms, message +" + rel(b.at) + ", /api/cases +" +
		    (b.f ? rel(b.f[0]) + "..+" + rel(b.f[1]) : "?") +
		    ", shown +" + ms;
		console.log("# case " + id + ": " + why);
		if (since > 1000)
			throw new Error("took " + since + " ms (" + why + ")");
	});
	if (!id)
		id = caseOf("KB1");
	// A case of another rule and severity, so that the queue shows its
	// order.
	redis("XADD", "ivr:events", "*", "type", "complaint", "complaint_id",
	    "P9", "customer_id", "KB2", "severity", "high", "text",
	    "Charged twice for one month");
	await page.waitForFunction(() => [...document.querySelectorAll(
	    "tr[data-case]")].some((r) => r.textContent.includes("KB2")), null,
	    { timeout: STEP_MS }).catch(() => {});
	await step("the queue is sorted by severity, then age", async () => {
		const sevs = await page.$$eval("tr[data-case] .sev",
		    (els) => els.map((e) => e.textContent));
		const rank = ["critical", "high", "medium", "low"];
		for (let i = 1; i < sevs.length; i++)
			if (rank.indexOf(sevs[i - 1]) > rank.indexOf(sevs[i]))
				throw new Error("order " + sevs.join(","));
	});
	await step("search by customer ID narrows the queue", async () => {
		await page.fill("input[name=q]", "KB2");
		await page.press("input[name=q]", "Enter");
		await page.waitForFunction(() => document.querySelectorAll(
		    "tr[data-case]").length === 1, null, { timeout: STEP_MS });
		const t = await page.textContent("tr[data-case]");
		if (!t.includes("KB2"))
			throw new Error("row: " + t);
		await page.fill("input[name=q]", "");
		await page.press("input[name=q]", "Enter");
		await page.waitForFunction(() => document.querySelectorAll(
		    "tr[data-case]").length >= 2, null, { timeout: STEP_MS });
	});
	await step("the severity filter keeps only that severity", async () => {
		await page.selectOption("select[name=severity]", "critical");
		await page.waitForFunction(() => {
			const s = [...document.querySelectorAll("tr[data-case] .sev")];
			return s.length >= 1 && s.every((e) =>
			    e.textContent === "critical");
		}, null, { timeout: STEP_MS });
		await page.selectOption("select[name=severity]", "");
		await page.waitForFunction(() => document.querySelectorAll(
		    "tr[data-case]").length >= 4, null, { timeout: STEP_MS });
	});
	await page.evaluate(() => document.activeElement.blur());
	await page.screenshot({ path: path.join(SHOTS, "console-queue.png") });
	await step("bulk acknowledge two cases with their boxes", async () => {
		const ids = [caseOf("KS2"), caseOf("KS3")];
		for (const c of ids)
			await page.check("tr[data-case=\"" + c + "\"] td.sel input");
		await page.click("#bulk-ack");
		await page.waitForFunction((l) => l.every((c) => {
			const r = document.querySelector("tr[data-case=\"" + c +
			    "\"] .state");
			return r && r.textContent === "acknowledged";
		}), ids, { timeout: STEP_MS });
		for (const c of ids)
			if (hget("ivr:case:" + c, "acked_by") !== SUP)
				throw new Error(c + " acked_by " +
				    hget("ivr:case:" + c, "acked_by"));
	});

	// --- the case page --------------------------------------------------------
	await step("open the case from the queue", async () => {
		await page.click("tr[data-case=\"" + id + "\"] a");
		await page.waitForSelector(".history", { timeout: STEP_MS });
	});
	await step("the customer's comment is in the history, as text",
	    async () => {
		const q = await page.textContent(".verbatim blockquote");
		if (q !== comment)
			throw new Error("shown: " + q);
		if (await page.$(".history b"))
			throw new Error("the comment's markup became HTML");
	});
	await step("the case page shows the SLA clock and pending steps",
	    async () => {
		const due = await page.textContent("dd[data-field=due_at]");
		if (!/due in|overdue/.test(due))
			throw new Error("due: " + due);
		const p = await page.textContent("#pend-title + *");
		if (!/step 1/.test(p))
			throw new Error("pending: " + p);
	});
	await step("the case page shows the customer's CRM fields", async () => {
		const t = await page.textContent("#crm-title + *");
		if (!t.includes("Ana Silva") || !t.includes("gold"))
			throw new Error("CRM: " + t);
	});
	await page.screenshot({ path: path.join(SHOTS, "console-case.png") });
	await step("acknowledge: the page and Redis say who", async () => {
		await page.click("#act-ack");
		await page.waitForSelector("h1 .state-acknowledged",
		    { timeout: STEP_MS });
		const by = hget("ivr:case:" + id, "acked_by");
		if (by !== SUP)
			throw new Error("acked_by " + by);
	});
	await step("a note goes into the history with the user", async () => {
		await page.fill("#note-text", "Left a voicemail, will try at 5");
		await page.click("#note-text ~ button, form[aria-label=Note] " +
		    "button[type=submit]");
		await page.waitForFunction(() => [...document.querySelectorAll(
		    ".h-note")].some((e) => e.textContent.includes("voicemail")),
		    null, { timeout: STEP_MS });
		if (!history(id).some((e) => e.kind === "note" && e.by === SUP &&
		    /voicemail/.test(e.text)))
			throw new Error("no note by " + SUP + " in Redis");
	});
	await step("assign to another person", async () => {
		await page.fill("#assign-to", "ben");
		await page.click("form[aria-label=Assign] button[type=submit]");
		await page.waitForFunction(() => {
			const d = document.querySelector("dd[data-field=owner]");
			return d && d.textContent === "ben";
		}, null, { timeout: STEP_MS });
		if (hget("ivr:case:" + id, "owner") !== "ben")
			throw new Error("owner " + hget("ivr:case:" + id, "owner"));
	});
	await step("resolving without a code is refused in words", async () => {
		await page.click("form.resolve button[type=submit]");
		const t = await page.textContent("#error-text");
		if (!/reason code/.test(t))
			throw new Error("message: " + t);
		if (hget("ivr:case:" + id, "state") !== "acknowledged")
			throw new Error("the case changed");
	});
	await step("resolve with a code from the server's list", async () => {
		const codes = await page.$$eval("#resolve-code option",
		    (os) => os.map((o) => o.value).filter((v) => v));
		if (!codes.includes(CODE))
			throw new Error("codes offered: " + codes.join(","));
		await page.selectOption("#resolve-code", CODE);
		await page.fill("#resolve-note", "called back, refunded");
		await page.click("form.resolve button[type=submit]");
		await page.waitForSelector("h1 .state-resolved", { timeout: STEP_MS });
	});
	check("the Redis case hash names the resolver and the code",
	    hget("ivr:case:" + id, "state") === "resolved" &&
	    hget("ivr:case:" + id, "resolved_by") === SUP &&
	    hget("ivr:case:" + id, "resolution_code") === CODE,
	    "state " + hget("ivr:case:" + id, "state") + ", resolved_by " +
	    hget("ivr:case:" + id, "resolved_by"));
	const hist = history(id);
	check("the Redis history has the ack and the resolve by the user",
	    hist.some((e) => e.kind === "ack" && e.by === SUP) &&
	    hist.some((e) => e.kind === "resolve" && e.by === SUP &&
		e.code === CODE),
	    JSON.stringify(hist.map((e) => [e.kind, e.by])));
	await step("the history on the page shows the resolve by the user",
	    () => page.waitForFunction((who) => [...document.querySelectorAll(
		".h-resolve")].some((e) => e.textContent.includes("by " + who)),
		SUP, { timeout: STEP_MS }));
	await step("reopen the resolved case", async () => {
		await page.click("#act-reopen");
		await page.waitForSelector("h1 .state-reopened", { timeout: STEP_MS });
		if (hget("ivr:case:" + id, "state") !== "reopened" ||
		    !history(id).some((e) => e.kind === "reopen" && e.by === SUP))
			throw new Error("state " + hget("ivr:case:" + id, "state"));
	});
	check("every change sent the session's X-CSRF-Token",
	    changes.length >= 2 && changes.every((c) => c.token === csrf &&
		csrf !== ""), JSON.stringify(changes));

	// --- report and silences ---------------------------------------------------
	await step("the report shows the rule's figures", async () => {
		await page.click("#nav a[data-view=report]");
		await page.waitForSelector("table.report", { timeout: STEP_MS });
		const t = await page.textContent("table.report tbody");
		if (!t.includes("low-csat") || !t.includes(CODE))
			throw new Error("report: " + t.slice(0, 200));
	});
	await step("the report by queue and by owner", async () => {
		await page.selectOption("select[name=by]", "queue");
		await page.waitForFunction(() => [...document.querySelectorAll(
		    "table.report tbody th")].some((e) => e.textContent === "billing"),
		    null, { timeout: STEP_MS });
		await page.selectOption("select[name=by]", "owner");
		await page.waitForFunction(() => [...document.querySelectorAll(
		    "table.report tbody th")].some((e) => e.textContent === "ben"),
		    null, { timeout: STEP_MS });
	});
	await step("add a silence from the page", async () => {
		await page.click("#nav a[data-view=silences]");
		await page.waitForSelector("form.add-silence", { timeout: STEP_MS });
		await page.fill("form.add-silence input[name=queue]", "billing");
		await page.fill("form.add-silence input[name=for]", "30m");
		await page.fill("form.add-silence input[name=reason]", "browser test");
		await page.click("form.add-silence button[type=submit]");
		await page.waitForFunction(() => [...document.querySelectorAll(
		    "table.silences tbody tr")].some((r) =>
		    r.textContent.includes("browser test")), null,
		    { timeout: STEP_MS });
		const all = redis("HVALS", "ivr:silences");
		if (!all.includes("browser test") || !all.includes(SUP))
			throw new Error("ivr:silences: " + all);
	});
	await step("expire it from the page", async () => {
		await page.click("table.silences button");
		await page.waitForFunction(() => ![...document.querySelectorAll(
		    "table.silences tbody tr")].some((r) => r.textContent
		    .includes("browser test") && r.querySelector("button")),
		    null, { timeout: STEP_MS });
	});
	await step("a view's late answer draws nothing over the next view",
	    async () => {
		// The case's answer is held back 800 ms; the queue opens
		// meanwhile and must still be there after it came.
		let held = 0;
		const only = new RegExp("/api/cases/" + id + "$");
		const slow = async (r) => {
			held++;
			await new Promise((ok) => setTimeout(ok, 800));
			await r.continue();
		};
		await page.route(only, slow);
		await page.evaluate((c) => { location.hash = "#/case/" +
		    encodeURIComponent(c); }, id);
		await page.click("#nav a[data-view=queue]");
		await page.waitForSelector("tr[data-case]", { timeout: STEP_MS });
		await page.waitForTimeout(1500);
		await page.unroute(only, slow);
		if (held === 0)
			throw new Error("no answer was held back");
		if (await page.$(".history") || !await page.$("tr[data-case]"))
			throw new Error("the case's late answer replaced the queue");
	});
	check("no page error and nothing refused by the CSP",
	    problems.length === 0, problems.join(" | "));

	// --- a session that ends -------------------------------------------------
	await step("an ended session brings back the login form, in words",
	    async () => {
		await page.click("#nav a[data-view=queue]");
		await page.waitForSelector("tr[data-case]", { timeout: STEP_MS });
		await ctx.clearCookies();
		await page.click("#nav a[data-view=report]");
		await page.waitForSelector("#login-form", { state: "visible",
		    timeout: STEP_MS });
		const t = await page.textContent("#error-text");
		if (!/sign|log/i.test(t))
			throw new Error("message: " + t);
	});
	await ctx.close();

	// --- a refusal from the server -------------------------------------------
	// A tab without live updates (its stream blocked) still offers
	// "Acknowledge" on a case another tab resolved meanwhile.
	const sctx = await browser.newContext({ viewport: { width: 1366,
	    height: 768 } });
	await sctx.route("**/api/stream", (r) => r.abort());
	const stale = await sctx.newPage();
	watch(stale, true);
	await login(stale, SUP);
	const sid = caseOf("KS1");
	await stale.goto(BASE + "/#/case/" + sid);
	await stale.waitForSelector("#act-ack", { timeout: STEP_MS });
	const other = await sctx.newPage();
	await other.goto(BASE + "/#/case/" + sid);
	await other.waitForSelector("#resolve-code", { timeout: STEP_MS });
	await other.selectOption("#resolve-code", CODE);
	await other.click("form.resolve button[type=submit]");
	await other.waitForSelector("h1 .state-resolved", { timeout: STEP_MS });
	await step("the server's refusal is said in words", async () => {
		await stale.click("#act-ack");
		await stale.waitForSelector("#error:not([hidden])",
		    { timeout: STEP_MS });
		const t = await stale.textContent("#error-text");
		if (!/resolved/.test(t))
			throw new Error("message: " + t);
		// ...and the page then shows the case as it is.
		await stale.waitForSelector("h1 .state-resolved", { timeout: STEP_MS });
	});
	await sctx.close();

	// --- a viewer ------------------------------------------------------------
	redis("XADD", "ivr:events", "*", "type", "rating", "call_id", "CB3",
	    "customer_id", "KB3", "csat", "2", "comment", "meh");
	const vctx = await browser.newContext({ viewport: { width: 1366,
	    height: 768 } });
	const vp = await vctx.newPage();
	watch(vp);
	await login(vp, VIEWER);
	await step("a viewer sees no action buttons", async () => {
		await vp.waitForFunction(() => [...document.querySelectorAll(
		    "tr[data-case]")].some((r) => r.textContent.includes("KB3")),
		    null, { timeout: STEP_MS });
		if (await vp.$("tr[data-case] input[type=checkbox], #bulk-ack"))
			throw new Error("the queue has selection or bulk controls");
		await vp.click("tr[data-case=\"" + caseOf("KB3") + "\"] a");
		await vp.waitForSelector(".history", { timeout: STEP_MS });
		const b = await vp.$$eval("#view button, #view form.action",
		    (els) => els.map((e) => e.textContent.trim()));
		if (b.length)
			throw new Error("controls: " + b.join(", "));
	});
	await step("an open case page shows another's change within 1 s " +
	    "without reload", async () => {
		await vp.evaluate(() => { window.__noReload = 1; });
		const t = Date.now();
		execFileSync(env.CTL, ["-c", env.CONF, "note", caseOf("KB3"),
		    "called from the wallboard", "--by", "ops"], { stdio: "ignore" });
		await vp.waitForFunction(() => [...document.querySelectorAll(
		    ".h-note")].some((e) => e.textContent.includes("wallboard") &&
		    e.textContent.includes("by ops")), null, { timeout: STEP_MS,
		    polling: 20 });
		const shown = Date.now();
		if (await vp.evaluate(() => window.__noReload) !== 1)
			throw new Error("the page was reloaded");
		// From the change's own time (the history entry's "at"), not
		// from before recoveryctl started and read its configuration.
		const note = history(caseOf("KB3")).filter((e) =>
		    e.kind === "note" && /wallboard/.test(e.note || e.text ||
		    JSON.stringify(e))).pop();
		const at = note && note.at ? Date.parse(note.at) : NaN;
		const took = shown - (isNaN(at) ? t : at);
		console.log("# note shown " + took + " ms after it was made (" +
		    (shown - t) + " ms after recoveryctl started)");
		if (took > 1000)
			throw new Error("took " + took + " ms (" + (shown - t) +
			    " ms after recoveryctl started)");
	});
	await step("a viewer's silences page has no controls", async () => {
		await vp.click("#nav a[data-view=silences]");
		await vp.waitForSelector(".silence-list table, .silence-list .empty",
		    { timeout: STEP_MS });
		if (await vp.$("#view button, form.add-silence"))
			throw new Error("the silences page has controls");
	});
	await vctx.close();

	// --- a phone -----------------------------------------------------------------
	const pctx = await browser.newContext({ viewport: { width: 390,
	    height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 });
	const pp = await pctx.newPage();
	watch(pp);
	await login(pp, SUP);
	await step("a 390x844 phone shows the queue without horizontal scrolling",
	    async () => {
		await pp.waitForSelector("tr[data-case]", { timeout: STEP_MS });
		const [sw, iw] = await pp.evaluate(() =>
		    [document.documentElement.scrollWidth, window.innerWidth]);
		if (sw > iw)
			throw new Error("scrollWidth " + sw + " > innerWidth " + iw);
	});
	await pp.screenshot({ path: path.join(SHOTS, "console-phone.png") });
	await step("a phone unfolds the other filters with a button", async () => {
		if (await pp.isVisible("select[name=severity]"))
			throw new Error("the filters are not folded");
		await pp.click(".filters-toggle");
		await pp.waitForSelector("select[name=severity]",
		    { state: "visible", timeout: STEP_MS });
		const [sw, iw] = await pp.evaluate(() =>
		    [document.documentElement.scrollWidth, window.innerWidth]);
		if (sw > iw)
			throw new Error("scrollWidth " + sw + " > innerWidth " + iw);
	});
	await step("a phone shows the case page without horizontal scrolling",
	    async () => {
		await pp.click("tr[data-case] a");
		await pp.waitForSelector(".history", { timeout: STEP_MS });
		const [sw, iw] = await pp.evaluate(() =>
		    [document.documentElement.scrollWidth, window.innerWidth]);
		if (sw > iw)
			throw new Error("scrollWidth " + sw + " > innerWidth " + iw);
	});
	await pctx.close();

	// --- the keyboard only ---------------------------------------------------------
	const kctx = await browser.newContext({ viewport: { width: 1366,
	    height: 768 } });
	const kp = await kctx.newPage();
	watch(kp);
	await kp.goto(BASE + "/");
	await kp.waitForSelector("#login-form", { state: "visible",
	    timeout: STEP_MS });
	const kid = caseOf("KB3");
	// tab(page, sel, max): press Tab until the focus is on sel.
	const tab = async (p, sel, max) => {
		for (let i = 0; i < max; i++) {
			if (await p.evaluate((s) => document.activeElement &&
			    document.activeElement.matches(s), sel))
				return i;
			await p.keyboard.press("Tab");
		}
		throw new Error("no " + sel + " within " + max + " Tabs");
	};
	await step("keyboard only: sign in with Tab and Enter", async () => {
		// The user name field has the focus from the start.
		await tab(kp, "#login-user", 1);
		await kp.keyboard.type(SUP);
		await kp.keyboard.press("Tab");
		await kp.keyboard.type(SUP + "-pw");
		await kp.keyboard.press("Enter");
		await kp.waitForSelector("tr[data-case=\"" + kid + "\"]",
		    { timeout: STEP_MS });
	});
	await step("keyboard only: Tab to the case, Enter opens it", async () => {
		await tab(kp, "tr[data-case=\"" + kid + "\"] a", 80);
		const outline = await kp.evaluate(() => {
			const s = getComputedStyle(document.activeElement);
			return s.outlineStyle + " " + s.outlineWidth;
		});
		if (/^none/.test(outline) || / 0px$/.test(outline))
			throw new Error("the focus is not visible: " + outline);
		await kp.keyboard.press("Enter");
		await kp.waitForSelector(".history", { timeout: STEP_MS });
	});
	await step("keyboard only: the skip link keeps the case page", async () => {
		await kp.keyboard.press("Shift+Tab");
		await tab(kp, "a.skip", 60);
		await kp.keyboard.press("Enter");
		await kp.waitForFunction(() => document.activeElement ===
		    document.getElementById("main"), null, { timeout: STEP_MS });
		if (!(await kp.$(".history")))
			throw new Error("the case page is gone: " + kp.url());
	});
	await step("keyboard only: Tab to \"Take it\", Enter takes the case",
	    async () => {
		await tab(kp, "#act-take", 40);
		await kp.keyboard.press("Enter");
		await kp.waitForFunction(() => {
			const d = document.querySelector("dd[data-field=owner]");
			return d !== null;
		}, null, { timeout: STEP_MS });
		const owner = hget("ivr:case:" + kid, "owner");
		if (owner !== SUP)
			throw new Error("owner " + owner);
	});
	await step("\"Mine only\" shows the cases the user owns", async () => {
		await kp.click("#nav a[data-view=queue]");
		await kp.waitForSelector("tr[data-case]", { timeout: STEP_MS });
		await kp.check("input[name=mine]");
		await kp.waitForFunction((c) => {
			const r = [...document.querySelectorAll("tr[data-case]")];
			return r.length === 1 && r[0].dataset.case === c;
		}, kid, { timeout: STEP_MS });
		await kp.goBack();
		await kp.waitForSelector(".history", { timeout: STEP_MS });
	});
	await step("every control on the case page has a label", () =>
	    labelled(kp));
	await step("every control of the queue and the silences has a label",
	    async () => {
		await kp.click("#nav a[data-view=queue]");
		await kp.waitForSelector("tr[data-case]", { timeout: STEP_MS });
		await labelled(kp);
		await kp.click("#nav a[data-view=silences]");
		await kp.waitForSelector("form.add-silence", { timeout: STEP_MS });
		await labelled(kp);
	});
	await kctx.close();
	check("no page error in the other sessions", problems.length === 0,
	    problems.join(" | "));
}

await main();
console.log(passed + " passed, " + failed + " failed");
process.exit(failed === 0 ? 0 : 1);

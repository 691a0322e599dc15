// app.js — the console's entry: session, router, live updates.
//
// Views are ES modules with show(root, arg) drawing into the view section
// and an optional refresh() that reloads their data; the route is the URL
// fragment (#/queue, #/case/ID, #/report, #/silences, #/audit), so the
// browser's back button and bookmarks work without a server round trip.
//
// Live updates: one EventSource on /api/stream. A message says which
// cases changed; the shown view reloads from the API (the answer, not the
// message, is what is drawn, so a missed message is never a wrong page),
// at once and then at most twice a second. The browser reconnects by
// itself (and the view reloads then, as changes may have been missed);
// the header says whether the stream is live.

import * as api from "./api.js";
import { clear } from "./dom.js";
import { showError, clearError, notice } from "./msg.js";
import * as queue from "./queue.js";
import * as casePage from "./case.js";
import * as report from "./report.js";
import * as silences from "./silences.js";
import * as audit from "./audit.js";

const $ = (id) => document.getElementById(id);

const views = { queue, case: casePage, report, silences, audit };
let active = null;
let stream = null;

// --- session ---------------------------------------------------------------

function showLogin(msg) {
	closeStream();
	$("nav").hidden = true;
	$("who").hidden = true;
	$("view").hidden = true;
	clear($("view"));
	active = null;
	$("login-view").hidden = false;
	document.title = "Sign in · recoveryd console";
	if (msg)
		showError(msg);
	else
		clearError();
	$("login-user").focus();
}

function showApp() {
	const s = api.current();
	$("login-view").hidden = true;
	$("nav").hidden = false;
	$("who").hidden = false;
	$("who-name").textContent = s.user;
	$("who-role").textContent = s.role;
	$("nav-audit").hidden = s.role !== "admin";
	openStream();
	route();
	$("main").focus({ preventScroll: true });
}

async function onLogin(ev) {
	ev.preventDefault();
	clearError();
	const user = $("login-user").value.trim();
	const password = $("login-password").value;
	if (user === "" || password === "") {
		showError("Enter your user name and password.");
		return;
	}
	$("login-submit").disabled = true;
	try {
		await api.login(user, password);
		$("login-password").value = "";
		if (!location.hash || location.hash === "#")
			history.replaceState(null, "", "#/queue");
		showApp();
	} catch (e) {
		showError(e.status === 401 || e.status === 403 ?
		    "Sign-in failed: " + e.message : e.message);
	} finally {
		$("login-submit").disabled = false;
	}
}

async function onLogout() {
	try {
		await api.logout();
	} catch (e) {
		// The session is forgotten here either way.
	}
	showLogin();
	notice("Signed out.");
}

// --- routing ---------------------------------------------------------------

function parse() {
	const m = /^#\/([a-z]+)(?:\/(.*))?$/.exec(location.hash);
	if (!m || !views[m[1]])
		return { name: "queue", arg: "" };
	try {
		return { name: m[1], arg: m[2] ? decodeURIComponent(m[2]) : "" };
	} catch (e) {
		return { name: m[1], arg: m[2] };	// not %-encoded after all
	}
}

const TITLES = { queue: "Queue", report: "Report", silences: "Silences",
    audit: "Audit" };

function route() {
	if (!api.current())
		return;
	const { name, arg } = parse();
	for (const a of $("nav").querySelectorAll("a")) {
		if (a.dataset.view === name || (name === "case" &&
		    a.dataset.view === "queue"))
			a.setAttribute("aria-current", "page");
		else
			a.removeAttribute("aria-current");
	}
	clearError();
	document.title = (name === "case" ? "Case " + arg : TITLES[name]) +
	    " · recoveryd console";
	const root = $("view");
	root.hidden = false;
	active = views[name];
	// Each view draws into a new element: the one before is detached,
	// so that its answers still on their way (isConnected) draw nothing.
	const el = document.createElement("div");
	clear(root, el);
	active.show(el, arg);
}

// A new view: start at its top, and let Tab go on from there (the link
// that led here is gone).
function navigated() {
	route();
	window.scrollTo(0, 0);
	$("main").focus({ preventScroll: true });
}

// --- live updates ------------------------------------------------------------

// changed(ev): a "cases" message names the changed cases ({"ids": [...]}
// or "*"); "reload" (the server lost and regained its subscription) and
// anything else mean everything. The view is told which.
const THROTTLE_MS = 500;
let pending = 0;
let changedIds = new Set();
let changedAll = false;
function changed(ev) {
	let ids = null;
	try {
		const d = JSON.parse(ev.data);
		if (d && Array.isArray(d.ids))
			ids = d.ids.map(String);
	} catch (e) {
		// Not JSON: treat it as "everything changed".
	}
	if (ids === null || ev.type !== "cases")
		changedAll = true;
	else
		ids.forEach((i) => changedIds.add(i));
	if (pending)
		return;
	// The first change is drawn at once; those that follow within
	// THROTTLE_MS are drawn together after it, so that a busy center
	// (many changes a second, each page reading its queue again) costs
	// the server at most two reads a second per page.
	const flush = () => {
		const which = changedAll ? null : changedIds;
		changedIds = new Set();
		changedAll = false;
		if (active && active.refresh && api.current())
			active.refresh(which);
	};
	flush();
	pending = setTimeout(function again() {
		if (changedAll || changedIds.size) {
			flush();
			pending = setTimeout(again, THROTTLE_MS);
		} else
			pending = 0;
	}, THROTTLE_MS);
}

function setLive(on) {
	$("live").textContent = on ? "live" : "reconnecting";
	$("live").classList.toggle("on", on);
}

function openStream() {
	if (stream || typeof EventSource === "undefined")
		return;
	stream = new EventSource("/api/stream");
	let down = false;
	stream.addEventListener("open", () => {
		setLive(true);
		if (down)	// changes may have been missed meanwhile
			changed({ type: "reload", data: "" });
		down = false;
	});
	stream.addEventListener("error", () => {
		setLive(false);
		down = true;
		// A refused stream (401: the session ended; 503: too many open)
		// is not retried by the browser: ask the API in a few seconds
		// whether the session is still there (a 401 brings the login
		// form), then open it again.
		if (stream && stream.readyState === EventSource.CLOSED) {
			closeStream();
			setTimeout(() => {
				if (api.current())
					api.get("/api/me").then(() => {
						if (api.current())
							openStream();
					}, () => {});
			}, 3000);
		}
	});
	stream.addEventListener("message", changed);
	stream.addEventListener("cases", changed);
	stream.addEventListener("reload", changed);
}

function closeStream() {
	if (stream) {
		stream.close();
		stream = null;
	}
	setLive(false);
}

// --- start -------------------------------------------------------------------

function start() {
	$("login-form").addEventListener("submit", onLogin);
	$("logout").addEventListener("click", onLogout);
	$("error-close").addEventListener("click", clearError);
	window.addEventListener("hashchange", navigated);
	// The skip link moves the focus only: as a fragment it would leave
	// the view ("#main" is no route).
	document.querySelector(".skip").addEventListener("click", (ev) => {
		ev.preventDefault();
		$("main").focus();
	});
	api.expired((msg) => showLogin("Signed out: " + msg));
	api.restore().then((s) => s ? showApp() : showLogin(), (e) => {
		showLogin();
		showError(e.message);
	});
}

start();

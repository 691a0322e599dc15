// silences.js — silences, as in alert managers (README, "Silences"): the
// list (matchers, when it ends or ended, how many firings it held back,
// who and why), a form to add one and a button to expire one now.
//
// A silence holds back firings that match every matcher given (rule,
// queue, agent, customer); they are still decided, but deliver nothing
// and open no case. The list is the server's (GET /api/silences); adding
// and expiring are changes (POST, DELETE) and need a supervisor.

import * as api from "./api.js";
import { h, clear, field, timeEl, span, ms } from "./dom.js";
import { showError, clearError, notice } from "./msg.js";

let root = null;
let seq = 0;
const MATCHERS = [["rule", "Rule"], ["queue", "Queue"], ["agent", "Agent"],
    ["customer", "Customer"]];

function matchers(s) {
	const m = s.matchers && typeof s.matchers === "object" ? s.matchers : s;
	const parts = MATCHERS.filter(([k]) => typeof m[k] === "string" &&
	    m[k] !== "").map(([k]) => k + "=" + m[k]);
	return parts.length ? parts.join(" ") : "–";
}

// endMs(s): when the silence ends, from ends_at (RFC 3339) or ends_ms.
const endMs = (s) => ms(s.ends_at !== undefined ? s.ends_at : s.ends_ms);
const startMs = (s) => ms(s.starts_at !== undefined ? s.starts_at :
    s.starts_ms);

function ends(s, now) {
	const end = endMs(s);
	if (!Number.isFinite(end))
		return "–";
	const left = (end - now) / 1000;
	const active = s.active !== undefined ? s.active : left > 0;
	return h("span", { class: active ? "active" : "muted" },
	    timeEl(end, active ? "in " + span(left) : "expired " +
		span(-left) + " ago"));
}

async function expire(id) {
	clearError();
	try {
		await api.del("/api/silences/" + encodeURIComponent(id));
		notice("Silence " + id + " expired.");
	} catch (e) {
		showError("Could not expire silence " + id + ": " + e.message);
	}
	load();
}

function table(list) {
	if (list.length === 0)
		return h("p", { class: "empty" }, "No silence.");
	const now = Date.now();
	const change = api.canChange();
	const me = api.current().user;
	const admin = api.current().role === "admin";
	return h("table", { class: "silences" },
	    h("caption", { class: "sr-only" }, "Silences, newest first"),
	    h("thead", null, h("tr", null, ["ID", "Matchers", "Ends", "Held back",
		"By", "Reason"].map((t) => h("th", { scope: "col" }, t)),
		change ? h("th", { scope: "col" }, h("span", { class: "sr-only" },
		    "Actions")) : null)),
	    h("tbody", null, list.map((s) => {
		const active = s.active !== undefined ? s.active :
		    endMs(s) > now;
		let btn = null;
		if (change && active && (admin || s.by === me)) {
			btn = h("button", { type: "button", "aria-label":
			    "Expire silence " + s.id }, "Expire");
			btn.addEventListener("click", () => expire(s.id));
		}
		return h("tr", { class: active ? "" : "expired" },
		    h("td", { "data-label": "ID", class: "case-id" }, s.id || "–"),
		    h("td", { "data-label": "Matchers" }, matchers(s)),
		    h("td", { "data-label": "Ends" }, ends(s, now)),
		    h("td", { "data-label": "Held back" }, String(s.count ?? 0)),
		    h("td", { "data-label": "By" }, s.by || "–"),
		    h("td", { "data-label": "Reason" }, s.reason || "–"),
		    change ? h("td", null, btn) : null);
	    })));
}

async function load() {
	const mySeq = ++seq;
	const out = root.querySelector(".silence-list");
	try {
		const a = await api.get("/api/silences");
		if (mySeq !== seq || !out.isConnected)
			return;
		const list = api.list(a, "silences").slice().sort((x, y) =>
		    (startMs(y) || 0) - (startMs(x) || 0));
		clear(out, table(list));
	} catch (e) {
		if (mySeq === seq)
			showError("Could not load the silences: " + e.message);
	}
}

function addForm() {
	const inputs = MATCHERS.map(([k, label]) => field(label,
	    h("input", { name: k, autocomplete: "off" })));
	const dur = h("input", { name: "for", value: "2h", required: true,
	    pattern: "[0-9]+(ms|s|m|h|d)", autocomplete: "off" });
	const reason = h("input", { name: "reason", required: true,
	    maxlength: 500, autocomplete: "off" });
	const form = h("form", { class: "filters add-silence",
	    "aria-labelledby": "add-title", novalidate: true },
	    h("h2", { id: "add-title" }, "Add a silence"),
	    h("p", { class: "hint" }, "Give at least one matcher; every " +
		"matcher given must match."),
	    inputs,
	    field("For (e.g. 30m, 2h, 1d)", dur),
	    field("Reason", reason, "wide"),
	    h("button", { type: "submit" }, "Add silence"));
	form.addEventListener("submit", async (ev) => {
		ev.preventDefault();
		clearError();
		const fd = new FormData(form);
		const body = {};
		for (const [k] of MATCHERS) {
			const v = String(fd.get(k) || "").trim();
			if (v)
				body[k] = v;
		}
		if (Object.keys(body).length === 0) {
			showError("Give at least one of rule, queue, agent or " +
			    "customer.");
			return;
		}
		body.for = String(fd.get("for") || "").trim();
		body.reason = String(fd.get("reason") || "").trim();
		if (!/^[0-9]+(ms|s|m|h|d)$/.test(body.for)) {
			showError("Give the duration as a number and a unit, " +
			    "for example 30m or 2h.");
			return;
		}
		if (!body.reason) {
			showError("Say why: the reason is required.");
			return;
		}
		try {
			const a = await api.post("/api/silences", body);
			form.reset();
			notice("Silence " + (a && a.id ? a.id + " " : "") + "added.");
		} catch (e) {
			showError("Could not add the silence: " + e.message);
		}
		load();
	});
	return form;
}

export function refresh() {
	if (root && root.isConnected)
		return load();
}

export function show(el) {
	root = el;
	clear(root, h("h1", null, "Silences"),
	    api.canChange() ? addForm() : null,
	    h("section", { "aria-label": "Silence list" },
		h("div", { class: "silence-list" }, h("p", null, "Loading…"))));
	load();
}

// audit.js — the audit of logins, for admins (README, "Console"): the
// console's last logins, refusals and logouts, newest first, from
// GET /api/audit (the server keeps a bounded number in memory).

import * as api from "./api.js";
import { h, clear, timeEl } from "./dom.js";
import { showError } from "./msg.js";

let root = null;

async function load() {
	const out = root.querySelector(".audit-list");
	try {
		const list = api.list(await api.get("/api/audit"), "audit");
		if (!out.isConnected)
			return;
		clear(out, list.length === 0 ?
		    h("p", { class: "empty" }, "No login yet.") :
		    h("table", { class: "audit" },
			h("caption", { class: "sr-only" }, "Logins, newest first"),
			h("thead", null, h("tr", null, ["When", "User", "From",
			    "What"].map((t) => h("th", { scope: "col" }, t)))),
			h("tbody", null, list.map((e) => h("tr", null,
			    h("td", null, timeEl(e.at)), h("td", null, e.user || "–"),
			    h("td", null, e.addr || "–"),
			    h("td", null, e.what || "–"))))));
	} catch (e) {
		showError("Could not load the audit: " + e.message);
	}
}

export function refresh() {
	// Logins are not case changes: the list is reloaded when shown.
}

export function show(el) {
	root = el;
	clear(root, h("h1", null, "Audit of logins"),
	    h("div", { class: "audit-list" }, h("p", null, "Loading…")));
	load();
}

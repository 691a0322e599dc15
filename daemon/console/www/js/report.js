// report.js — the closed-loop report (README, "Working a case"): per rule,
// queue,
// agent or owner, for the cases opened in a period: how many were opened,
// acknowledged within their SLA and resolved; the median and p90 times to
// acknowledge, to first contact and to resolve; reason codes; outcomes
// and the recovery rate; CSAT and NPS before and after. The figures are
// the server's (GET /api/report, the answer of `recoveryctl report
// --json`); this page only lays them out.

import * as api from "./api.js";
import { h, clear, field, select, span } from "./dom.js";
import { showError } from "./msg.js";

let root = null;
let by = "rule";
let since = "30d";
let seq = 0;

const num = (v, digits) => v === null || v === undefined || v === "" ?
    "–" : typeof v === "number" ? (digits === undefined ? String(v) :
    v.toFixed(digits)) : String(v);
const secs = (v) => typeof v === "number" ? span(v) : "–";
const pct = (v) => typeof v === "number" ? Math.round(v * 100) + "%" : "–";

function counts(o) {
	if (!o || typeof o !== "object")
		return "–";
	const parts = Object.entries(o).filter(([, n]) => n)
	    .map(([k, n]) => k + " " + n);
	return parts.length ? parts.join(", ") : "–";
}

const COLUMNS = [
	["Opened", (g) => num(g.opened)],
	["Acknowledged", (g) => num(g.acknowledged)],
	["Within SLA", (g) => num(g.acknowledged_within_sla) +
	    (typeof g.with_sla === "number" ? " of " + g.with_sla : "")],
	["Resolved", (g) => num(g.resolved)],
	["Time to ack p50 / p90", (g) => secs(g.time_to_ack_p50_s) + " / " +
	    secs(g.time_to_ack_p90_s)],
	["To first contact p50 / p90", (g) => secs(g.time_to_first_contact_p50_s) +
	    " / " + secs(g.time_to_first_contact_p90_s)],
	["To resolve p50 / p90", (g) => secs(g.time_to_resolve_p50_s) + " / " +
	    secs(g.time_to_resolve_p90_s)],
	["Reason codes", (g) => counts(g.resolution_codes)],
	["Outcomes", (g) => counts(g.outcomes)],
	["Recovery rate", (g) => pct(g.recovery_rate)],
	["CSAT before / after", (g) => num(g.csat_before, 1) + " / " +
	    num(g.csat_after, 1)],
	["NPS before / after", (g) => num(g.nps_before, 1) + " / " +
	    num(g.nps_after, 1)],
];

function table(a) {
	const groups = a && a.groups && typeof a.groups === "object" ?
	    a.groups : {};
	const names = Object.keys(groups).sort();
	if (names.length === 0)
		return h("p", { class: "empty" }, "No case was opened in this period.");
	const label = { rule: "Rule", queue: "Queue", agent: "Agent",
	    owner: "Owner" }[a.by || by] || "Group";
	return h("div", { class: "scroll", tabindex: 0, role: "region",
	    "aria-label": "Report table, scrolls sideways" },
	    h("table", { class: "report" },
		h("caption", { class: "sr-only" }, "Closed-loop figures by " +
		    label.toLowerCase()),
		h("thead", null, h("tr", null, h("th", { scope: "col" }, label),
		    COLUMNS.map(([t]) => h("th", { scope: "col" }, t)))),
		h("tbody", null, names.map((n) => h("tr", null,
		    h("th", { scope: "row" }, n === "" ? "(none)" : n),
		    COLUMNS.map(([, f]) => h("td", null, f(groups[n]))))),
		    a.total && typeof a.total === "object" ?
			h("tr", { class: "total" },
			    h("th", { scope: "row" }, "All cases"),
			    COLUMNS.map(([, f]) => h("td", null, f(a.total)))) :
			null)));
}

async function load() {
	const mySeq = ++seq;
	const out = root.querySelector(".report-out");
	try {
		const a = await api.get("/api/report" + api.query({ since, by }));
		if (mySeq === seq && out.isConnected)
			clear(out, table(a));
	} catch (e) {
		if (mySeq === seq)
			showError("Could not load the report: " + e.message);
	}
}

export function refresh() {
	if (root && root.isConnected)
		return load();
}

export function show(el) {
	root = el;
	const bySel = select("by", [["rule", "Rule"], ["queue", "Queue"],
	    ["agent", "Agent"], ["owner", "Owner"]], by);
	const sinceSel = select("since", [["1d", "Last day"], ["7d", "Last 7 days"],
	    ["30d", "Last 30 days"], ["90d", "Last 90 days"]], since);
	const form = h("form", { class: "filters", "aria-label": "Report period" },
	    field("Cases opened in", sinceSel), field("Grouped by", bySel));
	const apply = () => {
		by = bySel.value;
		since = sinceSel.value;
		load();
	};
	bySel.addEventListener("change", apply);
	sinceSel.addEventListener("change", apply);
	form.addEventListener("submit", (ev) => { ev.preventDefault(); apply(); });
	clear(root, h("h1", null, "Report"), form,
	    h("div", { class: "report-out" }, h("p", null, "Loading…")));
	load();
}

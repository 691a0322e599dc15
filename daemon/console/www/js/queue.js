// queue.js — the case queue: the cases people have to work (open,
// reopened, acknowledged), the most severe first and, within a severity,
// the oldest first; filters, a search by customer, call or case ID, each
// case's age and SLA clock, and acknowledging several at once.
//
// The filters go to the server as query parameters of GET /api/cases,
// which filters, sorts and pages (the same code as `recoveryctl cases`);
// the page only draws the answer. Redrawing keeps the ticked boxes and
// the keyboard focus, so a live update never takes the user's place away.

import * as api from "./api.js";
import { h, clear, field, select, ms, span, sla, SEVERITIES, timeEl }
    from "./dom.js";
import { showError, notice } from "./msg.js";

const LIMIT = 200;	// cases a page of the queue shows

const filters = { state: "", severity: "", rule: "", queue: "", agent: "",
    mine: false, overdue: false, q: "" };
let root = null;
let rows = [];
let selected = new Set();
let loaded = false;
let page = 1;
let total = null;	// the server's count of matching cases, if it says
let tick = 0;
let seq = 0;

async function load() {
	const mySeq = ++seq;
	const p = { severity: filters.severity, rule: filters.rule,
	    queue: filters.queue, agent: filters.agent, q: filters.q.trim(),
	    limit: LIMIT, page };
	if (filters.state)
		p.state = filters.state;
	if (filters.mine)
		p.owner = "mine";
	if (filters.overdue)
		p.overdue = "1";
	try {
		const a = await api.get("/api/cases" + api.query(p));
		if (mySeq !== seq)
			return;	// a newer load is under way
		rows = api.list(a, "cases");
		total = a && typeof a.total === "number" ? a.total : null;
		loaded = true;
		render();
	} catch (e) {
		if (mySeq === seq)
			showError("Could not load the queue: " + e.message);
	}
}

export function refresh() {
	if (root && root.isConnected)
		return load();
}

function toolbar() {
	const text = (name, label, ph) => {
		const i = h("input", { name, type: "search", value: filters[name],
		    placeholder: ph, autocomplete: "off" });
		return field(label, i);
	};
	const stateSel = select("state", [["", "Open, reopened, acknowledged"],
	    ["open", "Open"], ["reopened", "Reopened"],
	    ["acknowledged", "Acknowledged"], ["resolved", "Resolved"]],
	    filters.state);
	const sevSel = select("severity", [["", "Any"]].concat(
	    SEVERITIES.map((s) => [s, s])), filters.severity);
	const mine = h("input", { type: "checkbox", name: "mine" });
	mine.checked = filters.mine;
	const overdue = h("input", { type: "checkbox", name: "overdue" });
	overdue.checked = filters.overdue;
	// On a phone the filters beyond the search fold away behind a
	// button (CSS shows it below 700px only).
	const more = h("button", { type: "button", class: "filters-toggle",
	    "aria-expanded": "false", "aria-controls": "queue-filters" },
	    "More filters");
	const form = h("form", { class: "filters folded", role: "search",
	    id: "queue-filters", "aria-label": "Filter the queue" },
	    text("q", "Search", "a customer, call or case ID"),
	    more,
	    field("State", stateSel),
	    field("Severity", sevSel),
	    text("rule", "Rule", "any"),
	    text("queue", "Queue", "any"),
	    text("agent", "Agent", "any"),
	    h("div", { class: "checks" },
		h("label", null, mine, " Mine only"),
		h("label", null, overdue, " Overdue only")),
	    h("button", { type: "submit" }, "Apply"));
	const apply = () => {
		const f = new FormData(form);
		for (const k of ["q", "state", "severity", "rule", "queue",
		    "agent"])
			filters[k] = String(f.get(k) || "");
		filters.mine = mine.checked;
		filters.overdue = overdue.checked;
		selected.clear();
		page = 1;
		load();
	};
	form.addEventListener("submit", (ev) => { ev.preventDefault(); apply(); });
	more.addEventListener("click", () => {
		const folded = form.classList.toggle("folded");
		more.setAttribute("aria-expanded", String(!folded));
		more.textContent = folded ? "More filters" : "Fewer filters";
	});
	// Selects and boxes apply at once; text fields on Enter or Apply.
	for (const el of [stateSel, sevSel, mine, overdue])
		el.addEventListener("change", apply);
	return form;
}

async function bulkAck(ids) {
	let done = 0;
	const errors = [];
	for (const id of ids) {
		try {
			const a = await api.post(api.caseUrl(id) + "/ack", {});
			if (a && a.ok === false)
				throw new Error(a.error || "refused");
			done += 1;
			selected.delete(id);
		} catch (e) {
			errors.push(id + ": " + e.message);
			if (e.status === 401)
				return;
		}
	}
	if (errors.length)
		showError("Not acknowledged: " + errors.join("; "));
	notice(done + " case" + (done === 1 ? "" : "s") + " acknowledged.");
	load();
}

function row(c, now) {
	const s = sla(c, now);
	const opened = ms(c.opened_ms || c.opened_at);
	const cells = [];
	if (api.canChange()) {
		const ackable = c.state === "open" || c.state === "reopened";
		const box = h("input", { type: "checkbox",
		    "aria-label": "Select case " + c.case_id,
		    "data-focus": "sel:" + c.case_id, disabled: !ackable });
		box.checked = ackable && selected.has(c.case_id);
		box.addEventListener("change", () => {
			if (box.checked)
				selected.add(c.case_id);
			else
				selected.delete(c.case_id);
			render();
		});
		cells.push(h("td", { class: "sel" }, box));
	}
	cells.push(
	    h("td", { "data-label": "Severity" },
		h("span", { class: "sev sev-" + (SEVERITIES.includes(c.severity) ?
		    c.severity : "other") }, c.severity || "–")),
	    h("td", { "data-label": "Case", class: "case-id" },
		h("a", { href: "#/case/" + encodeURIComponent(c.case_id),
		    "data-focus": "open:" + c.case_id }, c.case_id)),
	    h("td", { "data-label": "Customer" }, c.customer_id || "–"),
	    h("td", { "data-label": "State" },
		h("span", { class: "state state-" + c.state }, c.state)),
	    h("td", { "data-label": "Rules", class: "rules" }, c.rules || "–"),
	    h("td", { "data-label": "Queue" }, c.queue || "–"),
	    h("td", { "data-label": "Agent" }, c.agent_id || "–"),
	    h("td", { "data-label": "Owner" }, c.owner || "–"),
	    h("td", { "data-label": "Age" }, timeEl(c.opened_at,
		span((now - opened) / 1000))),
	    h("td", { "data-label": "SLA", class: s && s.overdue ? "overdue" : "" },
		s ? s.text : "–"));
	return h("tr", { class: s && s.overdue ? "is-overdue" : "",
	    "data-case": c.case_id }, cells);
}

function countText(n, overdue) {
	let t = n + " case" + (n === 1 ? "" : "s");
	if (overdue)
		t += ", " + overdue + " overdue";
	if (total !== null && total > n)
		t += " (page " + page + " of " + Math.ceil(total / LIMIT) + ", " +
		    total + " in all)";
	return t;
}

// pager(): previous and next pages, when the server has more.
function pager() {
	const more = total !== null ? page * LIMIT < total :
	    rows.length >= LIMIT;
	if (page === 1 && !more)
		return null;
	const prev = h("button", { type: "button", "data-focus": "prev",
	    disabled: page === 1 }, "Previous page");
	const next = h("button", { type: "button", "data-focus": "next",
	    disabled: !more }, "Next page");
	prev.addEventListener("click", () => { page -= 1; load(); });
	next.addEventListener("click", () => { page += 1; load(); });
	return h("nav", { class: "pager", "aria-label": "Queue pages" }, prev,
	    " ", next);
}

// The list's parts are made once per visit (ui) and updated in place by
// each render, and a row whose case and clocks did not change is the
// same element as before: a live update in the middle of a click or a
// Tab neither swallows the click nor moves the focus.
let ui = null;
let rowCache = new Map();	// case ID -> { sig, tr }

function makeUi(list) {
	const u = { count: h("p", { class: "count", id: "queue-count" },
	    "Loading…"), bulk: null, all: null, table: null, tbody: null,
	    empty: h("p", { class: "empty" }, "No case matches. Cases " +
		"appear here as they open, without reloading."),
	    body: h("div"), pager: h("div") };
	const head = [];
	if (api.canChange()) {
		u.bulk = h("button", { type: "button", id: "bulk-ack",
		    disabled: true }, "Acknowledge selected (0)");
		u.bulk.addEventListener("click", () => bulkAck(ackable()
		    .filter((c) => selected.has(c.case_id))
		    .map((c) => c.case_id)));
		u.all = h("input", { type: "checkbox", id: "sel-all",
		    "aria-label": "Select every open case shown" });
		u.all.addEventListener("change", () => {
			for (const c of ackable())
				if (u.all.checked)
					selected.add(c.case_id);
				else
					selected.delete(c.case_id);
			render();
		});
		head.push(h("th", { scope: "col", class: "sel" },
		    h("label", { class: "sel-all" }, u.all,
			h("span", { class: "sel-all-text" }, " Select all"))));
	}
	for (const t of ["Severity", "Case", "Customer", "State", "Rules",
	    "Queue", "Agent", "Owner", "Age", "SLA"])
		head.push(h("th", { scope: "col" }, t));
	u.tbody = h("tbody");
	u.table = h("table", { class: "queue", "aria-describedby": "queue-count" },
	    h("caption", { class: "sr-only" }, "Recovery cases, most severe " +
		"first, then oldest first"),
	    h("thead", null, h("tr", null, head)), u.tbody);
	clear(list, u.count, u.bulk ? h("div", { class: "bulk" }, u.bulk) : null,
	    u.body, u.pager);
	return u;
}

let shownNow = [];
const isAckable = (c) => c.state === "open" || c.state === "reopened";
const ackable = () => shownNow.filter(isAckable);

function render() {
	if (!root || !root.isConnected)
		return;
	const list = root.querySelector(".queue-list");
	if (!list)
		return;
	if (!ui || !list.contains(ui.count)) {
		ui = makeUi(list);
		rowCache = new Map();
	}
	const now = Date.now();
	const shown = rows;
	shownNow = shown;
	const focused = list.contains(document.activeElement) ?
	    document.activeElement : null;
	const overdue = shown.filter((c) => { const s = sla(c, now);
	    return s && s.overdue; }).length;
	ui.count.textContent = loaded ? countText(shown.length, overdue) :
	    "Loading…";
	if (ui.bulk) {
		const open = ackable();
		const n = open.filter((c) => selected.has(c.case_id)).length;
		ui.bulk.textContent = "Acknowledge selected (" + n + ")";
		ui.bulk.disabled = n === 0;
		ui.all.disabled = open.length === 0;
		ui.all.checked = open.length > 0 && open.every((c) =>
		    selected.has(c.case_id));
	}
	const next = new Map();
	const trs = shown.map((c) => {
		const s = sla(c, now);
		const sig = JSON.stringify(c) + "|" + span((now - ms(c.opened_ms ||
		    c.opened_at)) / 1000) + "|" + (s ? s.text : "") + "|" +
		    selected.has(c.case_id);
		const old = rowCache.get(c.case_id);
		const tr = old && old.sig === sig ? old.tr : row(c, now);
		next.set(c.case_id, { sig, tr });
		return tr;
	});
	rowCache = next;
	const same = trs.length === ui.tbody.children.length &&
	    trs.every((tr, i) => ui.tbody.children[i] === tr);
	if (!same)
		ui.tbody.replaceChildren(...trs);
	const body = shown.length === 0 && loaded ? ui.empty : ui.table;
	if (ui.body.firstChild !== body)
		clear(ui.body, body);
	clear(ui.pager, pager());
	// The focus was in a row that moved (focus it again) or was rebuilt
	// (focus its new control).
	if (focused && document.activeElement !== focused) {
		const key = focused.getAttribute("data-focus");
		const el = focused.isConnected ? focused : key ?
		    list.querySelector("[data-focus=\"" + CSS.escape(key) + "\"]") :
		    null;
		if (el)
			el.focus();
	}
}

export function show(el) {
	root = el;
	loaded = false;
	ui = null;
	clear(root,
	    h("h1", null, "Case queue"),
	    toolbar(),
	    h("div", { class: "queue-list" }));
	render();
	load();
	clearInterval(tick);
	// Ages and SLA clocks move on between updates.
	tick = setInterval(() => {
		if (!root || !root.isConnected)
			clearInterval(tick);
		else
			render();
	}, 15000);
}

// case.js — one case: what happened to whom, what was done, what is
// still due, and the actions a supervisor takes on it.
//
// The answer of GET /api/cases/ID is the case hash with its "history"
// (the same object as `recoveryctl show CASE --json`), "customer" (the
// CRM hash) and "steps" (escalation steps not run yet: rule, step,
// due_at, channels); the resolve form offers the server's
// resolution_codes (GET /api/me). Each action posts to
// /api/cases/ID/<action>, and the page then draws the case again from the
// server; a viewer gets no action controls at all.

import * as api from "./api.js";
import { h, clear, field, select, timeEl, ms, span, sla,
    SEVERITIES } from "./dom.js";
import { showError, clearError, notice } from "./msg.js";

let root = null;
let caseId = "";
let codes = null;	// the server's resolution codes, once known
let seq = 0;

// The case fields shown in the facts table, in this order, with labels.
const FACTS = [
	["state", "State"], ["severity", "Severity"], ["customer_id", "Customer"],
	["owner", "Owner"], ["rules", "Rules"], ["call_id", "Call"],
	["agent_id", "Agent"], ["queue", "Queue"], ["opened_at", "Opened"],
	["due_at", "SLA due"], ["acked_by", "Acknowledged by"],
	["acked_at", "Acknowledged at"], ["first_contact_at", "First contact"],
	["resolved_by", "Resolved by"], ["resolved_at", "Resolved at"],
	["resolution_code", "Reason code"], ["reopened", "Times reopened"],
	["reopened_at", "Reopened at"], ["note", "Latest note"],
	["rating_before", "Rating before"], ["rating_after", "Rating after"],
	["outcome", "Outcome"], ["outcome_at", "Outcome at"],
	["step", "Escalation step run"],
];
const TIMES = new Set(["opened_at", "due_at", "acked_at", "resolved_at",
    "reopened_at", "first_contact_at", "outcome_at"]);

// What a history entry's kind reads as.
const KINDS = {
	opened: "Opened", event: "Event", alert: "Alert sent", step:
	"Escalation step", ack: "Acknowledged", assign: "Assigned", note: "Note",
	resolve: "Resolved", reopen: "Reopened by hand", reopened:
	"Reopened by a firing", contact: "Contact attempt", suppressed:
	"Contact held back", outcome: "Outcome", delivery: "Delivery",
	giveup: "Delivery given up",
};
// Keys of an entry drawn elsewhere (the line's head) or not at all.
const HEAD = new Set(["at", "kind", "by", "fields"]);
// Event fields worth reading first: what the customer said.
const VERBATIM = ["comment", "text", "note"];
const VERBATIM_LABEL = { comment: "The customer's comment",
    text: "The complaint", note: "Note" };

function present(v) {
	return v !== undefined && v !== null && v !== "";
}

function factValue(k, v) {
	if (TIMES.has(k))
		return timeEl(v);
	return String(v);
}

function facts(c) {
	const dl = h("dl", { class: "facts" });
	const now = Date.now();
	for (const [k, label] of FACTS) {
		if (!present(c[k]) || (k === "reopened" && c[k] === "0") ||
		    (k === "step" && c[k] === "0"))
			continue;
		const dd = h("dd", { "data-field": k }, factValue(k, c[k]));
		if (k === "due_at") {
			const s = sla(c, now);
			if (s)
				dd.appendChild(h("span", { class: s.overdue ?
				    "overdue" : "due" }, " (" + s.text + ")"));
		}
		dl.append(h("dt", null, label), dd);
	}
	const opened = ms(c.opened_ms || c.opened_at);
	if (Number.isFinite(opened))
		dl.append(h("dt", null, "Age"),
		    h("dd", null, span((now - opened) / 1000)));
	return dl;
}

// crm(c): the customer's CRM fields: the server's "customer" object, or
// the customer.* fields of the events in the history.
function crm(c) {
	const f = {};
	if (c.customer && typeof c.customer === "object")
		for (const [k, v] of Object.entries(c.customer))
			f[k] = v;
	for (const e of Array.isArray(c.history) ? c.history : [])
		if (e && e.fields && typeof e.fields === "object")
			for (const [k, v] of Object.entries(e.fields))
				if (k.startsWith("customer.") && !(k.slice(9) in f))
					f[k.slice(9)] = v;
	const keys = Object.keys(f).sort();
	if (keys.length === 0)
		return h("p", { class: "muted" }, "No CRM fields for this customer.");
	const dl = h("dl", { class: "facts crm" });
	for (const k of keys)
		dl.append(h("dt", null, k), h("dd", null, typeof f[k] === "object" ?
		    JSON.stringify(f[k]) : String(f[k])));
	return dl;
}

// pending(c): escalation steps still due, from the server's "steps"
// list ({rule, step, due_at, channels}) or, from a bare case hash, its
// "steps" field ("rule:1r:2p": step 1 run, step 2 pending) without times.
function pending(c) {
	const items = [];
	const p = Array.isArray(c.steps) ? c.steps :
	    Array.isArray(c.pending) ? c.pending : null;
	if (p) {
		for (const s of p) {
			const due = s.due_at !== undefined ? s.due_at : s.due_ms;
			const left = (ms(due) - Date.now()) / 1000;
			items.push(h("li", null,
			    (s.rule || "?") + " step " + (s.step !== undefined ?
				s.step : "?"),
			    s.channels ? " → " + [].concat(s.channels).join(", ") : "",
			    " due ", timeEl(due),
			    Number.isFinite(left) ? " (" + (left < 0 ? "overdue " +
				span(-left) : "in " + span(left)) + ")" : ""));
		}
	} else if (present(c.steps)) {
		for (const part of String(c.steps).split(/[ ,]+/)) {
			const [rule, ...st] = part.split(":");
			for (const x of st)
				if (/^\d+p$/.test(x))
					items.push(h("li", null, rule + " step " +
					    x.slice(0, -1) + " pending"));
		}
	}
	if (c.state === "acknowledged" || c.state === "resolved")
		return h("p", { class: "muted" }, "None: escalation stopped when " +
		    "the case was " + c.state + ".");
	if (items.length === 0)
		return h("p", { class: "muted" }, "No escalation step is pending.");
	return h("ul", { class: "pending" }, items);
}

function entry(e) {
	if (!e || typeof e !== "object")
		return h("li", { class: "h-entry" }, "(an entry that is not an object)");
	const kind = String(e.kind || "?");
	const rest = [];
	for (const [k, v] of Object.entries(e)) {
		if (HEAD.has(k) || !present(v))
			continue;
		rest.push(h("span", { class: "kv" }, h("span", { class: "k" }, k),
		    " ", typeof v === "object" ? JSON.stringify(v) : String(v)));
	}
	const body = [h("div", { class: "h-head" },
	    timeEl(e.at), " ",
	    h("strong", { class: "h-kind" }, KINDS[kind] || kind),
	    present(e.by) ? h("span", { class: "h-by" }, " by " + e.by) : "")];
	if (rest.length)
		body.push(h("div", { class: "h-rest" }, rest));
	if (e.fields && typeof e.fields === "object") {
		const f = e.fields;
		for (const k of VERBATIM)
			if (present(f[k]))
				body.push(h("figure", { class: "verbatim" },
				    h("figcaption", null, VERBATIM_LABEL[k]),
				    h("blockquote", { "data-field": k }, String(f[k]))));
		const dl = h("dl", { class: "h-fields" });
		for (const [k, v] of Object.entries(f)) {
			if (VERBATIM.includes(k))
				continue;
			dl.append(h("dt", null, k), h("dd", null, typeof v === "object" ?
			    JSON.stringify(v) : String(v)));
		}
		body.push(dl);
	}
	return h("li", { class: "h-entry h-" + kind.replace(/[^a-z_-]/g, "") },
	    body);
}

function historyList(c) {
	const hist = Array.isArray(c.history) ? c.history : [];
	if (hist.length === 0)
		return h("p", { class: "muted" }, "No history.");
	return h("ol", { class: "history", reversed: false }, hist.map(entry));
}

// --- actions ---------------------------------------------------------------

const VERBS = { ack: "acknowledge", assign: "assign", note: "add a note to",
    resolve: "resolve", reopen: "reopen" };

// act(action, body, what, form): post one change; on success the form
// it came from is emptied before the case is drawn again.
async function act(action, body, what, form) {
	clearError();
	try {
		const a = await api.post(api.caseUrl(caseId) + "/" + action, body);
		if (a && a.ok === false)
			throw new Error(typeof a.error === "string" ? a.error :
			    "the server refused");
		if (form)
			form.reset();
		notice("Case " + caseId + ": " + what + ".");
	} catch (e) {
		showError("Could not " + (VERBS[action] || action) + " case " +
		    caseId + ": " + e.message);
	}
	await load();
}

function formOf(title, fields, button, onSubmit, cls) {
	// novalidate: the page says what is missing in words, in the error
	// bar, rather than in the browser's own bubble.
	const f = h("form", { class: "action " + (cls || ""),
	    "aria-label": title, novalidate: true }, h("h3", null, title), fields,
	    h("button", { type: "submit" }, button));
	f.addEventListener("submit", (ev) => {
		ev.preventDefault();
		onSubmit(new FormData(f), f);
	});
	return f;
}

function codeOptions() {
	const list = codes || [];
	return [["", list.length ? "Choose a reason" : "No codes from the server"]]
	    .concat(list.map((c) => [c, c]));
}

function actions(c) {
	if (!api.canChange())
		return null;
	const open = c.state === "open" || c.state === "reopened";
	const box = h("section", { class: "actions", "aria-labelledby":
	    "actions-title" }, h("h2", { id: "actions-title" }, "Work the case"));
	const quick = h("div", { class: "quick" });
	if (open) {
		const b = h("button", { type: "button", id: "act-ack",
		    class: "primary" }, "Acknowledge");
		b.addEventListener("click", () => act("ack", {}, "acknowledged"));
		quick.appendChild(b);
	}
	if (c.state !== "resolved" && c.owner !== api.current().user) {
		const b = h("button", { type: "button", id: "act-take" },
		    "Take it");
		b.addEventListener("click", () => act("assign", { take: true },
		    "taken by you"));
		quick.appendChild(b);
	}
	if (c.state === "resolved") {
		const b = h("button", { type: "button", id: "act-reopen" },
		    "Reopen");
		b.addEventListener("click", () => act("reopen", {}, "reopened"));
		quick.appendChild(b);
	}
	box.appendChild(quick);
	const forms = h("div", { class: "forms" });
	if (c.state !== "resolved") {
		const to = h("input", { name: "to", id: "assign-to",
		    autocomplete: "off", required: true });
		forms.appendChild(formOf("Assign", field("Assign to (user name)", to),
		    "Assign", (fd, f) => {
			const name = String(fd.get("to") || "").trim();
			if (!name) {
				showError("Enter the name of the person to assign " +
				    "the case to.");
				return;
			}
			act("assign", { to: name }, "assigned to " + name, f);
		    }));
	}
	const noteText = h("textarea", { name: "text", id: "note-text",
	    rows: 2, maxlength: 2000, required: true });
	forms.appendChild(formOf("Note", field("Note for the history", noteText),
	    "Add note", (fd, f) => {
		const text = String(fd.get("text") || "").trim();
		if (!text) {
			showError("Write the note first.");
			return;
		}
		act("note", { note: text }, "note added", f);
	    }));
	if (c.state !== "resolved") {
		const code = select("code", codeOptions(), "");
		code.id = "resolve-code";
		code.required = true;
		const rnote = h("textarea", { name: "note", id: "resolve-note",
		    rows: 2, maxlength: 2000 });
		forms.appendChild(formOf("Resolve", [field("Reason code", code),
		    field("Note (optional)", rnote)], "Resolve", (fd, f) => {
			const v = String(fd.get("code") || "");
			if (!v) {
				showError("Choose a reason code to resolve the case.");
				return;
			}
			const body = { code: v };
			const n = String(fd.get("note") || "").trim();
			if (n)
				body.note = n;
			act("resolve", body, "resolved (" + v + ")", f);
		    }, "resolve"));
	}
	box.appendChild(forms);
	return box;
}

// --- drawing -----------------------------------------------------------------

// The page's frame is built once per case and its parts are filled in
// by each draw, so that a live update never moves the user's place: the
// action forms are rebuilt only when what they offer changes (state,
// owner, codes), and keep the focus and half-typed text otherwise.
let frame = null;

function frameFor(c) {
	if (frame && frame.id === c.case_id && root.contains(frame.h1))
		return frame;
	const f = { id: c.case_id, key: null, h1: h("h1", { tabindex: -1 }),
	    actions: h("div", { class: "actions-slot" }), history: h("div"),
	    facts: h("div"), crmName: h("span"), crm: h("div"),
	    pending: h("div") };
	clear(root,
	    h("p", { class: "back" }, h("a", { href: "#/queue" }, "← Queue")),
	    f.h1,
	    h("div", { class: "case-grid" },
		h("div", { class: "case-main" }, f.actions,
		    h("section", { "aria-labelledby": "hist-title" },
			h("h2", { id: "hist-title" }, "History"), f.history)),
		h("div", { class: "case-side" },
		    h("section", { "aria-labelledby": "facts-title" },
			h("h2", { id: "facts-title" }, "Case"), f.facts),
		    h("section", { "aria-labelledby": "crm-title" },
			h("h2", { id: "crm-title" }, "Customer ", f.crmName),
			f.crm),
		    h("section", { "aria-labelledby": "pend-title" },
			h("h2", { id: "pend-title" }, "Pending escalation"),
			f.pending))));
	frame = f;
	return f;
}

function draw(c) {
	if (!root || !root.isConnected)
		return;
	if (Array.isArray(c.resolution_codes))
		codes = c.resolution_codes.map(String);
	const f = frameFor(c);
	const sev = SEVERITIES.includes(c.severity) ? c.severity : "other";
	clear(f.h1, "Case ", h("span", { class: "case-id" }, c.case_id), " ",
	    h("span", { class: "sev sev-" + sev }, c.severity || "–"), " ",
	    h("span", { class: "state state-" + c.state }, c.state));
	clear(f.history, historyList(c));
	clear(f.facts, facts(c));
	f.crmName.textContent = c.customer_id || "";
	clear(f.crm, crm(c));
	clear(f.pending, pending(c));
	const key = [c.state, c.owner || "", (codes || []).join(",")].join("|");
	if (key === f.key)
		return;
	f.key = key;
	// Rebuilt: keep the focus and half-typed text where the same
	// control is there again.
	const active = document.activeElement;
	const focusId = active && f.actions.contains(active) ? active.id : "";
	const typed = {};
	for (const el of f.actions.querySelectorAll("input[id], textarea[id], " +
	    "select[id]"))
		typed[el.id] = el.value;
	clear(f.actions, actions(c));
	for (const [k, v] of Object.entries(typed)) {
		const el = document.getElementById(k);
		if (!el || (el.tagName === "SELECT" && ![...el.options].some(
		    (o) => o.value === v)))
			continue;
		el.value = v;
	}
	if (focusId && document.getElementById(focusId))
		document.getElementById(focusId).focus();
	else if (active && !active.isConnected)
		f.h1.focus();
}

async function load() {
	const mySeq = ++seq;
	const id = caseId;
	try {
		const c = await api.get(api.caseUrl(id));
		if (mySeq === seq && id === caseId)
			draw(c && c.case ? Object.assign({}, c.case, c) : c);
	} catch (e) {
		if (mySeq !== seq)
			return;
		if (e.status === 404) {
			frame = null;
			clear(root, h("p", { class: "back" },
			    h("a", { href: "#/queue" }, "← Queue")),
			    h("h1", null, "No such case"),
			    h("p", null, "Case " + id + " does not exist (resolved " +
				"cases are kept a month)."));
		} else
			showError("Could not load case " + id + ": " + e.message);
	}
}

// loadCodes(): the server's resolution codes (known from /api/me, else
// GET /api/resolution_codes), before the resolve form is drawn.
async function loadCodes() {
	if (codes !== null || !api.canChange())
		return;
	const s = api.current();
	if (s && s.codes) {
		codes = s.codes;
		return;
	}
	try {
		codes = api.list(await api.get("/api/resolution_codes"),
		    "resolution_codes").map(String);
	} catch (e) {
		showError("Could not load the reason codes: " + e.message);
	}
}

// refresh(ids): a live update; ids (a Set) names the changed cases, or
// is null when anything may have changed.
export function refresh(ids) {
	if (root && root.isConnected && caseId && (!ids || ids.has(caseId)))
		return load();
}

export function show(el, id) {
	root = el;
	caseId = id;
	frame = null;
	clear(root, h("p", null, "Loading case " + id + "…"));
	loadCodes().then(load);
}

// dom.js — building the page from data without ever parsing data as HTML.
//
// h() makes an element; strings among its children become text nodes, so
// a customer's comment "<b>hi</b>" shows as those characters. Attributes
// are set with setAttribute (never "on*" handlers, never "style": the CSP
// forbids inline script and inline style); handlers are passed as
// functions under "on" and attached with addEventListener.

export function h(tag, attrs, ...children) {
	const el = document.createElement(tag);
	if (attrs) {
		for (const [k, v] of Object.entries(attrs)) {
			if (v === undefined || v === null || v === false)
				continue;
			if (k === "on") {
				for (const [ev, fn] of Object.entries(v))
					el.addEventListener(ev, fn);
			} else if (k === "class") {
				el.className = v;
			} else if (k === "text") {
				el.textContent = String(v);
			} else if (k.startsWith("on") || k === "style") {
				throw new Error("dom.h: " + k + " is not allowed");
			} else if (v === true) {
				el.setAttribute(k, "");
			} else {
				el.setAttribute(k, String(v));
			}
		}
	}
	append(el, children);
	return el;
}

function append(el, children) {
	for (const c of children) {
		if (c === undefined || c === null || c === false)
			continue;
		if (Array.isArray(c))
			append(el, c);
		else if (c instanceof Node)
			el.appendChild(c);
		else
			el.appendChild(document.createTextNode(String(c)));
	}
}

// clear(el, ...children): replace el's content.
export function clear(el, ...children) {
	while (el.firstChild)
		el.removeChild(el.firstChild);
	append(el, children);
	return el;
}

let uid = 0;
// id(prefix): a fresh element ID, for label/for pairs.
export function id(prefix) {
	uid += 1;
	return prefix + "-" + uid;
}

// field(label, control): a label element tied to its control.
export function field(label, control, cls) {
	if (!control.id)
		control.id = id("f");
	return h("div", { class: "field" + (cls ? " " + cls : "") },
	    h("label", { for: control.id }, label), control);
}

// select(name, options, value): options are [value, text] pairs.
export function select(name, options, value) {
	const s = h("select", { name });
	for (const [v, t] of options) {
		const o = h("option", { value: v }, t);
		if (v === value)
			o.selected = true;
		s.appendChild(o);
	}
	return s;
}

// --- times -------------------------------------------------------------

// ms(t): epoch milliseconds of an RFC 3339 text or a number; NaN if none.
export function ms(t) {
	if (t === undefined || t === null || t === "")
		return NaN;
	if (typeof t === "number")
		return t;
	if (/^\d+$/.test(t))
		return Number(t);
	return Date.parse(t);
}

// span(s): a duration in seconds as "45s", "12m", "3h 5m", "2d 4h".
export function span(s) {
	if (!Number.isFinite(s))
		return "–";
	s = Math.max(0, Math.round(s));
	if (s < 60)
		return s + "s";
	const m = Math.floor(s / 60);
	if (m < 60)
		return m + "m";
	const hh = Math.floor(m / 60);
	if (hh < 48)
		return hh + "h" + (m % 60 ? " " + (m % 60) + "m" : "");
	const d = Math.floor(hh / 24);
	return d + "d" + (hh % 24 ? " " + (hh % 24) + "h" : "");
}

// when(t): a local date and time for people, "–" when there is none.
export function when(t) {
	const v = ms(t);
	if (!Number.isFinite(v))
		return "–";
	const d = new Date(v);
	const p = (n) => String(n).padStart(2, "0");
	return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" +
	    p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes()) +
	    ":" + p(d.getSeconds());
}

// timeEl(t): a <time> element with the machine time and a local text.
export function timeEl(t, text) {
	const v = ms(t);
	return h("time", Number.isFinite(v) ?
	    { datetime: new Date(v).toISOString() } : null,
	    text !== undefined ? text : when(t));
}

// sla(c, now): the SLA clock of a case: { text, overdue } or null.
export function sla(c, now) {
	const due = ms(c.due_at);
	if (!Number.isFinite(due) || c.state === "resolved")
		return null;
	const left = (due - now) / 1000;
	if (left < 0)
		return { text: "overdue " + span(-left), overdue: true };
	return { text: "due in " + span(left), overdue: false };
}

export const SEVERITIES = ["critical", "high", "medium", "low"];

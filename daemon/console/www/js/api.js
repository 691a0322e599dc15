// api.js — the console's JSON API (README, "Console"), the only source of
// truth the page has.
//
// Every change (POST, DELETE) sends the session's CSRF token in
// X-CSRF-Token; the session itself is the HttpOnly cookie the browser
// keeps. The token, the user's name and role come from the login answer,
// or after a reload from GET /api/me, so the page keeps nothing it
// cannot ask the server for again. A 401 from any call means the session
// is gone (expired, logged out elsewhere) and the page shows the login
// form again. Errors are thrown as ApiError with the server's words
// ({"error": ...}).

export class ApiError extends Error {
	constructor(status, message) {
		super(message);
		this.status = status;
	}
}

let session = null;	// { user, role, csrf, codes }
let onExpired = () => {};

export function current() {
	return session;
}

export function setSession(s) {
	session = s;
}

// expired(fn): fn runs when a call answers 401.
export function expired(fn) {
	onExpired = fn;
}

// canChange(): the role may work cases (a viewer only reads).
export function canChange() {
	return session !== null && session.role !== "viewer";
}

function words(status) {
	switch (status) {
	case 400: return "the server did not accept the request";
	case 401: return "your session has ended: sign in again";
	case 403: return "you are not allowed to do that";
	case 404: return "not found";
	case 409: return "the case changed meanwhile: look again";
	case 429: return "too many attempts: wait a moment";
	case 503: return "the server cannot reach Redis right now";
	default: return "the server answered " + status;
	}
}

// call(method, path, body): the parsed JSON answer (null for an empty
// one); throws ApiError.
export async function call(method, path, body) {
	const headers = { "Accept": "application/json" };
	const opt = { method, headers, credentials: "same-origin",
	    cache: "no-store" };
	if (method !== "GET") {
		if (session)
			headers["X-CSRF-Token"] = session.csrf;
		if (body !== undefined) {
			headers["Content-Type"] = "application/json";
			opt.body = JSON.stringify(body);
		}
	}
	let r;
	try {
		r = await fetch(path, opt);
	} catch (e) {
		throw new ApiError(0, "the console server cannot be reached");
	}
	const text = await r.text();
	let data = null;
	if (text !== "") {
		try {
			data = JSON.parse(text);
		} catch (e) {
			if (r.ok)
				throw new ApiError(r.status,
				    "the server's answer is not JSON");
		}
	}
	if (!r.ok) {
		const msg = data && typeof data.error === "string" ?
		    data.error : words(r.status);
		// Only a session that existed can expire (not the login, not
		// the first look for one).
		if (r.status === 401 && session !== null &&
		    path !== "/api/login") {
			setSession(null);
			onExpired(msg);
		}
		throw new ApiError(r.status, msg);
	}
	return data;
}

export const get = (p) => call("GET", p);
export const post = (p, b) => call("POST", p, b === undefined ? {} : b);
export const del = (p, b) => call("DELETE", p, b);

// query(params): "?a=1&b=2" of the non-empty ones.
export function query(params) {
	const u = new URLSearchParams();
	for (const [k, v] of Object.entries(params))
		if (v !== undefined && v !== null && v !== "")
			u.set(k, v);
	const s = u.toString();
	return s ? "?" + s : "";
}

function fromAnswer(a, user) {
	if (!a || typeof a.csrf !== "string")
		throw new ApiError(0, "the server's answer has no CSRF token");
	return { user: typeof a.user === "string" ? a.user : user,
	    role: typeof a.role === "string" ? a.role : "viewer", csrf: a.csrf,
	    codes: Array.isArray(a.resolution_codes) ?
		a.resolution_codes.map(String) : null };
}

export async function login(user, password) {
	const a = await call("POST", "/api/login", { user, password });
	setSession(fromAnswer(a, user));
	// The login answer has no reason codes; /api/me has.
	try {
		const me = await call("GET", "/api/me");
		if (me && Array.isArray(me.resolution_codes))
			session.codes = me.resolution_codes.map(String);
	} catch (e) {
		// The case page asks again when it needs them.
	}
	return session;
}

// restore(): the session of the cookie the browser still has (after a
// reload), or null when there is none.
export async function restore() {
	try {
		const a = await call("GET", "/api/me");
		setSession(fromAnswer(a, ""));
	} catch (e) {
		if (e.status !== 401)
			throw e;
		setSession(null);
	}
	return session;
}

export async function logout() {
	try {
		await call("POST", "/api/logout", {});
	} finally {
		setSession(null);
	}
}

// list(a, key): an answer that is a list, or an object holding one.
export function list(a, key) {
	if (Array.isArray(a))
		return a;
	if (a && Array.isArray(a[key]))
		return a[key];
	return [];
}

export const caseUrl = (id) => "/api/cases/" + encodeURIComponent(id);

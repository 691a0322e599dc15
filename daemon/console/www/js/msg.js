// msg.js — messages to the user in words: the error bar (role=alert) and
// a short-lived notice (role=status) that screen readers announce.

const $ = (id) => document.getElementById(id);

export function showError(msg) {
	$("error-text").textContent = msg instanceof Error ? msg.message :
	    String(msg);
	$("error").hidden = false;
}

export function clearError() {
	$("error").hidden = true;
	$("error-text").textContent = "";
}

let timer = 0;
export function notice(msg) {
	$("notice").textContent = msg;
	clearTimeout(timer);
	timer = setTimeout(() => { $("notice").textContent = ""; }, 6000);
}

/*
 * test_caseview.c — the queue's filters and order and the report's
 * figures (caseview.h), which recoveryctl and recoveryd-console share:
 * table-driven over small case hashes.
 */
#include <stdlib.h>
#include <string.h>

#include "caseview.h"
#include "harness.h"
#include "util.h"

/* A case for the tests: its fields as "name=value" strings. */
struct tcase {
	const char	*id;
	const char	*f[16];
};

static const char *
tget(const void *h, const char *field)
{
	const struct tcase *c = h;
	size_t i, n = strlen(field);

	for (i = 0; i < 16 && c->f[i] != NULL; i++)
		if (strncmp(c->f[i], field, n) == 0 && c->f[i][n] == '=')
			return c->f[i] + n + 1;
	return NULL;
}

static struct caseview
view(const struct tcase *c)
{
	struct caseview v = { c->id, c, tget };

	return v;
}

static const struct tcase cases[] = {
	{ "c-100-0", { "state=open", "severity=high", "customer_id=K1",
	    "call_id=C1", "rules=low-csat,vip", "queue=billing",
	    "agent_id=A1", "owner=ana", "opened_ms=100",
	    "opened_at=2026-12-01T10:00:00Z", "due_at=2026-12-01T10:30:00Z",
	    NULL } },
	{ "c-100-1", { "state=acknowledged", "severity=high",
	    "customer_id=K2", "rules=low-csat", "opened_ms=100",
	    "opened_at=2026-12-01T10:00:00Z",
	    "acked_at=2026-12-01T10:10:00Z", "due_at=2026-12-01T10:30:00Z",
	    NULL } },
	{ "c-90-0", { "state=resolved", "severity=critical",
	    "customer_id=K3", "rules=vip", "opened_ms=90",
	    "opened_at=2026-12-01T09:00:00Z",
	    "acked_at=2026-12-01T09:40:00Z", "due_at=2026-12-01T09:30:00Z",
	    "resolved_at=2026-12-01T11:00:00Z", "resolution_code=refund",
	    "outcomes=recovered,not_recovered", "rating_before=csat=1 nps=2",
	    "ratings_after=csat=5;csat=2", NULL } },
	{ "c-200-0", { "state=reopened", "severity=low", "customer_id=K4",
	    "rules=low-csat", "opened_ms=200", NULL } },
};

int
main(void)
{
	static const struct {
		const char	*what;
		struct case_filter f;
		const char	*want;	/* the IDs that match, in table order */
	} filters[] = {
		{ "no filter", { 0 }, "c-100-0 c-100-1 c-90-0 c-200-0" },
		{ "state", { .state = "acknowledged" }, "c-100-1" },
		{ "severity", { .severity = "high" }, "c-100-0 c-100-1" },
		{ "rule in a list", { .rule = "vip" }, "c-100-0 c-90-0" },
		{ "rule prefix is not a rule", { .rule = "low" }, "" },
		{ "queue", { .queue = "billing" }, "c-100-0" },
		{ "agent", { .agent = "A1" }, "c-100-0" },
		{ "owner", { .owner = "ana" }, "c-100-0" },
		{ "q: a customer", { .q = "K2" }, "c-100-1" },
		{ "q: a call", { .q = "C1" }, "c-100-0" },
		{ "q: a case", { .q = "c-200-0" }, "c-200-0" },
		{ "q: nothing", { .q = "K" }, "" },
		/* 2026-12-01T11:00:00Z: past both due times; resolved is
		 * never overdue, a case without due_at neither */
		{ "overdue", { .overdue = true, .now_ms = 1796122800000LL },
		    "c-100-0 c-100-1" },
		{ "not yet overdue", { .overdue = true,
		    .now_ms = 1796119200000LL }, "" },
	};
	struct caseview v[4], a, b;
	struct case_key ka, kb;
	struct report r;
	char got[256];
	json_t *o, *t;
	size_t i, k;

	for (k = 0; k < 4; k++)
		v[k] = view(&cases[k]);
	for (i = 0; i < ARRAY_LEN(filters); i++) {
		got[0] = '\0';
		for (k = 0; k < 4; k++)
			if (case_match(&filters[i].f, &v[k]))
				snprintf(got + strlen(got), sizeof(got) -
				    strlen(got), "%s%s", got[0] ? " " : "",
				    cases[k].id);
		CHECKF(strcmp(got, filters[i].want) == 0, "%s: got '%s', "
		    "want '%s'", filters[i].what, got, filters[i].want);
	}
	CHECK(!case_filter_any(&filters[0].f));
	CHECK(case_filter_any(&filters[8].f));

	/* severity first, then the oldest, then stream order of the ID */
	CHECK(case_cmp_severity(&v[2], &v[0]) < 0);	/* critical first */
	CHECK(case_cmp_severity(&v[0], &v[3]) < 0);	/* high before low */
	CHECK(case_cmp_severity(&v[0], &v[1]) < 0);	/* c-100-0, c-100-1 */
	CHECK(case_cmp_severity(&v[1], &v[0]) > 0);
	CHECK(case_cmp_severity(&v[0], &v[0]) == 0);
	{
		/* c-100-10 after c-100-9: numbers, not text */
		static const struct tcase x = { "c-100-9", { "severity=high",
		    "opened_ms=100", NULL } };
		static const struct tcase y = { "c-100-10", { "severity=high",
		    "opened_ms=100", NULL } };

		a = view(&x);
		b = view(&y);
		CHECK(case_cmp_severity(&a, &b) < 0);
		case_key_of(&a, &ka);
		case_key_of(&b, &kb);
		CHECK(case_key_cmp(&ka, &kb) < 0);
		CHECK(case_key_cmp(&kb, &ka) > 0);
	}

	/* the report by rule: a case counts in each of its rules */
	CHECK(report_by_ok("queue") && !report_by_ok("day"));
	report_init(&r, "rule");
	for (k = 0; k < 4; k++)
		report_place(&r, &v[k]);
	o = report_json(&r, "30d");
	t = json_object_get(o, "total");
	CHECK_INT(json_integer_value(json_object_get(t, "opened")), 4);
	CHECK_INT(json_integer_value(json_object_get(t, "acknowledged")), 2);
	CHECK_INT(json_integer_value(json_object_get(t, "with_sla")), 3);
	CHECK_INT(json_integer_value(json_object_get(t,
	    "acknowledged_within_sla")), 1);
	CHECK_INT(json_integer_value(json_object_get(t, "resolved")), 1);
	/* acks after 600 s and 2400 s: nearest-rank median 600, p90 2400 */
	CHECK(json_real_value(json_object_get(t, "time_to_ack_p50_s")) ==
	    600.0);
	CHECK(json_real_value(json_object_get(t, "time_to_ack_p90_s")) ==
	    2400.0);
	CHECK(json_is_null(json_object_get(t, "time_to_first_contact_p50_s")));
	CHECK(json_real_value(json_object_get(t, "recovery_rate")) == 0.5);
	CHECK(json_real_value(json_object_get(t, "csat_after")) == 3.5);
	CHECK(json_real_value(json_object_get(t, "nps_before")) == 2.0);
	CHECK_INT(json_integer_value(json_object_get(json_object_get(t,
	    "resolution_codes"), "refund")), 1);
	CHECK_INT(json_integer_value(json_object_get(json_object_get(
	    json_object_get(o, "groups"), "low-csat"), "opened")), 3);
	CHECK_INT(json_integer_value(json_object_get(json_object_get(
	    json_object_get(o, "groups"), "vip"), "opened")), 2);
	json_decref(o);
	report_free(&r);

	/* by queue: a case without one is in "-" */
	report_init(&r, "queue");
	for (k = 0; k < 4; k++)
		report_place(&r, &v[k]);
	o = report_json(&r, "1d");
	CHECK_INT(json_integer_value(json_object_get(json_object_get(
	    json_object_get(o, "groups"), "-"), "opened")), 3);
	CHECK_INT(json_integer_value(json_object_get(json_object_get(
	    json_object_get(o, "groups"), "billing"), "opened")), 1);
	json_decref(o);
	report_free(&r);

	/* History entries: the opening event's gets the EVENT key's fields
	 * (a copy); another event's, one with fields and other kinds stay
	 * as they are. */
	{
		static const char *const rows[][2] = {
			{ "{\"kind\":\"event\",\"event_id\":\"1-0\"}",
			    "{\"kind\":\"event\",\"event_id\":\"1-0\","
			    "\"fields\":{\"csat\":\"1\"}}" },
			{ "{\"kind\":\"event\",\"event_id\":\"2-0\"}",
			    "{\"kind\":\"event\",\"event_id\":\"2-0\"}" },
			{ "{\"kind\":\"event\",\"event_id\":\"1-0\","
			    "\"fields\":{\"x\":\"y\"}}",
			    "{\"kind\":\"event\",\"event_id\":\"1-0\","
			    "\"fields\":{\"x\":\"y\"}}" },
			{ "{\"kind\":\"alert\",\"event_id\":\"1-0\"}",
			    "{\"kind\":\"alert\",\"event_id\":\"1-0\"}" },
			{ "{\"kind\":\"event\"}", "{\"kind\":\"event\"}" },
		};
		json_t *open = json_loads("{\"csat\":\"1\"}", 0, NULL), *e;
		char *txt;

		for (k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
			e = json_loads(rows[k][0], 0, NULL);
			caseview_history_entry(e, "1-0", open);
			txt = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
			CHECK_STR(txt, rows[k][1]);
			free(txt);
			json_decref(e);
		}
		/* the copy is the entry's own; no EVENT key, no entry ID:
		 * nothing */
		e = json_loads(rows[0][0], 0, NULL);
		caseview_history_entry(e, "1-0", open);
		json_object_set_new(open, "csat", json_string("5"));
		CHECK_STR(json_string_value(json_object_get(json_object_get(e,
		    "fields"), "csat")), "1");
		json_decref(e);
		e = json_loads(rows[0][0], 0, NULL);
		caseview_history_entry(e, "1-0", NULL);
		caseview_history_entry(e, NULL, open);
		CHECK(json_object_get(e, "fields") == NULL);
		json_decref(e);
		json_decref(open);
	}
	return harness_done();
}

/*
 * alertcmd.h — alerts as Redis commands, for the scripts that write an
 * event's (or an escalation step's) consequences atomically.
 *
 * struct args is an argv under construction (for commands sent with
 * rconn_cmd): pointers to strings that must stay alive until the command
 * is sent (hiredis copies them then); numbers formatted here live in the
 * caller's arena. The alerts' own commands are written as RESP at once
 * (resp.h: struct cmds).
 */
#ifndef RECOVERYD_ALERTCMD_H
#define RECOVERYD_ALERTCMD_H

#include <stddef.h>

#include "engine.h"
#include "event.h"
#include "resp.h"
#include "util.h"

struct args {
	const char	**v;
	size_t		 *l;
	size_t		  n, cap;
};

void	 args_add(struct args *, const char *, size_t);
void	 args_str(struct args *, const char *);
void	 args_num(struct args *, struct arena *, long long);

/*
 * alert_commands: append the commands that deliver one alert: stream
 * (XADD with MAXLEN ~ and every alert field, then PUBLISH of the JSON),
 * list (LPUSH of the JSON), webhook and exec (XADD to outbox_key, the
 * durable record the delivery worker reads; an exec record also carries
 * ev's fields as "event", the saved event below, for its argv
 * templates). syslog alerts add nothing: they are logged after the
 * commit. Returns the number of commands appended.
 */
int	 alert_commands(struct cmds *, const struct alert *, const struct evt *,
	    const char *outbox_key, const char *defer_key);
/*
 * ... unless the alert must wait for its calendar (al->deliver_ms later
 * than its firing, engine.h) and defer_key is not NULL: then those
 * commands are kept as data in the hash <defer_key>:alerts (field: the
 * alert ID) and the ID is added to the sorted set defer_key, scored by
 * deliver_ms; the outbox worker runs them once that time has come
 * (outbox.h). A syslog alert keeps its line there.
 */
#define DEFER_SUFFIX	"deferred"	/* defer_key is <prefix>deferred */
/*
 * The event saved with a case (for its escalation steps) and with an exec
 * delivery (for its argv) is ev's fields, the customer.* enrichment
 * included, as one flat JSON object of texts in tmpl_fields_save's format
 * (tmpl_fields_load reads it back), at most ALERT_EVENT_MAX bytes so that
 * a 64 KiB event does not copy itself into every outbox entry: a field
 * that would take the object past that is left out (it renders empty
 * there); the fields after it are kept if they fit.
 */
#define ALERT_EVENT_MAX		(8 * 1024)
/* alert_event_save: append that saved event of ev to out (the owner
 * hands it to the store for the case it opened: store_case_event). */
void	 alert_event_save(const struct evt *, struct buf *out);
/* alert_syslog: deliver a syslog-channel alert:
 * "rule=R case=C step=N customer=K message". */
void	 alert_syslog(const struct alert *, const struct evt *);
/* alert_syslog_line: that line, escaped, without sending it. */
void	 alert_syslog_line(const struct alert *, const struct evt *,
	    char *line, size_t len);
/* event_field_text: a scalar event field's text, "" when absent. */
const char *event_field_text(const struct evt *, const char *path);

#endif

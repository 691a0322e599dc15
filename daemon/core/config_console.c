/*
 * config_console.c — the "console:" section (README, "Console"): what
 * recoveryd-console reads; recoveryd itself ignores it. Checked by the
 * same schema table as every other section, so that `recoveryctl check`
 * reports a bad value at FILE:LINE:COL.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

#define CC(f)	offsetof(struct config, f)
static const struct kspec console_keys[] = {
	{ "listen", K_NESTR, CC(console_listen), 0, 0, 0, 0, NULL,
	    check_listen, NULL, 0 },
	{ "users_file", K_NESTR, CC(console_users_file), 0, 0, 0, 0, NULL,
	    NULL, NULL, 0 },
	{ "tokens_file", K_NESTR, CC(console_tokens_file), 0, 0, 0, 0, NULL,
	    NULL, NULL, 0 },
	{ "assets", K_NESTR, CC(console_assets), 0, 0, 0, 0, NULL, NULL,
	    NULL, 0 },
	{ "session_ttl", K_DUR, CC(console_session_ttl_ms), 1000, 0, 0, 0,
	    NULL, NULL, NULL, 0 },
	{ "session_idle", K_DUR, CC(console_session_idle_ms), 1000, 0, 0, 0,
	    NULL, NULL, NULL, 0 },
	{ "secure_cookies", K_BOOL, CC(console_secure_cookies), 0, 0, 0, 0,
	    NULL, NULL, NULL, 0 },
	{ "max_connections", K_INT, CC(console_max_conns), 1, 10000, 0, 0,
	    NULL, NULL, NULL, 0 },
	{ "max_streams", K_INT, CC(console_max_streams), 1, 10000, 0, 0,
	    NULL, NULL, NULL, 0 },
	{ "request_timeout", K_DUR, CC(console_request_timeout_ms), 1, 0, 0,
	    0, NULL, NULL, NULL, 0 },
	{ "login_attempts", K_INT, CC(console_login_attempts), 1, 1000, 0, 0,
	    NULL, NULL, NULL, 0 },
	{ "login_window", K_DUR, CC(console_login_window_ms), 1000, 0, 0, 0,
	    NULL, NULL, NULL, 0 },
	{ "command_timeout", K_DUR, CC(console_command_timeout_ms), 100,
	    60000, 0, 0, NULL, NULL, NULL, 0 },
};

void
config_console_defaults(struct config *cf)
{
	cf->console_listen = xstrdup("127.0.0.1:9465");
	cf->console_users_file = xstrdup("/etc/recoveryd/console.users");
	cf->console_tokens_file = NULL;	/* NULL: users_file".tokens" */
	cf->console_assets = xstrdup("/usr/share/recoveryd/console");
	cf->console_session_ttl_ms = 12 * 3600000LL;
	cf->console_session_idle_ms = 3600000LL;
	cf->console_secure_cookies = false;
	cf->console_max_conns = 256;
	cf->console_max_streams = 1000;
	cf->console_request_timeout_ms = 10000;
	cf->console_login_attempts = 5;
	cf->console_login_window_ms = 300000;
	cf->console_command_timeout_ms = 5000;
}

void
apply_console(struct loader *ld, const struct ynode *key,
    const struct ynode *v, void *target)
{
	(void)key;
	if (v->type == YN_SCALAR && !v->quoted && v->len == 0)
		return;		/* "console:" alone: all defaults */
	if (!expect_type(ld, v, YN_MAP, "'console'"))
		return;
	schema_apply(ld, v, console_keys, ARRAY_LEN(console_keys), target,
	    " in 'console'", 0);
}

void
config_console_free(struct config *cf)
{
	free(cf->console_listen);
	free(cf->console_users_file);
	free(cf->console_tokens_file);
	free(cf->console_assets);
}

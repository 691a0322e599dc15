/*
 * notify.h — the systemd notification protocol (sd_notify), spoken
 * directly over $NOTIFY_SOCKET so no library is needed. All calls do
 * nothing when the daemon was not started by systemd with Type=notify.
 */
#ifndef RECOVERYD_NOTIFY_H
#define RECOVERYD_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/* notify_send: send a state string such as "READY=1\nSTATUS=...". */
void	 notify_send(const char *state);
/* notify_enabled: true when $NOTIFY_SOCKET is set. */
bool	 notify_enabled(void);
/* notify_watchdog_usec: $WATCHDOG_USEC when it is meant for this process
 * ($WATCHDOG_PID absent or ours), else 0. */
uint64_t notify_watchdog_usec(void);

#endif

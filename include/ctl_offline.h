/*
 * ctl_offline.h — recoveryctl's commands that need no running system
 * (besides replay --from-stream): check, replay, explain. Each takes the
 * -c file and the command's argv (argv[0] its name) and returns an exit
 * code (README, "Commands": 0, 1, 2, 3).
 */
#ifndef RECOVERYD_CTL_OFFLINE_H
#define RECOVERYD_CTL_OFFLINE_H

/* check [--strict] [FILE...] (ctl_check.c) */
int	ctl_check(const char *conffile, int argc, char **argv);
/* replay [--rules FILE] [--against OLD] [--json]
 *     (EVENTS.jsonl | --from-stream [--since DURATION]) (ctl_replay.c) */
int	ctl_replay(const char *conffile, int argc, char **argv);
/* explain [--rules FILE] (EVENT.json | --customer K EVENTS.jsonl)
 *     (ctl_replay.c, with replay: they share the event reader) */
int	ctl_explain(const char *conffile, int argc, char **argv);

#endif

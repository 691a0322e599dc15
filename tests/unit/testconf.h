/*
 * testconf.h — unit tests' configuration from a string: written to a
 * temporary file, loaded with the real loader (diagnostics to stdout, so a
 * broken test configuration shows why), the file removed.
 */
#ifndef RECOVERYD_TESTCONF_H
#define RECOVERYD_TESTCONF_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"

/* load_config_text: the caller frees the result with config_free. */
static inline struct config *
load_config_text(const char *text)
{
	char path[] = "/tmp/recoveryd-testconf-XXXXXX";
	int fd = mkstemp(path);
	struct config *cf;
	FILE *fp;

	if (fd == -1)
		return NULL;
	if ((fp = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlink(path);
		return NULL;
	}
	fputs(text, fp);
	fclose(fp);
	cf = cli_load_config(path, stdout);
	unlink(path);
	return cf;
}

#endif

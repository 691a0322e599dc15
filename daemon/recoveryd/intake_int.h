/*
 * intake_int.h — what intake.c and intake_body.c share: a request's
 * events as XADD argument vectors, built from its body.
 */
#ifndef RECOVERYD_INTAKE_INT_H
#define RECOVERYD_INTAKE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/*
 * Entries being built for one request: the XADD argument vectors of
 * every event ("XADD", stream, "*", then names and values), one after
 * the other, and where each begins (starts[k] .. starts[k + 1]). The
 * arguments point into the request's body or into ar (decoded form
 * text): they live as long as both.
 */
struct entries {
	const char	**av;
	size_t		 *al;
	size_t		  n, cap;
	size_t		 *starts;	/* nev + 1 */
	size_t		  nev, scap;
	struct arena	  ar;		/* decoded form text */
};

/* intake_ent_free: free what e holds (not e). */
void	intake_ent_free(struct entries *e);
/*
 * intake_json_events: the events of a JSON body (an object, or an array
 * of 1 .. max) as entries of one field "json" each, holding the
 * element's own text. -1 with msg and *code (400 not JSON or empty,
 * 413 over max) when the body is not that; an element that is not an
 * object is the validator's to refuse.
 */
int	intake_json_events(const char *body, size_t len, const char *stream,
	    int max, struct entries *e, int *code, char *msg, size_t msglen);
/* intake_form_event: an application/x-www-form-urlencoded body as one
 * entry of flat fields ('+' a space, %XX a byte); -1 with msg on a bad
 * escape, a field given twice, more than EVENT_MAX_FIELDS + 1 fields or
 * an empty form. */
int	intake_form_event(const char *body, size_t len, const char *stream,
	    struct entries *e, char *msg, size_t msglen);
/* intake_media_is: the Content-Type's media type (before any ';') is
 * want, ignoring case. */
bool	intake_media_is(const char *ct, const char *want);

#endif

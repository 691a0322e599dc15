/*
 * assets.c — the page's static files, from console.assets (or -A DIR):
 * only regular files under that directory, found by realpath() so that
 * neither ".." nor a symbolic link leads out of it; "/" is index.html.
 * The Content-Type comes from the extension (others are
 * application/octet-stream, which nosniff keeps from being run), and an
 * ETag of size and modification time answers a repeated GET with 304.
 * Files are read whole (at most ASSET_MAX bytes) per request: the page
 * is a few small files, and the kernel caches them.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "console.h"

#define ASSET_MAX	(8 * 1024 * 1024)

static const struct {
	const char	*ext;
	const char	*type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".json", "application/json" },
	{ ".webmanifest", "application/manifest+json" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".woff2", "font/woff2" },
};

static const char *
type_of(const char *path)
{
	size_t i, n = strlen(path), e;

	for (i = 0; i < ARRAY_LEN(types); i++) {
		e = strlen(types[i].ext);
		if (n > e && strcmp(path + n - e, types[i].ext) == 0)
			return types[i].type;
	}
	return "application/octet-stream";
}

static void
not_found(struct evhttp_request *req)
{
	struct evbuffer *b = evbuffer_new();

	api_headers(req, false);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	if (b != NULL)
		evbuffer_add_printf(b, "not found\n");
	evhttp_send_reply(req, 404, "Not Found", b);
	if (b != NULL)
		evbuffer_free(b);
}

void
assets_serve(struct console *c, struct evhttp_request *req,
    const char *path)
{
	char want[PATH_MAX], real[PATH_MAX], etag[96], *dec;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	const char *inm;
	struct evbuffer *b;
	struct stat st;
	size_t alen = strlen(c->assets), dlen;
	int fd;

	if ((dec = evhttp_uridecode(path, 0, &dlen)) == NULL) {
		not_found(req);
		return;
	}
	/* no NUL, no "..", no backslash: refused before any lookup */
	if (strlen(dec) != dlen || strstr(dec, "..") != NULL ||
	    strchr(dec, '\\') != NULL ||
	    snprintf(want, sizeof(want), "%s%s%s", c->assets, dec,
	    strcmp(dec, "/") == 0 ? "index.html" : "") >= (int)sizeof(want)) {
		free(dec);
		not_found(req);
		return;
	}
	free(dec);
	if (realpath(want, real) == NULL || strncmp(real, c->assets, alen) !=
	    0 || real[alen] != '/' ||
	    (fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		not_found(req);
		return;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > ASSET_MAX) {
		close(fd);
		not_found(req);
		return;
	}
	snprintf(etag, sizeof(etag), "\"%llx-%llx-%lx\"",
	    (unsigned long long)st.st_size,
	    (unsigned long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
	api_headers(req, false);
	evhttp_add_header(h, "ETag", etag);
	evhttp_add_header(h, "Cache-Control", "no-cache");
	inm = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "If-None-Match");
	if (inm != NULL && strcmp(inm, etag) == 0) {
		close(fd);
		evhttp_send_reply(req, 304, "Not Modified", NULL);
		return;
	}
	evhttp_add_header(h, "Content-Type", type_of(real));
	if ((b = evbuffer_new()) == NULL || (st.st_size > 0 &&
	    evbuffer_add_file(b, fd, 0, st.st_size) == -1)) {
		if (b != NULL)
			evbuffer_free(b);
		close(fd);
		evhttp_send_reply(req, 500, "Internal Server Error", NULL);
		return;
	}
	if (st.st_size == 0)
		close(fd);
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

/*
 * fuzz_config.c — libFuzzer target for the YAML layer and the whole
 * configuration checker.
 *
 * Each input is parsed twice: from memory with yaml_load_string(), and
 * written to a file in a private temporary directory and loaded with
 * config_load(), so that the schema tables, expression and template
 * compilation, reference resolution and the error-position code all see
 * hostile input. A crash, a sanitizer report or a leak is a bug; so is a
 * NULL config without an error, or a config with one.
 *
 * Inputs that mention "include" together with a '/' are only parsed, not
 * loaded: an absolute include glob (say, every file two levels under /usr)
 * would make every run walk the file system, which finds nothing but
 * slowness. Includes relative to the temporary directory (which holds
 * only the input) are still fuzzed.
 *
 *   make fuzz   (or: build/fuzz/fuzz_config tests/fuzz/seeds/fuzz_config)
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diag.h"
#include "yaml.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	dir[] = "/tmp/fuzz_config.XXXXXX";
static char	path[64];

static bool
mentions(const uint8_t *data, size_t size, const char *word)
{
	size_t n = strlen(word), i;

	for (i = 0; i + n <= size; i++)
		if (memcmp(data + i, word, n) == 0)
			return true;
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diags d;
	struct ydoc *doc;
	struct config *cf;
	FILE *fp;

	if (path[0] == '\0') {
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(path, sizeof(path), "%s/recoveryd.yaml", dir);
	}

	diags_init(&d);
	doc = yaml_load_string("fuzz.yaml", (const char *)data, size, &d);
	if ((doc == NULL) != (d.errors > 0))
		abort();
	ydoc_free(doc);
	diags_free(&d);

	if (mentions(data, size, "include") && memchr(data, '/', size))
		return 0;
	if ((fp = fopen(path, "w")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, fp) != size)
		abort();
	fclose(fp);
	diags_init(&d);
	cf = config_load(path, &d);
	if ((cf == NULL) != (d.errors > 0))
		abort();
	config_free(cf);
	diags_free(&d);
	return 0;
}

# recoveryd — plain Makefile. Targets: all test run bench fuzz install clean.
#
#   make                 build build/recoveryd and build/recoveryctl
#   make test            build, then run every test (also under ASan/UBSan)
#   make run             start Redis if needed and run the daemon in the foreground
#   make bench           print performance figures (never gates anything)
#   make fuzz FUZZ_TIME=60   run each libFuzzer target for FUZZ_TIME seconds
#   make SANITIZE=address,undefined   build with sanitizers (into build/san)
#   make WERROR=         build without -Werror
#
# Missing Debian packages are installed by contrib/install-deps.sh (apt-get,
# only what is missing) before anything is compiled.

PREFIX	?= /usr/local
DESTDIR	?=
SYSCONFDIR ?= /etc
CC	?= gcc
ifeq ($(origin CC),default)
CC	= gcc
endif
WERROR	?= -Werror
SANITIZE ?=
FUZZ_TIME ?= 60

ifneq ($(SANITIZE),)
BUILD	?= build/san
SANFLAGS = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD	?= build
SANFLAGS =
endif

# Libraries. pkg-config is called when a recipe runs (note $$), so that it
# sees the packages the deps step has just installed.
CORE_PKGS = yaml-0.1 jansson
ALL_PKGS  = $(CORE_PKGS) libevent hiredis libcurl
CORE_CFLAGS = $$(pkg-config --cflags $(CORE_PKGS))
CORE_LIBS   = $$(pkg-config --libs $(CORE_PKGS))
ALL_CFLAGS  = $$(pkg-config --cflags $(ALL_PKGS))
ALL_LIBS    = $$(pkg-config --libs $(ALL_PKGS))

CFLAGS	?= -O2 -g
WARN	= -Wall -Wextra -Wstrict-prototypes -Wwrite-strings -Wmissing-prototypes \
	  -Wshadow -Wformat=2 -Wno-format-truncation $(WERROR)
XCFLAGS	= -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude \
	  $(WARN) $(SANFLAGS) -MMD -MP
XLDFLAGS = $(SANFLAGS) $(LDFLAGS)

# Sources by layer (a file includes only headers of its own layer and the
# layers below it):
#   daemon/lib/        utilities, logging, diagnostics, values
#   daemon/core/       the functional core: configuration, expressions,
#                      events, templates, secrets, the rule index, the engine, the
#                      state semantics and the offline simulation; no
#                      sockets, no event loop (shared by the daemon,
#                      recoveryctl test/replay and the unit tests)
#   daemon/recoveryd/  the daemon's shell: loop, Redis, consumer, outbox,
#                      channels, escalation, HTTP, metrics, systemd
#   daemon/ctl/        recoveryctl and its commands
LIB_SRCS  = $(wildcard daemon/lib/*.c)
CORE_SRCS = $(LIB_SRCS) $(wildcard daemon/core/*.c)
CORE_OBJS = $(CORE_SRCS:daemon/%.c=$(BUILD)/o/%.o)

RECOVERYD_SRCS = $(wildcard daemon/recoveryd/*.c)
RECOVERYD_OBJS = $(RECOVERYD_SRCS:daemon/%.c=$(BUILD)/o/%.o)
CTL_SRCS = $(wildcard daemon/ctl/*.c)
CTL_OBJS = $(CTL_SRCS:daemon/%.c=$(BUILD)/o/%.o)

TEST_SRCS = $(wildcard tests/unit/test_*.c)
TEST_BINS = $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

FUZZ_SRCS = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS = $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)

BINS = $(BUILD)/recoveryd $(BUILD)/recoveryctl $(BUILD)/ivr-sim

.PHONY: all deps test-deps check-build unit test run bench fuzz install clean

all: $(BINS)

deps:
	@sh contrib/install-deps.sh build

test-deps:
	@sh contrib/install-deps.sh test

# lib and core compile without the network libraries' headers, so that
# an include of hiredis or libevent there fails the build.
$(BUILD)/o/lib/%.o: daemon/lib/%.c | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XCFLAGS) $(CORE_CFLAGS) -c $< -o $@

$(BUILD)/o/core/%.o: daemon/core/%.c | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XCFLAGS) $(CORE_CFLAGS) -c $< -o $@

$(BUILD)/o/%.o: daemon/%.c | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XCFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libcore.a: $(CORE_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/recoveryd: $(RECOVERYD_OBJS) $(BUILD)/libcore.a
	$(CC) $(XLDFLAGS) -o $@ $^ $(ALL_LIBS) -lm

$(BUILD)/recoveryctl: $(CTL_OBJS) $(BUILD)/libcore.a
	$(CC) $(XLDFLAGS) -o $@ $^ $(ALL_LIBS) -lm

# The call-center simulator: hiredis, and the core for redis.url parsing.
$(BUILD)/ivr-sim: contrib/ivr-sim.c $(BUILD)/libcore.a | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XCFLAGS) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libcore.a \
	    $(XLDFLAGS) $(ALL_LIBS) -lm

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libcore.a tests/unit/harness.h tests/unit/testconf.h | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XCFLAGS) $(CORE_CFLAGS) -Itests/unit -o $@ $< \
	    $(BUILD)/libcore.a $(CORE_LIBS) -lm

unit: $(TEST_BINS)

# make test: the normal build, the same unit tests under ASan+UBSan, then
# every test (unit binaries of both builds and the shell tests under tests/).
test: test-deps
	@$(MAKE) --no-print-directory all unit
	@$(MAKE) --no-print-directory BUILD=build/san SANITIZE=address,undefined all unit
	@RECOVERYD_BUILD=$(BUILD) sh tests/run.sh

run: all
	@sh contrib/run.sh

bench: all
	@sh contrib/install-deps.sh bench
	@$(MAKE) --no-print-directory build/bench/bench_core build/bench/bench_drain
	@sh contrib/bench/run.sh

build/bench/bench_drain: contrib/bench/bench_drain.c | deps
	@mkdir -p $(@D)
	$(CC) -O2 -g $(XCFLAGS) $$(pkg-config --cflags hiredis jansson) -o $@ $< \
	    $$(pkg-config --libs hiredis jansson)

build/bench/bench_core: contrib/bench/bench_core.c build/libcore.a | deps
	@mkdir -p $(@D)
	$(CC) -O2 -g $(XCFLAGS) $(CORE_CFLAGS) -o $@ $< build/libcore.a $(CORE_LIBS) -lm

# libFuzzer targets need clang; each links the core sources directly.
build/fuzz/%: tests/fuzz/%.c $(CORE_SRCS) | deps
	@mkdir -p $(@D)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 \
	    -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude \
	    $(CORE_CFLAGS) -o $@ $< $(CORE_SRCS) $(CORE_LIBS) -lm

fuzz: test-deps $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do \
	    n=$$(basename $$f); mkdir -p build/fuzz/corpus/$$n; \
	    echo "== $$n ($(FUZZ_TIME)s)"; \
	    $$f -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
	        build/fuzz/corpus/$$n tests/fuzz/seeds/$$n || exit 1; \
	done

# The configuration may hold a password (redis.url): it is installed 0640,
# group recoveryd when that group exists. The user and group come from
# systemd/recoveryd.sysusers, applied at once by systemd-sysusers when
# installing onto this system (DESTDIR empty); a package applies it in
# its postinst and then runs chgrp -R recoveryd on the configuration.
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BUILD)/recoveryd $(DESTDIR)$(PREFIX)/sbin/recoveryd
	install -m 755 $(BUILD)/recoveryctl $(DESTDIR)$(PREFIX)/bin/recoveryctl
	install -d $(DESTDIR)/usr/lib/sysusers.d
	install -m 644 systemd/recoveryd.sysusers $(DESTDIR)/usr/lib/sysusers.d/recoveryd.conf
	@if [ -z "$(DESTDIR)" ] && command -v systemd-sysusers >/dev/null 2>&1; then \
	    systemd-sysusers /usr/lib/sysusers.d/recoveryd.conf; fi
	install -d $(DESTDIR)$(SYSCONFDIR)/recoveryd/rules.d
	@g=""; getent group recoveryd >/dev/null 2>&1 && g="-g recoveryd"; \
	if [ ! -f $(DESTDIR)$(SYSCONFDIR)/recoveryd/recoveryd.yaml ]; then \
	    install -m 640 $$g rules/recoveryd.yaml $(DESTDIR)$(SYSCONFDIR)/recoveryd/recoveryd.yaml || exit 1; \
	    for f in rules/rules.d/*.yaml; do [ ! -f "$$f" ] || \
	        install -m 640 $$g "$$f" $(DESTDIR)$(SYSCONFDIR)/recoveryd/rules.d/ || exit 1; done; \
	else echo "keeping existing $(DESTDIR)$(SYSCONFDIR)/recoveryd/recoveryd.yaml"; fi
	@if [ -f systemd/recoveryd.service ]; then \
	    install -d $(DESTDIR)/lib/systemd/system; \
	    sed 's|@SBINDIR@|$(PREFIX)/sbin|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	        systemd/recoveryd.service > $(DESTDIR)/lib/systemd/system/recoveryd.service; \
	fi

clean:
	rm -rf build run

-include $(CORE_OBJS:.o=.d) $(RECOVERYD_OBJS:.o=.d) $(CTL_OBJS:.o=.d)

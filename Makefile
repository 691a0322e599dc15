# recoveryd — plain Makefile. Targets: all test run bench fuzz install
# uninstall deb clean.
#
#   make                 build build/recoveryd and build/recoveryctl
#   make test            build, then run every test (also under ASan/UBSan)
#   make run             start Redis if needed and run the daemon in the foreground
#   make bench           print performance figures (never gates anything)
#   make fuzz FUZZ_TIME=60   run each libFuzzer target for FUZZ_TIME seconds
#   make SANITIZE=address,undefined   build with sanitizers (into build/san)
#   make WERROR=         build without -Werror
#   make install         binaries, units, man pages, docs, the example
#                        configuration (PREFIX, DESTDIR, SYSCONFDIR)
#   make uninstall       remove what install installed, not the configuration
#   make deb             build/recoveryd_VERSION-1_ARCH.deb (contrib/deb/)
#
# Missing Debian packages are installed by contrib/install-deps.sh (apt-get,
# only what is missing) before anything is compiled.

PREFIX	?= /usr/local
DESTDIR	?=
SYSCONFDIR ?= /etc
MANDIR	?= $(PREFIX)/share/man
DOCDIR	?= $(PREFIX)/share/doc/recoveryd
DATADIR	?= $(PREFIX)/share/recoveryd
UNITDIR	?= /lib/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d
# The one place the version is written; the binaries get it as
# RECOVERYD_VERSION, the package's file name and control file too.
VERSION	:= $(shell cat VERSION)
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
	  -DRECOVERYD_VERSION='"$(VERSION)"' $(WARN) $(SANFLAGS) -MMD -MP
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
#   daemon/console/    recoveryd-console, the web console (its page in
#                      daemon/console/www/); it links the daemon's shell
#                      objects it shares (the HTTP listener, the Redis
#                      connection) from libshell.a
LIB_SRCS  = $(wildcard daemon/lib/*.c)
CORE_SRCS = $(LIB_SRCS) $(wildcard daemon/core/*.c)
CORE_OBJS = $(CORE_SRCS:daemon/%.c=$(BUILD)/o/%.o)

RECOVERYD_SRCS = $(wildcard daemon/recoveryd/*.c)
RECOVERYD_OBJS = $(RECOVERYD_SRCS:daemon/%.c=$(BUILD)/o/%.o)
CTL_SRCS = $(wildcard daemon/ctl/*.c)
CTL_OBJS = $(CTL_SRCS:daemon/%.c=$(BUILD)/o/%.o)
CONSOLE_SRCS = $(wildcard daemon/console/*.c)
CONSOLE_OBJS = $(CONSOLE_SRCS:daemon/%.c=$(BUILD)/o/%.o)
SHELL_OBJS = $(filter-out $(BUILD)/o/recoveryd/main.o,$(RECOVERYD_OBJS))

TEST_SRCS = $(wildcard tests/unit/test_*.c)
TEST_BINS = $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

FUZZ_SRCS = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS = $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)

BINS = $(BUILD)/recoveryd $(BUILD)/recoveryctl $(BUILD)/ivr-sim \
	$(BUILD)/recoveryd-console

.PHONY: all deps test-deps check-build unit test run bench fuzz install \
	uninstall deb clean

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

# The shell's objects print the version (-V, the webhook User-Agent).
$(BUILD)/o/%.o: daemon/%.c VERSION | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XCFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libcore.a: $(CORE_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/recoveryd: $(RECOVERYD_OBJS) $(BUILD)/libcore.a
	$(CC) $(XLDFLAGS) -o $@ $^ $(ALL_LIBS) -lm

$(BUILD)/recoveryctl: $(CTL_OBJS) $(BUILD)/libcore.a
	$(CC) $(XLDFLAGS) -o $@ $^ $(ALL_LIBS) -lcrypt -lm

$(BUILD)/libshell.a: $(SHELL_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/recoveryd-console: $(CONSOLE_OBJS) $(BUILD)/libshell.a $(BUILD)/libcore.a
	$(CC) $(XLDFLAGS) -pthread -o $@ $^ $(ALL_LIBS) -lcrypt -lm

# The call-center simulator: hiredis, and the core for redis.url parsing.
$(BUILD)/ivr-sim: contrib/ivr-sim.c $(BUILD)/libcore.a | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XCFLAGS) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libcore.a \
	    $(XLDFLAGS) $(ALL_LIBS) -lm

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libcore.a tests/unit/harness.h tests/unit/testconf.h | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XCFLAGS) $(CORE_CFLAGS) -Itests/unit -o $@ $< \
	    $(BUILD)/libcore.a $(CORE_LIBS) -lm

# A test-only LD_PRELOAD library that moves a process's wall clock
# (tests/test_report_month.sh); never installed.
$(BUILD)/tests/clockshim.so: tests/clockshim.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fPIC -shared -o $@ $<

unit: $(TEST_BINS) $(BUILD)/tests/clockshim.so

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
	@$(MAKE) --no-print-directory build/bench/bench_core build/bench/bench_drain build/bench/bench_intake
	@sh contrib/bench/run.sh

build/bench/bench_drain: contrib/bench/bench_drain.c | deps
	@mkdir -p $(@D)
	$(CC) -O2 -g $(XCFLAGS) $$(pkg-config --cflags hiredis jansson) -o $@ $< \
	    $$(pkg-config --libs hiredis jansson)

build/bench/bench_intake: contrib/bench/bench_intake.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -std=c11 $(WARN) -o $@ $<

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
# its postinst and then gives its configuration files to the group.
#
# Parts that other work adds are picked up when they are there: the
# console binary ($(BUILD)/recoveryd-console), every unit systemd/*.service
# (@SBINDIR@, @BINDIR@, @SYSCONFDIR@, @DATADIR@ filled in), the console's
# page (daemon/console/www/, or static/, into $(DATADIR)/console/), every
# man page docs/man/*.[1-8] and every file under docs/ (into
# $(DOCDIR)/docs/, so that the README's links hold there too).
MANPAGES = $(wildcard docs/man/*.[1-8])
UNITS	= $(wildcard systemd/*.service)
CONSOLE_WWW = $(firstword $(wildcard daemon/console/www daemon/console/static))
SBIN_PROGS = recoveryd recoveryd-console
BIN_PROGS = recoveryctl ivr-sim

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	@for p in $(SBIN_PROGS); do [ ! -f $(BUILD)/$$p ] || \
	    install -m 755 $(BUILD)/$$p $(DESTDIR)$(PREFIX)/sbin/$$p || exit 1; done
	@for p in $(BIN_PROGS); do \
	    install -m 755 $(BUILD)/$$p $(DESTDIR)$(PREFIX)/bin/$$p || exit 1; done
	install -d $(DESTDIR)$(SYSUSERSDIR)
	install -m 644 systemd/recoveryd.sysusers $(DESTDIR)$(SYSUSERSDIR)/recoveryd.conf
	@if [ -z "$(DESTDIR)" ] && command -v systemd-sysusers >/dev/null 2>&1; then \
	    systemd-sysusers $(SYSUSERSDIR)/recoveryd.conf; fi
	install -d $(DESTDIR)$(SYSCONFDIR)/recoveryd/rules.d
	@g=""; getent group recoveryd >/dev/null 2>&1 && g="-g recoveryd"; \
	if [ ! -f $(DESTDIR)$(SYSCONFDIR)/recoveryd/recoveryd.yaml ]; then \
	    install -m 640 $$g rules/recoveryd.yaml $(DESTDIR)$(SYSCONFDIR)/recoveryd/recoveryd.yaml || exit 1; \
	    for f in rules/rules.d/*.yaml; do [ ! -f "$$f" ] || \
	        install -m 640 $$g "$$f" $(DESTDIR)$(SYSCONFDIR)/recoveryd/rules.d/ || exit 1; done; \
	else echo "keeping existing $(DESTDIR)$(SYSCONFDIR)/recoveryd/recoveryd.yaml"; fi
	@for u in $(UNITS); do \
	    install -d $(DESTDIR)$(UNITDIR) && \
	    sed 's|@SBINDIR@|$(PREFIX)/sbin|g; s|@BINDIR@|$(PREFIX)/bin|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g; s|@DATADIR@|$(DATADIR)|g' \
	        $$u > $(DESTDIR)$(UNITDIR)/$${u##*/} && \
	    chmod 644 $(DESTDIR)$(UNITDIR)/$${u##*/} || exit 1; done
	@for m in $(MANPAGES); do \
	    install -d $(DESTDIR)$(MANDIR)/man$${m##*.} && \
	    install -m 644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/ || exit 1; done
	install -d $(DESTDIR)$(DOCDIR)
	install -m 644 README.md $(DESTDIR)$(DOCDIR)/README.md
	@find docs -path docs/man -prune -o -type f -print | while read -r f; do \
	    install -D -m 644 "$$f" "$(DESTDIR)$(DOCDIR)/$$f" || exit 1; done
	@if [ -n "$(CONSOLE_WWW)" ]; then \
	    find $(CONSOLE_WWW) -type f -print | while read -r f; do \
	        install -D -m 644 "$$f" "$(DESTDIR)$(DATADIR)/console/$${f#$(CONSOLE_WWW)/}" || exit 1; \
	    done; fi

# uninstall: the same lists as install, so it removes what install put
# there; the configuration under $(SYSCONFDIR)/recoveryd/ stays (it may
# hold local changes and secrets), as does the recoveryd user.
uninstall:
	@for p in $(SBIN_PROGS); do rm -f $(DESTDIR)$(PREFIX)/sbin/$$p; done
	@for p in $(BIN_PROGS); do rm -f $(DESTDIR)$(PREFIX)/bin/$$p; done
	rm -f $(DESTDIR)$(SYSUSERSDIR)/recoveryd.conf
	@for u in $(UNITS); do rm -f $(DESTDIR)$(UNITDIR)/$${u##*/}; done
	@for m in $(MANPAGES); do b=$${m##*/}; \
	    rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$$b $(DESTDIR)$(MANDIR)/man$${m##*.}/$$b.gz; done
	rm -rf $(DESTDIR)$(DOCDIR) $(DESTDIR)$(DATADIR)/console
	@rmdir $(DESTDIR)$(DATADIR) 2>/dev/null || true
	@[ ! -d $(DESTDIR)$(SYSCONFDIR)/recoveryd ] || \
	    echo "kept the configuration in $(DESTDIR)$(SYSCONFDIR)/recoveryd"

# deb: a binary package from a staged "make install" (PREFIX=/usr), with
# dpkg-deb alone; contrib/deb/build.sh says what goes in and why.
deb: all
	@sh contrib/install-deps.sh deb
	@MAKE="$(MAKE)" sh contrib/deb/build.sh "$(BUILD)" "$(VERSION)"

clean:
	rm -rf build run

-include $(CORE_OBJS:.o=.d) $(RECOVERYD_OBJS:.o=.d) $(CTL_OBJS:.o=.d) \
	$(CONSOLE_OBJS:.o=.d)

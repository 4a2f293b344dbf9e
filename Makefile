# mod_notify: build, run and test.
#
#   make              build mod_notify/.libs/mod_notify.so with apxs
#   make install      install it with apxs -i
#   make deps         install the Debian packages needed (or say how)
#   make run          serve on 127.0.0.1:$(PORT) in the foreground (PORT=8080)
#   make test         C unit tests + Apache::Test suite (as notifytest if root)
#   make bench        wrk against httpd + the module on SQLite and PostgreSQL
#                     (DURATION=10 WARMUP=5 CONNS="1 16 64" DBS="sqlite pgsql";
#                     SOAK=300: a soak run of that many seconds instead)
#   make profile      callgrind over creates on both databases (PROFILE_N=500)
#   make unit         C unit tests only
#   make clean

APXS       ?= apxs
HTTPD      ?= /usr/sbin/apache2
PKG_CONFIG ?= pkg-config
CC         ?= cc
PORT       ?= 8080
# Apache::Test's port: "auto" takes one the kernel reports free, so suites
# run at the same time on one machine do not collide; or a number (8529 is
# Apache::Test's default), or "select".
TEST_PORT  ?= auto

WARN       := -Wall -Wextra
APXS_FLAGS := -Wc,-Wall -Wc,-Wextra -Wc,-I$(CURDIR)/include
HEADERS    := $(wildcard include/*.h mod_notify/*.h)
SOURCES    := $(sort $(wildcard mod_notify/*.c))
CORE       := $(sort $(wildcard mod_notify/notify_*.c))
UNIT       := $(sort $(wildcard t/unit/*.c))
MODULE     := mod_notify/.libs/mod_notify.so
LIBS       := -ljansson -lcurl -lcrypto

UNIT_PKGS   := apr-1 apr-util-1 jansson libcurl openssl check
UNIT_RUNNER := t/unit/runner

# `make bench` / `make profile` settings, handed on to the unprivileged run.
BENCH_VARS := SOAK DURATION WARMUP CONNS DBS PROFILE_N PROFILE_OUT SCENARIOS
BENCH_ARGS  = $(foreach v,$(BENCH_VARS),$(if $(value $(v)),$(v)="$(value $(v))"))

.PHONY: all install deps run test test-suite unit bench bench-run profile \
	profile-run clean

all: $(MODULE)

# apxs compiles every source into mod_notify/*.lo and links them, with the
# libraries, into mod_notify/mod_notify.la (the .so lands in .libs/).
$(MODULE): $(SOURCES) $(HEADERS) Makefile
	@test -n "$(SOURCES)" || { echo "no sources in mod_notify/" >&2; exit 1; }
	$(APXS) -c -o mod_notify/mod_notify.la $(APXS_FLAGS) $(SOURCES) $(LIBS)
	@nm -D --defined-only $@ | grep -qw notify_module \
	    || { echo "$@ does not export notify_module" >&2; exit 1; }

install: $(MODULE)
	$(APXS) -i -n notify mod_notify/mod_notify.la

deps:
	@build/scripts/deps.sh

run: deps all
	PORT=$(PORT) HTTPD=$(HTTPD) build/scripts/run.sh

# The APR-only core and the unit tests, without httpd.
$(UNIT_RUNNER): $(UNIT) $(CORE) $(HEADERS) Makefile
	@test -n "$(UNIT)" || { echo "no C unit tests in t/unit/" >&2; exit 1; }
	$(CC) $(WARN) -g -O1 -Iinclude $$($(PKG_CONFIG) --cflags $(UNIT_PKGS)) \
	    -o $@ $(UNIT) $(CORE) $$($(PKG_CONFIG) --libs $(UNIT_PKGS))

unit: $(UNIT_RUNNER)
	$(UNIT_RUNNER)

# As root: copies the tree for an unprivileged user (Apache::Test refuses
# root) and runs test-suite there.
test: deps
	@build/scripts/as-user.sh test-suite

# Benchmarks (build/bench/), run as notifytest when root like the tests.
bench:
	@build/scripts/deps.sh bench
	@build/scripts/as-user.sh bench-run $(BENCH_ARGS)

bench-run: all
	@$(BENCH_ARGS) HTTPD=$(HTTPD) build/bench/bench.sh

profile:
	@build/scripts/deps.sh bench
	@build/scripts/as-user.sh profile-run $(BENCH_ARGS)

profile-run: all
	@$(BENCH_ARGS) HTTPD=$(HTTPD) MODE=profile build/bench/bench.sh

# Runs the Apache::Test suite even when the unit tests fail, so one run
# reports both; fails when either did.
test-suite: all
	@unit=0; suite=0; \
	$(MAKE) --no-print-directory unit || unit=$$?; \
	HTTPD=$(HTTPD) APXS=$(APXS) TEST_PORT=$(TEST_PORT) \
	    build/scripts/test-suite.sh || suite=$$?; \
	echo "C unit tests: $$([ $$unit = 0 ] && echo passed || echo FAILED)"; \
	echo "Apache::Test suite: $$([ $$suite = 0 ] && echo passed || echo FAILED)"; \
	[ $$unit = 0 ] && [ $$suite = 0 ]

clean:
	rm -rf mod_notify/*.o mod_notify/*.lo mod_notify/*.la mod_notify/*.slo \
	    mod_notify/.libs $(UNIT_RUNNER) t/unit/*.o
	@if [ -x t/TEST ]; then t/TEST -clean >/dev/null 2>&1 || true; fi
	rm -rf t/TEST t/logs t/var t/htdocs t/conf/apache_test_config.pm \
	    t/conf/extra.conf t/conf/httpd.conf t/conf/modperl_inc.pl \
	    t/conf/modperl_startup.pl t/SMOKE

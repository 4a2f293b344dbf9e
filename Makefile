# mod_notify: build, run and test.
#
#   make              build mod_notify/.libs/mod_notify.so with apxs
#   make install      install it with apxs -i (and, on Debian, notify.load
#                     and notify.conf in mods-available)
#   make deps         install the Debian packages needed (or say how)
#   make run          serve on 127.0.0.1:$(PORT) in the foreground (PORT=8080)
#   make test         C unit tests, a brief fuzz run, the Apache::Test suite
#                     (as notifytest if root), and as root the package
#                     round trip (make deb-check); SANITIZE=1: every pass
#                     against the module built with ASan and UBSan
#   make fuzz         libFuzzer targets in t/fuzz/ (FUZZ_SECONDS=10 each,
#                     FUZZ_TARGETS="fuzz_json ...", FUZZ_JOBS=1)
#   make bench        wrk against httpd + the module on SQLite and PostgreSQL
#                     (DURATION=10 WARMUP=5 CONNS="1 16 64" DBS="sqlite pgsql";
#                     SOAK=300: a soak run of that many seconds instead)
#   make profile      callgrind over creates on both databases (PROFILE_N=500)
#   make unit         C unit tests only
#   make deb          the Debian package libapache2-mod-notify, in
#                     build/deb-out/ (version: include/notify_version.h)
#   make deb-check    as root: install that package, a2enmod notify,
#                     configtest, a2dismod, purge (build/scripts/deb-check.sh;
#                     DEB=path/to/file.deb checks that one instead of building)
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
FUZZ_JOBS  ?= 1

WARN       := -Wall -Wextra
APXS_FLAGS := -Wc,-Wall -Wc,-Wextra -Wc,-I$(CURDIR)/include
# SANITIZE=1: the module compiled and linked with ASan and UBSan (httpd
# itself is not; build/scripts/httpd-asan preloads the runtime for it).
SANITIZE   ?=
SAN_FLAGS  := -fsanitize=address -fsanitize=undefined -fno-omit-frame-pointer
comma      := ,
ifeq ($(SANITIZE),1)
APXS_FLAGS += -Wc,-g -Wc,-O1 $(addprefix -Wc$(comma),$(SAN_FLAGS)) \
              $(addprefix -Wl$(comma),$(SAN_FLAGS))
endif
# Records the flags the module was built with, so switching SANITIZE
# rebuilds it.
FLAGS_STAMP := mod_notify/.build-flags
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
# `make test` settings, handed on the same way.
TEST_VARS  := SANITIZE FUZZ_SECONDS
TEST_ARGS   = $(foreach v,$(TEST_VARS),$(if $(value $(v)),$(v)="$(value $(v))"))
FUZZ_SECONDS ?= 10
BENCH_ARGS  = $(foreach v,$(BENCH_VARS),$(if $(value $(v)),$(v)="$(value $(v))"))

.PHONY: all install deps run test test-suite unit fuzz bench bench-run \
	profile profile-run deb deb-check clean FORCE

all: $(MODULE)

# apxs compiles every source into mod_notify/*.lo and links them, with the
# libraries, into mod_notify/mod_notify.la (the .so lands in .libs/).
$(MODULE): $(SOURCES) $(HEADERS) Makefile $(FLAGS_STAMP)
	@test -n "$(SOURCES)" || { echo "no sources in mod_notify/" >&2; exit 1; }
	$(APXS) -c -o mod_notify/mod_notify.la $(APXS_FLAGS) $(SOURCES) $(LIBS)
	@nm -D --defined-only $@ | grep -qw notify_module \
	    || { echo "$@ does not export notify_module" >&2; exit 1; }

$(FLAGS_STAMP): FORCE
	@echo '$(APXS_FLAGS)' | cmp -s - $@ || echo '$(APXS_FLAGS)' >$@

# On Debian, notify.load and notify.conf go to mods-available too, for
# `a2enmod notify` (a notify.conf already there is kept: it is the admin's).
MODS_AVAILABLE ?= /etc/apache2/mods-available

install: $(MODULE)
	$(APXS) -i -n notify mod_notify/mod_notify.la
	@if [ -d "$(DESTDIR)$(MODS_AVAILABLE)" ]; then \
	    install -m 644 build/apache2/notify.load "$(DESTDIR)$(MODS_AVAILABLE)/notify.load"; \
	    if [ -e "$(DESTDIR)$(MODS_AVAILABLE)/notify.conf" ]; then \
	        echo "kept $(DESTDIR)$(MODS_AVAILABLE)/notify.conf (build/apache2/notify.conf is the new one)"; \
	    else \
	        install -m 644 build/apache2/notify.conf "$(DESTDIR)$(MODS_AVAILABLE)/notify.conf"; \
	    fi; \
	    echo "installed notify.load and notify.conf in $(DESTDIR)$(MODS_AVAILABLE): a2enmod notify"; \
	fi

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
# As root (CI), the Debian package's round trip too (deb-check), after
# the suite; both run, and either failing fails the target.
test: deps
	@rc=0; build/scripts/as-user.sh test-suite $(TEST_ARGS) || rc=$$?; \
	if [ "$$(id -u)" -eq 0 ]; then \
	    if build/scripts/deb-check.sh; then \
	        echo "Debian package round trip: passed"; \
	    else \
	        echo "Debian package round trip: FAILED"; rc=1; \
	    fi; \
	else \
	    echo "Debian package round trip: not run (it needs root: make deb-check)"; \
	fi; \
	exit $$rc

# The libFuzzer targets (build/scripts/fuzz.sh); instrumented objects and
# the scratch corpus go to t/fuzz/build/.
fuzz: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) \
	    build/scripts/fuzz.sh $(FUZZ_TARGETS)

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

# The Debian package, built with dpkg-buildpackage in a temporary copy of
# the tree (build/debian becomes debian/ there); the .deb lands in
# build/deb-out/.
deb:
	@build/scripts/deb.sh

# Installs the package, enables it, checks httpd's configuration, and
# removes it again, leaving the machine as it was (root only).
deb-check:
	@if [ "$$(id -u)" -ne 0 ]; then \
	    echo "make deb-check installs a package: run it as root" >&2; exit 1; \
	fi
	@build/scripts/deb-check.sh $(DEB)

# Runs every part even when one fails, so one run reports all; fails when
# any did.
test-suite: all
	@unit=0; fuzz=0; suite=0; \
	$(MAKE) --no-print-directory unit || unit=$$?; \
	FUZZ_SECONDS=$(FUZZ_SECONDS) build/scripts/fuzz.sh || fuzz=$$?; \
	HTTPD=$(HTTPD) APXS=$(APXS) TEST_PORT=$(TEST_PORT) SANITIZE=$(SANITIZE) \
	    build/scripts/test-suite.sh || suite=$$?; \
	echo "C unit tests: $$([ $$unit = 0 ] && echo passed || echo FAILED)"; \
	echo "fuzz targets ($(FUZZ_SECONDS)s each): $$([ $$fuzz = 0 ] && echo passed || echo FAILED)"; \
	echo "Apache::Test suite: $$([ $$suite = 0 ] && echo passed || echo FAILED)"; \
	[ $$unit = 0 ] && [ $$fuzz = 0 ] && [ $$suite = 0 ]

clean:
	rm -rf mod_notify/*.o mod_notify/*.lo mod_notify/*.la mod_notify/*.slo \
	    mod_notify/.libs $(FLAGS_STAMP) $(UNIT_RUNNER) t/unit/*.o t/fuzz/build
	@if [ -x t/TEST ]; then t/TEST -clean >/dev/null 2>&1 || true; fi
	rm -rf t/TEST t/logs t/var t/htdocs t/conf/apache_test_config.pm \
	    t/conf/extra.conf t/conf/httpd.conf t/conf/modperl_inc.pl \
	    t/conf/modperl_startup.pl t/SMOKE

# Makefile - builds every program into bin/, tests, benchmarks, fuzzers.
#
# Layout: lib/ builds into libcommon.a; each program folder with a main.c
# is a program whose other sources build into lib<prog>.a (so tests and
# fuzzers link the same code). Objects of different configurations
# (plain, sanitizers, fuzzing) never share a directory.
#
# SPDX-License-Identifier: MIT

TARGET_SYSTEM ?= $(OS)
ifneq (,$(filter Windows%,$(TARGET_SYSTEM)))
  EXT := .exe
  PLAT := win
else
  EXT :=
  PLAT := posix
endif

CC ?= cc
PKG_CONFIG ?= pkg-config
PREFIX ?= /usr/local
SAN ?=

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Werror
BASE_CFLAGS := -std=c11 -g $(WARN) -I. -Ibuild/gen
OPT ?= -O2

# Sanitizer builds use clang when it is installed: its UBSan also checks
# arithmetic on NULL pointers (pointer-overflow), which gcc's does not.
SAN_CC ?= $(if $(shell command -v clang 2>/dev/null),clang,cc)

ifeq ($(SAN),1)
  CONF := asan
  ifeq ($(origin CC),default)
    CC := $(SAN_CC)
  endif
  SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
              -fno-omit-frame-pointer
else ifeq ($(SAN),fuzz)
  CONF := fuzz
  SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined \
              -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else
  CONF := $(PLAT)
  SANFLAGS :=
endif

OBJ := build/$(CONF)
# A build directory belongs to one compiler: objects of gcc and clang
# (their sanitizer runtimes above all) do not link together, and make
# does not see a changed CC, so a directory built by another is emptied.
ifneq ($(shell cat $(OBJ)/.cc 2>/dev/null),$(CC))
  $(shell rm -rf $(OBJ) && mkdir -p $(OBJ) && echo '$(CC)' > $(OBJ)/.cc)
endif
BIN := $(if $(SAN),$(OBJ)/bin,bin)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(patsubst tests/fuzz/%.c,%,$(filter-out tests/fuzz/fuzz_main.c,$(FUZZ_SRC)))
CFLAGS_ALL = $(BASE_CFLAGS) $(OPT) $(SANFLAGS) $(CFLAGS)
LDLIBS_ALL = $(SANFLAGS) $(LDFLAGS) $(LIBS_EXTRA) -lm

LIB_SRC := $(filter-out lib/%_win.c lib/%_posix.c,$(wildcard lib/*.c)) \
           $(wildcard lib/*_$(PLAT).c)
LIB_OBJ := $(LIB_SRC:%.c=$(OBJ)/%.o)
LIBCOMMON := $(OBJ)/libcommon.a

PROGS := $(patsubst %/main.c,%,$(wildcard */main.c))
prog_src = $(filter-out $(1)/main.c $(1)/%_win.c $(1)/%_posix.c,\
             $(wildcard $(1)/*.c)) $(wildcard $(1)/*_$(PLAT).c)

# Built-in schemas: share/schemas/*.man compiled into etwcat.
SCHEMAS := $(sort $(wildcard share/schemas/*.man))
GEN_BUILTIN := build/gen/etwcat_builtin.c
BIN2C := build/tools/bin2c

TEST_SRC := $(wildcard tests/unit/test_*.c)
TOOL_MAINS := $(wildcard tests/tools/*_main.c)
TOOL_LIBSRC := $(filter-out $(TOOL_MAINS),$(wildcard tests/tools/*.c))

.PHONY: all check bench fuzz install clean lint tools tests format setup setup-tests sample fuzz-targets replays
all: $(foreach p,$(PROGS),$(BIN)/$(p)$(EXT)) $(BIN)/RealtimeKql-link

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(LIBCOMMON): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN2C): build-aux/bin2c.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O1 -Wall -Wextra -o $@ $<

$(GEN_BUILTIN): $(SCHEMAS) $(BIN2C)
	@mkdir -p $(dir $@)
	$(BIN2C) $(SCHEMAS) > $@.tmp && mv $@.tmp $@

define PROG_RULES
$(1)_OBJ := $$(patsubst %.c,$(OBJ)/%.o,$$(call prog_src,$(1))) \
  $$(if $$(filter etwcat,$(1)),$(OBJ)/$(GEN_BUILTIN:.c=.o))
$(OBJ)/lib$(1).a: $$($(1)_OBJ)
	rm -f $$@ && ar rcs $$@ $$^
$(BIN)/$(1)$(EXT): $(OBJ)/$(1)/main.o $(OBJ)/lib$(1).a $(LIBCOMMON)
	@mkdir -p $$(dir $$@)
	$(CC) $(CFLAGS_ALL) -o $$@ $$^ $$($(1)_LIBS) $(LDLIBS_ALL)
endef
$(foreach p,$(PROGS),$(eval $(call PROG_RULES,$(p))))

$(OBJ)/build/gen/%.o: build/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

# Libraries a program needs beyond libc.
kqlfilter_LIBS := $(shell $(PKG_CONFIG) --libs jansson zlib 2>/dev/null)
jsonsink_LIBS := $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null)
adxsink_LIBS := $(shell $(PKG_CONFIG) --libs jansson libcurl zlib 2>/dev/null)
blobsink_LIBS := $(shell $(PKG_CONFIG) --libs jansson libcurl zlib 2>/dev/null) -lcrypto

# The seed's examples spell the launcher RealtimeKql: install both names.
$(BIN)/RealtimeKql-link: $(if $(filter RealTimeKql,$(PROGS)),$(BIN)/RealTimeKql$(EXT))
	@if [ -f $(BIN)/RealTimeKql$(EXT) ]; then \
	  ln -sf RealTimeKql$(EXT) $(BIN)/RealtimeKql$(EXT); fi
	@touch $@

ALL_PROG_LIBS = $(foreach p,$(PROGS),$(OBJ)/lib$(p).a)
ALL_PROG_LDLIBS = $(foreach p,$(PROGS),$($(p)_LIBS))
TOOL_LIB_OBJ := $(TOOL_LIBSRC:%.c=$(OBJ)/%.o)

$(OBJ)/tests/bin/%: $(OBJ)/tests/unit/%.o $(TOOL_LIB_OBJ) $(ALL_PROG_LIBS) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(ALL_PROG_LDLIBS) $(LDLIBS_ALL)

$(OBJ)/tools/%: $(OBJ)/tests/tools/%_main.o $(TOOL_LIB_OBJ) $(ALL_PROG_LIBS) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(ALL_PROG_LDLIBS) $(LDLIBS_ALL)

# Fuzz targets: with libFuzzer (SAN=fuzz) or, for make check, linked with
# tests/fuzz/fuzz_main.c to replay their corpus as regression tests.
$(OBJ)/fuzzbin/%: $(OBJ)/tests/fuzz/%.o $(TOOL_LIB_OBJ) $(ALL_PROG_LIBS) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer -o $@ $^ $(ALL_PROG_LDLIBS) $(LDLIBS_ALL)
$(OBJ)/replaybin/%: $(OBJ)/tests/fuzz/%.o $(OBJ)/tests/fuzz/fuzz_main.o $(TOOL_LIB_OBJ) $(ALL_PROG_LIBS) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(ALL_PROG_LDLIBS) $(LDLIBS_ALL)
fuzz-targets: $(FUZZ_NAMES:%=$(OBJ)/fuzzbin/%)
replays: $(FUZZ_NAMES:%=$(OBJ)/replaybin/%)

TEST_BINS := $(patsubst tests/unit/%.c,$(OBJ)/tests/bin/%,$(TEST_SRC))
TOOL_BINS := $(patsubst tests/tools/%_main.c,$(OBJ)/tools/%,$(TOOL_MAINS))
tests: $(TEST_BINS)
tools: $(TOOL_BINS)

# make check: everything under ASan/UBSan, then every test suite.
check:
	$(MAKE) SAN=1 all tests tools replays
	$(MAKE) SAN= all tools
	tests/run.sh build/asan

setup:
	scripts/setup.sh

setup-tests:
	scripts/setup.sh --tests

# The README's main job: the bundled Kernel-Network sample through the
# whole pipeline (etwcat | kqlfilter | jsonsink --table).
sample: all
	$(BIN)/RealTimeKql etw --file=share/samples/kernel-network.etl \
	  --query=share/queries/SimplifyEtwTcp.kql --outputtable

bench:
	$(MAKE) SAN= all tools
	tests/bench.sh

# make fuzz: libFuzzer targets, FUZZ_SECONDS each (replays the corpus
# first, so a crash found once stays a regression test).
FUZZ_SECONDS ?= 20
fuzz:
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_NAMES:%=tests/fuzz/%.c)

lint:
	tests/lint.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

install: all
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/realtimekql
	for p in $(PROGS); do install -m 755 $(BIN)/$$p$(EXT) $(DESTDIR)$(PREFIX)/bin/; done
	if [ -f $(BIN)/RealTimeKql$(EXT) ]; then \
	  ln -sf RealTimeKql$(EXT) $(DESTDIR)$(PREFIX)/bin/RealtimeKql$(EXT); fi
	cp -R share/queries share/schemas share/samples $(DESTDIR)$(PREFIX)/share/realtimekql/

clean:
	rm -rf build bin

# Keep intermediate objects (tool and test objects are otherwise deleted).
.SECONDARY:

-include $(shell find build -name '*.d' 2>/dev/null)
include windows.mk

# windows.mk - the Windows build (mingw-w64 cross-compiler) and its tests
# under Wine. Included from the Makefile; design: windows.md.
#
#   make windows         every program as build/win/bin/*.exe (static,
#                        importing system DLLs only), with jansson and
#                        libcurl built once into $(WIN_DEPS)
#   make windows-etwcat  etwcat.exe alone (needs neither library)
#   make check-windows   the Windows build's tests under Wine
#                        (tests/windows/run.sh)
#   make windows-deps    only the jansson/libcurl cache
#
# The cross-build is the same Makefile run again with TARGET_SYSTEM set,
# so objects go to build/win and nothing is shared with the native
# build except build/gen, whose generator (bin2c) must run here and is
# therefore built natively first.
#
# SPDX-License-Identifier: MIT

WIN_CC ?= x86_64-w64-mingw32-gcc
WIN_OUT := build/win
WIN_BIN := $(WIN_OUT)/bin
WIN_DEPS ?= $(CURDIR)/.deps-win
# -static: libgcc, the dependency libraries and (for code that uses
# <pthread.h>) winpthread go into the .exe, which then imports system
# DLLs only (windows.md 1). shell32: CommandLineToArgvW (plat_init);
# advapi32, tdh and rpcrt4 (UuidCreate): etwcat's ETW sessions; bcrypt:
# HMAC-SHA256 (lib/hmac_win.c).
WIN_LIBS := -static -lshell32 -ladvapi32 -ltdh -lrpcrt4 -lbcrypt -lpthread
# pkg-config sees only the Windows libraries: the cache and Debian's
# mingw packages (zlib: libz-mingw-w64-dev).
WIN_PC_PATH := $(WIN_DEPS)/lib/pkgconfig:/usr/x86_64-w64-mingw32/lib/pkgconfig
WIN_PKG_CONFIG := env PKG_CONFIG_LIBDIR=$(WIN_PC_PATH) pkg-config --static
# Format strings are checked by the C99 stdio's rules (PLAT_PRINTF in
# lib/platform.h), as natively.
WIN_CFLAGS := -I$(WIN_DEPS)/include -DCURL_STATICLIB
# The Makefile links blobsink with OpenSSL's -lcrypto; on Windows the
# HMAC comes from bcrypt (in WIN_LIBS), so its list is given here.
WIN_BLOB_LIBS = $(shell $(WIN_PKG_CONFIG) --libs jansson libcurl zlib \
  2>/dev/null)
WIN_MAKE = $(MAKE) TARGET_SYSTEM=Windows_NT CC=$(WIN_CC) BIN=$(WIN_BIN) \
  SAN= PKG_CONFIG="$(WIN_PKG_CONFIG)" LIBS_EXTRA="$(WIN_LIBS)" \
  CFLAGS="$(WIN_CFLAGS)" blobsink_LIBS="$(WIN_BLOB_LIBS)"

.PHONY: windows windows-etwcat windows-deps windows-gen check-windows

windows-gen:
	$(MAKE) TARGET_SYSTEM= SAN= build/gen/etwcat_builtin.c

windows-deps:
	build-aux/windows-deps.sh $(WIN_DEPS)

# "+": WIN_MAKE hides $(MAKE) from make, which would otherwise not share
# its job slots with the sub-make.
windows: windows-deps windows-gen
	+$(WIN_MAKE) all

# etwcat links only the lib/ modules it uses, so it builds even while
# modules for the other programs are being written.
WIN_ETWCAT_LIB := $(wildcard lib/jsonw.c lib/log.c lib/utf16.c \
  lib/platform_win.c lib/pglob_win.c lib/rfile_win.c lib/winapi_win.c \
  lib/outfd_win.c lib/signals_win.c)

windows-etwcat: windows-gen
	+$(WIN_MAKE) LIB_SRC="$(WIN_ETWCAT_LIB)" $(WIN_BIN)/etwcat.exe

# Unit tests and fuzz replays run as .exe files too; the test tools only
# generate inputs, so the native ones serve (built here if missing).
check-windows: windows
	+$(WIN_MAKE) tests replays
	$(MAKE) TARGET_SYSTEM= SAN= tools
	tests/windows/run.sh $(WIN_OUT)

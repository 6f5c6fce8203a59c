#!/bin/sh
# build-aux/windows-deps.sh - jansson and libcurl (Schannel) for the
# mingw-w64 build, from Debian's own source packages (windows.md section 2).
#
# usage: build-aux/windows-deps.sh PREFIX
#
# Builds static libraries into PREFIX (include/, lib/, lib/pkgconfig/).
# Idempotent: PREFIX/.stamp names the source versions, the host and this
# script's revision; when it matches and the libraries are there, nothing
# is done (a second run takes well under a second). Needs apt deb-src
# entries; when there are none it derives them from the machine's deb
# entries (root, or sudo), as windows.md describes, so no host name is
# written here. Needs: gcc-mingw-w64-x86-64-win32 cmake make dpkg-dev.
# SPDX-License-Identifier: MIT
set -eu
REV=1
HOST=x86_64-w64-mingw32
prefix=${1:?usage: build-aux/windows-deps.sh PREFIX}
case $prefix in /*) ;; *) prefix=$(pwd)/$prefix ;; esac
stamp=$prefix/.stamp
have_libs() {
  [ -f "$prefix/lib/libjansson.a" ] && [ -f "$prefix/lib/libcurl.a" ] &&
    [ -f "$prefix/lib/pkgconfig/jansson.pc" ] &&
    [ -f "$prefix/lib/pkgconfig/libcurl.pc" ]
}
# Fast path: built before by this revision of the script.
if [ -f "$stamp" ] && have_libs && grep -q "rev=$REV " "$stamp"; then
  exit 0
fi
for tool in $HOST-gcc cmake make dpkg-source; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "windows-deps: $tool is missing (apt-get install" \
      "gcc-mingw-w64-x86-64-win32 cmake make dpkg-dev)" >&2
    exit 1
  }
done
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

# Step 1: deb-src entries, derived from the deb entries already configured.
srcver() { apt-cache showsrc "$1" 2>/dev/null | sed -n 's/^Version: //p' |
  sort -V | tail -n 1; }
if [ -z "$(srcver jansson)" ]; then
  echo "windows-deps: adding deb-src entries next to the deb entries"
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed 's/^Types: deb$/Types: deb-src/' \
      /etc/apt/sources.list.d/debian.sources |
      $SUDO tee /etc/apt/sources.list.d/rtk-debian-src.sources >/dev/null
  elif [ -f /etc/apt/sources.list ]; then
    sed -n 's/^deb /deb-src /p' /etc/apt/sources.list |
      $SUDO tee /etc/apt/sources.list.d/rtk-debian-src.list >/dev/null
  fi
  $SUDO apt-get update -qq
fi
jv=$(srcver jansson)
cv=$(srcver curl)
if [ -z "$jv" ] || [ -z "$cv" ]; then
  echo "windows-deps: apt knows no source package for jansson or curl;" \
    "the programs that need them cannot be built for Windows" >&2
  exit 1
fi
want="rev=$REV jansson=$jv curl=$cv host=$HOST"
if [ -f "$stamp" ] && have_libs && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

work=$prefix/src
rm -rf "$work"
mkdir -p "$work" "$prefix"
cd "$work"
echo "windows-deps: fetching jansson $jv and curl $cv source packages"
apt-get source -qq "jansson=$jv" "curl=$cv" >/dev/null
jdir=$(find . -maxdepth 1 -type d -name 'jansson-*' | head -n 1)
cdir=$(find . -maxdepth 1 -type d -name 'curl-*' | head -n 1)
[ -n "$jdir" ] && [ -n "$cdir" ] || {
  echo "windows-deps: source packages did not unpack" >&2
  exit 1
}

# Step 2: the CMake toolchain file.
cat > toolchain.cmake <<EOF
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER $HOST-gcc)
set(CMAKE_RC_COMPILER $HOST-windres)
set(CMAKE_FIND_ROOT_PATH /usr/$HOST)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
EOF

# Step 3: jansson, static.
echo "windows-deps: building jansson"
cmake -S "$jdir" -B build-jansson \
  -DCMAKE_TOOLCHAIN_FILE="$work/toolchain.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" \
  -DJANSSON_BUILD_DOCS=OFF -DJANSSON_EXAMPLES=OFF -DJANSSON_WITHOUT_TESTS=ON \
  -DJANSSON_BUILD_SHARED_LIBS=OFF >build-jansson.log 2>&1 ||
  { tail -n 20 build-jansson.log >&2; exit 1; }
cmake --build build-jansson >>build-jansson.log 2>&1 &&
  cmake --install build-jansson >>build-jansson.log 2>&1 ||
  { tail -n 20 build-jansson.log >&2; exit 1; }

# Step 4: libcurl, static, Schannel, HTTP(S) only, Win32 threaded
# resolver (--disable-pthreads keeps libwinpthread out).
echo "windows-deps: building libcurl (about a minute)"
mkdir -p build-curl
(
  cd build-curl
  "../$cdir/configure" --host=$HOST --prefix="$prefix" \
    --disable-shared --enable-static --disable-dependency-tracking \
    --with-schannel --without-openssl --without-gnutls --without-libpsl \
    --without-brotli --without-zstd --without-libidn2 --without-nghttp2 \
    --without-libssh2 --without-librtmp --without-zlib --with-winidn=no \
    --disable-pthreads --disable-manual --disable-ldap --disable-ldaps \
    --disable-rtsp --disable-dict --disable-telnet --disable-tftp \
    --disable-pop3 --disable-imap --disable-smtp --disable-gopher \
    --disable-mqtt --disable-smb --disable-ftp --disable-file &&
    make -C lib -j"$(nproc 2>/dev/null || echo 2)" &&
    make -C lib install && make -C include install &&
    make install-pkgconfigDATA
) >build-curl.log 2>&1 || { tail -n 30 build-curl.log >&2; exit 1; }

have_libs || {
  echo "windows-deps: libraries missing after the build" >&2
  exit 1
}
cd "$prefix"
rm -rf "$work"
printf '%s\n' "$want" > "$stamp"
echo "windows-deps: done ($want)"

#!/usr/bin/env bash
# `make package-check` (run by .ci/run after `make test`): does what `make package` built start on a clean machine?
#  1. the portable tar.gz, unpacked into an empty folder, passes `osler --self-test` headless with an empty HOME
#     and no environment beyond PATH, and leaves HOME, TMPDIR and the folder it ran in as empty as it found them;
#  2. the same under Xvfb on a real X server (the xcb platform plugin and its libraries);
#  3. `osler verify-release dist` accepts what the build signed;
#  4. the .deb has its files where Debian expects them and, installed with apt-get (as root, as on CI), its
#     /usr/bin/osler passes the self-test; it is removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
tarball=$(ls dist/osler-*-linux-*.tar.gz)
deb=$(ls dist/osler_*.deb)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/unpacked" "$work/home" "$work/tmp" "$work/cwd"
tar -xzf "$tarball" -C "$work/unpacked"
app="$work/unpacked/osler/osler"

clean_env=(env -i "PATH=/usr/bin:/bin" "HOME=$work/home" "TMPDIR=$work/tmp" "LANG=C.UTF-8")
echo "package-check: self-test of the unpacked tar.gz (offscreen)"
(cd "$work/cwd" && "${clean_env[@]}" QT_QPA_PLATFORM=offscreen "$app" --self-test)
leftover=$(find "$work/home" "$work/tmp" "$work/cwd" -mindepth 1 | head -5)
if [ -n "$leftover" ]; then echo "package-check: the self-test left files behind: $leftover" >&2; exit 1; fi

echo "package-check: self-test under Xvfb (xcb)"
out=$(cd "$work/cwd" && "${clean_env[@]}" xvfb-run -a -s "-screen 0 1280x800x24" "$app" --self-test 2>&1) || {
  echo "$out" >&2; exit 1; }
echo "$out" | grep -q "xcb" || { echo "$out" >&2; echo "package-check: Qt did not use the X server" >&2; exit 1; }
echo "$out" | tail -1

echo "package-check: a read-only folder is refused in plain words"
mkdir "$work/readonly"
set +e
if [ "$(id -u)" = 0 ]; then  # root writes through file modes: mount the folder read-only, like a locked USB stick
  ro_out=$(unshare --mount sh -c 'mount --bind -o ro "$0" "$0" && exec "$@"' "$work/readonly" "${clean_env[@]}" \
    QT_QPA_PLATFORM=offscreen "$app" --self-test --data-dir "$work/readonly" 2>&1)
else
  chmod 555 "$work/readonly"
  ro_out=$("${clean_env[@]}" QT_QPA_PLATFORM=offscreen "$app" --self-test --data-dir "$work/readonly" 2>&1)
fi
ro_rc=$?
set -e
if [ "$ro_rc" != 2 ] || echo "$ro_out" | grep -q Traceback; then
  echo "$ro_out" >&2; echo "package-check: expected a clear refusal (exit 2), got $ro_rc" >&2; exit 1
fi
echo "$ro_out"

echo "package-check: verify-release"
"${clean_env[@]}" "$app" verify-release dist

echo "package-check: the .deb's layout"
dpkg-deb -x "$deb" "$work/deb"
test -x "$work/deb/opt/osler/osler"
test "$(readlink "$work/deb/usr/bin/osler")" = /opt/osler/osler
grep -q '^Categories=Education;' "$work/deb/usr/share/applications/osler.desktop"
test -f "$work/deb/usr/share/icons/hicolor/256x256/apps/osler.png"
if command -v desktop-file-validate >/dev/null; then desktop-file-validate "$work/deb/usr/share/applications/osler.desktop"; fi

if [ "$(id -u)" = 0 ] && [ -z "$(dpkg-query -W -f='${Status}' osler 2>/dev/null | grep installed || true)" ]; then
  echo "package-check: apt-get install ./$(basename "$deb"), osler --self-test, remove"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "./$deb" >/dev/null
  trap 'DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq osler >/dev/null; rm -rf "$work"' EXIT
  (cd "$work/cwd" && "${clean_env[@]}" QT_QPA_PLATFORM=offscreen /usr/bin/osler --self-test | tail -1)
else
  echo "package-check: not root (or osler already installed): the .deb is checked unpacked, not installed"
  (cd "$work/cwd" && "${clean_env[@]}" QT_QPA_PLATFORM=offscreen "$work/deb/opt/osler/osler" --self-test | tail -1)
fi
echo "package-check: passed in $((SECONDS - started)) s"

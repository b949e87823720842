#!/usr/bin/env bash
# Builds the Debian package from the built tree (npm run build first): the bundled CLI under /usr/lib/c8y-token,
# /usr/bin/c8y-token, the man page and the shell completions. Usage: package-deb.sh [output directory, default dist]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath "${1:-dist}")

field() { node -p "require('./package.json').$1"; }
name=$(field name)
# npm's 1.2.0-rc.1 is Debian's 1.2.0~rc.1: the tilde sorts a pre-release before its release.
version=$(field version | sed 's/-/~/')
# package.json's engines (">=18.19") as a Debian dependency: nodejs (>= 18.19).
node_floor=$(field engines.node | sed -n 's/^>=\([0-9.]*\)$/\1/p')
[ -n "$node_floor" ] || { echo "package.json engines.node is not '>=X.Y': $(field engines.node)" >&2; exit 1; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
chmod 755 "$stage"

lib=$stage/usr/lib/$name
install -d "$lib/bin" "$lib/dist" "$stage/usr/bin" "$stage/usr/share/man/man1" "$stage/usr/share/doc/$name" \
  "$stage/usr/share/bash-completion/completions" "$stage/usr/share/zsh/vendor-completions" \
  "$stage/usr/share/fish/vendor_completions.d" "$stage/DEBIAN"
install -m 755 bin/c8y-token "$lib/bin/"
cp -r dist/cli "$lib/dist/"
# The licenses go to /usr/share/doc/c8y-token/copyright, where Debian keeps them.
rm "$lib/dist/cli/THIRD-PARTY-LICENSES"
# Node needs "type": "module" for the bin and the bundle; the bundle needs no dependencies.
node -e 'const p = require("./package.json");
console.log(JSON.stringify({ name: p.name, version: p.version, type: "module", private: true }, null, 2))' \
  > "$lib/package.json"
ln -s "../lib/$name/bin/c8y-token" "$stage/usr/bin/c8y-token"
gzip -9n < dist/man/c8y-token.1 > "$stage/usr/share/man/man1/c8y-token.1.gz"
install -m 644 dist/completions/bash/c8y-token "$stage/usr/share/bash-completion/completions/"
install -m 644 dist/completions/zsh/_c8y-token "$stage/usr/share/zsh/vendor-completions/"
install -m 644 dist/completions/fish/c8y-token.fish "$stage/usr/share/fish/vendor_completions.d/"
{
  echo "c8y-token is licensed under $(field license); see /usr/share/common-licenses/$(field license)."
  echo
  cat dist/cli/THIRD-PARTY-LICENSES
} > "$stage/usr/share/doc/$name/copyright"

cat > "$stage/DEBIAN/control" <<CONTROL
Package: $name
Version: $version
Architecture: all
Maintainer: c8y-token maintainers <maintainers@c8y-token.invalid>
Depends: nodejs (>= $node_floor)
Section: utils
Priority: optional
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Description: $(field description)
 A command-line tool for thin-edge.io devices: fetches the device token over the
 local MQTT broker with bounded waits and documented exit codes, and prints only
 a valid token.
CONTROL

mkdir -p "$out"
dpkg-deb --root-owner-group --build "$stage" "$out/${name}_${version}_all.deb" >/dev/null
echo "$out/${name}_${version}_all.deb"

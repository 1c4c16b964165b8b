#!/bin/sh
# Lay xen-viommu over a QEMU source tree.
#
# Usage: scripts/overlay.sh REPO QEMU_SRC
#
# - Every project file under hw/ include/ tests/qtest/ tests/unit/ docs/ is
#   symlinked to the same path in the tree, so editing it in the repository
#   and running make rebuilds just what depends on it.
# - Links left behind by files that were removed from the repository go.
# - patches/qemu/series is applied with patch -p1.  The applied series is
#   remembered; when it changes, the old one is reversed first.
set -eu

repo=$1
src=$2
dirs="hw include tests/qtest tests/unit docs"
pdir=$repo/patches/qemu

# Links ------------------------------------------------------------------------
for d in $dirs; do
    [ -d "$repo/$d" ] || continue
    (cd "$repo" && find "$d" -type f ! -name '*~' ! -name '.*') | while read -r f; do
        dst=$src/$f
        if [ -L "$dst" ] && [ "$(readlink "$dst")" = "$repo/$f" ]; then
            continue
        fi
        if [ -e "$dst" ] && [ ! -L "$dst" ]; then
            echo "overlay: $f exists in QEMU's tree; refusing to shadow it" >&2
            exit 1
        fi
        mkdir -p "$(dirname "$dst")"
        ln -sfn "$repo/$f" "$dst"
    done
done
# Dangling links into the repository: the file was removed or renamed.
for d in $dirs; do
    [ -d "$src/$d" ] || continue
    find "$src/$d" -type l | while read -r l; do
        case $(readlink "$l") in
        "$repo"/*) [ -e "$l" ] || rm -f "$l" ;;
        esac
    done
done

# Patches --------------------------------------------------------------------
state=$src/.xen-viommu-patches
new=$(mktemp)
trap 'rm -f "$new"' EXIT
while read -r p; do
    case $p in ''|'#'*) continue ;; esac
    [ -f "$pdir/$p" ] || { echo "overlay: patches/qemu/$p listed in series but missing" >&2; exit 1; }
    printf '%s\n' "$p" >> "$new"
done < "$pdir/series"

if [ -d "$state" ] && [ -f "$state/series" ]; then
    unchanged=yes
    cmp -s "$state/series" "$new" || unchanged=no
    if [ $unchanged = yes ]; then
        while read -r p; do
            cmp -s "$state/$p" "$pdir/$p" || { unchanged=no; break; }
        done < "$new"
    fi
    [ $unchanged = yes ] && exit 0
    # Reverse what was applied, newest first.
    tac "$state/series" | while read -r p; do
        patch -s -p1 -R -d "$src" < "$state/$p" || {
            echo "overlay: could not reverse $p; remove $src and run ./configure again" >&2
            exit 1
        }
    done
    rm -rf "$state"
fi

# Check the whole series first so a failure leaves the tree untouched.
tmp=$(mktemp -d)
trap 'rm -f "$new"; rm -rf "$tmp"' EXIT
(cd "$src" && tar -cf - $(cat "$pdir"/*.patch | sed -n 's#^+++ b/##p' | sort -u) 2>/dev/null) |
    tar -C "$tmp" -xf - 2>/dev/null || true
while read -r p; do
    if ! patch -s -p1 --dry-run -d "$tmp" < "$pdir/$p" >/dev/null 2>&1; then
        echo "overlay: patches/qemu/$p does not apply to QEMU $(cat "$src/VERSION"):" >&2
        patch -p1 --dry-run -d "$tmp" < "$pdir/$p" >&2 || true
        echo "overlay: xen-viommu supports QEMU 10.0.x; use a matching tree" >&2
        exit 1
    fi
    patch -s -p1 -d "$tmp" < "$pdir/$p"
done < "$new"

mkdir -p "$state"
while read -r p; do
    patch -s -p1 -d "$src" < "$pdir/$p"
    cp "$pdir/$p" "$state/$p"
done < "$new"
cp "$new" "$state/series"
echo "overlay: applied $(wc -l < "$new") patches to QEMU $(cat "$src/VERSION")"

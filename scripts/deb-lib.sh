# Shared helpers of scripts/guest-image.sh and scripts/xen-image.sh (sourced).
#
# Debian packages are fetched with `apt-get download` into a cache directory
# and unpacked with dpkg-deb; nothing is ever installed on the host.
# Callers define die() first.

# deb_newest_cached CACHEDIR PATTERN: newest cached .deb whose package name
# matches the glob PATTERN (no -dbg packages), or nothing
deb_newest_cached() {
    # shellcheck disable=SC2086 # the pattern is meant to glob
    ls "$1"/$2_*_amd64.deb "$1"/$2_*_all.deb 2>/dev/null |
        grep -v -- '-dbg_' | sort -V | tail -n 1
}

# deb_fetch CACHEDIR PKG: path of PKG's candidate .deb, downloaded into
# CACHEDIR unless that version is there already.  Without a candidate (no
# apt lists) or when the download fails, the newest cached version of PKG.
# Prints nothing if there is none.
deb_fetch() {
    local cachedir pkg ver want log
    cachedir=$1
    pkg=$2
    ver=$(apt-cache policy "$pkg" 2>/dev/null |
          sed -n 's/^ *Candidate: *//p' | head -n 1)
    if [ -n "$ver" ] && [ "$ver" != "(none)" ]; then
        # apt's file name: the epoch's colon is written %3a
        want=$(ls "$cachedir/${pkg}_$(echo "$ver" | sed 's/:/%3a/')"_*.deb 2>/dev/null |
               head -n 1)
        if [ -n "$want" ]; then
            echo "$want"
            return 0
        fi
        log=$cachedir/apt-download.log
        # _apt cannot write a root-only directory; apt then downloads
        # unsandboxed and warns.  Harmless; keep the noise in the log.
        if (cd "$cachedir" && apt-get download "$pkg=$ver") >>"$log" 2>&1; then
            want=$(ls "$cachedir/${pkg}_$(echo "$ver" | sed 's/:/%3a/')"_*.deb 2>/dev/null |
                   head -n 1)
            if [ -n "$want" ]; then
                echo "$want"
                return 0
            fi
        fi
        echo "deb-lib: apt-get download $pkg=$ver failed (see $log); trying the cache" >&2
    fi
    deb_newest_cached "$cachedir" "$pkg"
}

# kernel_deb CACHEDIR: the linux-image-*-amd64 .deb that linux-image-amd64
# depends on (fetched if needed), else the newest cached one
kernel_deb() {
    local pkg deb
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
          sed -n 's/^ *Depends: *\(linux-image-[0-9][^ ]*-amd64\) *$/\1/p' | head -n 1) || pkg=
    deb=
    if [ -n "$pkg" ]; then
        deb=$(deb_newest_cached "$1" "$pkg")
        [ -n "$deb" ] || deb=$(deb_fetch "$1" "$pkg")
    fi
    [ -n "$deb" ] || deb=$(deb_newest_cached "$1" 'linux-image-*-amd64')
    echo "$deb"
}

# kmods_copy MODDIR WORK DEST MODULE...: copy MODULE... and the modules they
# depend on (modinfo's depends=, what depmod writes to modules.dep) from the
# kernel's MODDIR, uncompressed, as DEST/NAME.ko; WORK/order gets the load
# order (dependencies first), WORK/builtin the ones built in.  WORK is a
# scratch directory of the caller's.
kmods_copy() {
    local moddir work dest m
    moddir=$1
    work=$2
    dest=$3
    shift 3
    # index: "name path", name with '-' as '_'
    find "$moddir/kernel" -name '*.ko*' |
        awk '{ n = $0; sub(/.*\//, "", n); sub(/\.ko.*/, "", n); gsub(/-/, "_", n); print n, $0 }' \
        >"$work/allmods"
    : >"$work/builtins"
    [ -f "$moddir/modules.builtin" ] &&
        sed 's,.*/,,; s,\.ko$,,' "$moddir/modules.builtin" | tr '-' '_' >"$work/builtins"
    mkdir -p "$dest"
    : >"$work/order"
    : >"$work/seen"
    for m in "$@"; do _kmod_add "$moddir" "$work" "$dest" "$m"; done
}

_kmod_add() {  # depth-first: dependencies first
    local moddir work dest m f d deps
    moddir=$1
    work=$2
    dest=$3
    m=$(echo "$4" | tr '-' '_')
    grep -qx "$m" "$work/order" && return 0
    grep -qx "$m" "$work/seen" && return 0
    echo "$m" >>"$work/seen"
    if grep -qx "$m" "$work/builtins"; then echo "$m" >>"$work/builtin"; return 0; fi
    f=$(awk -v n="$m" '$1 == n { print $2; exit }' "$work/allmods")
    [ -n "$f" ] || die "module $m is neither built in nor shipped in $moddir"
    case $f in
    *.ko) cp "$f" "$dest/$m.ko" ;;
    *.ko.xz) xz -dc "$f" >"$dest/$m.ko" ;;
    *.ko.zst) zstd -qdc "$f" >"$dest/$m.ko" || die "cannot decompress $f" ;;
    *.ko.gz) gzip -dc "$f" >"$dest/$m.ko" ;;
    *) die "unknown module format: $f" ;;
    esac
    deps=$(tr '\0' '\n' <"$dest/$m.ko" | sed -n 's/^depends=//p' | head -n 1 | tr ',' ' ')
    for d in $deps; do _kmod_add "$moddir" "$work" "$dest" "$d"; done
    echo "$m" >>"$work/order"
}

# busybox_tree ROOT BUSYBOX [usr-links]: the skeleton of an initramfs:
# busybox and its applet links in /bin; with usr-links, /sbin and
# /usr/{bin,sbin} point at /bin
busybox_tree() {
    local r a
    r=$1
    mkdir -p "$r/bin" "$r/dev" "$r/proc" "$r/sys" "$r/tmp" "$r/mnt" "$r/root" "$r/etc"
    if [ "${3:-}" = usr-links ]; then
        ln -s bin "$r/sbin"
        mkdir -p "$r/usr"
        ln -s ../bin "$r/usr/bin"
        ln -s ../bin "$r/usr/sbin"
    fi
    cp "$2" "$r/bin/busybox"
    for a in $("$2" --list); do
        [ "$a" = busybox ] || ln -s busybox "$r/bin/$a"
    done
}

# cpio_newc ROOT: a reproducible newc archive of ROOT on stdout
cpio_newc() {
    find "$1" -exec touch -h -d @0 {} +
    (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet)
}

#!/bin/sh
# Run xen-viommu's tests: unit tests, qtests, guest boots.
# Usage: scripts/check.sh [unit|qtest|bare|install|guest|guest-slow|xen ...]
#        (default: unit qtest bare install guest xen)
# Prints one line per test and ends with "N passed, N failed[, N skipped]".
# Exits non-zero if anything failed.  Logs go to build/check/.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/check-env.sh"

suites=${*:-unit qtest bare install guest xen}
logs=$BUILD_DIR/check
mkdir -p "$logs"
passed=0
failed=0
skipped=0

# Count a TAP stream: "ok" / "not ok" / "# SKIP" lines
tap_count() {
    name=$1
    log=$2
    while IFS= read -r line; do
        case $line in
        "not ok"*)
            failed=$((failed + 1)); echo "FAIL $name: ${line#not ok }" ;;
        "ok "*"# SKIP"*)
            skipped=$((skipped + 1)); echo "SKIP $name: ${line#ok }" ;;
        "ok "*)
            passed=$((passed + 1)) ;;
        esac
    done < "$log"
}

run_tap() {
    name=$1
    shift
    log=$logs/$name.log
    mkdir -p "$(dirname "$log")"
    if "$@" --tap -k > "$log" 2>&1; then
        rc=0
    else
        rc=$?
    fi
    before=$failed
    tap_count "$name" "$log"
    n=$(grep -c '^ok ' "$log")
    if [ $rc -ne 0 ] && [ $failed -eq $before ]; then
        # Crashed or exited non-zero without a failing test line
        failed=$((failed + 1))
        echo "FAIL $name: exited with status $rc (see $log)"
    fi
    echo "$name: $n ok (log: $log)"
}

for suite in $suites; do
    case $suite in
    unit)
        for t in $UNIT_TESTS; do
            run_tap "unit/$t" "$QEMU_BUILD/tests/unit/$t"
        done
        # The Xen patches' host test (patches/xen, tools/tests/ir_table):
        # Debian's xen source is fetched and patched once, then ~1 s
        log=$logs/unit/xen-ir-table.log
        mkdir -p "$logs/unit"
        if sh "$top/scripts/xen-build.sh" --test-only > "$log" 2>&1; then
            passed=$((passed + 1))
        else
            failed=$((failed + 1))
            echo "FAIL unit/xen-ir-table: $(tail -n 1 "$log")"
        fi
        echo "unit/xen-ir-table: $(tail -n 1 "$log") (log: $log)"
        ;;
    qtest)
        for t in $QTESTS; do
            QTEST_QEMU_BINARY=$QEMU run_tap "qtest/$t" "$QEMU_BUILD/tests/qtest/$t"
        done
        ;;
    bare)
        # A guest of its own that drives the unit (tests/bare)
        run_tap bare sh "$top/tests/bare/run.sh" "$QEMU" "$BUILD_DIR/bare"
        ;;
    install)
        # make install into a scratch DESTDIR; the installed tree must work
        # on its own: its DMAR tool, and a guest boot with no -L
        root=$logs/install-root
        log=$logs/install.log
        rm -rf "$root"
        dm=$root/usr/local/lib/xen-viommu/bin/qemu-system-x86_64
        if sh "$top/scripts/install.sh" "$QEMU_BUILD" /usr/local "$root" > "$log" 2>&1; then
            passed=$((passed + 1))
            echo "install/files: installed (log: $log)"
        else
            failed=$((failed + 1))
            echo "FAIL install/files: $(tail -n 1 "$log") (log: $log)"
        fi
        for o in intremap=off intremap=on,x2apic=off intremap=on,x2apic=on; do
            t=$logs/install-dmar-$(echo "$o" | tr '=,' '-_').bin
            rm -f "$t"
            # The tool names the installed path; under DESTDIR, point it
            # there.  dmar_check.py takes the options as words.
            # shellcheck disable=SC2046
            if XEN_VIOMMU_QEMU=$dm "$root/usr/local/bin/xen-viommu-dmar"                    "$t" "$o" >> "$log" 2>&1 &&
               out=$(/usr/bin/python3 "$top/tests/install/dmar_check.py" "$t"                      $(echo "$o" | tr , ' ')); then
                passed=$((passed + 1))
                echo "install/dmar-tool $o: $out"
            else
                failed=$((failed + 1))
                echo "FAIL install/dmar-tool $o: ${out:-no table (log: $log)}"
            fi
            out=
        done
        c=q35-ir-x2apic
        if out=$(/usr/bin/python3 "$top/tests/guest/xvi_guest.py"                  --qemu "$dm" --own-firmware --guest-dir "$GUEST_DIR"                  --case "$c" --log "$logs/install-guest.log" 2>&1); then
            passed=$((passed + 1))
            echo "install/guest $out (installed device model, no -L)"
        else
            failed=$((failed + 1))
            echo "FAIL install/guest: $out (log: $logs/install-guest.log)"
        fi
        ;;
    guest|guest-slow)
        cases=$GUEST_CASES
        [ "$suite" = guest-slow ] && cases=$GUEST_SLOW_CASES
        for c in $cases; do
            log=$logs/guest-$c.log
            if out=$(/usr/bin/python3 "$top/tests/guest/xvi_guest.py" \
                     --qemu "$QEMU" --guest-dir "$GUEST_DIR" --case "$c" \
                     --log "$log" 2>&1); then
                case $out in
                *"# SKIP"*)
                    skipped=$((skipped + 1)); echo "SKIP guest/$c: $out" ;;
                *)
                    passed=$((passed + 1)); echo "$out" ;;
                esac
            else
                failed=$((failed + 1))
                echo "FAIL guest/$c: $out (log: $log)"
            fi
        done
        ;;
    xen)
        # Real Xen: one L0 boot runs every case (tests/xen/xvx.py)
        log=$logs/xen.log
        case_args=
        if [ "$XEN_CASES" != all ]; then
            for c in $XEN_CASES; do case_args="$case_args --case $c"; done
        fi
        # shellcheck disable=SC2086 # word list
        if /usr/bin/python3 "$top/tests/xen/xvx.py" --qemu "$QEMU" \
               --xen-dir "$XEN_DIR" --guest-dir "$GUEST_DIR" \
               --log-dir "$logs/xen" $case_args > "$log" 2>&1; then
            rc=0
        else
            rc=$?
        fi
        before=$failed
        tap_count xen "$log"
        if [ $rc -ne 0 ] && [ $failed -eq $before ]; then
            failed=$((failed + 1))
            echo "FAIL xen: exited with status $rc (see $log)"
        fi
        echo "xen: $(grep -c '^ok ' "$log") ok; $(sed -n 's/^# real-Xen suite: //p' "$log") (log: $log)"
        ;;
    *)
        echo "check.sh: unknown suite '$suite'" >&2
        exit 2
        ;;
    esac
done

if [ $skipped -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]

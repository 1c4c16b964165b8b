#!/bin/sh
# Run xen-viommu's tests: unit tests, qtests, guest boots.
# Usage: scripts/check.sh [unit|qtest|guest|guest-slow|xen ...]
#        (default: unit qtest guest xen)
# Prints one line per test and ends with "N passed, N failed[, N skipped]".
# Exits non-zero if anything failed.  Logs go to build/check/.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/check-env.sh"

suites=${*:-unit qtest guest xen}
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

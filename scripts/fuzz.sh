#!/bin/sh
# Fuzz xen-viommu with QEMU's generic fuzzer (libFuzzer, driven over qtest).
#
# Usage: scripts/fuzz.sh [all|build|run|coverage|trace FILE] (default: all)
#   build       configure and build build-fuzz/qemu-build/qemu-fuzz-x86_64
#               (clang-14, libFuzzer, ASan + UBSan)
#   run         fuzz for FUZZ_SECONDS (each configuration of FUZZ_CONFIG
#               side by side), then print a summary line per configuration;
#               exits 1 if a run left a crash/leak/timeout/oom artifact
#   all         build, then run
#   coverage    source-based coverage of the unit's files by the corpus,
#               from a build of its own (build-fuzz/cov: clang's
#               -fprofile-instr-generate on the unit's files, no
#               sanitizers), as OSS-Fuzz measures it; see docs/fuzzing.md
#   trace FILE  replay one input (e.g. an artifact) and print it as a qtest
#               command sequence (for a regression test / minimisation)
#
# Environment:
#   FUZZ_SECONDS   run time in seconds [1800]
#   FUZZ_DIR       build, corpus and artifact directory [build-fuzz]
#   FUZZ_NINJA_JOBS  ninja -j for the build [2]
#   FUZZ_CONFIG    both (the default: one job each, side by side),
#                  legacy (x-oracle on) or scalable (the unit with
#                  scalable-mode=on,pasid=on); each has its own corpus
#   FUZZ_ARGS      QEMU arguments (QEMU_FUZZ_ARGS) [see below]
#   FUZZ_OBJECTS   objects/memory regions to fuzz (QEMU_FUZZ_OBJECTS)
#   FUZZ_FLAGS     extra libFuzzer flags, e.g. "-seed=1 -use_value_profile=1"
#
# Build and fuzzer run under nice -n 10 with one libFuzzer job per
# configuration, so that they share the machine with other builds.  Nothing
# here is part of make check.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
dir=${FUZZ_DIR:-$top/build-fuzz}
case $dir in /*) ;; *) dir=$top/$dir ;; esac
secs=${FUZZ_SECONDS:-1800}
jobs=${FUZZ_NINJA_JOBS:-2}
bin=$dir/qemu-build/qemu-fuzz-x86_64

# The unit (first, so that the PCI devices after it get its address spaces),
# and DMA-capable PCI devices behind it: edu (QEMU's DMA test device, MSI;
# 64-bit DMA addresses), virtio-blk with iommu_platform (virtqueues through
# the unit), e1000e (DMA, MSI-X), and the project's DMA test device
# (00:04.0: UNMAP notifiers as vhost registers them, requests with a
# PASID).  The IO-APIC is fuzzed too: its interrupts are remapped by the
# unit.  (Not the HPET: its legacy-replacement bit stops the PIT, and with
# no timer left the fuzzer's own clock step fails an assertion.)
# x-fuzz-preset starts every input from a unit set up as drivers leave it;
# x-oracle aborts on a unit that breaks the architecture (both test-only,
# see docs/fuzzing.md).
devices="-device edu,dma_mask=0xffffffffffffffff \
-drive if=none,id=fz0,driver=null-co,read-zeroes=on,size=1M \
-device virtio-blk-pci,drive=fz0,iommu_platform=on,disable-legacy=on \
-device e1000e,romfile= -device x-xen-viommu-dma-testdev"
# Type names or memory-region names (globs): the unit's register page
# ("xen-viommu"), edu's BAR ("edu-mmio") and config space ("edu"), the
# virtio-blk PCI device and its regions, e1000e, the DMA test device, the
# IO-APIC.
objs="xen-viommu edu edu-mmio virtio-blk* e1000e x-xen-viommu-dma-testdev \
xen-viommu-dma-testdev ioapic"
# Scalable mode: x-oracle models legacy mode only (and refuses this); the
# preset starts in scalable mode, and inputs can switch back by writing
# RTADDR.TTM.  The DMA test device's DMA_PASID register makes its accesses
# carry a PASID (blocked by a unit without PASID support, as the oracle
# checks).  In legacy mode x-iotlb-verify re-walks every IOTLB hit too.
# The unit's files a configuration can reach: no hypervisor, passthrough,
# ACPI or test devices, not the oracle; scalable mode only in "scalable"
# (and so in "both")
reach_legacy='_dma|_fault|_iotlb|_ir|_irte|_qi|_walk'
reach_scalable="$reach_legacy|_pasid"
set_config() {
    config=$1
    case $1 in
    legacy)
        unit_opts=intremap=on,x2apic=on,x-oracle=on,x-fuzz-preset=on,x-iotlb-verify=on
        reach=$reach_legacy
        corpus_dir=$dir/corpus ;;
    scalable)
        unit_opts=intremap=on,x2apic=on,scalable-mode=on,pasid=on,x-fuzz-preset=on
        reach=$reach_scalable
        corpus_dir=$dir/corpus-scalable ;;
    esac
    args=${FUZZ_ARGS:-"-M q35 -nodefaults -device xen-viommu,$unit_opts $devices"}
    objects=${FUZZ_OBJECTS:-"$objs"}
    art_dir=$dir/artifacts/$config
}
configs=${FUZZ_CONFIG:-both}
case $configs in
legacy|scalable) set_config "$configs" ;;
both) configs="legacy scalable"
      reach=$reach_scalable ;;
*) echo "fuzz: error: FUZZ_CONFIG=$configs (both, legacy or scalable)" >&2
   exit 1 ;;
esac

say() { echo "fuzz: ${config:+$config: }$*"; }
die() { echo "fuzz: error: $*" >&2; exit 1; }

build() {
    # clang 14 with libFuzzer: installed here (as root), not by make check
    sh "$top/scripts/install-deps.sh" --fuzz ||
        die "missing packages for fuzzing (see above)"
    # configure is a no-op when build-fuzz is current; it re-lays the overlay.
    nice -n 10 "$top/configure" --build-dir="$dir" --enable-sanitizers \
        --extra-qemu-args="--enable-fuzzing --cc=clang-14 --cxx=clang++-14 \
--disable-werror"
    say "building $bin (nice -n 10, ninja -j$jobs)"
    nice -n 10 ninja -C "$dir/qemu-build" -j"$jobs" qemu-fuzz-x86_64
}

# UBSan reports count as crashes.  LeakSanitizer is off while fuzzing (its
# scan after every input costs ~80% of the run time) and on for a pass over
# the final corpus.
sanitizer_env() {
    export QEMU_FUZZ_ARGS="$args" QEMU_FUZZ_OBJECTS="$objects"
    # Memory a command has filled stays as it was for the rest of that
    # command: what the unit read is what x-oracle reads back (and a
    # replayed trace does the same as the run)
    export QEMU_AVOID_DOUBLE_FETCH=1
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:symbolize=1}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}"
    export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$dir/qemu-src/scripts/oss-fuzz/lsan_suppressions.txt}"
}

artifacts() {
    ls "$art_dir" 2>/dev/null | grep -E '^(crash|leak|timeout|oom)-' || true
}

# Edges of the unit's own files that a -print_coverage=1 log shows reached
# (code run only at start-up, such as realize, is not counted by
# libFuzzer): per file, the total, then the files this configuration can
# reach ($reach)
edge_table() {
    awk '/^(COVERED|UNCOVERED)_FUNC:/ && $NF ~ /xen_viommu/ {
            split($5, e, "/"); f = $NF; sub(/:[0-9]+$/, "", f)
            sub(/.*\//, "", f); c[f] += e[1]; t[f] += e[2]; n[f]++
            if (e[1] > 0) h[f]++; C += e[1]; T += e[2] }
        END { for (f in t) printf "%-26s %5d/%-5d edges %3d%%  %d/%d functions\n",
                  f, c[f], t[f], t[f] ? 100 * c[f] / t[f] : 0, h[f], n[f]
              printf "%-26s %5d/%-5d edges %3d%%\n", "total (xen_viommu*.c)",
                  C, T, T ? 100 * C / T : 0 }' "$1" | sort > "$1.edges"
    awk -v re="^xen_viommu(|$reach)[.]c\$" '{ print }
        $1 ~ re { split($2, e, "/"); C += e[1]; T += e[2] }
        END { printf "%-26s %5d/%-5d edges %3d%%\n", "unit (reachable files)",
                  C, T, T ? 100 * C / T : 0 }' "$1.edges"
    rm -f "$1.edges"
}

# The "unit (reachable files)" line of an edge_table: "C/T" and "(P%)"
unit_edges() {
    sed -n 's/^unit (reachable files) *\([0-9]*\/[0-9]*\) *edges *\([0-9]*%\).*/\1 (\2)/p'
}

# Every configuration at once, one job each; their lines are told apart by
# the configuration's name
run_all() {
    for c in $configs; do
        { FUZZ_CONFIG=$c sh "$top/scripts/fuzz.sh" run; echo $? > "$dir/.fuzz-all-rc-$c"; } &
    done
    wait
    rc=0
    for c in $configs; do
        [ "$(cat "$dir/.fuzz-all-rc-$c" 2>/dev/null)" = 0 ] || rc=1
    done
    return $rc
}

run() {
    [ -n "${config:-}" ] || { run_all; return; }
    [ -x "$bin" ] || die "$bin missing: run scripts/fuzz.sh build first"
    mkdir -p "$corpus_dir" "$art_dir"
    # The generic fuzzer separates its commands with "FUZZ".
    printf '"FUZZ"\n' > "$dir/fuzz.dict"
    log=$dir/fuzz-$config-$(date +%Y%m%d-%H%M%S).log
    before=$(artifacts)
    sanitizer_env
    # Driver-like command sequences to start from (default configuration),
    # written every run so that new seeds reach an existing corpus too
    /usr/bin/python3 "$top/scripts/fuzz-seeds.py" "$bin" "$corpus_dir"
    corpus0=$(ls "$corpus_dir" | wc -l)
    say "QEMU_FUZZ_ARGS=$QEMU_FUZZ_ARGS"
    say "QEMU_FUZZ_OBJECTS=$QEMU_FUZZ_OBJECTS"
    say "fuzzing for ${secs}s (nice -n 10, one job); corpus $corpus_dir ($corpus0 inputs); log $log"
    rcfile=$dir/.fuzz-rc-$config
    t0=$(date +%s)
    rm -f "$rcfile"
    # shellcheck disable=SC2086
    { cd "$dir" && nice -n 10 "$bin" --fuzz-target=generic-fuzz \
          -max_total_time="$secs" -print_final_stats=1 -detect_leaks=0 \
          -timeout=60 -rss_limit_mb=4096 -max_len=4096 \
          -dict="$dir/fuzz.dict" -artifact_prefix="$art_dir/" \
          ${FUZZ_FLAGS:-} "$corpus_dir" 2>&1; echo $? > "$rcfile"; } |
        tee "$log" | grep -E --line-buffered '^#[0-9]+.*(INITED|pulse|DONE)|ERROR|SUMMARY|^Done|^stat::' |
        sed -u "s/^/${config}: /" || true
    rc=$(cat "$rcfile" 2>/dev/null || echo 1)
    # A crash ends the run early: say how long it ran
    took=$(($(date +%s) - t0))
    leakrc=0 unit='' all=''
    if [ "$rc" = 0 ]; then
        say "leak check and coverage: each corpus input once with LeakSanitizer"
        (cd "$dir" && nice -n 10 "$bin" --fuzz-target=generic-fuzz -runs=0 \
            -detect_leaks=1 -print_coverage=1 -timeout=60 -rss_limit_mb=4096 \
            -artifact_prefix="$art_dir/" "$corpus_dir" \
            > "$log.leaks" 2>&1) || leakrc=$?
        grep -E '^#[0-9]+.*(INITED|DONE)|ERROR|SUMMARY' "$log.leaks" |
            sed "s/^/${config}: /" || true
        cov_txt=$dir/coverage-$config.txt
        edge_table "$log.leaks" > "$cov_txt"
        sed "s/^/fuzz: $config: coverage: /" "$cov_txt"
        unit=$(unit_edges < "$cov_txt" | sed 's/ / edges /')
        all=$(sed -n 's/^total (xen_viommu\*\.c) *\([0-9]*\/[0-9]*\) *edges *\([0-9]*%\).*/\1 (\2)/p' "$cov_txt")
    fi

    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    # (a status line, not one with the bytes of a dictionary entry)
    last=$(grep -aE '^#[0-9]+.*(INITED|pulse|DONE|NEW|REDUCE) +cov:' "$log" |
        tail -n 1 | LC_ALL=C tr -c '[:print:]\n' '?')
    [ -n "$execs" ] || execs=$(echo "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
    cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corpus=$(ls "$corpus_dir" | wc -l)
    new=$(artifacts | grep -vxF "$before" || true)
    [ -n "$before" ] || new=$(artifacts)
    ncrash=$(printf '%s' "$new" | grep -c . || true)
    say "summary: ${execs:-?} executions (${eps:-?} exec/s) in ${took}s, cov: ${cov:-?} ft: ${ft:-?}, xen-viommu ${unit:-?} (all files ${all:-?}), corpus $corpus inputs, crashes found: $ncrash (libFuzzer exit $rc, leak check exit $leakrc)"
    if [ "$ncrash" != 0 ]; then
        printf '%s\n' "$new" | sed "s#^#fuzz: $config: artifact: $art_dir/#"
        say "replay one as a qtest trace: sh scripts/fuzz.sh trace FILE"
        exit 1
    fi
    [ "$rc" = 0 ] || die "libFuzzer exited with $rc (see $log)"
    [ "$leakrc" = 0 ] || die "leak check exited with $leakrc (see $log.leaks)"
}

# Source-based coverage (regions, lines, branches) of the unit's files by
# the corpus.  The fuzzing build's own edge counts include every branch
# that ASan and UBSan add, and miss code run at start-up; this build has
# neither (the same fuzzer, no sanitizers, clang's profile instrumentation
# on the unit's files only), and the corpus is replayed once.
cov_dir=$dir/cov
cov_bin=$cov_dir/qemu-build/qemu-fuzz-x86_64
coverage() {
    sh "$top/scripts/install-deps.sh" --fuzz ||
        die "missing packages for fuzzing (see above)"
    union_reach=$reach
    for c in $configs; do
        set_config "$c"
        [ -d "$corpus_dir" ] || die "no corpus in $corpus_dir: run scripts/fuzz.sh run first"
    done
    config=
    mkdir -p "$cov_dir"
    # Only the unit's files get profile counters (clang's -fprofile-list).
    # Every object depends on the list: write it only when it changes.
    list='src:*/hw/i386/xen_viommu*'
    [ "$(cat "$cov_dir/profile-list" 2>/dev/null)" = "$list" ] ||
        echo "$list" > "$cov_dir/profile-list"
    nice -n 10 "$top/configure" --build-dir="$cov_dir" \
        --extra-qemu-args="--enable-fuzzing --cc=clang-14 --cxx=clang++-14 \
--disable-werror --extra-cflags=-fprofile-instr-generate \
--extra-cflags=-fcoverage-mapping \
--extra-cflags=-fprofile-list=$cov_dir/profile-list \
--extra-ldflags=-fprofile-instr-generate"
    say "building $cov_bin (nice -n 10, ninja -j$jobs)"
    nice -n 10 ninja -C "$cov_dir/qemu-build" -j"$jobs" qemu-fuzz-x86_64
    prof=$cov_dir/profraw
    rm -rf "$prof"
    mkdir -p "$prof"
    : > "$cov_dir/edges.txt"
    # Each configuration's corpus with its own machine; the profiles add up
    for c in $configs; do
        set_config "$c"
        sanitizer_env
        say "replaying $(ls "$corpus_dir" | wc -l) inputs of $corpus_dir"
        (cd "$cov_dir" && LLVM_PROFILE_FILE="$prof/$c-%p.profraw" nice -n 10 \
            "$cov_bin" --fuzz-target=generic-fuzz -runs=0 -timeout=60 \
            -print_coverage=1 "$corpus_dir" > "$cov_dir/replay-$c.log" 2>&1) ||
            die "replay failed (see $cov_dir/replay-$c.log)"
        # libFuzzer's own edge count, as the run's summary has it, but of
        # a build whose edges are the unit's code alone (no sanitizer checks)
        edges=$(edge_table "$cov_dir/replay-$c.log" | unit_edges)
        echo "$c: unit (its reachable files) edges $edges (libFuzzer's count, no sanitizers)" \
            >> "$cov_dir/edges.txt"
    done
    config=
    reach=$union_reach
    llvm-profdata-14 merge -sparse "$prof"/*.profraw -o "$cov_dir/corpus.profdata"
    llvm-cov-14 report "$cov_bin" -instr-profile="$cov_dir/corpus.profdata" \
        > "$cov_dir/report.txt"
    # Per file (only the unit's files have counters), then the files the
    # configurations can reach, as in the run's summary.  report's columns:
    # name, regions, missed, %, functions, missed, %, lines, missed, %,
    # branches, missed, %
    awk -v re="^xen_viommu(|$reach)[.]c\$" '$1 ~ /xen_viommu[a-z_]*\.c$/ {
            f = $1; sub(/.*\//, "", f)
            printf "%-24s regions %4d/%-4d lines %4d/%-4d branches %4d/%-4d\n",
                f, $2 - $3, $2, $8 - $9, $8, $11 - $12, $11
            if (f ~ re) {
                r += $2; rm += $3; l += $8; lm += $9; b += $11; bm += $12 } }
        END { printf "%-22s regions %d/%d (%d%%) lines %d/%d (%d%%) branches %d/%d (%d%%)\n",
                  "unit (reachable files)", r - rm, r, r ? 100 * (r - rm) / r : 0,
                  l - lm, l, l ? 100 * (l - lm) / l : 0,
                  b - bm, b, b ? 100 * (b - bm) / b : 0 }' \
        "$cov_dir/report.txt" > "$cov_dir/coverage.txt"
    cat "$cov_dir/edges.txt" >> "$cov_dir/coverage.txt"
    # The configurations together, by libFuzzer's count (see the script)
    llvm-profdata-14 show -all-functions "$cov_dir/corpus.profdata" \
        > "$cov_dir/functions.txt"
    replays=
    for c in $configs; do replays="$replays $cov_dir/replay-$c.log"; done
    # shellcheck disable=SC2086
    /usr/bin/python3 "$top/scripts/fuzz-edges.py" "^xen_viommu(|$reach)[.]c\$" \
        "$cov_dir/functions.txt" $replays >> "$cov_dir/coverage.txt"
    sed 's/^/fuzz: source coverage: /' "$cov_dir/coverage.txt"
    say "per-line report: llvm-cov-14 show $cov_bin -instr-profile=$cov_dir/corpus.profdata FILE"
}

# Replay FILE once with QTEST_LOG set, and turn the log into a qtest command
# sequence with the DMA fills moved before the command that triggered them
# (QEMU's scripts/oss-fuzz/reorder_fuzzer_qtest_trace.py).  The result can be
# fed to: qemu-system-x86_64 -display none -machine accel=qtest -m 512M \
#   $FUZZ_ARGS -qtest stdio < trace; minimise with minimize_qtest_trace.py.
trace() {
    [ -x "$bin" ] || die "$bin missing: run scripts/fuzz.sh build first"
    f=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
    if [ -z "${config:-}" ]; then
        # An artifact says its configuration by its directory
        case $(basename "$(dirname "$f")") in
        legacy|scalable) set_config "$(basename "$(dirname "$f")")" ;;
        *) die "set FUZZ_CONFIG=legacy or scalable for $1" ;;
        esac
    fi
    sanitizer_env
    raw=$dir/trace-$(basename "$f").raw
    (cd "$dir" && QTEST_LOG=1 FUZZ_SERIALIZE_QTEST=1 "$bin" \
        --fuzz-target=generic-fuzz "$f" > "$raw" 2>&1) || true
    /usr/bin/python3 "$dir/qemu-src/scripts/oss-fuzz/reorder_fuzzer_qtest_trace.py" "$raw"
    echo "# QEMU args: -display none -machine accel=qtest -m 512M $args -qtest stdio" >&2
    echo "# raw log (sanitizer report at the end): $raw" >&2
}

case ${1:-all} in
all) build; run ;;
build) build ;;
run) run ;;
coverage) coverage ;;
trace) [ $# = 2 ] || die "usage: scripts/fuzz.sh trace FILE"; trace "$2" ;;
*) die "unknown command '$1' (all, build, run, coverage, trace FILE)" ;;
esac

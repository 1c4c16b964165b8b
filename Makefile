# xen-viommu: top-level Makefile
#
#   make          build QEMU (x86_64-softmmu) with xen-viommu, and the tests
#   make run      boot the demo guest with -device xen-viommu
#   make check    unit tests, qtests, guest tests and the real-Xen cases;
#                 ends "N passed, N failed"
#   make check-xen  every real-Xen case alone (Debian's Xen nested under TCG)
#   make bench    no IOMMU vs intel-iommu vs xen-viommu: the unit's own costs
#                 (bench-unit, a few minutes), then guest workloads
#                 (scripts/bench.py; ~10-15 min; build/bench/results.json)
#   make bench-unit  the unit's own costs alone (scripts/bench-unit.py)
#   make install  the device model, its firmware and xen-viommu-dmar under
#                 $(PREFIX)/lib/xen-viommu (PREFIX=/usr/local, DESTDIR=),
#                 and the patched Xen if `make xen` built it
#   make clean    drop build products (keeps the configured tree and cache)
#   make distclean  drop build/ entirely (the download cache stays)
#
# Both run and check configure first when needed.

BUILD_DIR ?= build
-include $(BUILD_DIR)/config.mk

# ccache hits across clones in other folders (CI builds a fresh clone):
# paths under the clone are hashed relative to it, the working directory
# not at all (debug info may then name another clone's build directory).
CCACHE_BASEDIR ?= $(CURDIR)
CCACHE_NOHASHDIR ?= 1
export CCACHE_BASEDIR CCACHE_NOHASHDIR

QEMU_BUILD ?= $(BUILD_DIR)/qemu-build
QEMU := $(QEMU_BUILD)/qemu-system-x86_64
GUEST_DIR := $(BUILD_DIR)/guest
XEN_DIR := $(BUILD_DIR)/xen-image
CACHE_DIR ?= $(HOME)/.cache/xen-viommu
NINJA := flock $(BUILD_DIR)/.ninja.lock ninja

UNIT_TESTS := test-xen-viommu-walk test-xen-viommu-iotlb test-xen-viommu-irte \
	test-xen-viommu-hyp test-xen-viommu-shadow test-xen-viommu-pasid
QTESTS := xen-viommu-test xen-viommu-dma-test xen-viommu-ir-test \
	xen-viommu-pv-iommu-test xen-viommu-sm-test
NINJA_TARGETS := qemu-system-x86_64 \
	$(addprefix tests/qtest/,$(QTESTS) xen-viommu-bench) \
	$(addprefix tests/unit/,$(UNIT_TESTS))

.PHONY: all run check check-asan check-slow check-xen bench bench-unit \
	clean distclean guest xen-image fuzz install

all: $(BUILD_DIR)/config.mk
	@sh scripts/overlay.sh "$(CURDIR)" "$(QEMU_SRC)" | grep -v '^$$' || true
	@$(NINJA) -C $(QEMU_BUILD) $(NINJA_TARGETS)
	@sh scripts/link-firmware.sh $(QEMU_BUILD)

# Re-running configure keeps a sanitizer build a sanitizer build
$(BUILD_DIR)/config.mk: configure scripts/install-deps.sh scripts/overlay.sh
	./configure --build-dir=$(BUILD_DIR) \
		$(if $(filter yes,$(SANITIZERS)),--enable-sanitizers)

guest: $(BUILD_DIR)/config.mk
	@sh scripts/guest-image.sh $(GUEST_DIR) $(CACHE_DIR)

# Xen, dom0 kernel and initramfs for the real-Xen cases (tests/xen)
xen-image: all guest
	@sh scripts/xen-image.sh $(XEN_DIR) $(CACHE_DIR) $(QEMU) $(GUEST_DIR)

run: all guest
	/usr/bin/python3 tests/guest/run-demo.py --qemu $(QEMU) \
		--guest-dir $(GUEST_DIR)

check: all guest xen-image
	@BUILD_DIR=$(abspath $(BUILD_DIR)) sh scripts/check.sh

check-xen: all guest xen-image
	@BUILD_DIR=$(abspath $(BUILD_DIR)) XEN_CASES=all sh scripts/check.sh xen

# The same tests against an AddressSanitizer + UBSan build in build-asan/
check-asan:
	[ -f build-asan/config.mk ] || ./configure --build-dir=build-asan --enable-sanitizers
	$(MAKE) BUILD_DIR=build-asan check

check-slow: all guest
	@BUILD_DIR=$(abspath $(BUILD_DIR)) sh scripts/check.sh guest-slow

bench: all guest
	/usr/bin/python3 scripts/bench-unit.py
	/usr/bin/python3 scripts/bench.py

bench-unit: all
	/usr/bin/python3 scripts/bench-unit.py

# libFuzzer + qtest generic fuzzer in build-fuzz/ (clang); FUZZ_SECONDS=1800
fuzz:
	sh scripts/fuzz.sh

# The Xen 4.17 hypervisor with patches/xen applied, and its host unit tests
# (scripts/xen-build.sh: cached by the series' hash; ~7 min cold on 2 cores)
.PHONY: xen check-xen-ir
xen:
	@sh scripts/xen-build.sh --test

# Real-Xen cases on that hypervisor (XEN_IMAGE) and its toolstack (XEN_TOOLS:
# xl.cfg viommu=; its own dom0 image): remapping on
# (tests/xen/xen_ir_cases.py) and, as a baseline, remapping off
XEN_IR_CASES ?= xen-xl-viommu xen-ir-x2apic-affinity xen-ir-storm xen-ir-xapic \
	xen-dma-strict xen-xl-viommu-bad xen-xl-viommu-combo xen-xl-viommu-dma
# and the patched toolstack alone, on Debian's hypervisor (the refusal)
XEN_TOOLS_CASES ?= xen-xl-viommu-unpatched
# One nested-Xen run: $(1) the image's directory under BUILD_DIR (its logs
# go to check/xen-<suffix>), $(2) xen-image.sh's environment, $(3)
# XEN_FEATURES, $(4) the cases
xen_suite = $(2) sh scripts/xen-image.sh $(BUILD_DIR)/$(1) $(CACHE_DIR) \
	$(QEMU) $(GUEST_DIR) && XEN_FEATURES="$(3)" /usr/bin/python3 \
	tests/xen/xvx.py --qemu $(QEMU) --xen-dir $(BUILD_DIR)/$(1) \
	--guest-dir $(GUEST_DIR) \
	--log-dir $(BUILD_DIR)/check/$(patsubst xen-image-%,xen-%,$(1)) \
	$(addprefix --case ,$(4))
check-xen-ir: all guest
	@img=$$(sh scripts/xen-build.sh --tools) || exit 1; st=0; \
	$(call xen_suite,xen-image-ir,XEN_IMAGE=$$img/xen XEN_TOOLS=$$img/tools,ir-entries xl-viommu,$(XEN_IR_CASES)) || st=1; \
	$(call xen_suite,xen-image-tools,XEN_TOOLS=$$img/tools,xl-viommu,$(XEN_TOOLS_CASES)) || st=1; \
	exit $$st

PREFIX ?= /usr/local
DESTDIR ?=
install: all
	@sh scripts/install.sh $(QEMU_BUILD) "$(PREFIX)" "$(DESTDIR)" \
		"$$(sh scripts/xen-build.sh --cached 2>/dev/null)"

clean:
	-[ -f $(QEMU_BUILD)/build.ninja ] && ninja -C $(QEMU_BUILD) -t clean >/dev/null
	rm -rf $(GUEST_DIR) $(XEN_DIR) $(BUILD_DIR)/check

distclean:
	rm -rf $(BUILD_DIR)

# Sourced by the test scripts: where things are and which tests run.
BUILD_DIR=${BUILD_DIR:-$top/build}
[ -f "$BUILD_DIR/config.mk" ] || { echo "not configured: run make first" >&2; exit 1; }
QEMU_BUILD=$(sed -n 's/^QEMU_BUILD := //p' "$BUILD_DIR/config.mk")
QEMU=$QEMU_BUILD/qemu-system-x86_64
GUEST_DIR=$BUILD_DIR/guest
XEN_DIR=$BUILD_DIR/xen-image

UNIT_TESTS="test-xen-viommu-walk test-xen-viommu-iotlb test-xen-viommu-irte test-xen-viommu-hyp test-xen-viommu-shadow test-xen-viommu-pasid"
QTESTS="xen-viommu-test xen-viommu-dma-test xen-viommu-ir-test xen-viommu-pv-iommu-test xen-viommu-sm-test"
# Guest boots under TCG (~20-40 s each); see tests/guest/cases.py
GUEST_CASES="q35-ir-x2apic q35-ir-x2apic-affinity q35-ir-apic256 q35-ir-xapic q35-ir-only q35-dma-strict q35-dma-lazy q35-dma-pt q35-dma-bridge q35-dma-cm pc-dma-lazy noiommu-apic256 xen-double-ir-x2apic xen-double-ir-xapic xen-double-ir-storm xen-double-ir-only q35-migrate q35-reboot q35-race q35-dma-iothread q35-vhost-net q35-sm-fl-strict q35-sm-fl-lazy q35-sm-sl-strict q35-sm-sl-lazy"
GUEST_SLOW_CASES="q35-ir-288"
# Real Xen (tests/xen/xen_cases.py), one L0 boot for all of them: every
# case Debian's Xen can run (make check-xen: XEN_CASES=all, cases that need
# a patched Xen are skipped there, visibly; make check-xen-ir runs those).
# xen-pt-ir-only (passthrough) gets a second L0, one with an IOMMU.
XEN_CASES=${XEN_CASES:-"xen-intremap-on xen-dma-strict xen-dma-lazy xen-intremap-auto xen-ir-only xen-save-restore xen-reboot xen-pt-ir-only"}

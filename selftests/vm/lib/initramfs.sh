# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# initramfs.sh: builds the busybox + modules initramfs that boots a test VM
# (vm-run) or a nested L2 guest (l2-run) into a 9p-shared root. Sourced
# (bash); defines functions only. Messages start with "$PROG: " (the
# sourcing script's name).
#
# The archive holds /bin/busybox and its applet links, /init,
# /softee-vm/stage2, and /modules/NN-name.ko: the named modules and their
# dependencies in load order (uncompressed), which /init insmods in turn.

# The modules that guest-init needs for the 9p root (their dependencies
# follow from modules.dep; built-in ones are skipped).
# shellcheck disable=SC2034 # used by the sourcing scripts
INITRAMFS_9P_MODULES=(virtio virtio_ring virtio_pci_legacy_dev
	virtio_pci_modern_dev virtio_pci 9pnet 9pnet_virtio netfs fscache 9p)

# initramfs_module_order MODDIR NAME...: prints the load order (paths
# relative to MODDIR) of the named modules and their dependencies, from
# MODDIR/modules.dep; built-in modules are left out.
initramfs_module_order() {
	local moddir=$1
	shift
	local -A deps=() path=() builtin=() seen=()
	local line p n order=()
	while IFS= read -r line; do
		p=${line%%:*}
		n=${p##*/}
		n=${n%%.ko*}
		n=${n//-/_}
		path[$n]=$p
		deps[$n]=${line#*:}
	done <"$moddir/modules.dep"
	if [[ -f $moddir/modules.builtin ]]; then
		while IFS= read -r p; do
			n=${p##*/}
			n=${n%%.ko*}
			builtin[${n//-/_}]=1
		done <"$moddir/modules.builtin"
	fi
	_initramfs_visit() {
		local n=${1//-/_} d
		[[ -z ${seen[$n]:-} ]] || return 0
		seen[$n]=1
		if [[ -z ${path[$n]:-} ]]; then
			[[ -n ${builtin[$n]:-} ]] && return 0
			echo "${PROG:-initramfs}: module $n is neither in $moddir/modules.dep nor built in" >&2
			return 1
		fi
		for d in ${deps[$n]}; do
			d=${d##*/}
			_initramfs_visit "${d%%.ko*}" || return 1
		done
		order+=("${path[$n]}")
	}
	for n in "$@"; do
		_initramfs_visit "$n" || return 1
	done
	unset -f _initramfs_visit
	((${#order[@]} == 0)) || printf '%s\n' "${order[@]}"
}

# initramfs_copy_module SRC DST: copies a module file, uncompressed (busybox
# insmod in the initramfs takes plain .ko files).
initramfs_copy_module() {
	case $1 in
	*.ko) cp -- "$1" "$2" ;;
	*.ko.xz) xz -dc -- "$1" >"$2" ;;
	*.ko.zst) zstd -qdc -- "$1" >"$2" ;;
	*.ko.gz) gzip -dc -- "$1" >"$2" ;;
	*) echo "${PROG:-initramfs}: unknown module format: $1" >&2 && return 1 ;;
	esac
}

# initramfs_cpio DIR FILE: writes a newc cpio archive of directory DIR to
# FILE. The kernel unpacks concatenated archives in turn, later files
# replacing earlier ones.
initramfs_cpio() {
	(cd -- "$1" && find . -print0 | LC_ALL=C sort -z |
		cpio --null --create --format=newc --owner=0:0 --quiet) >"$2"
}

# initramfs_busybox_links BUSYBOX DIR: a relative symlink DIR/APPLET ->
# busybox for each applet. One process if perl is there (this runs inside
# the test VM too, where every exec costs milliseconds), else one ln each.
initramfs_busybox_links() {
	local a applets
	applets=$("$1" --list) || return 1
	if command -v perl >/dev/null; then
		# shellcheck disable=SC2086 # one applet name per word
		(cd -- "$2" && perl -e 'for (@ARGV) { next if $_ eq "busybox";
			symlink("busybox", $_) or die "$_: $!\n" }' $applets)
		return
	fi
	for a in $applets; do
		[[ $a == busybox ]] || ln -s busybox "$2/$a" || return 1
	done
}

# initramfs_fill STAGE BUSYBOX MODDIR INIT STAGE2 MODULE...: fills the empty
# directory STAGE with the initramfs's files: BUSYBOX (static) and its
# links in /bin, INIT as /init, STAGE2 as /softee-vm/stage2, and MODULE...
# (names as modprobe takes them) with their dependencies from MODDIR.
initramfs_fill() {
	local stage=$1 busybox=$2 moddir=$3 init=$4 stage2=$5 m a i=0 order
	shift 5
	mkdir -p "$stage"/{bin,sbin,dev,proc,sys,newroot,modules,softee-vm} || return 1
	cp -- "$busybox" "$stage/bin/busybox" || return 1
	initramfs_busybox_links "$busybox" "$stage/bin" || return 1
	cp -- "$init" "$stage/init" || return 1
	cp -- "$stage2" "$stage/softee-vm/stage2" || return 1
	chmod 0755 "$stage/init" "$stage/softee-vm/stage2" || return 1
	order=$(initramfs_module_order "$moddir" "$@") || return 1
	while IFS= read -r m; do
		[[ -n $m ]] || continue
		a=${m##*/}
		printf -v a '%02d-%s.ko' "$i" "${a%%.ko*}"
		initramfs_copy_module "$moddir/$m" "$stage/modules/$a" || return 1
		i=$((i + 1))
	done <<<"$order"
}

# initramfs_build OUT KEY STAGE-ARGS...: builds the archive OUT (with
# initramfs_fill STAGE-ARGS..., in a temporary directory next to OUT) and
# writes KEY to OUT.key, unless OUT.key already holds KEY. Each file is
# moved into place whole, so that runs in parallel never see half of one.
initramfs_build() {
	local out=$1 key=$2 stage ok=0
	shift 2
	[[ -f $out && "$(cat -- "$out.key" 2>/dev/null)" == "$key" ]] && return 0
	stage=$(mktemp -d "$out.XXXXXX") || return 1
	if initramfs_fill "$stage" "$@" && initramfs_cpio "$stage" "$stage.cpio" &&
		mv -f -- "$stage.cpio" "$out" &&
		echo "$key" >"$stage.key" &&
		mv -f -- "$stage.key" "$out.key"; then
		ok=1
	fi
	rm -rf -- "$stage" "$stage.cpio" "$stage.key"
	((ok))
}

# boot.sh: early system setup for a minimal initramfs, sourced once by the
# controller on its first start (daemonproxy itself mounts nothing).
mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o nosuid,noexec devpts /dev/pts
# /run stays the initramfs's own (already in memory): the control socket
# that /etc/daemonproxy.conf opened there must stay visible.
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp
mkdir -p /run/dp /run/log
chmod 0600 /run/daemonproxy.sock
hostname daemonproxy
ip link set lo up
# Kernel modules the image carries (listed in load order), e.g. virtio input
# on arm64 so a keyboard can send Ctrl-Alt-Del.
if [ -r /lib/modules/load.list ]; then
    while read -r m; do
        [ -n "$m" ] && insmod "/lib/modules/$m"
    done </lib/modules/load.list
fi

package dev.strata.kernellab;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The two shell scripts of a run: the initramfs's {@code /init} (busybox sh, outside the chroot) and the command's
 * wrapper (the host's /bin/sh, inside it). Init talks to the host through marker lines on the console, each
 * prefixed with a per-run nonce so that no command output can be mistaken for one.
 */
final class GuestScripts {
    static final String TAG = "strata-host";

    private GuestScripts() {
    }

    /** The usermode helper the kernel calls for a module it lacks (/proc/sys/kernel/modprobe). */
    static final String MODPROBE_HELPER = "/bin/lab-modprobe";
    private static final String PENDING = "/run/lab-modules-pending";

    static String init(String marker, List<String> moduleFiles, Path runScript, Path scratch) {
        return init(marker, moduleFiles, List.of(), runScript, scratch);
    }

    /**
     * @param deferredFiles modules loaded in the background while the command starts (xfs alone costs 2 s of TCG
     *                      boot). Until they are in, the kernel's on-demand loading ({@code mount -t xfs} asking for
     *                      fs-xfs) runs {@link #MODPROBE_HELPER}, which waits for them: a mount never misses one.
     */
    static String init(String marker, List<String> moduleFiles, List<String> deferredFiles, Path runScript, Path scratch) {
        StringBuilder s = new StringBuilder();
        s.append("#!/bin/busybox sh\n");
        s.append("/bin/busybox --install -s /bin\n");
        s.append("export PATH=/bin\n");
        s.append("M=").append(marker).append('\n');
        s.append("fail() { echo \"$M FAIL $*\"; poweroff -f; sleep 10; }\n");
        s.append("mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev\n");
        s.append("for m in");
        for (String m : moduleFiles) s.append(' ').append(m);
        s.append("; do\n");
        s.append("  out=$(insmod /lib/modules/$m 2>&1) || echo \"$M WARN insmod ${m#*-}: $out\"\n");
        s.append("done\n");
        if (!deferredFiles.isEmpty()) {
            s.append("mkdir -p /run; : > ").append(PENDING).append('\n');
            s.append("printf '#!/bin/busybox sh\\ni=0; while [ -e ").append(PENDING)
                    .append(" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done\\n' > ").append(MODPROBE_HELPER).append('\n');
            s.append("chmod 0755 ").append(MODPROBE_HELPER).append("; echo ").append(MODPROBE_HELPER).append(" > /proc/sys/kernel/modprobe\n");
            s.append("(for m in");
            for (String m : deferredFiles) s.append(' ').append(m);
            s.append("; do\n");
            s.append("  out=$(insmod /lib/modules/$m 2>&1) || echo \"$M WARN insmod ${m#*-}: $out\"\n");
            s.append("done; rm -f ").append(PENDING).append(") &\n");
        }
        s.append("mount -t virtiofs ").append(TAG).append(" /host || fail \"cannot mount the host tree over virtiofs (tag ").append(TAG).append(")\"\n");
        s.append("mount -t proc proc /host/proc && mount -t sysfs sysfs /host/sys && mount -t devtmpfs devtmpfs /host/dev"
                + " || fail \"cannot mount proc, sys and dev inside the host tree\"\n");
        // The host's /run (sockets, pid files) must not be changed by the guest: give it a tmpfs of its own.
        s.append("[ -d /host/run ] && mount -t tmpfs -o mode=0755 run /host/run\n");
        s.append("mount -t tmpfs -o mode=1777,size=80% scratch ").append(quote("/host" + scratch))
                .append(" || fail \"cannot mount the scratch tmpfs on ").append(scratch).append("\"\n");
        s.append("echo \"$M READY $(cut -d' ' -f1 /proc/uptime)\"\n");
        s.append("chroot /host /bin/sh ").append(quote(runScript.toString())).append('\n');
        s.append("rc=$?\n");
        s.append("wait\n");
        s.append("echo \"$M EXIT $rc\"\n");
        s.append("for d in /sys/block/dm-*; do [ -e \"$d/dm/name\" ] && echo \"$M LEAK dm $(cat $d/dm/name) (${d##*/})\"; done\n");
        s.append("for d in /sys/block/loop*; do [ -e \"$d/loop/backing_file\" ] && echo \"$M LEAK loop /dev/${d##*/} $(cat $d/loop/backing_file)\"; done\n");
        s.append("grep -E '^/dev/(mapper/|dm-|loop)' /proc/mounts | while read dev mnt rest; do echo \"$M LEAK mount $dev on $mnt\"; done\n");
        s.append("sync\n");
        s.append("echo \"$M DONE\"\n");
        s.append("poweroff -f\n");
        return s.toString();
    }

    static String run(GuestCommand cmd, Path scratch) {
        StringBuilder s = new StringBuilder("#!/bin/sh\n");
        s.append("export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8\n");
        s.append("export TMPDIR=").append(quote(scratch.toString())).append(" STRATA_LAB_SCRATCH=").append(quote(scratch.toString()))
                .append(" STRATA_KERNEL_LAB=1\n");
        for (Map.Entry<String, String> e : cmd.env().entrySet()) {
            if (!e.getKey().matches("[A-Za-z_][A-Za-z0-9_]*")) throw new IllegalArgumentException("bad environment name " + e.getKey());
            s.append("export ").append(e.getKey()).append('=').append(quote(e.getValue())).append('\n');
        }
        s.append("cd ").append(quote(cmd.workDir().toString())).append(" || exit 126\n");
        s.append("exec");
        for (String a : cmd.argv()) s.append(' ').append(quote(a.replace(KernelLab.SCRATCH_PROPERTY_PLACEHOLDER, scratch.toString())));
        s.append('\n');
        return s.toString();
    }

    /** Single-quotes for sh: everything literal, a quote itself as '\''. */
    static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}

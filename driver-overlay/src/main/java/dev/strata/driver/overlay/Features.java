package dev.strata.driver.overlay;

/**
 * What the kernel and the backing filesystem under the home offer, found once when the driver opens.
 *
 * @param backingFs   the backing filesystem as moby names it ({@code extfs}, {@code xfs}, ...)
 * @param dType       whether directory entries carry their type (overlay needs it)
 * @param policy      which mount call mounts a stack
 * @param lowerdirPlus whether the kernel takes {@code fsconfig(lowerdir+)} (Linux 6.8+)
 * @param indexOff    whether to pass {@code index=off} (the kernel knows the parameter), as moby does
 * @param selinux     whether SELinux is on, so a mount label becomes {@code context=}
 * @param nativeDiff  whether diffs can be read straight from the upper dir
 * @param naiveReason why not, when {@code nativeDiff} is false
 */
record Features(String backingFs, boolean dType, OverlayMounter.Policy policy, boolean lowerdirPlus, boolean indexOff,
                boolean selinux, boolean nativeDiff, String naiveReason) {
}

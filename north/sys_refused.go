package north

import (
	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// System calls Cocoon refuses on purpose, each with the error a Linux
// kernel gives in a configuration that explains the refusal: ENOSYS where
// the feature can be compiled out (kernel/sys_ni.c COND_SYSCALL: the
// call exists but its code does not), EPERM where the call needs a
// privilege a sandboxed application does not get (as in a container
// without the capability). Each refusal is reported once, with its
// reason, like an unimplemented call; none succeeds silently.

// refusal is one refused system call.
type refusal struct {
	nr     uint64
	name   string
	errno  int64
	reason string
}

var refusals = [...]refusal{
	// Administration of the machine, which the sandbox's application
	// does not get: EPERM, as for a caller without CAP_SYS_ADMIN,
	// CAP_SYS_BOOT, CAP_SYS_CHROOT or CAP_SYS_TTY_CONFIG (each call
	// checks the capability before its arguments).
	{153, "vhangup", -linux.EPERM, "no CAP_SYS_TTY_CONFIG in the sandbox"},
	{155, "pivot_root", -linux.EPERM, "no CAP_SYS_ADMIN in the sandbox: Cocoon has one fixed mount tree"},
	{161, "chroot", -linux.EPERM, "no CAP_SYS_CHROOT in the sandbox: Cocoon keeps one root"},
	{165, "mount", -linux.EPERM, "no CAP_SYS_ADMIN in the sandbox: Cocoon has one fixed mount tree"},
	{166, "umount2", -linux.EPERM, "no CAP_SYS_ADMIN in the sandbox: Cocoon has one fixed mount tree"},
	{169, "reboot", -linux.EPERM, "no CAP_SYS_BOOT in the sandbox"},
	{428, "open_tree", -linux.EPERM, "no CAP_SYS_ADMIN in the sandbox: Cocoon has one fixed mount tree"},
	{429, "move_mount", -linux.EPERM, "no CAP_SYS_ADMIN in the sandbox: Cocoon has one fixed mount tree"},
	{430, "fsopen", -linux.EPERM, "no CAP_SYS_ADMIN in the sandbox: Cocoon has one fixed mount tree"},
	{431, "fsconfig", -linux.EPERM, "no CAP_SYS_ADMIN in the sandbox: Cocoon has one fixed mount tree"},
	{432, "fsmount", -linux.EPERM, "no CAP_SYS_ADMIN in the sandbox: Cocoon has one fixed mount tree"},
	{433, "fspick", -linux.EPERM, "no CAP_SYS_ADMIN in the sandbox: Cocoon has one fixed mount tree"},
	{442, "mount_setattr", -linux.EPERM, "no CAP_SYS_ADMIN in the sandbox: Cocoon has one fixed mount tree"},
	{467, "open_tree_attr", -linux.EPERM, "no CAP_SYS_ADMIN in the sandbox: Cocoon has one fixed mount tree"},

	// Features a kernel can be built without: ENOSYS.
	{103, "syslog", -linux.ENOSYS, "no kernel log buffer (CONFIG_PRINTK=n)"},
	{134, "uselib", -linux.ENOSYS, "CONFIG_USELIB=n"},
	{139, "sysfs", -linux.ENOSYS, "CONFIG_SYSFS_SYSCALL=n"},
	{154, "modify_ldt", -linux.ENOSYS, "no local descriptor tables for applications (CONFIG_MODIFY_LDT_SYSCALL=n)"},
	{163, "acct", -linux.ENOSYS, "no process accounting (CONFIG_BSD_PROCESS_ACCT=n)"},
	{167, "swapon", -linux.ENOSYS, "no swap (CONFIG_SWAP=n)"},
	{168, "swapoff", -linux.ENOSYS, "no swap (CONFIG_SWAP=n)"},
	{172, "iopl", -linux.ENOSYS, "no port I/O for applications (CONFIG_X86_IOPL_IOPERM=n)"},
	{173, "ioperm", -linux.ENOSYS, "no port I/O for applications (CONFIG_X86_IOPL_IOPERM=n)"},
	{175, "init_module", -linux.ENOSYS, "no loadable modules (CONFIG_MODULES=n)"},
	{176, "delete_module", -linux.ENOSYS, "no loadable modules (CONFIG_MODULES=n)"},
	{313, "finit_module", -linux.ENOSYS, "no loadable modules (CONFIG_MODULES=n)"},
	{179, "quotactl", -linux.ENOSYS, "no disk quotas (CONFIG_QUOTACTL=n)"},
	{443, "quotactl_fd", -linux.ENOSYS, "no disk quotas (CONFIG_QUOTACTL=n)"},
	{206, "io_setup", -linux.ENOSYS, "no kernel asynchronous I/O (CONFIG_AIO=n)"},
	{207, "io_destroy", -linux.ENOSYS, "no kernel asynchronous I/O (CONFIG_AIO=n)"},
	{208, "io_getevents", -linux.ENOSYS, "no kernel asynchronous I/O (CONFIG_AIO=n)"},
	{209, "io_submit", -linux.ENOSYS, "no kernel asynchronous I/O (CONFIG_AIO=n)"},
	{210, "io_cancel", -linux.ENOSYS, "no kernel asynchronous I/O (CONFIG_AIO=n)"},
	{333, "io_pgetevents", -linux.ENOSYS, "no kernel asynchronous I/O (CONFIG_AIO=n)"},
	{237, "mbind", -linux.ENOSYS, "one memory node (CONFIG_NUMA=n)"},
	{238, "set_mempolicy", -linux.ENOSYS, "one memory node (CONFIG_NUMA=n)"},
	{239, "get_mempolicy", -linux.ENOSYS, "one memory node (CONFIG_NUMA=n)"},
	{256, "migrate_pages", -linux.ENOSYS, "one memory node (CONFIG_NUMA=n)"},
	{279, "move_pages", -linux.ENOSYS, "one memory node (CONFIG_NUMA=n)"},
	{450, "set_mempolicy_home_node", -linux.ENOSYS, "one memory node (CONFIG_NUMA=n)"},
	{240, "mq_open", -linux.ENOSYS, "no POSIX message queues (CONFIG_POSIX_MQUEUE=n)"},
	{241, "mq_unlink", -linux.ENOSYS, "no POSIX message queues (CONFIG_POSIX_MQUEUE=n)"},
	{242, "mq_timedsend", -linux.ENOSYS, "no POSIX message queues (CONFIG_POSIX_MQUEUE=n)"},
	{243, "mq_timedreceive", -linux.ENOSYS, "no POSIX message queues (CONFIG_POSIX_MQUEUE=n)"},
	{244, "mq_notify", -linux.ENOSYS, "no POSIX message queues (CONFIG_POSIX_MQUEUE=n)"},
	{245, "mq_getsetattr", -linux.ENOSYS, "no POSIX message queues (CONFIG_POSIX_MQUEUE=n)"},
	{246, "kexec_load", -linux.ENOSYS, "CONFIG_KEXEC=n"},
	{320, "kexec_file_load", -linux.ENOSYS, "CONFIG_KEXEC_FILE=n"},
	{248, "add_key", -linux.ENOSYS, "no key retention service (CONFIG_KEYS=n)"},
	{249, "request_key", -linux.ENOSYS, "no key retention service (CONFIG_KEYS=n)"},
	{250, "keyctl", -linux.ENOSYS, "no key retention service (CONFIG_KEYS=n)"},
	{303, "name_to_handle_at", -linux.ENOSYS, "no file handles (CONFIG_FHANDLE=n)"},
	{304, "open_by_handle_at", -linux.ENOSYS, "no file handles (CONFIG_FHANDLE=n)"},
	{298, "perf_event_open", -linux.ENOSYS, "no performance counters (CONFIG_PERF_EVENTS=n)"},
	{300, "fanotify_init", -linux.ENOSYS, "CONFIG_FANOTIFY=n (inotify is served)"},
	{301, "fanotify_mark", -linux.ENOSYS, "CONFIG_FANOTIFY=n (inotify is served)"},
	{321, "bpf", -linux.ENOSYS, "CONFIG_BPF_SYSCALL=n"},
	{323, "userfaultfd", -linux.ENOSYS, "CONFIG_USERFAULTFD=n"},
	{335, "uretprobe", -linux.ENOSYS, "no uprobes (CONFIG_UPROBES=n)"},
	{336, "uprobe", -linux.ENOSYS, "no uprobes (CONFIG_UPROBES=n)"},
	{425, "io_uring_setup", -linux.ENOSYS, "CONFIG_IO_URING=n"},
	{426, "io_uring_enter", -linux.ENOSYS, "CONFIG_IO_URING=n"},
	{427, "io_uring_register", -linux.ENOSYS, "CONFIG_IO_URING=n"},
	{444, "landlock_create_ruleset", -linux.ENOSYS, "CONFIG_SECURITY_LANDLOCK=n"},
	{445, "landlock_add_rule", -linux.ENOSYS, "CONFIG_SECURITY_LANDLOCK=n"},
	{446, "landlock_restrict_self", -linux.ENOSYS, "CONFIG_SECURITY_LANDLOCK=n"},
	{447, "memfd_secret", -linux.ENOSYS, "CONFIG_SECRETMEM=n"},
	{451, "cachestat", -linux.ENOSYS, "CONFIG_CACHESTAT_SYSCALL=n"},
	{453, "map_shadow_stack", -linux.ENOSYS, "no user shadow stacks (CONFIG_X86_USER_SHADOW_STACK=n)"},
	{459, "lsm_get_self_attr", -linux.ENOSYS, "no security modules (CONFIG_SECURITY=n)"},
	{460, "lsm_set_self_attr", -linux.ENOSYS, "no security modules (CONFIG_SECURITY=n)"},
	{461, "lsm_list_modules", -linux.ENOSYS, "no security modules (CONFIG_SECURITY=n)"},

	// Table entries x86-64 Linux has never implemented (sys_ni_syscall).
	{156, "_sysctl", -linux.ENOSYS, "removed in Linux 5.5"},
	{174, "create_module", -linux.ENOSYS, "not in x86-64 Linux"},
	{177, "get_kernel_syms", -linux.ENOSYS, "not in x86-64 Linux"},
	{178, "query_module", -linux.ENOSYS, "not in x86-64 Linux"},
	{180, "nfsservctl", -linux.ENOSYS, "not in x86-64 Linux"},
	{181, "getpmsg", -linux.ENOSYS, "not in x86-64 Linux"},
	{182, "putpmsg", -linux.ENOSYS, "not in x86-64 Linux"},
	{183, "afs_syscall", -linux.ENOSYS, "not in x86-64 Linux"},
	{184, "tuxcall", -linux.ENOSYS, "not in x86-64 Linux"},
	{185, "security", -linux.ENOSYS, "not in x86-64 Linux"},
	{205, "set_thread_area", -linux.ENOSYS, "32-bit only: x86-64 uses arch_prctl"},
	{211, "get_thread_area", -linux.ENOSYS, "32-bit only: x86-64 uses arch_prctl"},
	{212, "lookup_dcookie", -linux.ENOSYS, "removed in Linux 6.8"},
	{214, "epoll_ctl_old", -linux.ENOSYS, "not in x86-64 Linux"},
	{215, "epoll_wait_old", -linux.ENOSYS, "not in x86-64 Linux"},
	{236, "vserver", -linux.ENOSYS, "not in x86-64 Linux"},
}

// refusedBy finds a refusal by number, for sysRefused.
var refusedBy [len(syscalls)]*refusal

func init() {
	for i := range refusals {
		r := &refusals[i]
		refusedBy[r.nr] = r
		register(r.nr, sysRefused)
	}
}

// sysRefused refuses the call the thread is in (inCall) with its
// refusal's error, reported once with the reason.
func sysRefused(t *Task, _ *[6]uint64) int64 {
	r := refusedBy[t.inCall.Load()-1]
	return t.p.unsupported(r.name+" ("+r.reason+")", r.errno)
}

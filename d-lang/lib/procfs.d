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
	pr_dmodel = PR_MODEL_LP64;
	pr_pgid = T->signal->pids[PIDTYPE_PGID]->numbers[0].nr;
	pr_sid = T->signal->pids[PIDTYPE_SID]->numbers[0].nr;
	pr_flag = 0;
	pr_wstat = 0;
	pr_taskid = 0;
	pr_projid = 0;
	pr_nzomb = 0;
	pr_poolid = 0;
	pr_zoneid = 0;
	pr_contract = 0;
};

/*
 * A thread's state as Solaris names it, from the kernel's task state bits:
 * sleeping (TASK_INTERRUPTIBLE 0x1, TASK_UNINTERRUPTIBLE 0x2), stopped or
 * traced (0x4, 0x8), zombie or dead (exit_state EXIT_DEAD 0x10,
 * EXIT_ZOMBIE 0x20), waking (TASK_WAKEKILL 0x100, TASK_WAKING 0x200), else
 * running.
 */
translator lwpsinfo_t < struct task_struct *T > {
	pr_flag = (T->__state & 0x4) ? PR_STOPPED : 0;
	pr_wchan = 0;
	pr_stype = 0;
	pr_state = (T->__state & 0x3) ? SSLEEP : (T->__state & 0xc) ? SSTOP :
	    (T->exit_state & 0x30) ? SZOMB : (T->__state & 0x300) ? SWAIT : SRUN;
	pr_sname = (T->__state & 0x3) ? 'S' : (T->__state & 0xc) ? 'T' :
	    (T->exit_state & 0x30) ? 'Z' : (T->__state & 0x300) ? 'W' : 'R';
	pr_lwpid = T->pid;
	pr_addr = (uintptr_t)T;
	pr_pri = T->prio;
	pr_nice = T->static_prio - 120;
	pr_start = T->start_time;
	pr_name = T->comm;
	pr_onpro = T->thread_info.cpu;
};
